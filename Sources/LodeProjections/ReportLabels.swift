import LodeEvents

/// The words of the report in one language (contract section 4: the table and the status page
/// are in the configured language, categories and statuses included; JSON keys never change).
/// One script per view: the Simplified labels use no Traditional character, and the reverse.
public struct ReportLabels: Sendable, Hashable {
    public let language: ZoneLanguage
    /// `2024 年度报告`.
    public let title: @Sendable (Int) -> String
    public let projects: String
    public let major: String
    public let totalInvestment: String
    public let plannedInvestment: String
    public let completedInvestment: String
    public let industrial: String
    public let industrialNewStartOver100m: String
    public let strategicEmergingNewStart: String
    public let rareEarth: String
    public let rareEarthNewStartOver100m: String
    public let byStatus: String
    public let byCategory: String
    /// Before the previous year's figure: `上年 28`.
    public let previousYear: String
    public let recruitment: String
    public let enterprisesContacted: String
    public let siteVisits: String
    public let agreementsSigned: String
    /// Before an industry's name: `引进项目 稀土永磁电机`.
    public let projectsIntroduced: String
    public let campaign: String
    public let campaignContacted: String
    public let campaignVisits: String
    public let campaignSigned: String
    public let targets: String
    /// Units: projects, enterprises, visits, 亿元.
    public let projectUnit: String
    public let enterpriseUnit: String
    public let visitUnit: String
    public let yiUnit: String

    public static func == (a: ReportLabels, b: ReportLabels) -> Bool { a.language == b.language }
    public func hash(into hasher: inout Hasher) { hasher.combine(language) }

    /// The labels of `language`.
    public static func of(_ language: ZoneLanguage) -> ReportLabels {
        switch language {
        case .simplifiedChinese: simplified
        case .traditionalChinese: traditional
        case .english: english
        }
    }

    static let simplified = ReportLabels(
        language: .simplifiedChinese, title: { "\($0) 年度报告" }, projects: "重大项目", major: "重大项目数",
        totalInvestment: "总投资", plannedInvestment: "当年计划投资", completedInvestment: "已完成投资",
        industrial: "产业类项目", industrialNewStartOver100m: "新开工亿元以上产业类项目",
        strategicEmergingNewStart: "新开工战略性新兴产业项目", rareEarth: "稀土产业项目",
        rareEarthNewStartOver100m: "新开工亿元以上稀土产业项目", byStatus: "按状态", byCategory: "按类别",
        previousYear: "上年", recruitment: "招商引资", enterprisesContacted: "走访对接企业", siteVisits: "实地考察",
        agreementsSigned: "签订合作协议", projectsIntroduced: "引进项目", campaign: "招商行动", campaignContacted: "走访企业",
        campaignVisits: "实地考察", campaignSigned: "签约企业", targets: "目标", projectUnit: "个", enterpriseUnit: "家",
        visitUnit: "次", yiUnit: "亿元")

    static let traditional = ReportLabels(
        language: .traditionalChinese, title: { "\($0) 年度報告" }, projects: "重大項目", major: "重大項目數",
        totalInvestment: "總投資", plannedInvestment: "當年計劃投資", completedInvestment: "已完成投資",
        industrial: "產業類項目", industrialNewStartOver100m: "新開工億元以上產業類項目",
        strategicEmergingNewStart: "新開工戰略性新興產業項目", rareEarth: "稀土產業項目",
        rareEarthNewStartOver100m: "新開工億元以上稀土產業項目", byStatus: "按狀態", byCategory: "按類別",
        previousYear: "上年", recruitment: "招商引資", enterprisesContacted: "走訪對接企業", siteVisits: "實地考察",
        agreementsSigned: "簽訂合作協議", projectsIntroduced: "引進項目", campaign: "招商行動", campaignContacted: "走訪企業",
        campaignVisits: "實地考察", campaignSigned: "簽約企業", targets: "目標", projectUnit: "個", enterpriseUnit: "家",
        visitUnit: "次", yiUnit: "億元")

    static let english = ReportLabels(
        language: .english, title: { "Report for \($0)" }, projects: "Major projects", major: "major projects",
        totalInvestment: "total investment", plannedInvestment: "planned this year", completedInvestment: "completed",
        industrial: "industrial", industrialNewStartOver100m: "new industrial, ≥ 100M yuan",
        strategicEmergingNewStart: "new strategic emerging", rareEarth: "rare earth",
        rareEarthNewStartOver100m: "new rare earth, ≥ 100M yuan", byStatus: "by status", byCategory: "by category",
        previousYear: "previous", recruitment: "Investment recruitment", enterprisesContacted: "enterprises contacted",
        siteVisits: "site visits", agreementsSigned: "agreements signed", projectsIntroduced: "projects introduced:",
        campaign: "campaign", campaignContacted: "contacted", campaignVisits: "visits", campaignSigned: "signed",
        targets: "Targets", projectUnit: "", enterpriseUnit: "", visitUnit: "", yiUnit: "100M yuan")
}

extension ProjectStage {
    /// The stage's name in `language`: a status's name, or `计划中` for a project with none.
    public func name(in language: ZoneLanguage) -> String {
        switch self {
        case .planned:
            switch language {
            case .simplifiedChinese: "计划中"
            case .traditionalChinese: "計劃中"
            case .english: "planned"
            }
        case .signed: ProjectStatus.signed.name(in: language)
        case .started: ProjectStatus.started.name(in: language)
        case .resumed: ProjectStatus.resumed.name(in: language)
        case .suspended: ProjectStatus.suspended.name(in: language)
        case .completed: ProjectStatus.completed.name(in: language)
        case .inProduction: ProjectStatus.inProduction.name(in: language)
        case .cancelled: ProjectStatus.cancelled.name(in: language)
        }
    }

    /// A stage by its wire value (`planned`, `in_production`) or a name people write (`计划中`, `已开工`).
    public init?(named text: String) {
        if let stage = ProjectStage(rawValue: text.lowercased()) {
            self = stage
            return
        }
        if ["计划中", "計劃中", "计划", "計劃", "未开工", "未開工"].contains(text) {
            self = .planned
            return
        }
        guard let status = ProjectStatus(named: text) else { return nil }
        self.init(status)
    }
}
