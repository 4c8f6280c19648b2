import Foundation
import LodeEvents
import LodeProjections
import LodeStorage
import LodeTestSupport
import Testing

/// The zone's default calendar (Asia/Shanghai).
let shanghai: ZoneCalendar = {
    do { return try ZoneCalendar() } catch { preconditionFailure("Asia/Shanghai must be known: \(error)") }
}()

/// A fresh directory under the system's temporary directory, removed when
/// the value is dropped.
final class TemporaryDirectory {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("lode-storage-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A store in a new SQLite file of `directory`.
func openStore(in directory: TemporaryDirectory, name: String = "lode.sqlite", busyTimeout: Duration = .seconds(5)) throws -> SQLiteZoneStore {
    try SQLiteZoneStore(
        path: directory.file(name), configuration: SQLiteStoreConfiguration(calendar: shanghai, busyTimeout: busyTimeout))
}

/// demo/baotou-2024.ndjson, one event a line with its bytes.
enum Demo {
    static let path = DemoSet.path

    static func incoming() throws -> [IncomingEvent] {
        try DemoSet.incoming()
    }

    static func targets() throws -> [ReportTarget] {
        [
            try ReportTarget(name: "引進稀土永磁電機項目", path: "recruitment.projects_introduced.pm_motor", target: 30),
            try ReportTarget(name: "引進稀土新材料項目", path: "recruitment.projects_introduced.rare_earth_material", target: 15),
            try ReportTarget(name: "重大項目", path: "projects.major", target: 70),
        ]
    }
}

/// The in-memory projection's report for the same events: what the store
/// must give.
func expectedReport(_ events: [IncomingEvent], year: Int, targets: [ReportTarget] = []) -> ZoneReport {
    var projection = ZoneProjection(calendar: shanghai)
    projection.apply(contentsOf: events.map(\.event))
    return projection.report(year: year, targets: targets)
}

func time(_ text: String) -> EventTime {
    do { return try EventTime(parsing: text) } catch { preconditionFailure("bad test time \(text): \(error)") }
}

func incoming(_ id: String, at text: String, _ data: EventData, source: String = "tests") -> IncomingEvent {
    IncomingEvent(Event(id: id, source: source, time: time(text), data: data))
}

func registered(_ projectID: String, year: Int = 2024, categories: [Category] = [.industrial], total: Int64 = 200_000_000, major: Bool = true) -> EventData {
    .projectRegistered(ProjectRegistered(
        projectID: projectID, name: "測試項目", planYear: year, categories: categories, newStart: true,
        totalInvestment: total, plannedInvestment: total / 2, major: major))
}

func status(_ projectID: String, _ status: ProjectStatus) -> EventData {
    .projectStatusChanged(ProjectStatusChanged(projectID: projectID, status: status))
}

func contacted(_ enterprise: String, _ campaign: String = "百日攻堅") -> EventData {
    .enterpriseContacted(EnterpriseContacted(enterprise: enterprise, campaign: campaign))
}

func visited(_ enterprise: String, _ campaign: String = "百日攻堅") -> EventData {
    .siteVisit(SiteVisit(enterprise: enterprise, campaign: campaign))
}

/// Splits `events` into batches of `size`.
func batches(_ events: [IncomingEvent], of size: Int) -> [[IncomingEvent]] {
    stride(from: 0, to: events.count, by: size).map { Array(events[$0..<min($0 + size, events.count)]) }
}
