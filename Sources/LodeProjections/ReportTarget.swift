import LodeEvents

/// A target of the year: a label, the report figure it tracks, and the
/// number to reach (contract section 4, "targets").
public struct ReportTarget: Sendable, Hashable {
    /// The label shown, e.g. "稀土永磁電機項目".
    public var name: String
    public var figure: ReportFigure
    /// The number to reach: a count, or an amount in yuan; at least 1.
    public var target: Int64

    /// Throws ``ReportTargetError`` when `target` is below 1 (progress
    /// toward 0 has no meaning).
    public init(name: String, figure: ReportFigure, target: Int64) throws(ReportTargetError) {
        guard target >= 1 else {
            throw ReportTargetError("target '\(name)': the number to reach must be at least 1, got \(target)")
        }
        self.name = name
        self.figure = figure
        self.target = target
    }

    /// Creates a target from the figure's dotted path, as a config file
    /// writes it.
    public init(name: String, path: String, target: Int64) throws(ReportTargetError) {
        try self.init(name: name, figure: ReportFigure(path: path), target: target)
    }
}

/// A target that cannot be tracked: an unknown figure or a bad number. The
/// message names the target and what to write instead.
public struct ReportTargetError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String

    init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// One number of the report, named by its dotted path in the report's JSON:
/// `projects.major`, `projects.strategic_emerging_new_start` (its count),
/// `projects.by_category.rare_earth`,
/// `recruitment.projects_introduced.pm_motor`,
/// `recruitment.by_campaign.<campaign>.site_visits`, …
public enum ReportFigure: Sendable, Hashable, CustomStringConvertible {
    case major
    case totalInvestment
    case plannedInvestment
    case completedInvestment
    case industrial
    case industrialNewStartOver100m
    case strategicEmergingNewStart
    case rareEarth
    case rareEarthNewStartOver100m
    case byStatus(ProjectStage)
    case byCategory(Category)
    case enterprisesContacted
    case siteVisits
    case agreementsSigned
    case campaign(String, CampaignFigure)
    case projectsIntroduced(Category)

    /// The three figures kept per campaign.
    public enum CampaignFigure: String, Sendable, Hashable, CaseIterable {
        case enterprisesContacted = "enterprises_contacted"
        case siteVisits = "site_visits"
        case agreementsSigned = "agreements_signed"
    }

    private static let plain: [(String, ReportFigure)] = [
        ("projects.major", .major),
        ("projects.total_investment", .totalInvestment),
        ("projects.planned_investment", .plannedInvestment),
        ("projects.completed_investment", .completedInvestment),
        ("projects.industrial", .industrial),
        ("projects.industrial_new_start_over_100m", .industrialNewStartOver100m),
        ("projects.strategic_emerging_new_start", .strategicEmergingNewStart),
        ("projects.rare_earth", .rareEarth),
        ("projects.rare_earth_new_start_over_100m", .rareEarthNewStartOver100m),
        ("recruitment.enterprises_contacted", .enterprisesContacted),
        ("recruitment.site_visits", .siteVisits),
        ("recruitment.agreements_signed", .agreementsSigned),
    ]

    /// Reads a dotted path. `….strategic_emerging_new_start.count` and
    /// `….rare_earth_new_start_over_100m.count` are accepted too. A campaign
    /// name may itself contain dots: the last part is the campaign figure.
    public init(path: String) throws(ReportTargetError) {
        // The two growth figures are objects in the JSON; their count is the figure.
        let growthCounts = ["projects.strategic_emerging_new_start.count", "projects.rare_earth_new_start_over_100m.count"]
        let normalized = growthCounts.contains(path) ? String(path.dropLast(".count".count)) : path
        if let found = Self.plain.first(where: { $0.0 == normalized }) {
            self = found.1
            return
        }
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 3, parts[0] == "projects", parts[1] == "by_status", let stage = ProjectStage(rawValue: parts[2]) {
            self = .byStatus(stage)
        } else if parts.count == 3, parts[0] == "projects", parts[1] == "by_category", let category = Category(rawValue: parts[2]) {
            self = .byCategory(category)
        } else if parts.count == 3, parts[0] == "recruitment", parts[1] == "projects_introduced",
                  let category = Category(rawValue: parts[2]) {
            self = .projectsIntroduced(category)
        } else if parts.count >= 4, parts[0] == "recruitment", parts[1] == "by_campaign",
                  let figure = CampaignFigure(rawValue: parts[parts.count - 1]) {
            let campaign = parts[2..<(parts.count - 1)].joined(separator: ".")
            guard !campaign.isEmpty else { throw Self.unknown(path) }
            self = .campaign(campaign, figure)
        } else {
            throw Self.unknown(path)
        }
    }

    private static func unknown(_ path: String) -> ReportTargetError {
        let known = plain.map(\.0).joined(separator: ", ")
        return ReportTargetError(
            "unknown report figure '\(path)': expected one of \(known), projects.by_status.<status>, "
                + "projects.by_category.<category>, recruitment.projects_introduced.<category>, "
                + "recruitment.by_campaign.<campaign>.(enterprises_contacted|site_visits|agreements_signed)")
    }

    /// The dotted path.
    public var path: String {
        switch self {
        case .byStatus(let stage): "projects.by_status.\(stage.rawValue)"
        case .byCategory(let category): "projects.by_category.\(category.rawValue)"
        case .campaign(let name, let figure): "recruitment.by_campaign.\(name).\(figure.rawValue)"
        case .projectsIntroduced(let category): "recruitment.projects_introduced.\(category.rawValue)"
        default: Self.plain.first { $0.1 == self }?.0 ?? ""
        }
    }

    public var description: String { path }

    /// The figure's value in a report; 0 for a campaign the report does
    /// not have. Exact: amounts are sums of any number of projects.
    public func value(in report: ZoneReport) -> Int128 {
        let projects = report.projects
        let recruitment = report.recruitment
        switch self {
        case .major: return Int128(projects.major)
        case .totalInvestment: return projects.totalInvestment
        case .plannedInvestment: return projects.plannedInvestment
        case .completedInvestment: return projects.completedInvestment
        case .industrial: return Int128(projects.industrial)
        case .industrialNewStartOver100m: return Int128(projects.industrialNewStartOver100m)
        case .strategicEmergingNewStart: return Int128(projects.strategicEmergingNewStart.count)
        case .rareEarth: return Int128(projects.rareEarth)
        case .rareEarthNewStartOver100m: return Int128(projects.rareEarthNewStartOver100m.count)
        case .byStatus(let stage): return Int128(projects.byStatus[stage] ?? 0)
        case .byCategory(let category): return Int128(projects.byCategory[category] ?? 0)
        case .enterprisesContacted: return Int128(recruitment.enterprisesContacted)
        case .siteVisits: return Int128(recruitment.siteVisits)
        case .agreementsSigned: return Int128(recruitment.agreementsSigned)
        case .campaign(let name, let figure):
            guard let campaign = recruitment.byCampaign.first(where: { ExactText($0.name) == ExactText(name) }) else { return 0 }
            switch figure {
            case .enterprisesContacted: return Int128(campaign.enterprisesContacted)
            case .siteVisits: return Int128(campaign.siteVisits)
            case .agreementsSigned: return Int128(campaign.agreementsSigned)
            }
        case .projectsIntroduced(let category): return Int128(recruitment.projectsIntroduced[category] ?? 0)
        }
    }
}
