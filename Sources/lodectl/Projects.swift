import ArgumentParser
import Foundation
import LodeEvents
import LodeJSON
import LodeProjections
import LodeSettings
import LodeStorage
import LodeWorkbook

struct Projects: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the projects behind the report's project figures.",
        discussion: """
            Lists the projects the report of --year counts (major, that plan year, not \
            cancelled), narrowed by the filters; the last line sums them. Each project figure of \
            `lodectl report` is the count (or the sum) of one such list:

              重大项目数, 总投资, 当年计划投资, 已完成投资   lodectl projects --year 2024
              产业类项目                                    --category industrial
              新开工亿元以上产业类项目                      --category industrial --new-start --over-100m
              新开工战略性新兴产业项目                      --category strategic_emerging --new-start
              稀土产业项目                                  --category rare_earth
              新开工亿元以上稀土产业项目                    --category rare_earth --new-start --over-100m
              按状态, 按类别                                --status started, --category pm_motor
              上年 (the growth's previous count)            the same with --year 2023

            --category and --status take the wire value or the name (稀土永磁电机, 已开工, 计划中).

            EXAMPLES
              lodectl projects --year 2024 --category industrial --new-start --over-100m
              lodectl projects --year 2024 --status started --csv -o started.csv
              lodectl projects --year 2024 --xlsx -o 2024-projects.xlsx
              lodectl projects --year 2024 --json | jq '.projects | length'
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "The plan year (1 to 9999).") var year: Int
    @Option(help: ArgumentHelp("Only projects listing this category (repeatable: all of them).", valueName: "category"))
    var category: [String] = []
    @Option(help: ArgumentHelp("Only projects in this status (planned for none yet).", valueName: "status"))
    var status: String?
    @Flag(help: "Only new starts (new_start).") var newStart = false
    @Flag(name: .customLong("over-100m"), help: "Only projects of a total investment of 100,000,000 yuan or more (亿元以上).")
    var over100m = false
    @Flag(help: "JSON: {\"year\", \"filter\", \"projects\": [...], \"totals\"}.") var json = false
    @Flag(help: "CSV (UTF-8 with a byte order mark, amounts in yuan), to -o FILE or stdout.") var csv = false
    @Flag(help: "An .xlsx workbook, to -o FILE.") var xlsx = false
    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write --csv or --xlsx.", valueName: "file")) var output: String?

    func validate() throws {
        guard ZoneReport.years.contains(year) else { throw ValidationError("--year: \(ZoneReport.yearProblem(String(year)))") }
        if [json, csv, xlsx].filter({ $0 }).count > 1 { throw ValidationError("give at most one of --json, --csv, --xlsx") }
        if xlsx, output == nil { throw ValidationError("--xlsx needs -o FILE.xlsx") }
    }

    func run() throws {
        var categories: [Category] = []
        for name in category {
            guard let known = Category(named: name) else {
                throw ValidationError("unknown --category '\(name)'; the categories are "
                    + Category.allCases.map { "\($0.rawValue) (\($0.name(in: .simplifiedChinese)))" }.joined(separator: ", "))
            }
            categories.append(known)
        }
        var stage: ProjectStage?
        if let status {
            guard let known = ProjectStage(named: status), known != .cancelled else {
                throw ValidationError("unknown --status '\(status)'; the statuses are "
                    + ProjectStage.reported.map { "\($0.rawValue) (\($0.name(in: .simplifiedChinese)))" }.joined(separator: ", "))
            }
            stage = known
        }
        let filter = ProjectFilter(categories: categories, stage: stage, newStart: newStart, over100m: over100m)
        let (opened, settings) = try store.openWithSettings()
        let language = settings.language
        let list = try opened.projects(year: year).filter(filter.matches)
        let export = ProjectExport(language: language)
        if json {
            print(export.json(list, year: year, filter: filter).serializedText())
        } else if csv {
            try write(export.csv(list), to: output)
        } else if xlsx {
            let bytes = try export.workbook([export.sheet(list, year: year)])
            try write(bytes, to: output)
        } else {
            print(export.table(list), terminator: "")
        }
    }
}

/// Writes bytes to a file, or stdout for nil or `-`; a file that cannot be written is exit 73.
func write(_ bytes: [UInt8], to path: String?) throws {
    guard let path, path != "-" else {
        FileHandle.standardOutput.write(Data(bytes))
        return
    }
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
        FileHandle.standardError.write(Data("lodectl: cannot write \(path): \(String(cString: strerror(errno)))\n".utf8))
        throw ExitCode(73)
    }
}

/// The project list and the report as a person reads them: a table, CSV, a workbook; JSON.
struct ProjectExport {
    let language: ZoneLanguage
    var labels: ReportLabels { .of(language) }

    private func pick(_ hans: String, _ hant: String, _ english: String) -> String {
        switch language {
        case .simplifiedChinese: hans
        case .traditionalChinese: hant
        case .english: english
        }
    }

    /// The column headers of the list; amounts in yuan (`unit`).
    func headers(unit: String) -> [String] {
        [pick("项目编号", "項目編號", "project_id"), pick("项目名称", "項目名稱", "name"), pick("企业名称", "企業名稱", "enterprise"),
         pick("园区", "園區", "park"), pick("类别", "類別", "categories"), pick("新开工", "新開工", "new_start"),
         pick("状态", "狀態", "status"),
         pick("总投资", "總投資", "total_investment") + unitSuffix(unit),
         pick("当年计划投资", "當年計劃投資", "planned_investment") + unitSuffix(unit),
         pick("本年完成投资", "本年完成投資", "completed_investment") + unitSuffix(unit)]
    }

    private func unitSuffix(_ unit: String) -> String { language == .english ? " (\(unit))" : "（\(unit)）" }
    private var yuan: String { pick("元", "元", "yuan") }
    private var yes: String { pick("是", "是", "yes") }
    private var no: String { pick("否", "否", "no") }
    private var listSeparator: String { language == .english ? "; " : "、" }

    func categories(_ project: ReportedProject) -> String {
        project.categories.map { $0.name(in: language) }.joined(separator: listSeparator)
    }

    /// The terminal table: amounts in 亿元, then the count and the sums.
    func table(_ list: [ReportedProject]) -> String {
        let unit = labels.yiUnit
        let head = headers(unit: unit)
        var rows: [[String]] = [[head[0], head[1], head[4], head[6], head[7], head[8], head[9]]]
        for project in list {
            rows.append([project.projectID, project.name, categories(project), project.stage.name(in: language),
                         FixedDecimal.yi(Int128(project.totalInvestment)), FixedDecimal.yi(Int128(project.plannedInvestment)),
                         FixedDecimal.yi(Int128(project.completedInvestment))])
        }
        var widths = [Int](repeating: 0, count: rows[0].count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], displayWidth(cell)) } }
        var text = ""
        for row in rows {
            var line = ""
            for (index, cell) in row.enumerated() {
                line += index >= 4 ? cell.padded(left: widths[index]) : cell.padded(to: widths[index])
                if index < row.count - 1 { line += "  " }
            }
            text += line.trimmingCharacters(in: .whitespaces) + "\n"
        }
        let totals = ProjectTotals(list)
        text += pick(
            "共 \(totals.count) 个项目 · 总投资 \(yi(totals.totalInvestment)) 亿元 · 当年计划投资 \(yi(totals.plannedInvestment)) 亿元 · 本年完成投资 \(yi(totals.completedInvestment)) 亿元",
            "共 \(totals.count) 個項目 · 總投資 \(yi(totals.totalInvestment)) 億元 · 當年計劃投資 \(yi(totals.plannedInvestment)) 億元 · 本年完成投資 \(yi(totals.completedInvestment)) 億元",
            "\(totals.count) projects · total investment \(yi(totals.totalInvestment)) · planned \(yi(totals.plannedInvestment)) · completed \(yi(totals.completedInvestment)) (100M yuan)")
        return text + "\n"
    }

    private func yi(_ yuan: Int128) -> String { FixedDecimal.yi(yuan) }

    /// A whole number as a cell: a number when it fits, else its digits as text.
    private func cell(_ value: Int128) -> OutputCell {
        Int64(exactly: value).map { .integer($0) } ?? .text(String(value))
    }

    func json(_ list: [ReportedProject], year: Int, filter: ProjectFilter) -> JSONValue {
        let totals = ProjectTotals(list)
        return .object([
            JSONMember("year", .integer(year)),
            JSONMember("filter", .string(filter.options)),
            JSONMember("projects", .array(list.map { project in
                .object([
                    JSONMember("project_id", .string(project.projectID)),
                    JSONMember("name", .string(project.name)),
                    JSONMember("enterprise", project.enterprise.map { .string($0) } ?? .null),
                    JSONMember("park", project.park.map { .string($0) } ?? .null),
                    JSONMember("plan_year", .integer(project.planYear)),
                    JSONMember("categories", .array(project.categories.map { .string($0.rawValue) })),
                    JSONMember("new_start", .bool(project.newStart)),
                    JSONMember("status", .string(project.stage.rawValue)),
                    JSONMember("total_investment", .integer(project.totalInvestment)),
                    JSONMember("planned_investment", .integer(project.plannedInvestment)),
                    JSONMember("completed_investment", .integer(project.completedInvestment)),
                ])
            })),
            JSONMember("totals", .object([
                JSONMember("count", .integer(totals.count)),
                JSONMember("total_investment", Self.integer(totals.totalInvestment)),
                JSONMember("planned_investment", Self.integer(totals.plannedInvestment)),
                JSONMember("completed_investment", Self.integer(totals.completedInvestment)),
            ])),
        ])
    }

    /// An exact JSON integer, past Int64 too.
    static func integer(_ value: Int128) -> JSONValue {
        if let small = Int64(exactly: value) { return .integer(small) }
        return JSONNumber(text: String(value)).map { .number($0) } ?? .null
    }

    /// CSV with a byte order mark (Excel reads the Chinese text right), CRLF, amounts in yuan.
    func csv(_ list: [ReportedProject]) -> [UInt8] {
        func field(_ text: String) -> String {
            text.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
                ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        var text = headers(unit: yuan).map(field).joined(separator: ",") + "\r\n"
        for project in list {
            text += [project.projectID, project.name, project.enterprise ?? "", project.park ?? "", categories(project),
                     project.newStart ? yes : no, project.stage.name(in: language), String(project.totalInvestment),
                     String(project.plannedInvestment), String(project.completedInvestment)].map(field).joined(separator: ",") + "\r\n"
        }
        return [0xEF, 0xBB, 0xBF] + Array(text.utf8)
    }

    /// The project list as a sheet, amounts in yuan.
    func sheet(_ list: [ReportedProject], year: Int) -> OutputSheet {
        var rows: [[OutputCell]] = [headers(unit: yuan).map { .text($0) }]
        for project in list {
            rows.append([.text(project.projectID), .text(project.name), project.enterprise.map { .text($0) } ?? .empty,
                         project.park.map { .text($0) } ?? .empty, .text(categories(project)),
                         .text(project.newStart ? yes : no), .text(project.stage.name(in: language)),
                         .integer(project.totalInvestment), .integer(project.plannedInvestment), .integer(project.completedInvestment)])
        }
        return OutputSheet(name: pick("\(year) 年项目清单", "\(year) 年項目清單", "projects \(year)"), rows: rows, boldRows: [0],
                           columnWidths: [0: 14, 1: 44, 2: 28, 3: 20, 4: 30, 5: 8, 6: 10, 7: 18, 8: 18, 9: 18], freezeFirstRow: true)
    }

    /// The report as a sheet: the figures (amounts in 亿元), the targets, the campaigns.
    func sheet(_ report: ZoneReport) -> OutputSheet {
        let words = labels
        let projects = report.projects, recruitment = report.recruitment
        var rows: [[OutputCell]] = [[.text(words.title(report.year))], []]
        let head = [pick("指标", "指標", "figure"), pick("数值", "數值", "value"), pick("单位", "單位", "unit"),
                    words.previousYear, pick("增长率（%）", "增長率（%）", "growth (%)")]
        rows.append(head.map { .text($0) })
        func count(_ label: String, _ value: Int, _ unit: String) {
            rows.append([.text(label), .integer(Int64(value)), unit.isEmpty ? .empty : .text(unit)])
        }
        func amount(_ label: String, _ yuan: Int128) {
            rows.append([.text(label), .decimal(FixedDecimal.yi(yuan)), .text(words.yiUnit)])
        }
        func growth(_ label: String, _ growth: Growth) {
            rows.append([.text(label), .integer(Int64(growth.count)), .text(words.projectUnit), .integer(Int64(growth.previous)),
                         growth.growthPct.map { .decimal($0.description) } ?? .empty])
        }
        rows.append([.text(words.projects)])
        count(words.major, projects.major, words.projectUnit)
        amount(words.totalInvestment, projects.totalInvestment)
        amount(words.plannedInvestment, projects.plannedInvestment)
        amount(words.completedInvestment, projects.completedInvestment)
        count(words.industrial, projects.industrial, words.projectUnit)
        count(words.industrialNewStartOver100m, projects.industrialNewStartOver100m, words.projectUnit)
        growth(words.strategicEmergingNewStart, projects.strategicEmergingNewStart)
        count(words.rareEarth, projects.rareEarth, words.projectUnit)
        growth(words.rareEarthNewStartOver100m, projects.rareEarthNewStartOver100m)
        for stage in ProjectStage.reported {
            count(words.byStatus + " · " + stage.name(in: language), projects.byStatus[stage] ?? 0, words.projectUnit)
        }
        for category in Category.allCases {
            count(words.byCategory + " · " + category.name(in: language), projects.byCategory[category] ?? 0, words.projectUnit)
        }
        rows.append([.text(words.recruitment)])
        count(words.enterprisesContacted, recruitment.enterprisesContacted, words.enterpriseUnit)
        count(words.siteVisits, recruitment.siteVisits, words.visitUnit)
        count(words.agreementsSigned, recruitment.agreementsSigned, words.enterpriseUnit)
        for industry in Category.allCases {
            let introduced = recruitment.projectsIntroduced[industry] ?? 0
            guard introduced > 0 || industry == .pmMotor || industry == .rareEarthMaterial else { continue }
            count(words.projectsIntroduced + " " + industry.name(in: language), introduced, words.projectUnit)
        }
        var bold: Set<Int> = [0, 2]
        if !report.targets.isEmpty {
            rows.append([])
            bold.insert(rows.count)
            rows.append([.text(words.targets), .text(pick("实际", "實際", "actual")), .text(pick("目标值", "目標值", "target")),
                         .text(pick("完成率（%）", "完成率（%）", "progress (%)"))])
            for progress in report.targets {
                let amounts = progress.target.figure.isAmount
                rows.append([.text(progress.target.name),
                             amounts ? .decimal(FixedDecimal.yi(progress.actual)) : cell(progress.actual),
                             amounts ? .decimal(FixedDecimal.yi(Int128(progress.target.target))) : .integer(progress.target.target),
                             .decimal(progress.progressPct.description)])
            }
        }
        if !recruitment.byCampaign.isEmpty {
            rows.append([])
            bold.insert(rows.count)
            rows.append([.text(words.campaign), .text(words.campaignContacted), .text(words.campaignVisits), .text(words.campaignSigned)])
            for campaign in recruitment.byCampaign {
                rows.append([.text(campaign.name), .integer(Int64(campaign.enterprisesContacted)),
                             .integer(Int64(campaign.siteVisits)), .integer(Int64(campaign.agreementsSigned))])
            }
        }
        return OutputSheet(name: pick("\(report.year) 年度报告", "\(report.year) 年度報告", "report \(report.year)"), rows: rows,
                           boldRows: bold, columnWidths: [0: 36, 1: 14, 2: 14, 3: 10, 4: 12])
    }

    func workbook(_ sheets: [OutputSheet]) throws -> [UInt8] {
        do {
            return try WorkbookWriter.xlsx(sheets)
        } catch {
            FileHandle.standardError.write(Data("lodectl: \(error)\n".utf8))
            throw ExitCode(70)
        }
    }
}
