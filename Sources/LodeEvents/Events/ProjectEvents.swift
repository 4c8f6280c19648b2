/// `zone.project.registered`: a project listed in a year's plan of major
/// projects. The latest registration by `time` of a `project_id` is the
/// project's record; a later one corrects an earlier one.
public struct ProjectRegistered: Sendable, Hashable {
    /// 1–64 characters of `A-Za-z0-9._-`.
    public var projectID: String
    public var name: String
    /// The plan year the project belongs to.
    public var planYear: Int
    /// What the project counts under: non-empty, no category twice, in the
    /// order given.
    public var categories: [Category]
    /// Whether construction starts new in the plan year.
    public var newStart: Bool
    /// Total investment, in yuan (0...10^15).
    public var totalInvestment: Int64
    /// Investment planned for the plan year, in yuan (0...10^15).
    public var plannedInvestment: Int64
    /// Whether the project is on the major-projects list; `true` when the
    /// event leaves it out.
    public var major: Bool
    public var enterprise: String?
    public var park: String?
    /// Production capacity as free text, e.g. "年產(chǎn)10萬(wàn)臺(tái)".
    public var capacity: String?

    public init(
        projectID: String, name: String, planYear: Int, categories: [Category], newStart: Bool,
        totalInvestment: Int64, plannedInvestment: Int64, major: Bool = true,
        enterprise: String? = nil, park: String? = nil, capacity: String? = nil
    ) {
        self.projectID = projectID
        self.name = name
        self.planYear = planYear
        self.categories = categories
        self.newStart = newStart
        self.totalInvestment = totalInvestment
        self.plannedInvestment = plannedInvestment
        self.major = major
        self.enterprise = enterprise
        self.park = park
        self.capacity = capacity
    }
}

/// `zone.project.status_changed`: a project reached a new stage. The latest
/// by `time` is the project's status.
public struct ProjectStatusChanged: Sendable, Hashable {
    public var projectID: String
    public var status: ProjectStatus
    public var note: String?

    public init(projectID: String, status: ProjectStatus, note: String? = nil) {
        self.projectID = projectID
        self.status = status
        self.note = note
    }
}

/// `zone.project.investment_reported`: investment completed on a project in
/// one month. For one (project, period) the latest report by `time` counts.
public struct InvestmentReported: Sendable, Hashable {
    public var projectID: String
    /// The month the amount was completed in (`"YYYY-MM"` on the wire); the
    /// report counts in this month, not in the month of its `time`.
    public var period: YearMonth
    /// Amount completed in `period`, in yuan (0...10^15).
    public var completedInvestment: Int64

    public init(projectID: String, period: YearMonth, completedInvestment: Int64) {
        self.projectID = projectID
        self.period = period
        self.completedInvestment = completedInvestment
    }
}
