import LodeEvents
@testable import LodeProjections

/// The zone's default calendar (Asia/Shanghai).
let shanghai: ZoneCalendar = {
    do { return try ZoneCalendar() } catch { preconditionFailure("Asia/Shanghai must be known: \(error)") }
}()

func time(_ text: String) -> EventTime {
    do { return try EventTime(parsing: text) } catch { preconditionFailure("bad test time \(text): \(error)") }
}

func event(_ id: String, at text: String, _ data: EventData) -> Event {
    Event(id: id, source: "tests", time: time(text), data: data)
}

func registered(
    _ projectID: String, year: Int = 2024, categories: [Category] = [.industrial], newStart: Bool = true,
    total: Int64 = 200_000_000, planned: Int64 = 100_000_000, major: Bool = true, name: String = "測試項目"
) -> EventData {
    .projectRegistered(ProjectRegistered(
        projectID: projectID, name: name, planYear: year, categories: categories, newStart: newStart,
        totalInvestment: total, plannedInvestment: planned, major: major))
}

func status(_ projectID: String, _ status: ProjectStatus) -> EventData {
    .projectStatusChanged(ProjectStatusChanged(projectID: projectID, status: status))
}

func invested(_ projectID: String, _ period: String, _ amount: Int64) -> EventData {
    .investmentReported(InvestmentReported(projectID: projectID, period: YearMonth(period: period)!, completedInvestment: amount))
}

func contacted(_ enterprise: String, _ campaign: String = "百日攻堅") -> EventData {
    .enterpriseContacted(EnterpriseContacted(enterprise: enterprise, campaign: campaign))
}

func visited(_ enterprise: String, _ campaign: String = "百日攻堅") -> EventData {
    .siteVisit(SiteVisit(enterprise: enterprise, campaign: campaign))
}

func signed(_ enterprise: String, _ campaign: String = "百日攻堅") -> EventData {
    .agreementSigned(AgreementSigned(enterprise: enterprise, campaign: campaign))
}

func introduced(_ projectID: String, _ industry: Category, enterprise: String = "臥龍控股集團", _ campaign: String = "百日攻堅") -> EventData {
    .projectIntroduced(ProjectIntroduced(enterprise: enterprise, campaign: campaign, projectID: projectID, industry: industry))
}

/// A projection with `events` applied in order.
func projection(_ events: [Event]) -> ZoneProjection {
    var projection = ZoneProjection(calendar: shanghai)
    projection.apply(contentsOf: events)
    return projection
}

func report(_ events: [Event], year: Int = 2024, targets: [ReportTarget] = []) -> ZoneReport {
    projection(events).report(year: year, targets: targets)
}

/// SplitMix64: a small seeded generator, so shuffles are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension ZoneProjection {
    /// Every part of the state, for comparing two projections.
    var parts: PartsSnapshot {
        PartsSnapshot(registrations: registrations, statuses: statuses, investment: investment, recruitment: recruitment)
    }
}

struct PartsSnapshot: Equatable {
    var registrations: [String: Latest<ProjectRegistered>]
    var statuses: [String: Latest<ProjectStatus>]
    var investment: [String: [YearMonth: Latest<Int64>]]
    var recruitment: [Int: RecruitmentYear]
}
