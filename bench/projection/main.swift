// How fast LodeProjections applies events, with no I/O: the ceiling the
// worker's projection step puts on its rate. Prints one JSON line.
//
//   swift build -c release --product lode-bench-projection
//   .build/release/lode-bench-projection [events] [rounds]
//
// The events are a deterministic mix shaped like a busy zone: project
// registrations (with corrections), status changes and monthly investment
// reports for 20,000 projects, and recruitment events for 50,000
// enterprises in four campaigns over two years, with 10% redeliveries.
import LodeEvents
import LodeProjections

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func makeEvents(count: Int) throws -> [Event] {
    var rng = SplitMix64(state: 20_240_505)
    let campaigns = ["稀土永磁电机产业招商“百日攻坚”行动", "招商引资“2024早春行动”", "2023年秋季精准招商行动", "驻外招商"]
    let enterprises = (0..<50_000).map { "企業\($0)電機有限公司" }
    let statuses = ProjectStatus.allCases
    let start: Int64 = 1_672_502_400  // 2023-01-01T00:00:00+08:00
    var events: [Event] = []
    events.reserveCapacity(count)
    for n in 0..<count {
        if n > 0, n % 10 == 0 {
            events.append(events[Int.random(in: 0..<events.count, using: &rng)])  // a redelivery
            continue
        }
        let instant = EventInstant(secondsSinceEpoch: start + Int64.random(in: 0..<(2 * 365 * 86_400), using: &rng))
        let time = try EventTime(instant: instant, utcOffsetMinutes: 480)
        let project = "BT-\(Int.random(in: 0..<20_000, using: &rng))"
        let enterprise = enterprises[Int.random(in: 0..<enterprises.count, using: &rng)]
        let campaign = campaigns[Int.random(in: 0..<campaigns.count, using: &rng)]
        let data: EventData
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<10:
            data = .projectRegistered(ProjectRegistered(
                projectID: project, name: "項目\(project)", planYear: Int.random(in: 2023...2024, using: &rng),
                categories: [.industrial, .rareEarth], newStart: Bool.random(using: &rng),
                totalInvestment: Int64.random(in: 10_000_000...5_000_000_000, using: &rng),
                plannedInvestment: Int64.random(in: 0...1_000_000_000, using: &rng)))
        case 10..<20:
            data = .projectStatusChanged(ProjectStatusChanged(projectID: project, status: statuses.randomElement(using: &rng)!))
        case 20..<40:
            data = .investmentReported(InvestmentReported(
                projectID: project, period: YearMonth(year: Int.random(in: 2023...2024, using: &rng), month: Int.random(in: 1...12, using: &rng))!,
                completedInvestment: Int64.random(in: 0...100_000_000, using: &rng)))
        case 40..<75:
            data = .enterpriseContacted(EnterpriseContacted(enterprise: enterprise, campaign: campaign, industry: .pmMotor))
        case 75..<88:
            data = .siteVisit(SiteVisit(enterprise: enterprise, campaign: campaign, visitors: 3))
        case 88..<94:
            data = .agreementSigned(AgreementSigned(enterprise: enterprise, campaign: campaign))
        default:
            data = .projectIntroduced(ProjectIntroduced(
                enterprise: enterprise, campaign: campaign, projectID: "ZS-\(Int.random(in: 0..<5_000, using: &rng))", industry: .pmMotor))
        }
        events.append(Event(id: "bench-\(n)", source: "bench", time: time, data: data))
    }
    return events
}

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let count = arguments.first ?? 1_000_000
let rounds = arguments.dropFirst().first ?? 5
let calendar = try ZoneCalendar()
let events = try makeEvents(count: count)
let bodies = events.map { $0.encoded() }

let clock = ContinuousClock()
var best = Duration.seconds(1_000_000)
var changed = 0
var report = ""
for _ in 0..<rounds {
    var projection = ZoneProjection(calendar: calendar)
    let elapsed = clock.measure { changed = projection.apply(contentsOf: events) }
    best = min(best, elapsed)
    report = projection.report(year: 2024).jsonText()
}
var bestDecoding = Duration.seconds(1_000_000)
for _ in 0..<rounds {
    var projection = ZoneProjection(calendar: calendar)
    let elapsed = try clock.measure {
        for body in bodies { projection.apply(try Event.decode(body)) }
    }
    bestDecoding = min(bestDecoding, elapsed)
}
var bestReport = Duration.seconds(1_000_000)
var full = ZoneProjection(calendar: calendar)
full.apply(contentsOf: events)
for _ in 0..<rounds {
    bestReport = min(bestReport, clock.measure { _ = full.report(year: 2024).jsonText() })
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
let applyRate = Int(Double(count) / seconds(best))
let decodeApplyRate = Int(Double(count) / seconds(bestDecoding))
print(#"{"events":\#(count),"changed":\#(changed),"apply_events_per_s":\#(applyRate),"decode_and_apply_events_per_s":\#(decodeApplyRate),"report_ms":\#(Int(seconds(bestReport) * 1000)),"report_bytes":\#(report.utf8.count)}"#)
