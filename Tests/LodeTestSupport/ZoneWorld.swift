import Dispatch
import Foundation
import LodeEvents
import LodeProjections
import LodeStorage
import Synchronization

/// A small world where events collide often, for the property tests that compare every store
/// with the pure rules (``ZoneProjection``): four projects, three enterprises, two campaigns,
/// coarse times (ties, so the id and source tie-breaks are exercised), a year boundary in the
/// zone, each id from two sources. Equal codes are the same event (a redelivery).
public enum ZoneWorld {
    public static let calendar: ZoneCalendar = {
        do { return try ZoneCalendar() } catch { preconditionFailure("Asia/Shanghai must be known: \(error)") }
    }()

    public static func event(from code: Int) -> IncomingEvent {
        var rng = SeededGenerator(seed: UInt64(code) &+ 0x5EED)
        let projectID = "P\(Int.random(in: 0..<4, using: &rng))"
        let enterprise = ["臥龍控股集團", "江蘇大中電機", "Caf\u{E9}"].randomElement(using: &rng) ?? ""
        let campaign = ["百日攻堅", "早春行動"].randomElement(using: &rng) ?? ""
        let when = [
            "2023-12-31T15:59:59Z", "2023-12-31T16:30:00Z", "2024-03-01T10:00:00+08:00", "2024-03-01T02:00:00Z",
            "2024-06-01T10:00:00+08:00",
        ].randomElement(using: &rng) ?? "2024-06-01T10:00:00+08:00"
        let data: EventData
        switch Int.random(in: 0..<7, using: &rng) {
        case 0:
            let total: Int64 = [50_000_000, 900_000_000].randomElement(using: &rng) ?? 0
            data = .projectRegistered(ProjectRegistered(
                projectID: projectID, name: "測試項目", planYear: [2023, 2024].randomElement(using: &rng) ?? 2024,
                categories: [[.industrial], [.industrial, .rareEarth], [.strategicEmerging]].randomElement(using: &rng) ?? [],
                newStart: true, totalInvestment: total, plannedInvestment: total / 2, major: Bool.random(using: &rng)))
        case 1:
            data = .projectStatusChanged(ProjectStatusChanged(
                projectID: projectID, status: ProjectStatus.allCases.randomElement(using: &rng) ?? .started))
        case 2:
            data = .investmentReported(InvestmentReported(
                projectID: projectID, period: YearMonth(year: 2024, month: Int.random(in: 1...2, using: &rng)) ?? YearMonth(year: 2024, month: 1)!,
                completedInvestment: Int64.random(in: 0...9_000_000, using: &rng)))
        case 3: data = .enterpriseContacted(EnterpriseContacted(enterprise: enterprise, campaign: campaign))
        case 4: data = .siteVisit(SiteVisit(enterprise: enterprise, campaign: campaign))
        case 5: data = .agreementSigned(AgreementSigned(enterprise: enterprise, campaign: campaign))
        default:
            data = .projectIntroduced(ProjectIntroduced(
                enterprise: enterprise, campaign: campaign, projectID: projectID,
                industry: [.pmMotor, .rareEarthMaterial].randomElement(using: &rng) ?? .pmMotor))
        }
        // Ids of different lengths and shapes, as producers write them. Two codes share each id,
        // from two sources: two different events (an event's identity is its source and id),
        // which may tie on time and id, so the source tie-break is exercised too.
        let idCode = code / 2
        let id = idCode % 3 == 0 ? "e\(idCode)" : idCode % 3 == 1 ? "sha256:\(String(idCode, radix: 16))"
            : "00000000-0000-4000-8000-\(String(format: "%012d", idCode))"
        let source = code % 2 == 0 ? "tests" : "park/north"
        do {
            return IncomingEvent(Event(id: id, source: source, time: try EventTime(parsing: when), data: data))
        } catch {
            preconditionFailure("bad world time \(when): \(error)")
        }
    }

    /// The pure rules' reports of `events`, for `years`.
    public static func expectedReports(_ events: [IncomingEvent], years: [Int] = [2023, 2024]) -> [ZoneReport] {
        var projection = ZoneProjection(calendar: calendar)
        projection.apply(contentsOf: events.map(\.event))
        return years.map { projection.report(year: $0) }
    }

    /// `events`, each up to `copies` times, shuffled.
    public static func replayed(_ events: [IncomingEvent], copies: ClosedRange<Int>, using rng: inout SeededGenerator) -> [IncomingEvent] {
        var replayed: [IncomingEvent] = []
        for event in events {
            for _ in 0..<Int.random(in: copies, using: &rng) { replayed.append(event) }
        }
        replayed.shuffle(using: &rng)
        return replayed
    }

    /// `events` cut at random points into batches of 1 to `largest`.
    public static func split(_ events: [IncomingEvent], largest: Int, using rng: inout SeededGenerator) -> [[IncomingEvent]] {
        var batches: [[IncomingEvent]] = []
        var start = 0
        while start < events.count {
            let end = min(events.count, start + Int.random(in: 1...max(1, largest), using: &rng))
            batches.append(Array(events[start..<end]))
            start = end
        }
        return batches
    }
}

/// SplitMix64, so that shuffles are the same on every run.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// demo/baotou-2024.ndjson, the seed article's events: one event a line, with its bytes.
public enum DemoSet {
    public static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("demo/baotou-2024.ndjson").path

    public struct Unreadable: Error, CustomStringConvertible {
        public var description: String { "cannot read \(DemoSet.path)" }
    }

    public static func incoming() throws -> [IncomingEvent] {
        guard let data = FileManager.default.contents(atPath: path) else { throw Unreadable() }
        return try [UInt8](data).split(separator: UInt8(ascii: "\n")).map { try IncomingEvent(decoding: Array($0)) }
    }
}

/// Applies `batches` with one thread per store, each taking the next batch as it comes free (as
/// workers on one queue do); returns the events applied and the errors, if any.
public func applyConcurrently(_ batches: [[IncomingEvent]], to stores: [any ZoneStore]) -> (applied: Int, failures: [String]) {
    let next = Mutex(0)
    let applied = Mutex(0)
    let failures = Mutex<[String]>([])
    DispatchQueue.concurrentPerform(iterations: stores.count) { worker in
        while true {
            let index = next.withLock { value in
                defer { value += 1 }
                return value
            }
            guard index < batches.count else { return }
            do {
                let outcome = try stores[worker].apply(batches[index])
                applied.withLock { $0 += outcome.applied }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
    }
    return (applied.withLock { $0 }, failures.withLock { $0 })
}
