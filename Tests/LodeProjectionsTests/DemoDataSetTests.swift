import Foundation
import LodeEvents
import Testing
@testable import LodeProjections

/// demo/baotou-2024.ndjson reproduces the seed article's 2024 figures, in
/// any order and with any redelivery.
@Suite("Demo data set")
struct DemoDataSetTests {
    static let path = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("demo/baotou-2024.ndjson").path

    static func lines() throws -> [[UInt8]] {
        let data = try #require(FileManager.default.contents(atPath: path), "cannot read \(path)")
        return [UInt8](data).split(separator: UInt8(ascii: "\n")).map(Array.init)
    }

    static func events() throws -> [Event] {
        try lines().enumerated().map { number, line in
            do {
                return try Event.decode(line)
            } catch {
                Issue.record("\(path):\(number + 1): \(error)")
                throw error
            }
        }
    }

    static func targets() throws -> [ReportTarget] {
        [
            try ReportTarget(name: "引進稀土永磁電機項目", path: "recruitment.projects_introduced.pm_motor", target: 30),
            try ReportTarget(name: "引進稀土新材料項目", path: "recruitment.projects_introduced.rare_earth_material", target: 15),
        ]
    }

    static func expectSeedFigures(_ report: ZoneReport) {
        let projects = report.projects
        #expect(projects.major == 71)
        #expect(projects.totalInvestment == 57_384_000_000)
        #expect(projects.plannedInvestment == 31_830_000_000)
        #expect(projects.industrial == 61)
        #expect(projects.industrialNewStartOver100m == 42)
        #expect(projects.strategicEmergingNewStart == Growth(count: 32, previous: 28))
        #expect(projects.strategicEmergingNewStart.growthPct?.description == "14.29")
        #expect(projects.rareEarth == 34)
        #expect(projects.rareEarthNewStartOver100m == Growth(count: 25, previous: 16))
        #expect(projects.rareEarthNewStartOver100m.growthPct?.description == "56.25")
        #expect(report.recruitment.enterprisesContacted == 904)
        #expect(report.recruitment.siteVisits == 276)
        #expect(report.recruitment.agreementsSigned == 17)
        // Figures of the demo set beyond the article's, checked against an
        // independent computation when the set was generated.
        #expect(projects.completedInvestment == 2_631_000_000)
        #expect(projects.byStatus[.planned] == 50 && projects.byStatus[.started] == 14)
        #expect(report.recruitment.projectsIntroduced == [.pmMotor: 12, .rareEarthMaterial: 6])
        #expect(report.targets.map(\.progressPct.description) == ["40.0", "40.0"])
    }

    @Test func everyLineIsAValidEventWrittenCanonically() throws {
        let lines = try Self.lines()
        #expect(lines.count > 1_000)
        var ids = Set<String>()
        for (number, line) in lines.enumerated() {
            guard let event = try? Event.decode(line) else {
                Issue.record("\(Self.path):\(number + 1) does not decode")
                continue
            }
            #expect(event.encoded() == line, "line \(number + 1) is not written as Event.encoded() writes it")
            #expect(ids.insert(event.id).inserted, "line \(number + 1): id \(event.id) is used twice")
        }
    }

    @Test func inFileOrderItGivesTheSeedFigures() throws {
        Self.expectSeedFigures(projection(try Self.events()).report(year: 2024, targets: try Self.targets()))
    }

    @Test(arguments: [1 as UInt64, 2, 3, 20240505])
    func shuffledAndDuplicatedItGivesTheSeedFigures(seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let events = try Self.events()
        var replayed = events + events.filter { _ in Bool.random(using: &rng) } + events
        replayed.shuffle(using: &rng)
        let shuffled = projection(replayed)
        Self.expectSeedFigures(shuffled.report(year: 2024, targets: try Self.targets()))
        #expect(shuffled.parts == projection(events).parts)
    }

    @Test func thingsThatMustNotCountDoNot() throws {
        let state = projection(try Self.events())
        // Moved to the 2025 plan by a later registration.
        #expect(state.registrations["BT2024-099"]?.value.planYear == 2025)
        // Corrected: the first registration had its amounts ten times too large.
        let corrected = try #require(state.registrations["BT2024-005"]?.value)
        #expect(corrected.categories.contains(.rareEarth))
        #expect(corrected.totalInvestment < 10_000_000_000)
        // Cancelled and non-major projects are registered but not counted.
        #expect(state.statuses["BT2024-X01"]?.value == .cancelled)
        #expect(state.registrations["BT2024-N01"]?.value.major == false)
        // 2023 has its own figures.
        let report2023 = state.report(year: 2023)
        #expect(report2023.projects.strategicEmergingNewStart.count == 28)
        #expect(report2023.projects.rareEarthNewStartOver100m.count == 16)
        #expect(report2023.recruitment.enterprisesContacted == 40)
    }

    @Test func reportRendersTheArticlesFigures() throws {
        let report = projection(try Self.events()).report(year: 2024, targets: try Self.targets())
        let table = report.renderTable()
        for figure in ["573.84", "318.30", "+14.29%", "+56.25%", "904", "276", "17"] {
            #expect(table.contains(figure), "table lacks \(figure)")
        }
        let json = report.jsonText()
        #expect(json.contains(#""strategic_emerging_new_start":{"count":32,"previous":28,"growth_pct":14.29}"#))
        #expect(json.contains(#""rare_earth_new_start_over_100m":{"count":25,"previous":16,"growth_pct":56.25}"#))
    }
}
