import GRDB
import LodeEvents
import LodeProjections

/// The report of a year, read from the projection tables by the rules of
/// ``ZoneProjection/report(year:targets:)``: the projects of plan years Y
/// and Y − 1 in one query (joined to their status and their year-Y
/// investment), recruitment as distinct counts.
enum SQLiteReport {
    static func compute(_ db: Database, year: Int, targets: [ReportTarget], path: String) throws -> ZoneReport {
        ZoneReport(
            year: year,
            projects: try projectFigures(db, year: year, path: path),
            recruitment: try recruitmentFigures(db, year: year, path: path),
            tracking: targets)
    }

    /// The major projects of plan years Y and Y − 1 whose latest status is
    /// not `cancelled`, each with its status and the sum of its latest
    /// investment reports for periods in Y.
    private static let countedProjects = """
        SELECT r.plan_year, r.categories, r.new_start, r.total_investment, r.planned_investment, s.status,
          (SELECT SUM(i.completed_investment) FROM investment_report i
            WHERE i.project_id = r.project_id AND i.period_year = ?1) AS completed
        FROM project_registration r
        LEFT JOIN project_status s ON s.project_id = r.project_id
        WHERE r.major = 1 AND r.plan_year IN (?1, ?1 - 1) AND (s.status IS NULL OR s.status <> 'cancelled')
        """

    private static func projectFigures(_ db: Database, year: Int, path: String) throws -> ProjectFigures {
        var tally = ProjectTally(year: year)
        let rows = try Row.fetchCursor(db, sql: countedProjects, arguments: [year])
        while let row = try rows.next() {
            let status: String? = row[5]
            let stage: ProjectStage
            if let status {
                guard let known = ProjectStatus(rawValue: status) else {
                    throw StorageError(kind: .damaged, message: "project_status holds an unknown status '\(status)'", path: path)
                }
                stage = ProjectStage(known)
            } else {
                stage = .planned
            }
            tally.add(CountedProject(
                planYear: row[0], categories: try parseCategories(row[1], path: path), newStart: row[2],
                totalInvestment: row[3], plannedInvestment: row[4], stage: stage, completedInvestment: Int128((row[6] as Int64?) ?? 0)))
        }
        return tally.figures
    }

    private static func parseCategories(_ text: String, path: String) throws -> [Category] {
        try text.split(separator: ",").map { name in
            guard let category = Category(rawValue: String(name)) else {
                throw StorageError(
                    kind: .damaged, message: "project_registration holds an unknown category '\(name)'", path: path)
            }
            return category
        }
    }

    private static func recruitmentFigures(_ db: Database, year: Int, path: String) throws -> RecruitmentFigures {
        var figures = RecruitmentFigures()
        let arguments: StatementArguments = [year]
        figures.enterprisesContacted = try Int.fetchOne(
            db, sql: "SELECT COUNT(DISTINCT enterprise) FROM recruitment_contact WHERE year = ?", arguments: arguments) ?? 0
        figures.siteVisits = try Int.fetchOne(
            db, sql: "SELECT SUM(visits) FROM recruitment_visit_count WHERE year = ?", arguments: arguments) ?? 0
        figures.agreementsSigned = try Int.fetchOne(
            db, sql: "SELECT COUNT(DISTINCT enterprise) FROM recruitment_agreement WHERE year = ?", arguments: arguments) ?? 0

        // Campaign names stay distinct by their bytes, as the tables keep
        // them: ExactText, not String, is the key.
        var campaigns: [ExactText: (contacted: Int, visits: Int, agreements: Int)] = [:]
        for (query, figure) in [
            ("SELECT campaign, COUNT(*) FROM recruitment_contact WHERE year = ? GROUP BY campaign", 0),
            ("SELECT campaign, visits FROM recruitment_visit_count WHERE year = ?", 1),
            ("SELECT campaign, COUNT(*) FROM recruitment_agreement WHERE year = ? GROUP BY campaign", 2),
        ] {
            let rows = try Row.fetchCursor(db, sql: query, arguments: arguments)
            while let row = try rows.next() {
                let name = ExactText(row[0] as String)
                let count: Int = row[1]
                var tally = campaigns[name, default: (0, 0, 0)]
                switch figure {
                case 0: tally.contacted = count
                case 1: tally.visits = count
                default: tally.agreements = count
                }
                campaigns[name] = tally
            }
        }
        figures.byCampaign = campaigns.sorted { $0.key < $1.key }.map { name, tally in
            CampaignFigures(
                name: name.text, enterprisesContacted: tally.contacted, siteVisits: tally.visits,
                agreementsSigned: tally.agreements)
        }

        let introduced = try Row.fetchCursor(
            db, sql: "SELECT industry, COUNT(*) FROM recruitment_introduction WHERE year = ? GROUP BY industry",
            arguments: arguments)
        while let row = try introduced.next() {
            let name: String = row[0]
            guard let industry = Category(rawValue: name) else {
                throw StorageError(
                    kind: .damaged, message: "recruitment_introduction holds an unknown industry '\(name)'", path: path)
            }
            let count: Int = row[1]
            figures.projectsIntroduced[industry] = count
        }
        return figures
    }
}
