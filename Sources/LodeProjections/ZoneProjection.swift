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
/// ## Keeping it in SQL tables
///
/// Each part is one table whose rows are changed only by upserts, so a
/// worker can keep the state in SQLite or PostgreSQL and apply a batch of
/// events in one transaction:
///
/// | part | table, key | statement |
/// | --- | --- | --- |
/// | ``registrations`` | `project_registration (project_id)`: the winning registration's fields, its `event_time`, `event_id` and `event_source` | `INSERT … ON CONFLICT (project_id) DO UPDATE SET … WHERE (excluded.event_time, excluded.event_id, excluded.event_source) > (event_time, event_id, event_source)` |
/// | ``statuses`` | `project_status (project_id)`: `status`, `event_time`, `event_id`, `event_source` | the same upsert-if-newer |
/// | ``investment`` | `investment_report (project_id, period)`: `completed_investment`, `event_time`, `event_id`, `event_source` | the same upsert-if-newer |
/// | ``RecruitmentYear/campaigns`` contacts | `recruitment_contact (year, campaign, enterprise)` | `INSERT … ON CONFLICT DO NOTHING` |
/// | ``RecruitmentYear/campaigns`` visits | `recruitment_visit_count (year, campaign)`: `visits` (the inbox lets each event, by source and id, through once) | `INSERT … ON CONFLICT DO UPDATE SET visits = visits + excluded.visits` |
/// | ``RecruitmentYear/campaigns`` agreements | `recruitment_agreement (year, campaign, enterprise)` | `INSERT … ON CONFLICT DO NOTHING` |
/// | ``RecruitmentYear/projectsIntroduced`` | `recruitment_introduction (year, industry, project_id)` | `INSERT … ON CONFLICT DO NOTHING` |
///
/// `event_time` is the instant as an integer (nanoseconds since the epoch
/// fit an `INTEGER` for every year the events allow), `event_id` and
/// `event_source` binary-collated texts, so the row comparison is exactly
/// ``EventStamp``'s order. The year-wide distinct sets kept here
/// (``RecruitmentYear/enterprisesContacted`` and the like) are indexes for
/// speed; in SQL they are `COUNT(DISTINCT enterprise) … WHERE year = ?`
/// over the per-campaign tables. Status and investment rows are kept
/// whether or not their project is registered yet: the report joins them to
/// the registrations when it is computed, so an update that arrives before
/// its project counts as soon as the project is registered.
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
    /// An event with the same `source` and `id` and a different content (a
    /// conflicting duplicate) must be kept out by the caller: here the first one
    /// applied stays only where both compete for the same row.
    @discardableResult
    public mutating func apply(_ event: Event) -> Bool {
        switch event.data {
        case .projectRegistered(let registration):
            return registrations.upsertIfNewer(registration.projectID, stamp: EventStamp(event), value: registration)
        case .projectStatusChanged(let change):
            return statuses.upsertIfNewer(change.projectID, stamp: EventStamp(event), value: change.status)
        case .investmentReported(let report):
            return investment[report.projectID, default: [:]]
                .upsertIfNewer(report.period, stamp: EventStamp(event), value: report.completedInvestment)
        case .enterpriseContacted(let contact):
            let year = calendar.yearMonth(of: event.time).year
            return recruitment[year, default: RecruitmentYear()]
                .recordContact(enterprise: ExactText(contact.enterprise), campaign: ExactText(contact.campaign))
        case .siteVisit(let visit):
            let year = calendar.yearMonth(of: event.time).year
            return recruitment[year, default: RecruitmentYear()]
                .recordVisit(EventKey(event), campaign: ExactText(visit.campaign))
        case .agreementSigned(let agreement):
            let year = calendar.yearMonth(of: event.time).year
            return recruitment[year, default: RecruitmentYear()]
                .recordAgreement(enterprise: ExactText(agreement.enterprise), campaign: ExactText(agreement.campaign))
        case .projectIntroduced(let introduction):
            let year = calendar.yearMonth(of: event.time).year
            return recruitment[year, default: RecruitmentYear()]
                .recordIntroduction(projectID: introduction.projectID, industry: introduction.industry)
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
    /// Distinct site-visit events (by source and id) in the year.
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
    /// Distinct site-visit events (by source and id).
    public internal(set) var siteVisits: Set<EventKey> = []
    /// Distinct enterprises that signed an agreement.
    public internal(set) var agreementsSigned: Set<ExactText> = []

    public init() {}
}
