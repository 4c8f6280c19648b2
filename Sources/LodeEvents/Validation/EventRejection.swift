import LodeJSON

/// Why a message body, or one event of a batch, was not accepted: what a
/// dead letter carries.
public struct EventRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// The short code for `x-lode-reason`.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// The body (or a batch element) is not valid JSON.
        case invalidJSON = "invalid_json"
        /// Valid JSON that is not a valid event of section 3.
        case invalidEvent = "invalid_event"
        /// A `type` that is none of the seven event types.
        case unknownType = "unknown_type"
        /// An event over 64 KiB, or a batch over 1 MiB or 1,000 events.
        case tooLarge = "too_large"
    }

    public let reason: Reason
    /// The message a person reads, for `x-lode-error`.
    public let message: String
    /// The event's `id` when the body parsed far enough to have one that
    /// could be a valid id, for `x-lode-event-id`.
    public let eventID: String?
    /// The event's `type` attribute as written, when it is a string.
    public let eventType: String?
    /// Each rule the event breaks, for invalid events and unknown types;
    /// empty for invalid JSON and size limits.
    public let issues: [EventIssue]

    public init(reason: Reason, message: String, eventID: String? = nil, eventType: String? = nil, issues: [EventIssue] = []) {
        self.reason = reason
        self.message = message
        self.eventID = eventID
        self.eventType = eventType
        self.issues = issues
    }

    /// A rejection for `issues`, whose message lists them (the first ten).
    init(reason: Reason, issues: [EventIssue], eventID: String?, eventType: String?) {
        let shown = issues.prefix(10).map(\.description)
        var message = shown.joined(separator: "; ")
        if issues.count > shown.count {
            message += "; and \(issues.count - shown.count) more"
        }
        self.init(reason: reason, message: message, eventID: eventID, eventType: eventType, issues: issues)
    }

    /// `reason: message`.
    public var description: String { "\(reason.rawValue): \(message)" }
}
