import GRDB
import LodeEvents
import LodeProjections

/// The report of a year from the projection tables: ``ReportInput`` read in SQL (the projects
/// of plan years Y and Y − 1 in one query, joined to their status and their year-Y
/// investment; recruitment as distinct counts), then ``ZoneReport/init(year:input:targets:)``,
/// the one function that counts for every store.
enum SQLiteReport {
    static func compute(_ db: Database, year: Int, targets: [ReportTarget], path: String) throws -> ZoneReport {
        ZoneReport(year: year, input: try input(db, year: year, path: path), targets: targets)
    }

    static func input(_ db: Database, year: Int, path: String) throws -> ReportInput {
        ReportInput(projects: try projects(db, year: year, path: path), recruitment: try recruitmentFigures(db, year: year, path: path))
    }

    private static func projects(_ db: Database, year: Int, path: String) throws -> [ReportInput.Project] {
        var projects: [ReportInput.Project] = []
        let rows = try Row.fetchCursor(db, sql: ReportQueries.projects, arguments: [year])
        while let row = try rows.next() {
            let status: String? = row[6]
            projects.append(ReportInput.Project(
                planYear: row[0], major: row[1], categories: try ReportQueries.categories(row[2], path: path), newStart: row[3],
                totalInvestment: row[4], plannedInvestment: row[5], status: try status.map { try ReportQueries.status($0, path: path) },
                completedInvestment: Int128((row[7] as Int64?) ?? 0)))
        }
        return projects
    }

    private static func recruitmentFigures(_ db: Database, year: Int, path: String) throws -> RecruitmentFigures {
        var rows = ReportQueries.RecruitmentRows()
        let cursor = try Row.fetchCursor(db, sql: ReportQueries.recruitment, arguments: [year])
        while let row = try cursor.next() {
            try rows.add(figure: row[0], name: row[1], count: row[2], path: path)
        }
        return rows.figures
    }
}
