import LodeEvents
import LodeProjections

/// One rule of the config's `notifications:` section: when to notify, whom
/// (channel names from `channels:`), and what to say.
public struct NotificationRule: Sendable, Hashable {
    /// 1–64 characters of `A-Za-z0-9._-`; part of every notification key,
    /// so renaming a rule notifies again what it already notified.
    public let name: String
    public let trigger: NotificationTrigger
    /// Names of channels in the config's `channels:`, at least one.
    public let channels: [String]
    /// The notification's title (DingTalk markdown, the webhook's `title`);
    /// the rule's name when the config gives none.
    public let title: Template
    /// The notification's text.
    public let message: Template

    /// Checks the name, the trigger's conditions and numbers, and that the
    /// templates use only placeholders the trigger provides. Channel names
    /// are checked against the configured channels by the config loader.
    public init(name: String, trigger: NotificationTrigger, channels: [String], title: Template? = nil, message: Template)
        throws(NotificationConfigError)
    {
        try Self.checkName(name)
        switch trigger {
        case .event(let type, let conditions):
            try conditions.check(for: type)
        case .targetMilestones(let target, let milestones):
            if let target, target.isEmpty { throw NotificationConfigError("'target' must name a target of 'targets:'") }
            guard !milestones.isEmpty else { throw NotificationConfigError("'milestones' lists no milestone") }
            for milestone in milestones where !(1...1000).contains(milestone) {
                throw NotificationConfigError("a milestone is a whole percentage from 1 to 1000, got \(milestone)")
            }
            guard Set(milestones).count == milestones.count else {
                throw NotificationConfigError("'milestones' lists a milestone twice")
            }
        case .figureThresholds(_, let thresholds):
            guard !thresholds.isEmpty else { throw NotificationConfigError("'threshold' lists no number") }
            for threshold in thresholds where threshold < 1 {
                throw NotificationConfigError("a threshold is a whole number of at least 1, got \(threshold)")
            }
            guard Set(thresholds).count == thresholds.count else {
                throw NotificationConfigError("'threshold' lists a number twice")
            }
        }
        guard !channels.isEmpty else { throw NotificationConfigError("rule '\(name)' names no channel") }
        let allowed = trigger.placeholders
        for template in [title, message].compactMap(\.self) {
            let unavailable = template.placeholders.subtracting(allowed)
            if let first = unavailable.sorted().first {
                throw NotificationConfigError(
                    "placeholder \(first) is not available in \(trigger.ruleDescription) (available: "
                        + allowed.sorted().map(\.description).joined(separator: ", ") + ")")
            }
        }
        self.name = name
        self.trigger = trigger
        self.channels = channels
        // A rule name has no braces, so it is a template of itself.
        if let title { self.title = title } else { self.title = try Template(name) }
        self.message = message
    }

    /// Throws unless `name` is 1–64 characters of `A-Za-z0-9._-`.
    public static func checkName(_ name: String) throws(NotificationConfigError) {
        let allowed = name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
        guard (1...64).contains(name.utf8.count), allowed else {
            throw NotificationConfigError(
                "a rule name is 1–64 characters of A-Za-z0-9._- (it is part of every notification key), got '\(name)'")
        }
    }
}
