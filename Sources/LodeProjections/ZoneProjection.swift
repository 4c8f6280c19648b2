import LodeEvents

/// The zone's projection state: everything the report of contract
/// section 4 is computed from, kept up to date one event at a time.
///
/// ``apply(_:)`` is a handful of dictionary and set upserts, whatever the
/// state's size: no rescans. The result never depends on the order the
/// events come in, nor on how often each comes (contract section 3,
/// "Semantics"): every part is either a "latest by `time`" winner or a set
/// of distinct keys, and both merge the same way in any order.
///
/// Which row an event changes, and how, is ``ProjectionChange`` (shared with every store);
/// the report is computed from ``ReportInput`` by one function for every store.
///
/// ## Keeping it in SQL tables
///
/// Each part is one table whose rows are changed only by upserts, so a worker can keep the
/// state in SQLite or PostgreSQL and apply a batch of events in one transaction. The tables,
/// their keys and the merge of each kind are described once, in LodeStorage's
/// `ProjectionTable`, and both stores' statements are generated from that description (see
/// docs/storage.md, "One home for the rules"). The stamp is `(event_seconds, event_nanos,
/// event_id, event_source)` compared as a row value with a byte-order collation: exactly ``EventStamp``'s
/// order. Status and investment rows are kept whether or not their project is registered yet:
/// the report joins them to the registrations when it is computed, so an update that arrives
/// before its project counts as soon as the project is registered.
public struct ZoneProjection: Sendable {
    /// Which year an event's `time` falls in.
    public let calendar: ZoneCalendar
    /// The latest registration of each project, by `project_id`.
    public private(set) var registrations: [String: Latest<ProjectRegistered>] = [:]
    /// The latest status of each project, by `project_id`; registered or not.
    public private(set) var statuses: [String: Latest<ProjectStatus>] = [:]
    /// The latest report of each (project, period): by `project_id`, then by
    /// period. Amounts are in yuan.
    public private(set) var investment: [String: [YearMonth: Latest<Int64>]] = [:]
    /// Recruitment, by the year of each event's `time` in the zone.
    public private(set) var recruitment: [Int: RecruitmentYear] = [:]

    public init(calendar: ZoneCalendar) {
        self.calendar = calendar
    }

    /// Applies one validated event. Returns whether the state changed: an
    /// event that is older than what it would replace, or that adds nothing
    /// new to a distinct count (a redelivery, a second contact with the
    /// same enterprise in the same campaign and year), changes nothing.
    ///
    /// An event with the same identity (`source` and `id`) and a different content (a conflicting
    /// duplicate) must be kept out by the caller: here the first one
    /// applied stays only where both compete for the same row.
    @discardableResult
    public mutating func apply(_ event: Event) -> Bool {
        apply(ProjectionChange(event, calendar: calendar))
    }

    /// Applies one event's change (``ProjectionChange``), merged by its kind's rule.
    @discardableResult
    public mutating func apply(_ change: ProjectionChange) -> Bool {
        switch change {
        case .registration(let registration, let stamp):
            return registrations.upsertIfNewer(registration.projectID, stamp: stamp, value: registration)
        case .status(let projectID, let status, let stamp):
            return statuses.upsertIfNewer(projectID, stamp: stamp, value: status)
        case .investment(let projectID, let period, let amount, let stamp):
            return investment[projectID, default: [:]].upsertIfNewer(period, stamp: stamp, value: amount)
        case .contact(let year, let campaign, let enterprise):
            return recruitment[year, default: RecruitmentYear()]
                .recordContact(enterprise: ExactText(enterprise), campaign: ExactText(campaign))
        case .visit(let year, let campaign, let event):
            return recruitment[year, default: RecruitmentYear()].recordVisit(event, campaign: ExactText(campaign))
        case .agreement(let year, let campaign, let enterprise):
            return recruitment[year, default: RecruitmentYear()]
                .recordAgreement(enterprise: ExactText(enterprise), campaign: ExactText(campaign))
        case .introduction(let year, let industry, let projectID):
            return recruitment[year, default: RecruitmentYear()].recordIntroduction(projectID: projectID, industry: industry)
        }
    }

    /// Applies events in order; returns how many changed the state.
    @discardableResult
    public mutating func apply(contentsOf events: some Sequence<Event>) -> Int {
        var changed = 0
        for event in events where apply(event) { changed += 1 }
        return changed
    }
}

/// One year's recruitment: distinct keys, so that counting them is the
/// contract's "distinct enterprises" and "distinct ids".
public struct RecruitmentYear: Sendable, Hashable {
    /// Distinct enterprises contacted in the year, over all campaigns.
    public private(set) var enterprisesContacted: Set<ExactText> = []
    /// Distinct site-visit events (their source and id) in the year.
    public private(set) var siteVisits: Set<EventKey> = []
    /// Distinct enterprises that signed an agreement in the year.
    public private(set) var agreementsSigned: Set<ExactText> = []
    /// The same three, per campaign.
    public private(set) var campaigns: [ExactText: CampaignTally] = [:]
    /// Distinct `project_id`s introduced in the year, per industry.
    public private(set) var projectsIntroduced: [Category: Set<String>] = [:]

    public init() {}

    mutating func recordContact(enterprise: ExactText, campaign: ExactText) -> Bool {
        let inCampaign = campaigns[campaign, default: CampaignTally()].enterprisesContacted.insert(enterprise).inserted
        return enterprisesContacted.insert(enterprise).inserted || inCampaign
    }

    mutating func recordVisit(_ event: EventKey, campaign: ExactText) -> Bool {
        let inCampaign = campaigns[campaign, default: CampaignTally()].siteVisits.insert(event).inserted
        return siteVisits.insert(event).inserted || inCampaign
    }

    mutating func recordAgreement(enterprise: ExactText, campaign: ExactText) -> Bool {
        let inCampaign = campaigns[campaign, default: CampaignTally()].agreementsSigned.insert(enterprise).inserted
        return agreementsSigned.insert(enterprise).inserted || inCampaign
    }

    mutating func recordIntroduction(projectID: String, industry: Category) -> Bool {
        projectsIntroduced[industry, default: []].insert(projectID).inserted
    }
}

/// One campaign's recruitment in one year.
public struct CampaignTally: Sendable, Hashable {
    /// Distinct enterprises contacted.
    public internal(set) var enterprisesContacted: Set<ExactText> = []
    /// Distinct site-visit events (their source and id).
    public internal(set) var siteVisits: Set<EventKey> = []
    /// Distinct enterprises that signed an agreement.
    public internal(set) var agreementsSigned: Set<ExactText> = []

    public init() {}
}
