/// One rule an event breaks, with the place it breaks it.
public struct EventIssue: Sendable, Hashable, CustomStringConvertible {
    /// Where: an attribute (`time`), a data field (`data.total_investment`),
    /// an element of one (`data.categories[2]`), or empty for the event as
    /// a whole.
    public let path: String
    /// What is wrong, usually "expected …, found …".
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    static func expected(_ expectation: String, found: String, at path: String) -> EventIssue {
        EventIssue(path: path, message: "expected \(expectation), found \(found)")
    }

    /// `path: message`, or the message alone when the path is empty.
    public var description: String {
        path.isEmpty ? message : "\(path): \(message)"
    }
}
