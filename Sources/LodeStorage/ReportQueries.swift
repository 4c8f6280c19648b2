import LodeEvents
import LodeProjections

/// The queries that read ``LodeProjections/ReportInput`` from the projection tables: one text
/// for SQLite and PostgreSQL alike (`$1` is the year in both), so both stores read the same
/// rows; what counts, and how, is decided in Swift by ``LodeProjections/ZoneReport/init(year:input:targets:)``.
public enum ReportQueries {
    /// Every project registered for plan year Y or Y − 1, with its latest status and the sum of
    /// its latest investment reports for periods in Y: plan year, major, categories, new start,
    /// total, planned, status (or NULL), completed (or NULL).
    public static let projects = """
        SELECT r.plan_year, r.major, r.categories, r.new_start, r.total_investment, r.planned_investment, s.status,
          CAST((SELECT SUM(i.completed_investment) FROM investment_report i
            WHERE i.project_id = r.project_id AND i.period_year = $1) AS BIGINT) AS completed
        FROM project_registration r
        LEFT JOIN project_status s ON s.project_id = r.project_id
        WHERE r.plan_year IN ($1, $1 - 1)
        """

    /// The projects the report of year Y counts (major, plan year Y, latest status not
    /// `cancelled`) in `project_id` byte order: id, name, enterprise, park, plan year,
    /// categories, new start, total, planned, status (or NULL), completed in Y (or NULL).
    public static let projectList = """
        SELECT r.project_id, r.name, r.enterprise, r.park, r.plan_year, r.categories, r.new_start,
          r.total_investment, r.planned_investment, s.status,
          CAST((SELECT SUM(i.completed_investment) FROM investment_report i
            WHERE i.project_id = r.project_id AND i.period_year = $1) AS BIGINT) AS completed
        FROM project_registration r
        LEFT JOIN project_status s ON s.project_id = r.project_id
        WHERE r.major AND r.plan_year = $1 AND (s.status IS NULL OR s.status <> 'cancelled')
        ORDER BY r.project_id
        """

    /// A project's stage from its stored status, `planned` when it has none.
    public static func stage(_ status: String?, path: String) throws(StorageError) -> ProjectStage {
        guard let status else { return .planned }
        return ProjectStage(try Self.status(status, path: path))
    }

    /// The recruitment rows of year Y as (figure, name, count): the year's distinct counts
    /// (figures 0–2), per campaign (3–5) and per industry (6). Member rows are distinct by
    /// their key, so a count of rows is a count of distinct members.
    public static let recruitment = """
        SELECT 0, '', COUNT(DISTINCT enterprise) FROM recruitment_contact WHERE year = $1
        UNION ALL SELECT 1, '', CAST(COALESCE(SUM(visits), 0) AS BIGINT) FROM recruitment_visit_count WHERE year = $1
        UNION ALL SELECT 2, '', COUNT(DISTINCT enterprise) FROM recruitment_agreement WHERE year = $1
        UNION ALL SELECT 3, campaign, COUNT(*) FROM recruitment_contact WHERE year = $1 GROUP BY campaign
        UNION ALL SELECT 4, campaign, visits FROM recruitment_visit_count WHERE year = $1
        UNION ALL SELECT 5, campaign, COUNT(*) FROM recruitment_agreement WHERE year = $1 GROUP BY campaign
        UNION ALL SELECT 6, industry, COUNT(*) FROM recruitment_introduction WHERE year = $1 GROUP BY industry
        """

    /// A stored status; a value that is not one is ``StorageError/Kind/damaged``.
    public static func status(_ status: String, path: String) throws(StorageError) -> ProjectStatus {
        guard let known = ProjectStatus(rawValue: status) else {
            throw StorageError(kind: .damaged, message: "project_status holds an unknown status '\(status)'", path: path)
        }
        return known
    }

    /// A stored categories column; a name that is not a category is ``StorageError/Kind/damaged``.
    public static func categories(_ text: String, path: String) throws(StorageError) -> [Category] {
        switch ProjectionTable.categories(text) {
        case .success(let categories): return categories
        case .failure(let error):
            throw StorageError(kind: .damaged, message: "project_registration holds an unknown category '\(error.name)'", path: path)
        }
    }

    /// The rows of ``recruitment`` gathered into the report's figures.
    public struct RecruitmentRows: Sendable {
        private var figures_ = RecruitmentFigures()
        // Campaign names stay distinct by their bytes, as the tables keep them.
        private var campaigns: [ExactText: (contacted: Int, visits: Int, agreements: Int)] = [:]

        public init() {}

        public mutating func add(figure: Int, name: String, count: Int, path: String) throws(StorageError) {
            switch figure {
            case 0: figures_.enterprisesContacted = count
            case 1: figures_.siteVisits = count
            case 2: figures_.agreementsSigned = count
            case 3: campaigns[ExactText(name), default: (0, 0, 0)].contacted = count
            case 4: campaigns[ExactText(name), default: (0, 0, 0)].visits = count
            case 5: campaigns[ExactText(name), default: (0, 0, 0)].agreements = count
            default:
                guard let industry = Category(rawValue: name) else {
                    throw StorageError(kind: .damaged, message: "recruitment_introduction holds an unknown industry '\(name)'", path: path)
                }
                figures_.projectsIntroduced[industry] = count
            }
        }

        public var figures: RecruitmentFigures {
            var figures = figures_
            figures.byCampaign = campaigns.sorted { $0.key < $1.key }.map { name, tally in
                CampaignFigures(name: name.text, enterprisesContacted: tally.contacted, siteVisits: tally.visits,
                                agreementsSigned: tally.agreements)
            }
            return figures
        }
    }
}
