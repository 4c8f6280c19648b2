import LodeEvents

/// One project as the report counts it (`lodectl projects`): a major project of the plan year
/// whose latest status is not `cancelled`, with its latest registration's fields, its stage and
/// the investment completed in the year.
public struct ReportedProject: Sendable, Hashable {
    public var projectID: String
    public var name: String
    public var enterprise: String?
    public var park: String?
    public var planYear: Int
    public var categories: [Category]
    public var newStart: Bool
    /// Yuan.
    public var totalInvestment: Int64
    /// Yuan, planned for the plan year.
    public var plannedInvestment: Int64
    public var stage: ProjectStage
    /// Yuan: the latest report of each period in the plan year.
    public var completedInvestment: Int64

    public init(projectID: String, name: String, enterprise: String?, park: String?, planYear: Int, categories: [Category],
                newStart: Bool, totalInvestment: Int64, plannedInvestment: Int64, stage: ProjectStage, completedInvestment: Int64) {
        self.projectID = projectID
        self.name = name
        self.enterprise = enterprise
        self.park = park
        self.planYear = planYear
        self.categories = categories
        self.newStart = newStart
        self.totalInvestment = totalInvestment
        self.plannedInvestment = plannedInvestment
        self.stage = stage
        self.completedInvestment = completedInvestment
    }

    /// Whether `total_investment` is at least 100,000,000 yuan ("亿元以上").
    public var isOver100m: Bool { totalInvestment >= ProjectFigures.over100mThreshold }
}

/// Which projects of a year to list: each condition given must hold (`--category` may be given
/// more than once: the project lists every one of them).
public struct ProjectFilter: Sendable, Hashable {
    public var categories: [Category]
    public var stage: ProjectStage?
    public var newStart: Bool
    public var over100m: Bool

    public init(categories: [Category] = [], stage: ProjectStage? = nil, newStart: Bool = false, over100m: Bool = false) {
        self.categories = categories
        self.stage = stage
        self.newStart = newStart
        self.over100m = over100m
    }

    public func matches(_ project: ReportedProject) -> Bool {
        categories.allSatisfy(project.categories.contains)
            && (stage == nil || project.stage == stage)
            && (!newStart || project.newStart)
            && (!over100m || project.isOver100m)
    }

    /// The filter whose projects make up a project figure of the report (contract section 4),
    /// by the figure's JSON path: `projects.industrial_new_start_over_100m` is
    /// `--category industrial --new-start --over-100m`. The amounts
    /// (`projects.total_investment`, ...) are sums over the unfiltered list.
    public static func reproducing(_ figure: String) -> ProjectFilter? {
        switch figure {
        case "projects.major", "projects.total_investment", "projects.planned_investment", "projects.completed_investment":
            return ProjectFilter()
        case "projects.industrial": return ProjectFilter(categories: [.industrial])
        case "projects.industrial_new_start_over_100m":
            return ProjectFilter(categories: [.industrial], newStart: true, over100m: true)
        case "projects.strategic_emerging_new_start": return ProjectFilter(categories: [.strategicEmerging], newStart: true)
        case "projects.rare_earth": return ProjectFilter(categories: [.rareEarth])
        case "projects.rare_earth_new_start_over_100m":
            return ProjectFilter(categories: [.rareEarth], newStart: true, over100m: true)
        default:
            if figure.hasPrefix("projects.by_status."), let stage = ProjectStage(rawValue: String(figure.dropFirst(19))) {
                return ProjectFilter(stage: stage)
            }
            if figure.hasPrefix("projects.by_category."), let category = Category(rawValue: String(figure.dropFirst(21))) {
                return ProjectFilter(categories: [category])
            }
            return nil
        }
    }

    /// The `lodectl projects` options of this filter: `--category industrial --new-start`.
    public var options: String {
        var parts = categories.map { "--category \($0.rawValue)" }
        if let stage { parts.append("--status \(stage.rawValue)") }
        if newStart { parts.append("--new-start") }
        if over100m { parts.append("--over-100m") }
        return parts.joined(separator: " ")
    }
}

/// The sums of a list of projects, as the report writes them.
public struct ProjectTotals: Sendable, Hashable {
    public var count = 0
    /// Yuan; Int128 so that no list can overflow it.
    public var totalInvestment: Int128 = 0
    public var plannedInvestment: Int128 = 0
    public var completedInvestment: Int128 = 0

    public init(_ projects: [ReportedProject]) {
        for project in projects {
            count += 1
            totalInvestment += Int128(project.totalInvestment)
            plannedInvestment += Int128(project.plannedInvestment)
            completedInvestment += Int128(project.completedInvestment)
        }
    }
}

extension ZoneProjection {
    /// The projects the report of `year` counts, in `project_id` byte order: the same list a
    /// store's ``ProjectListReader`` gives for the same events.
    public func projects(year: Int) -> [ReportedProject] {
        var list: [ReportedProject] = []
        for (projectID, registration) in registrations {
            let project = registration.value
            guard project.major, project.planYear == year else { continue }
            let stage = ProjectStage(statuses[projectID]?.value)
            guard stage != .cancelled else { continue }
            var completed: Int64 = 0
            for (period, report) in investment[projectID] ?? [:] where period.year == year { completed += report.value }
            list.append(ReportedProject(
                projectID: projectID, name: project.name, enterprise: project.enterprise, park: project.park,
                planYear: project.planYear, categories: project.categories, newStart: project.newStart,
                totalInvestment: project.totalInvestment, plannedInvestment: project.plannedInvestment, stage: stage,
                completedInvestment: completed))
        }
        return list.sorted { Array($0.projectID.utf8).lexicographicallyPrecedes(Array($1.projectID.utf8)) }
    }
}
