import Crypto
import Foundation
import LodeEvents
import LodeProjections

/// A notification to deliver (named apart from Foundation's `Notification`, which every
/// file importing Foundation also sees): what the outbox stores, in the same
/// transaction as the change that caused it, and the dispatcher sends to
/// each of its channels.
public struct ZoneNotification: Sendable, Hashable {
    /// What caused it, unique per cause (the outbox's UNIQUE column):
    ///
    /// - `event:<rule>:<event id>`
    /// - `figure:<rule>:<year>:<threshold>:<figure path>`
    /// - `target:<rule>:<year>:<milestone>:<target number>:<figure path>`
    ///
    /// A rule name has no `:`, and the last part is the only one that may
    /// hold one, so a key reads back unambiguously. The same cause always
    /// gives the same key, however often its events are redelivered,
    /// replayed or rebuilt; a crossing in another year gives another key.
    public var key: String
    /// The rule's name.
    public var rule: String
    /// The channel names to deliver to, in the rule's order.
    public var channels: [String]
    public var title: String
    public var text: String
    public var cause: NotificationCause
    /// When it was recorded (not part of the key).
    public var createdAt: Date

    public init(key: String, rule: String, channels: [String], title: String, text: String,
                cause: NotificationCause, createdAt: Date) {
        self.key = key
        self.rule = rule
        self.channels = channels
        self.title = title
        self.text = text
        self.cause = cause
        self.createdAt = createdAt
    }

    /// The key as 64 lowercase hex digits (SHA-256 of its UTF-8): ASCII and
    /// of fixed length, for the `X-Lode-Idempotency-Key` header and the
    /// webhook body. The same for every retry and every channel.
    public var idempotencyKey: String { SHA256.hash(data: Array(key.utf8)).hex }
}

/// What caused a notification.
public enum NotificationCause: Sendable, Hashable {
    /// A newly applied event.
    case event(id: String, type: EventType)
    /// A figure going from below `threshold` to `value` ≥ `threshold` in the
    /// report of `year`.
    case threshold(year: Int, figure: ReportFigure, threshold: Int64, value: Int64)
    /// A target's figure reaching `milestone` percent of `target`
    /// (`threshold` = ⌈target × milestone / 100⌉).
    case milestone(year: Int, target: ReportTarget, milestone: Int, threshold: Int64, value: Int64)

    /// The event id, for an event cause.
    public var eventID: String? {
        if case .event(let id, _) = self { id } else { nil }
    }

    /// The report year, for a crossing.
    public var year: Int? {
        switch self {
        case .event: nil
        case .threshold(let year, _, _, _), .milestone(let year, _, _, _, _): year
        }
    }

    /// The figure crossed, for a crossing.
    public var figure: ReportFigure? {
        switch self {
        case .event: nil
        case .threshold(_, let figure, _, _): figure
        case .milestone(_, let target, _, _, _): target.figure
        }
    }

    /// The number crossed, for a crossing.
    public var threshold: Int64? {
        switch self {
        case .event: nil
        case .threshold(_, _, let threshold, _), .milestone(_, _, _, let threshold, _): threshold
        }
    }
}

/// The notification keys (see ``ZoneNotification/key``).
public enum NotificationKey {
    /// The key of `rule`'s notification of the event `eventID` from `source` (an event's identity
    /// is its source and id). The source's length in bytes goes first, so no two (source, id)
    /// pairs give one key.
    public static func event(rule: String, source: String, eventID: String) -> String {
        "event:\(rule):\(source.utf8.count):\(source):\(eventID)"
    }

    public static func threshold(rule: String, year: Int, threshold: Int64, figure: ReportFigure) -> String {
        "figure:\(rule):\(year):\(threshold):\(figure.path)"
    }

    public static func milestone(rule: String, year: Int, milestone: Int, target: ReportTarget) -> String {
        "target:\(rule):\(year):\(milestone):\(target.target):\(target.figure.path)"
    }
}
