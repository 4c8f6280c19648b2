import LodeEvents

/// What one event changes in the zone's projection: the one row it touches, and how that row
/// merges with what is there.
///
/// This is the one place that maps events to rows. ``ZoneProjection`` applies a change to its
/// dictionaries; each store applies it to its tables (SQLite one statement per event,
/// PostgreSQL a batch's changes merged with ``ProjectionChange/Merged`` first, then one
/// statement per table). A change of a rule (which key a figure is kept under, which year an
/// event counts in) is made here and reaches every store.
///
/// Three kinds of row, each with one way to merge, the same in any order and for any number
/// of copies (contract section 3, "Semantics"):
///
/// | kind | cases | merge |
/// | --- | --- | --- |
/// | latest by stamp | ``registration(_:_:)``, ``status(projectID:_:_:)``, ``investment(projectID:period:amount:_:)`` | the greater ``EventStamp`` wins |
/// | distinct member | ``contact(year:campaign:enterprise:)``, ``agreement(year:campaign:enterprise:)``, ``introduction(year:industry:projectID:)`` | a set: once in, it stays |
/// | one per event | ``visit(year:campaign:event:)`` | counted once per event identity, `source` and `id` (a store's inbox lets each identity through once, so a count is enough there) |
public enum ProjectionChange: Sendable, Hashable {
    /// The project's fields, by `project_id`.
    case registration(ProjectRegistered, EventStamp)
    /// The project's status, by `project_id`, registered or not.
    case status(projectID: String, ProjectStatus, EventStamp)
    /// The amount completed in one month, by (`project_id`, `period`): the report's year of an
    /// investment report is its `period`'s.
    case investment(projectID: String, period: YearMonth, amount: Int64, EventStamp)
    /// An enterprise contacted, by (year of `time` in the zone, campaign, enterprise).
    case contact(year: Int, campaign: String, enterprise: String)
    /// A site visit, counted per (year of `time` in the zone, campaign), once per event
    /// identity (``EventKey``: `source` and `id`).
    case visit(year: Int, campaign: String, event: EventKey)
    /// An agreement, by (year of `time` in the zone, campaign, enterprise).
    case agreement(year: Int, campaign: String, enterprise: String)
    /// A project introduced, by (year of `time` in the zone, industry, `project_id`).
    case introduction(year: Int, industry: Category, projectID: String)

    /// The change `event` makes; recruitment events count in the year of their `time` in the
    /// zone's time zone (`calendar`).
    @inline(__always)
    public init(_ event: Event, calendar: ZoneCalendar) {
        switch event.data {
        case .projectRegistered(let registration):
            self = .registration(registration, EventStamp(event))
        case .projectStatusChanged(let change):
            self = .status(projectID: change.projectID, change.status, EventStamp(event))
        case .investmentReported(let report):
            self = .investment(projectID: report.projectID, period: report.period, amount: report.completedInvestment, EventStamp(event))
        case .enterpriseContacted(let contact):
            self = .contact(year: calendar.yearMonth(of: event.time).year, campaign: contact.campaign, enterprise: contact.enterprise)
        case .siteVisit(let visit):
            self = .visit(year: calendar.yearMonth(of: event.time).year, campaign: visit.campaign, event: EventKey(event))
        case .agreementSigned(let agreement):
            self = .agreement(year: calendar.yearMonth(of: event.time).year, campaign: agreement.campaign, enterprise: agreement.enterprise)
        case .projectIntroduced(let introduction):
            self = .introduction(year: calendar.yearMonth(of: event.time).year, industry: introduction.industry,
                                 projectID: introduction.projectID)
        }
    }
}

/// The key of a distinct-member row: (year, group, member), compared by exact bytes.
public struct MemberKey: Sendable, Hashable {
    public let year: Int
    public let group: ExactText
    public let member: ExactText

    public init(year: Int, group: String, member: String) {
        self.year = year
        self.group = ExactText(group)
        self.member = ExactText(member)
    }
}

/// The key of an investment row: (project, period).
public struct InvestmentKey: Sendable, Hashable {
    public let projectID: ExactText
    public let period: YearMonth

    public init(projectID: String, period: YearMonth) {
        self.projectID = ExactText(projectID)
        self.period = period
    }
}

extension ProjectionChange {
    /// A batch's changes merged by the same rules as ``ZoneProjection``: per key of a latest
    /// row, the winning change; each distinct member once; visits counted per (year,
    /// campaign). A store that writes a batch with one statement per table (PostgreSQL, where
    /// an upsert may not touch one row twice) writes these, then merges them with its rows by
    /// the same kind of rule.
    ///
    /// Each entry keeps the batch positions of the changes it stands for, so the store can tell
    /// which events changed a figure: `winner` for a latest row, the first position for a member.
    public struct Merged: Sendable {
        public private(set) var registrations: [ExactText: (change: ProjectRegistered, stamp: EventStamp, winner: Int)] = [:]
        public private(set) var statuses: [ExactText: (status: ProjectStatus, stamp: EventStamp, winner: Int)] = [:]
        public private(set) var investment: [InvestmentKey: (amount: Int64, stamp: EventStamp, winner: Int)] = [:]
        public private(set) var contacts: [MemberKey: Int] = [:]
        public private(set) var agreements: [MemberKey: Int] = [:]
        public private(set) var introductions: [MemberKey: Int] = [:]
        /// Visits per (year, campaign) key (member empty), with the positions that counted.
        public private(set) var visits: [MemberKey: [Int]] = [:]
        private var visitKeys: Set<EventKey> = []

        public init() {}

        /// Merges the change of the event at batch position `position`.
        public mutating func add(_ change: ProjectionChange, at position: Int) {
            switch change {
            case .registration(let registration, let stamp):
                let key = ExactText(registration.projectID)
                if let current = registrations[key], !(current.stamp < stamp) { return }
                registrations[key] = (registration, stamp, position)
            case .status(let projectID, let status, let stamp):
                let key = ExactText(projectID)
                if let current = statuses[key], !(current.stamp < stamp) { return }
                statuses[key] = (status, stamp, position)
            case .investment(let projectID, let period, let amount, let stamp):
                let key = InvestmentKey(projectID: projectID, period: period)
                if let current = investment[key], !(current.stamp < stamp) { return }
                investment[key] = (amount, stamp, position)
            case .contact(let year, let campaign, let enterprise):
                let key = MemberKey(year: year, group: campaign, member: enterprise)
                if contacts[key] == nil { contacts[key] = position }
            case .visit(let year, let campaign, let event):
                guard visitKeys.insert(event).inserted else { return }
                visits[MemberKey(year: year, group: campaign, member: ""), default: []].append(position)
            case .agreement(let year, let campaign, let enterprise):
                let key = MemberKey(year: year, group: campaign, member: enterprise)
                if agreements[key] == nil { agreements[key] = position }
            case .introduction(let year, let industry, let projectID):
                let key = MemberKey(year: year, group: industry.rawValue, member: projectID)
                if introductions[key] == nil { introductions[key] = position }
            }
        }
    }
}
