import LodeEvents
import LodeProjections
import LodeStorage
import Testing

/// `lodectl projects` reads the store's project list: it must be the list the pure projection
/// gives, and each project figure of the report must be a count (or a sum) of a filtered list.
@Suite("The project list behind the report")
struct ProjectListTests {
    /// The store, seen as the reader protocol every store implements.
    func list(_ reader: some ProjectListReader, year: Int) throws -> [ReportedProject] {
        try reader.projects(year: year)
    }

    @Test func theStoresListIsTheProjectionsList() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        let events = try Demo.incoming()
        for batch in batches(events, of: 500) { _ = try store.apply(batch) }
        var projection = ZoneProjection(calendar: shanghai)
        projection.apply(contentsOf: events.map(\.event))
        for year in [2023, 2024, 2025] {
            #expect(try list(store, year: year) == projection.projects(year: year), "\(year)")
        }
        let projects = try list(store, year: 2024)
        #expect(projects.count == 71)
        #expect(projects.map(\.projectID) == projects.map(\.projectID).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
    }

    @Test func everyProjectFigureIsAFilteredList() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        let events = try Demo.incoming()
        for batch in batches(events, of: 500) { _ = try store.apply(batch) }
        let report = try store.report(year: 2024, targets: [])
        let projects = try list(store, year: 2024)
        let previous = try list(store, year: 2023)
        func count(_ figure: String, in list: [ReportedProject] = projects) throws -> Int {
            let filter = try #require(ProjectFilter.reproducing(figure), "\(figure)")
            return list.filter(filter.matches).count
        }
        let all = ProjectTotals(projects)
        #expect(all.count == report.projects.major)
        #expect(all.totalInvestment == Int128(report.projects.totalInvestment))
        #expect(all.plannedInvestment == Int128(report.projects.plannedInvestment))
        #expect(all.completedInvestment == Int128(report.projects.completedInvestment))
        #expect(try count("projects.industrial") == report.projects.industrial)
        #expect(try count("projects.industrial_new_start_over_100m") == report.projects.industrialNewStartOver100m)
        #expect(try count("projects.strategic_emerging_new_start") == report.projects.strategicEmergingNewStart.count)
        #expect(try count("projects.strategic_emerging_new_start", in: previous) == report.projects.strategicEmergingNewStart.previous)
        #expect(try count("projects.rare_earth") == report.projects.rareEarth)
        #expect(try count("projects.rare_earth_new_start_over_100m") == report.projects.rareEarthNewStartOver100m.count)
        #expect(try count("projects.rare_earth_new_start_over_100m", in: previous) == report.projects.rareEarthNewStartOver100m.previous)
        for stage in ProjectStage.reported {
            #expect(try count("projects.by_status.\(stage.rawValue)") == report.projects.byStatus[stage] ?? 0, "\(stage)")
        }
        for category in Category.allCases {
            #expect(try count("projects.by_category.\(category.rawValue)") == report.projects.byCategory[category] ?? 0, "\(category)")
        }
        // The seed article's figures.
        #expect(try count("projects.industrial_new_start_over_100m") == 42)
        #expect(try count("projects.strategic_emerging_new_start") == 32)
    }

    @Test func aCancelledProjectIsNotListed() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        let registered = try IncomingEvent(decoding: Array(#"{"specversion":"1.0","id":"r1","source":"t","type":"zone.project.registered","time":"2024-01-05T09:00:00+08:00","data":{"project_id":"P1","name":"甲","plan_year":2024,"categories":["industrial"],"new_start":true,"total_investment":200000000,"planned_investment":1,"enterprise":"某公司","park":"园区"}}"#.utf8))
        _ = try store.apply([registered])
        let listed = try list(store, year: 2024)
        #expect(listed.map(\.projectID) == ["P1"])
        #expect(listed.first?.enterprise == "某公司")
        #expect(listed.first?.stage == .planned)
        #expect(listed.first?.isOver100m == true)
        let cancelled = try IncomingEvent(decoding: Array(#"{"specversion":"1.0","id":"s1","source":"t","type":"zone.project.status_changed","time":"2024-02-05T09:00:00+08:00","data":{"project_id":"P1","status":"cancelled"}}"#.utf8))
        _ = try store.apply([cancelled])
        #expect(try list(store, year: 2024).isEmpty)
    }
}
