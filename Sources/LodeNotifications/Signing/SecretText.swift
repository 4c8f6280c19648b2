/// A value that must never be printed: a signing secret, or a robot URL
/// whose query holds its access token.
///
/// Its `description`, `debugDescription` and reflection (what `print`,
/// `dump`, string interpolation and test failure messages show) are
/// `<secret>`; only ``revealed`` gives the text, for the one place that
/// signs or sends with it.
public struct SecretText: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) {
        self.value = value
    }

    /// The secret itself. Use it to sign or to send, never in a message.
    public var revealed: String { value }

    public var description: String { "<secret>" }
    public var debugDescription: String { "<secret>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
