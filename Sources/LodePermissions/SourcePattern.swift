/// A `source` a department may use: exactly one text, or every text that starts with a prefix
/// (written with a trailing `*`: `invest/*`).
///
/// Compared byte for byte (UTF-8), as the store compares sources: two texts Swift calls equal
/// (canonically equivalent, such as a precomposed "é" and "e" + U+0301) are different sources
/// here, so one department's pattern can never match a source another department's matches
/// unless their bytes overlap, which ``Departments`` refuses.
public enum SourcePattern: Sendable, Hashable, CustomStringConvertible {
    case exact(String)
    case prefix(String)

    /// Reads `text` as written in the config: `*` at its end makes a prefix; a `*` anywhere else,
    /// a lone `*` (every source: it would overlap every other department) and the empty text are
    /// refused.
    public init(parsing text: String) throws(PermissionsError) {
        guard !text.isEmpty else { throw PermissionsError("a source must not be empty") }
        let stars = text.utf8.count { $0 == UInt8(ascii: "*") }
        if stars == 0 {
            self = .exact(text)
            return
        }
        guard stars == 1, text.utf8.last == UInt8(ascii: "*") else {
            throw PermissionsError("source '\(text)': '*' may only end a prefix, as in 'invest/*'")
        }
        let prefix = String(text.dropLast())
        guard !prefix.isEmpty else {
            throw PermissionsError("source '*' would allow every source; give the department's own prefix, as in 'invest/*'")
        }
        self = .prefix(prefix)
    }

    /// Whether `source` is this exact text, or starts with this prefix (bytes).
    @inlinable
    public func matches(_ source: String) -> Bool {
        switch self {
        case .exact(let text): source.utf8.elementsEqual(text.utf8)
        case .prefix(let prefix): source.utf8.starts(with: prefix.utf8)
        }
    }

    /// Whether some source matches both patterns.
    public func overlaps(_ other: SourcePattern) -> Bool {
        switch (self, other) {
        case (.exact(let a), .exact(let b)): a.utf8.elementsEqual(b.utf8)
        case (.exact(let text), .prefix), (.prefix, .exact(let text)):
            (self.matches(text) && other.matches(text))
        case (.prefix(let a), .prefix(let b)): a.utf8.starts(with: b.utf8) || b.utf8.starts(with: a.utf8)
        }
    }

    /// As written in the config: the text, or the prefix and `*`.
    public var description: String {
        switch self {
        case .exact(let text): text
        case .prefix(let prefix): prefix + "*"
        }
    }
}

/// A rule of the departments' permissions that cannot hold (two departments claiming one user or
/// overlapping sources, an unknown event type, ...): what is wrong, without a place (the config
/// reader adds `FILE:LINE:`).
public struct PermissionsError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
