import Foundation
import LodeEvents
import LodeProjections

/// The configured rules, and the two pure evaluations the store calls inside
/// its transaction:
///
/// - ``notifications(for:project:now:)`` for each event it newly applied
///   (never for a duplicate: the inbox already skips those);
/// - ``crossings(year:before:after:targets:now:)`` with a year's report
///   before and after the transaction, for each year the transaction changed.
///
/// Both return notifications whose ``ZoneNotification/key`` depends only on the
/// cause, so recording them with `INSERT … ON CONFLICT(key) DO NOTHING`
/// makes a redelivered event, a replay or a rebuild notify nothing twice.
public struct NotificationRules: Sendable {
    public let rules: [NotificationRule]
    /// Gives an event's report year (`{year}`) in the zone's time zone.
    public let calendar: ZoneCalendar

    /// The indices in ``rules`` of the event rules, by the event type they watch: the store
    /// looks them up for every event it applies.
    /// Each with its conditions, `nil` when it has none (most rules: then nothing is checked).
    private let eventRulesByType: [[(index: Int, conditions: EventConditions?)]]
    /// The event types whose rules ask about the project's categories, which their events do
    /// not carry (``needsProjectFacts(for:)``).
    private let needsProjectFactsByType: [Bool]

    public init(rules: [NotificationRule], calendar: ZoneCalendar) {
        self.rules = rules
        self.calendar = calendar
        var byType = [[(index: Int, conditions: EventConditions?)]](repeating: [], count: EventType.allCases.count)
        var needsFacts = [Bool](repeating: false, count: EventType.allCases.count)
        for (index, rule) in rules.enumerated() {
            guard case .event(let type, let conditions) = rule.trigger else { continue }
            byType[Self.slot(of: type)].append((index, conditions == EventConditions() ? nil : conditions))
            if conditions.categories != nil, type == .projectStatusChanged || type == .investmentReported {
                needsFacts[Self.slot(of: type)] = true
            }
        }
        eventRulesByType = byType
        needsProjectFactsByType = needsFacts
    }

    /// Whether any rule is on events: if not, the store need not look up
    /// project facts.
    public var hasEventRules: Bool {
        rules.contains { if case .event = $0.trigger { true } else { false } }
    }

    /// Whether any rule watches figures or targets: if not, the store need
    /// not compute reports around its transactions.
    public var hasCrossingRules: Bool {
        rules.contains { if case .event = $0.trigger { false } else { true } }
    }

    /// The event rules that `event` triggers, without rendering anything: what a store records
    /// in the event's transaction when it renders the text later, at sending. `project` is
    /// needed only when ``needsProjectFacts(for:)`` says so.
    public func matchingRules(for event: Event, project: ProjectFacts?) -> [NotificationRule] {
        var matching: [NotificationRule] = []
        forEachMatchingRule(for: event, project: project) { matching.append(rules[$0]) }
        return matching
    }

    /// ``matchingRules(for:project:)`` as indices in ``rules``, in rule order, one by one: the
    /// store's way, which copies and allocates nothing per event.
    public func forEachMatchingRule(for event: borrowing Event, project: ProjectFacts?, _ body: (Int) throws -> Void) rethrows {
        for (index, conditions) in eventRulesByType[Self.slot(of: event.type)] {
            if let conditions, !Self.matches(copy event, conditions, project: project) { continue }
            try body(index)
        }
    }

    /// Whether matching events of `type` needs the project's facts (a category condition on an
    /// event that does not carry its project's categories).
    public func needsProjectFacts(for type: EventType) -> Bool {
        needsProjectFactsByType[Self.slot(of: type)]
    }

    /// A type's place in the per-type tables: asked for every applied event, so a switch rather
    /// than hashing the type's raw string.
    private static func slot(of type: EventType) -> Int {
        switch type {
        case .projectRegistered: 0
        case .projectStatusChanged: 1
        case .investmentReported: 2
        case .enterpriseContacted: 3
        case .siteVisit: 4
        case .agreementSigned: 5
        case .projectIntroduced: 6
        }
    }

    /// Whether any event rule is about `type`.
    public func hasEventRules(for type: EventType) -> Bool {
        !eventRulesByType[Self.slot(of: type)].isEmpty
    }

    /// The notifications of one newly applied event, in rule order.
    ///
    /// - Parameters:
    ///   - project: the facts of the event's project (`project_id` of a
    ///     status change, an investment report, an agreement or an
    ///     introduced project) as the projection knows it after the event;
    ///     `nil` when it is not registered yet. Not used for a registration,
    ///     which carries its own facts.
    ///   - now: the notifications' ``ZoneNotification/createdAt``.
    public func notifications(for event: Event, project: ProjectFacts?, now: Date) -> [ZoneNotification] {
        matchingRules(for: event, project: project).map { rule in
            var values = eventValues(event, project: project)
            values[.rule] = rule.name
            return ZoneNotification(
                key: NotificationKey.event(rule: rule.name, source: event.source, eventID: event.id), rule: rule.name,
                channels: rule.channels, title: rule.title.render(values), text: rule.message.render(values),
                cause: .event(id: event.id, type: event.type), createdAt: now)
        }
    }

    /// The notifications of the figures that crossed a threshold or a target
    /// milestone between two reports of `year`: a crossing is a value below
    /// the number in `before` and at or above it in `after`. A change that
    /// passes several numbers at once notifies each, in ascending order; a
    /// figure that falls back and rises again gives the same key, so it does
    /// not notify twice in a year.
    ///
    /// - Parameters:
    ///   - targets: the targets of `year` from the config (their figures are
    ///     read off the reports, whatever targets the reports carry).
    public func crossings(year: Int, before: ZoneReport, after: ZoneReport, targets: [ReportTarget], now: Date) -> [ZoneNotification] {
        var result: [ZoneNotification] = []
        for rule in rules {
            switch rule.trigger {
            case .event:
                continue
            case .figureThresholds(let figure, let thresholds):
                let old = figure.value(in: before)
                let new = figure.value(in: after)
                for threshold in thresholds.sorted() where old < Int128(threshold) && new >= Int128(threshold) {
                    var values = Self.figureValues(figure, value: new, threshold: threshold)
                    values[.rule] = rule.name
                    values[.year] = String(year)
                    result.append(ZoneNotification(
                        key: NotificationKey.threshold(rule: rule.name, year: year, threshold: threshold, figure: figure),
                        rule: rule.name, channels: rule.channels,
                        title: rule.title.render(values), text: rule.message.render(values),
                        cause: .threshold(year: year, figure: figure, threshold: threshold, value: Int64(clamping: new)),
                        createdAt: now))
                }
            case .targetMilestones(let name, let milestones):
                for target in targets where name == nil || name == target.name {
                    let old = target.figure.value(in: before)
                    let new = target.figure.value(in: after)
                    for milestone in milestones.sorted() {
                        let threshold = Self.threshold(of: target.target, milestone: milestone)
                        guard old < Int128(threshold) && new >= Int128(threshold) else { continue }
                        var values = Self.figureValues(target.figure, value: new, threshold: threshold)
                        values[.rule] = rule.name
                        values[.year] = String(year)
                        values[.target] = String(target.target)
                        values[.targetName] = target.name
                        values[.milestone] = String(milestone)
                        values[.progressPct] = (FixedDecimal(ratio: new, over: Int128(target.target), places: 1, scaledBy: 100)?.description ?? "")
                        result.append(ZoneNotification(
                            key: NotificationKey.milestone(rule: rule.name, year: year, milestone: milestone, target: target),
                            rule: rule.name, channels: rule.channels,
                            title: rule.title.render(values), text: rule.message.render(values),
                            cause: .milestone(year: year, target: target, milestone: milestone, threshold: threshold,
                                              value: Int64(clamping: new)),
                            createdAt: now))
                    }
                }
            }
        }
        return result
    }

    /// ⌈target × milestone / 100⌉: the value at which `milestone` percent is reached.
    public static func threshold(of target: Int64, milestone: Int) -> Int64 {
        let product = Int128(target) * Int128(milestone)
        return Int64(clamping: (product + 99) / 100)
    }


    // MARK: - Events

    static func matches(_ event: Event, _ conditions: EventConditions, project: ProjectFacts?) -> Bool {
        var status: ProjectStatus?
        var categories: [Category]?
        var campaign: String?
        var amount: Int64?
        switch event.data {
        case .projectRegistered(let data):
            categories = data.categories
            amount = data.totalInvestment
        case .projectStatusChanged(let data):
            status = data.status
            categories = project?.categories
        case .investmentReported(let data):
            categories = project?.categories
            amount = data.completedInvestment
        case .enterpriseContacted(let data):
            campaign = data.campaign
            categories = data.industry.map { [$0] }
        case .siteVisit(let data):
            campaign = data.campaign
        case .agreementSigned(let data):
            campaign = data.campaign
            amount = data.intendedInvestment
        case .projectIntroduced(let data):
            campaign = data.campaign
            categories = [data.industry]
        }
        if let wanted = conditions.statuses {
            guard let status, wanted.contains(status) else { return false }
        }
        if let wanted = conditions.categories {
            guard let categories, categories.contains(where: wanted.contains) else { return false }
        }
        if let wanted = conditions.campaigns {
            // Exact text, as the report counts campaigns (no Unicode normalization).
            guard let campaign, wanted.contains(where: { ExactText($0) == ExactText(campaign) }) else { return false }
        }
        if let minimum = conditions.minimumAmount {
            guard let amount, amount >= minimum else { return false }
        }
        return true
    }

    func eventValues(_ event: Event, project: ProjectFacts?) -> [Placeholder: String] {
        var values: [Placeholder: String] = [
            .eventID: event.id, .eventType: event.type.rawValue, .time: event.time.text, .source: event.source,
            .year: String(calendar.reportingMonth(of: event).year),
        ]
        func amount(_ yuan: Int64?) {
            guard let yuan else { return }
            values[.amount] = String(yuan)
            values[.amountYi] = FixedDecimal.yi(Int128(yuan))
        }
        func facts(_ projectID: String) {
            values[.projectID] = projectID
            values[.projectName] = project?.name ?? projectID
            if let project {
                values[.enterprise] = project.enterprise
                values[.park] = project.park
                values[.categories] = project.categories.map(\.rawValue).joined(separator: ", ")
            }
        }
        switch event.data {
        case .projectRegistered(let data):
            values[.projectID] = data.projectID
            values[.projectName] = data.name
            values[.enterprise] = data.enterprise
            values[.park] = data.park
            values[.categories] = data.categories.map(\.rawValue).joined(separator: ", ")
            values[.year] = String(data.planYear)
            amount(data.totalInvestment)
        case .projectStatusChanged(let data):
            facts(data.projectID)
            values[.status] = data.status.rawValue
            values[.note] = data.note
            // The project counts in its plan year's report.
            if let project { values[.year] = String(project.planYear) }
        case .investmentReported(let data):
            facts(data.projectID)
            values[.period] = data.period.description
            amount(data.completedInvestment)
        case .enterpriseContacted(let data):
            values[.enterprise] = data.enterprise
            values[.campaign] = data.campaign
            values[.industry] = data.industry?.rawValue
        case .siteVisit(let data):
            values[.enterprise] = data.enterprise
            values[.campaign] = data.campaign
            values[.visitors] = data.visitors.map(String.init)
        case .agreementSigned(let data):
            if let projectID = data.projectID { facts(projectID) }
            // The agreement's own enterprise and campaign, not the project's.
            values[.enterprise] = data.enterprise
            values[.campaign] = data.campaign
            amount(data.intendedInvestment)
        case .projectIntroduced(let data):
            facts(data.projectID)
            values[.enterprise] = data.enterprise
            values[.campaign] = data.campaign
            values[.industry] = data.industry.rawValue
        }
        return values
    }

    // MARK: - Figures

    static func figureValues(_ figure: ReportFigure, value: Int128, threshold: Int64) -> [Placeholder: String] {
        var values: [Placeholder: String] = [
            .figure: figure.path, .value: String(value), .valueYi: FixedDecimal.yi(value), .threshold: String(threshold),
        ]
        switch figure {
        case .campaign(let name, _): values[.campaign] = name
        case .projectsIntroduced(let category), .byCategory(let category): values[.industry] = category.rawValue
        default: break
        }
        return values
    }
}
