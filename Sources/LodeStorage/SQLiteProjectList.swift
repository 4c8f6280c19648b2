import GRDB
import LodeEvents
import LodeProjections

/// The project list of a year from the projection tables: ``ReportQueries/projectList``.
enum SQLiteProjectList {
    static func read(_ db: Database, year: Int, path: String) throws -> [ReportedProject] {
        var list: [ReportedProject] = []
        let rows = try Row.fetchCursor(db, sql: ReportQueries.projectList, arguments: [year])
        while let row = try rows.next() {
            list.append(ReportedProject(
                projectID: row[0], name: row[1], enterprise: row[2], park: row[3], planYear: row[4],
                categories: try ReportQueries.categories(row[5], path: path), newStart: row[6],
                totalInvestment: row[7], plannedInvestment: row[8],
                stage: try ReportQueries.stage(row[9], path: path), completedInvestment: row[10] ?? 0))
        }
        return list
    }
}

extension SQLiteZoneStore: ProjectListReader {
    public func projects(year: Int) throws(StorageError) -> [ReportedProject] {
        do {
            return try pool.read { db in try SQLiteProjectList.read(db, year: year, path: path) }
        } catch {
            throw StorageError.lifting(error, doing: "listing the projects of \(year)", path: path)
        }
    }
}
