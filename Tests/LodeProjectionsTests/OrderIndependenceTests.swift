import LodeEvents
import PropertyBased
import Testing
@testable import LodeProjections

/// Any permutation and any duplication of an event set gives the same state
/// and the same report (contract section 3, "Semantics").
@Suite("Order and duplication independence")
struct OrderIndependenceTests {
    /// A small world where events collide often: four projects, three
    /// enterprises, two campaigns, times on a coarse grid (many ties, so the
    /// id tie-break is exercised), a year boundary in the zone.
    static func event(from code: Int) -> Event {
        var rng = SeededGenerator(seed: UInt64(bitPattern: Int64(code)))
        let projectID = "P\(Int.random(in: 0..<4, using: &rng))"
        let enterprise = ["臥龍控股集團", "江蘇大中電機", "重慶驅創"].randomElement(using: &rng)!
        let campaign = ["百日攻堅", "早春行動"].randomElement(using: &rng)!
        let times = [
            "2023-06-01T10:00:00+08:00", "2023-12-31T15:59:59Z", "2023-12-31T16:30:00Z", "2024-01-01T00:30:00+08:00",
            "2024-03-01T10:00:00+08:00", "2024-03-01T02:00:00Z", "2024-06-01T10:00:00+08:00",
        ]
        let when = times.randomElement(using: &rng)!
        let categorySets: [[Category]] = [
            [.industrial], [.industrial, .rareEarth], [.industrial, .strategicEmerging, .rareEarth, .pmMotor],
            [.strategicEmerging], [.infrastructure],
        ]
        let data: EventData
        switch Int.random(in: 0..<7, using: &rng) {
        case 0:
            data = registered(
                projectID, year: [2023, 2024].randomElement(using: &rng)!,
                categories: categorySets.randomElement(using: &rng)!, newStart: Bool.random(using: &rng),
                total: [50_000_000, 100_000_000, 900_000_000].randomElement(using: &rng)!,
                planned: Int64.random(in: 0...50_000_000, using: &rng), major: Int.random(in: 0..<5, using: &rng) > 0)
        case 1: data = status(projectID, ProjectStatus.allCases.randomElement(using: &rng)!)
        case 2:
            data = invested(projectID, ["2023-12", "2024-01", "2024-02"].randomElement(using: &rng)!,
                            Int64.random(in: 0...9_000_000, using: &rng))
        case 3: data = contacted(enterprise, campaign)
        case 4: data = visited(enterprise, campaign)
        case 5: data = signed(enterprise, campaign)
        default: data = introduced(projectID, [.pmMotor, .rareEarthMaterial, .industrial].randomElement(using: &rng)!)
        }
        // The id is a function of the code, so equal codes are the same
        // event (a redelivery), never a conflicting duplicate.
        return LodeProjectionsTests.event("e\(code)", at: when, data)
    }

    static func fingerprint(_ state: ZoneProjection) -> [String] {
        [2023, 2024].map { state.report(year: $0).jsonText() }
    }

    @Test func anyPermutationAndDuplicationGivesTheSameReport() async {
        await propertyCheck(
            count: 300, input: Gen.int(in: 0...100_000).array(of: 1...40), Gen.int(in: 0...Int.max), Gen.int(in: 0...3)
        ) { codes, shuffleSeed, copies in
            let events = codes.map(Self.event(from:))
            let inOrder = projection(events)
            var rng = SeededGenerator(seed: UInt64(shuffleSeed))
            var replayed = events
            for _ in 0..<copies { replayed += events.filter { _ in Bool.random(using: &rng) } }
            replayed.shuffle(using: &rng)
            let shuffled = projection(replayed)
            #expect(shuffled.parts == inOrder.parts)
            #expect(Self.fingerprint(shuffled) == Self.fingerprint(inOrder))
        }
    }

    @Test func reversedOrderGivesTheSameReport() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...100_000).array(of: 1...60)) { codes in
            let events = codes.map(Self.event(from:))
            #expect(Self.fingerprint(projection(events)) == Self.fingerprint(projection(events.reversed())))
        }
    }

    @Test func applyingAnEventTwiceNeverChangesTheSecondTime() async {
        await propertyCheck(count: 200, input: Gen.int(in: 0...100_000).array(of: 1...30)) { codes in
            var state = projection(codes.map(Self.event(from:)))
            for code in codes {
                let changed = state.apply(Self.event(from: code))
                #expect(!changed)
            }
        }
    }
}
