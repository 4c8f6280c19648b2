import LodeEvents

/// A project's stage as the report counts it: its latest status, or
/// `planned` when it has none.
public enum ProjectStage: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case planned
    case signed
    case started
    case resumed
    case suspended
    case completed
    case inProduction = "in_production"
    case cancelled

    public init(_ status: ProjectStatus?) {
        guard let status else {
            self = .planned
            return
        }
        switch status {
        case .signed: self = .signed
        case .started: self = .started
        case .resumed: self = .resumed
        case .suspended: self = .suspended
        case .completed: self = .completed
        case .inProduction: self = .inProduction
        case .cancelled: self = .cancelled
        }
    }

    public var description: String { rawValue }

    /// The stages a counted project can be in, in the order the report
    /// lists them (`cancelled` projects are never counted).
    public static let reported: [ProjectStage] = allCases.filter { $0 != .cancelled }
}

/// The report of one year (contract section 4): a pure value, computed by
/// ``ZoneProjection/report(year:targets:)``, written by ``jsonText()`` and
/// ``renderTable(_:)``.
public struct ZoneReport: Sendable, Hashable {
    public var year: Int
    public var projects: ProjectFigures
    public var recruitment: RecruitmentFigures
    public var targets: [TargetProgress]
}

/// The major-project figures of a year. Counts are of projects whose latest
/// registration has the year as `plan_year` and `major` true, and whose
/// latest status is not `cancelled`.
public struct ProjectFigures: Sendable, Hashable {
    public var major = 0
    /// Yuan. Sums are `Int128`: exact for any number of projects of up to 10^15 yuan each.
    public var totalInvestment: Int128 = 0
    /// Yuan, planned for the plan year.
    public var plannedInvestment: Int128 = 0
    /// Yuan: the latest report of each (counted project, period in the year).
    public var completedInvestment: Int128 = 0
    public var industrial = 0
    /// `industrial`, `new_start`, `total_investment` ≥ 100,000,000.
    public var industrialNewStartOver100m = 0
    /// `strategic_emerging` and `new_start`, against the year before.
    public var strategicEmergingNewStart = Growth(count: 0, previous: 0)
    public var rareEarth = 0
    /// `rare_earth`, `new_start`, `total_investment` ≥ 100,000,000, against
    /// the year before.
    public var rareEarthNewStartOver100m = Growth(count: 0, previous: 0)
    /// Every reported stage, zeros included.
    public var byStatus: [ProjectStage: Int] = [:]
    /// Every category, zeros included.
    public var byCategory: [Category: Int] = [:]

    /// "Over 100m": `total_investment` ≥ 100,000,000 yuan.
    public static let over100mThreshold: Int64 = 100_000_000

    public init() {}
}

/// A count against the same figure for the year before, as known now.
public struct Growth: Sendable, Hashable {
    public var count: Int
    public var previous: Int

    public init(count: Int, previous: Int) {
        self.count = count
        self.previous = previous
    }

    /// (count − previous) / previous × 100, rounded half away from zero to
    /// 2 decimals; `nil` when `previous` is 0.
    public var growthPct: FixedDecimal? {
        FixedDecimal(ratio: Int128(count) - Int128(previous), over: Int128(previous), places: 2, scaledBy: 100)
    }
}

/// The recruitment figures of events whose `time` falls in the year.
public struct RecruitmentFigures: Sendable, Hashable {
    /// Distinct enterprises.
    public var enterprisesContacted = 0
    /// Visit events (distinct ids).
    public var siteVisits = 0
    /// Distinct enterprises.
    public var agreementsSigned = 0
    /// Per campaign, in UTF-8 byte order of the campaign names.
    public var byCampaign: [CampaignFigures] = []
    /// Distinct `project_id`s per industry; `pm_motor` and
    /// `rare_earth_material` always present.
    public var projectsIntroduced: [Category: Int] = [.pmMotor: 0, .rareEarthMaterial: 0]

    public init() {}
}

/// One campaign's figures in the year, by the same rules as the year's.
public struct CampaignFigures: Sendable, Hashable {
    public var name: String
    public var enterprisesContacted: Int
    public var siteVisits: Int
    public var agreementsSigned: Int

    public init(name: String, enterprisesContacted: Int, siteVisits: Int, agreementsSigned: Int) {
        self.name = name
        self.enterprisesContacted = enterprisesContacted
        self.siteVisits = siteVisits
        self.agreementsSigned = agreementsSigned
    }
}

/// How far a target is reached.
public struct TargetProgress: Sendable, Hashable {
    public var target: ReportTarget
    public var actual: Int128

    /// actual / target × 100, rounded half away from zero to 1 decimal,
    /// not capped at 100.
    public var progressPct: FixedDecimal {
        FixedDecimal(ratio: actual, over: Int128(target.target), places: 1, scaledBy: 100)
            ?? FixedDecimal(units: 0, places: 1)
    }
}

extension ZoneReport {
    /// A report made of figures computed elsewhere (a store computing them
    /// in SQL), with the progress of `targets`, in the order given, read
    /// off those figures as ``ZoneProjection/report(year:targets:)`` does.
    public init(year: Int, projects: ProjectFigures, recruitment: RecruitmentFigures, tracking targets: [ReportTarget]) {
        self.init(year: year, projects: projects, recruitment: recruitment, targets: [])
        self.targets = targets.map { TargetProgress(target: $0, actual: $0.figure.value(in: self)) }
    }
}

/// What the report of a year is computed from, as any store reads it: the latest registration
/// of every project whose plan year is the report's or the one before, each with its latest
/// status and its completed investment in the year; and the year's recruitment counts.
///
/// ``ZoneReport/init(year:input:targets:)`` is the one function that turns it into the report,
/// for the in-memory projection and every store alike: which projects count (major, not
/// cancelled), and every project figure, are decided there and nowhere else.
public struct ReportInput: Sendable {
    /// A registered project of plan year Y or Y − 1, as its latest registration has it.
    public struct Project: Sendable {
        public var planYear: Int
        public var major: Bool
        public var categories: [Category]
        public var newStart: Bool
        public var totalInvestment: Int64
        public var plannedInvestment: Int64
        /// Its latest status; `nil` when it has none.
        public var status: ProjectStatus?
        /// The sum of the latest report of each (project, period) with its period in Y.
        public var completedInvestment: Int128

        public init(planYear: Int, major: Bool, categories: [Category], newStart: Bool, totalInvestment: Int64,
                    plannedInvestment: Int64, status: ProjectStatus?, completedInvestment: Int128) {
            self.planYear = planYear
            self.major = major
            self.categories = categories
            self.newStart = newStart
            self.totalInvestment = totalInvestment
            self.plannedInvestment = plannedInvestment
            self.status = status
            self.completedInvestment = completedInvestment
        }
    }

    public var projects: [Project]
    /// The year's recruitment: distinct counts of the member rows, visit counts.
    public var recruitment: RecruitmentFigures

    public init(projects: [Project] = [], recruitment: RecruitmentFigures = RecruitmentFigures()) {
        self.projects = projects
        self.recruitment = recruitment
    }
}

extension ZoneReport {
    /// The report of `year` from what a store (or the projection) read, with the progress of
    /// `targets`, in the order given.
    public init(year: Int, input: ReportInput, targets: [ReportTarget]) {
        var tally = ProjectTally(year: year)
        for project in input.projects where project.major {
            let stage = ProjectStage(project.status)
            guard stage != .cancelled else { continue }
            tally.add(CountedProject(
                planYear: project.planYear, categories: project.categories, newStart: project.newStart,
                totalInvestment: project.totalInvestment, plannedInvestment: project.plannedInvestment,
                stage: stage, completedInvestment: project.completedInvestment))
        }
        self.init(year: year, projects: tally.figures, recruitment: input.recruitment, tracking: targets)
    }
}

extension ZoneProjection {
    /// The report of `year`, with the progress of `targets` (in the order
    /// given): ``ReportInput`` read off the dictionaries, then the one report function.
    public func report(year: Int, targets: [ReportTarget] = []) -> ZoneReport {
        ZoneReport(year: year, input: reportInput(year: year), targets: targets)
    }

    /// What the report of `year` is computed from.
    public func reportInput(year: Int) -> ReportInput {
        var input = ReportInput()
        for (projectID, registration) in registrations {
            let project = registration.value
            // `year` comes from a command line or a URL: any Int, so no `year - 1` that could trap.
            guard project.planYear == year || (project.planYear < year && year - project.planYear == 1) else { continue }
            var completed: Int128 = 0
            for (period, report) in investment[projectID] ?? [:] where period.year == year { completed += Int128(report.value) }
            input.projects.append(ReportInput.Project(
                planYear: project.planYear, major: project.major, categories: project.categories, newStart: project.newStart,
                totalInvestment: project.totalInvestment, plannedInvestment: project.plannedInvestment,
                status: statuses[projectID]?.value, completedInvestment: completed))
        }
        if let tally = recruitment[year] {
            input.recruitment.enterprisesContacted = tally.enterprisesContacted.count
            input.recruitment.siteVisits = tally.siteVisits.count
            input.recruitment.agreementsSigned = tally.agreementsSigned.count
            input.recruitment.byCampaign = tally.campaigns.sorted { $0.key < $1.key }.map { name, campaign in
                CampaignFigures(
                    name: name.text, enterprisesContacted: campaign.enterprisesContacted.count,
                    siteVisits: campaign.siteVisits.count, agreementsSigned: campaign.agreementsSigned.count)
            }
            for (industry, projectIDs) in tally.projectsIntroduced {
                input.recruitment.projectsIntroduced[industry] = projectIDs.count
            }
        }
        return input
    }
}

/// A major, not cancelled project registered for the report's year or the year before, as the
/// report counts it.
public struct CountedProject: Sendable {
    public var planYear: Int
    public var categories: [Category]
    public var newStart: Bool
    public var totalInvestment: Int64
    public var plannedInvestment: Int64
    public var stage: ProjectStage
    /// Completed investment reported for periods in the report's year.
    public var completedInvestment: Int128

    public init(planYear: Int, categories: [Category], newStart: Bool, totalInvestment: Int64,
                plannedInvestment: Int64, stage: ProjectStage, completedInvestment: Int128) {
        self.planYear = planYear
        self.categories = categories
        self.newStart = newStart
        self.totalInvestment = totalInvestment
        self.plannedInvestment = plannedInvestment
        self.stage = stage
        self.completedInvestment = completedInvestment
    }
}

/// The project figures of a year, counted by the contract's rules (section 4) one project at a
/// time; the previous year's projects feed the growth figures. Used by the in-memory projection
/// and by the SQL store alike, so both count the same way.
public struct ProjectTally: Sendable {
    public let year: Int
    private var projects = ProjectFigures()
    private var strategicPrevious = 0
    private var rareEarthPrevious = 0

    public init(year: Int) {
        self.year = year
        for stage in ProjectStage.reported { projects.byStatus[stage] = 0 }
        for category in Category.allCases { projects.byCategory[category] = 0 }
    }

    /// Counts `project`; one of another plan year than `year` or `year - 1` counts nowhere.
    public mutating func add(_ project: CountedProject) {
        let categories = project.categories
        let over100m = project.totalInvestment >= ProjectFigures.over100mThreshold
        let strategicNewStart = project.newStart && categories.contains(.strategicEmerging)
        let rareEarthNewStartOver100m = project.newStart && over100m && categories.contains(.rareEarth)
        // `year` comes from a command line or a URL: any Int, so no `year - 1` that could trap.
        if project.planYear < year, year - project.planYear == 1 {
            if strategicNewStart { strategicPrevious += 1 }
            if rareEarthNewStartOver100m { rareEarthPrevious += 1 }
            return
        }
        guard project.planYear == year else { return }
        projects.major += 1
        projects.totalInvestment += Int128(project.totalInvestment)
        projects.plannedInvestment += Int128(project.plannedInvestment)
        projects.completedInvestment += project.completedInvestment
        if categories.contains(.industrial) {
            projects.industrial += 1
            if project.newStart && over100m { projects.industrialNewStartOver100m += 1 }
        }
        if strategicNewStart { projects.strategicEmergingNewStart.count += 1 }
        if categories.contains(.rareEarth) { projects.rareEarth += 1 }
        if rareEarthNewStartOver100m { projects.rareEarthNewStartOver100m.count += 1 }
        projects.byStatus[project.stage, default: 0] += 1
        for category in categories { projects.byCategory[category, default: 0] += 1 }
    }

    public var figures: ProjectFigures {
        var figures = projects
        figures.strategicEmergingNewStart.previous = strategicPrevious
        figures.rareEarthNewStartOver100m.previous = rareEarthPrevious
        return figures
    }
}

extension ZoneReport {
    /// The years a report can be asked for: those an RFC 3339 time can name.
    public static let years: ClosedRange<Int> = 1...9999

    /// A year as a person or a URL gives it (`2024`): ASCII digits naming a year in ``years``;
    /// otherwise `nil`, and ``yearProblem(_:)`` says what is wrong.
    public static func year(parsing text: some StringProtocol) -> Int? {
        guard (1...4).contains(text.utf8.count), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
              let year = Int(text), years.contains(year) else { return nil }
        return year
    }

    /// What is wrong with a year that ``year(parsing:)`` refuses, for an error message.
    public static func yearProblem(_ text: some StringProtocol) -> String {
        let shown = text.count > 20 ? String(text.prefix(20)) + "…" : String(text)
        return "'\(shown.unicodeScalars.map { $0.properties.generalCategory == .control ? "?" : String($0) }.joined())' is not a year: give one from \(years.lowerBound) to \(years.upperBound), e.g. 2024"
    }
}
