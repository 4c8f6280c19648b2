/// A setting that cannot be used: what is wrong, where, and the sysexits code it ends the
/// program with.
///
/// Never holds a password: messages name the setting and where it came from, not its value
/// when that value may be secret.
public struct SettingsError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A flag is wrong or breaks a rule (a password in `--url`): exit 64 (`EX_USAGE`).
        case usage
        /// A file the settings name cannot be read: exit 66 (`EX_NOINPUT`).
        case unreadableFile
        /// The config file or the environment holds a bad value: exit 78 (`EX_CONFIG`).
        case config
    }

    public var kind: Kind
    /// One line per problem; config-file problems start with `FILE:LINE:`.
    public var messages: [String]

    public init(_ kind: Kind, _ messages: [String]) {
        self.kind = kind
        self.messages = messages
    }

    public init(_ kind: Kind, _ message: String) {
        self.init(kind, [message])
    }

    /// The sysexits code: 64, 66 or 78.
    public var exitCode: Int32 {
        switch kind {
        case .usage: 64
        case .unreadableFile: 66
        case .config: 78
        }
    }

    public var description: String { messages.joined(separator: "\n") }
}
