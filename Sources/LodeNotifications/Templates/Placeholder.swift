/// A `{name}` a message template may use. Which ones a rule may use depends
/// on its trigger (``NotificationTrigger/placeholders``); any other name is
/// a config error when the rules are loaded.
public enum Placeholder: String, Sendable, Hashable, CaseIterable, Comparable, CustomStringConvertible {
    // Every rule.
    /// The rule's name.
    case rule
    /// The report year the cause counts in (see docs/notifications.md).
    case year

    // Event rules.
    case eventID = "event_id"
    case eventType = "event_type"
    /// The event's `time`, as written.
    case time
    case source
    case projectID = "project_id"
    /// The project's name: from the event, or from the projection's facts;
    /// the project id when the project is not registered yet.
    case projectName = "project_name"
    case enterprise
    case park
    case campaign
    /// A recruitment event's `industry`, or the industry of the figure
    /// crossed (`recruitment.projects_introduced.<industry>`).
    case industry
    /// A project's categories, comma-separated.
    case categories
    /// The new status of a `status_changed` event (its wire name, e.g. `started`).
    case status
    case note
    case visitors
    /// The investment period `YYYY-MM`.
    case period
    /// The event's amount in yuan: total investment of a registration,
    /// completed investment of a report, intended investment of an agreement.
    case amount
    /// The amount in 亿元 (10^8 yuan), two decimals: `1.25`.
    case amountYi = "amount_yi"

    // Crossing rules.
    /// The figure's dotted path, e.g. `recruitment.agreements_signed`.
    case figure
    /// The figure's value after the change.
    case value
    /// The value in 亿元, two decimals (for amount figures).
    case valueYi = "value_yi"
    /// The number crossed: a threshold, or the target's milestone.
    case threshold
    // Target rules.
    /// The number to reach of the target.
    case target
    /// The target's label, e.g. 签约企业.
    case targetName = "target_name"
    /// The milestone crossed, in percent of the target: `80`.
    case milestone
    /// The value as a percentage of the target, one decimal: `85.0`.
    case progressPct = "progress_pct"

    public var description: String { "{\(rawValue)}" }

    public static func < (lhs: Placeholder, rhs: Placeholder) -> Bool { lhs.rawValue < rhs.rawValue }
}
