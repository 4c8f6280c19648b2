import LodeEvents
import LodeProjections

/// What makes a rule notify.
public enum NotificationTrigger: Sendable, Hashable {
    /// Each newly applied event of `type` that meets `conditions`.
    case event(EventType, EventConditions)
    /// A target of the year reaching each of `milestones` (percent of its
    /// number, e.g. 50, 80, 100). `target` is the target's name in the
    /// config's `targets:`, or `nil` for every target.
    case targetMilestones(target: String?, milestones: [Int])
    /// A report figure going from below each of `thresholds` to at or above it.
    case figureThresholds(ReportFigure, thresholds: [Int64])

    /// The placeholders a template of a rule with this trigger may use.
    public var placeholders: Set<Placeholder> {
        switch self {
        case .event(let type, _):
            var names: Set<Placeholder> = [.rule, .year, .eventID, .eventType, .time, .source]
            switch type {
            case .projectRegistered:
                names.formUnion([.projectID, .projectName, .enterprise, .park, .categories, .amount, .amountYi])
            case .projectStatusChanged:
                names.formUnion([.projectID, .projectName, .enterprise, .park, .categories, .status, .note])
            case .investmentReported:
                names.formUnion([.projectID, .projectName, .enterprise, .park, .categories, .period, .amount, .amountYi])
            case .enterpriseContacted:
                names.formUnion([.enterprise, .campaign, .industry])
            case .siteVisit:
                names.formUnion([.enterprise, .campaign, .visitors])
            case .agreementSigned:
                names.formUnion([.enterprise, .campaign, .projectID, .projectName, .amount, .amountYi])
            case .projectIntroduced:
                names.formUnion([.enterprise, .campaign, .projectID, .projectName, .industry])
            }
            return names
        case .figureThresholds:
            return [.rule, .year, .figure, .value, .valueYi, .threshold, .campaign, .industry]
        case .targetMilestones:
            return [.rule, .year, .figure, .value, .valueYi, .threshold, .campaign, .industry,
                    .target, .targetName, .milestone, .progressPct]
        }
    }

    /// How an error message names a rule with this trigger: "a rule on zone.project.status_changed".
    public var ruleDescription: String {
        switch self {
        case .event(let type, _): "a rule on \(type.rawValue)"
        case .targetMilestones: "a target rule"
        case .figureThresholds: "a figure rule"
        }
    }
}

/// The conditions an event must meet for an event rule to notify; `nil`
/// means "any". Which apply to which event type: see ``check(for:)``.
public struct EventConditions: Sendable, Hashable {
    /// `status_changed`: the new status is one of these.
    public var statuses: Set<ProjectStatus>?
    /// Project events: the project lists one of these categories (a
    /// registration's own; for a status change or an investment report, the
    /// project's facts — no facts, no match). Recruitment events with an
    /// industry (`enterprise_contacted`, `project_introduced`): the industry
    /// is one of these.
    public var categories: Set<Category>?
    /// Recruitment events: the campaign is one of these (exact text).
    public var campaigns: Set<String>?
    /// The event's amount is at least this many yuan: a registration's total
    /// investment, a report's completed investment, an agreement's intended
    /// investment (an agreement without one does not match).
    public var minimumAmount: Int64?

    public init(statuses: Set<ProjectStatus>? = nil, categories: Set<Category>? = nil,
                campaigns: Set<String>? = nil, minimumAmount: Int64? = nil) {
        self.statuses = statuses
        self.categories = categories
        self.campaigns = campaigns
        self.minimumAmount = minimumAmount
    }

    /// The config keys of the conditions that apply to `type`.
    public static func keys(for type: EventType) -> [String] {
        switch type {
        case .projectRegistered: ["category", "amount_at_least"]
        case .projectStatusChanged: ["status", "category"]
        case .investmentReported: ["category", "amount_at_least"]
        case .enterpriseContacted: ["campaign", "industry"]
        case .siteVisit: ["campaign"]
        case .agreementSigned: ["campaign", "amount_at_least"]
        case .projectIntroduced: ["campaign", "industry"]
        }
    }

    /// Throws when a condition is set that `type` cannot meet, or a set is empty.
    public func check(for type: EventType) throws(NotificationConfigError) {
        let keys = Self.keys(for: type)
        func refuse(_ key: String) -> NotificationConfigError {
            NotificationConfigError(
                "condition '\(key)' does not apply to \(type.rawValue) (its conditions: \(keys.joined(separator: ", ")))")
        }
        if statuses != nil, !keys.contains("status") { throw refuse("status") }
        if categories != nil, !keys.contains("category"), !keys.contains("industry") { throw refuse("category") }
        if campaigns != nil, !keys.contains("campaign") { throw refuse("campaign") }
        if minimumAmount != nil, !keys.contains("amount_at_least") { throw refuse("amount_at_least") }
        if statuses?.isEmpty == true || categories?.isEmpty == true || campaigns?.isEmpty == true {
            throw NotificationConfigError("a condition lists no value: leave it out to match any")
        }
        if let minimumAmount, minimumAmount < 0 {
            throw NotificationConfigError("'amount_at_least' must be 0 or more yuan, got \(minimumAmount)")
        }
    }
}
