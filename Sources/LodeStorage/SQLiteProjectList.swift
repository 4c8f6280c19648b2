import GRDB
import LodeEvents
import LodeProjections

/// The project list of a year from the projection tables, by the report's rules (see
/// ``SQLiteReport``'s counted projects): one query, in `project_id` byte order (SQLite's
/// `BINARY` collation).
enum SQLiteProjectList {
    static let query = """
        SELECT r.project_id, r.name, r.enterprise, r.park, r.plan_year, r.categories, r.new_start,
          r.total_investment, r.planned_investment, s.status,
          (SELECT SUM(i.completed_investment) FROM investment_report i
            WHERE i.project_id = r.project_id AND i.period_year = ?1) AS completed
        FROM project_registration r
        LEFT JOIN project_status s ON s.project_id = r.project_id
        WHERE r.major = 1 AND r.plan_year = ?1 AND (s.status IS NULL OR s.status <> 'cancelled')
        ORDER BY r.project_id
        """

    static func read(_ db: Database, year: Int, path: String) throws -> [ReportedProject] {
        var list: [ReportedProject] = []
        let rows = try Row.fetchCursor(db, sql: query, arguments: [year])
        while let row = try rows.next() {
            let status: String? = row[9]
            var stage = ProjectStage.planned
            if let status {
                guard let known = ProjectStatus(rawValue: status) else {
                    throw StorageError(kind: .damaged, message: "project_status holds an unknown status '\(status)'", path: path)
                }
                stage = ProjectStage(known)
            }
            let categoryText: String = row[5]
            let categories = try categoryText.split(separator: ",").map { name in
                guard let category = Category(rawValue: String(name)) else {
                    throw StorageError(kind: .damaged, message: "project_registration holds an unknown category '\(name)'", path: path)
                }
                return category
            }
            list.append(ReportedProject(
                projectID: row[0], name: row[1], enterprise: row[2], park: row[3], planYear: row[4],
                categories: categories, newStart: row[6], totalInvestment: row[7], plannedInvestment: row[8],
                stage: stage, completedInvestment: row[10] ?? 0))
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
