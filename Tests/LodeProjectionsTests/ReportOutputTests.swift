import LodeJSON
import LodeEvents
import Testing
@testable import LodeProjections

@Suite("Rounding")
struct RoundingTests {
    @Test(arguments: [
        (32, 28, "14.29"), (25, 16, "56.25"), (28, 32, "-12.5"), (3, 3, "0.0"), (6, 3, "100.0"),
        (4, 3, "33.33"), (5, 3, "66.67"), (20001, 20000, "0.01"), (19999, 20000, "-0.01"),
        (1, 80000, "-100.0"), (40001, 80000, "-50.0"),
    ])
    func growthIsRoundedHalfAwayFromZeroToTwoDecimals(count: Int, previous: Int, expected: String) {
        #expect(Growth(count: count, previous: previous).growthPct?.jsonText == expected)
    }

    @Test func halvesRoundAwayFromZero() {
        #expect(FixedDecimal(ratio: 1, over: 8, places: 2)?.description == "0.13")
        #expect(FixedDecimal(ratio: -1, over: 8, places: 2)?.description == "-0.13")
        #expect(FixedDecimal(ratio: 1, over: -8, places: 2)?.description == "-0.13")
        #expect(FixedDecimal(ratio: 1, over: 200, places: 2)?.description == "0.01")
        #expect(FixedDecimal(ratio: 1, over: 201, places: 2)?.description == "0.00")
    }

    @Test func growthIsNullWhenPreviousIsZero() {
        #expect(Growth(count: 5, previous: 0).growthPct == nil)
        #expect(Growth(count: 0, previous: 0).growthPct == nil)
        #expect(Growth(count: 0, previous: 5).growthPct?.jsonText == "-100.0")
    }

    @Test(arguments: [
        (Int64(12), Int64(30), "40.0"), (1, 3, "33.3"), (2, 3, "66.7"), (1, 16, "6.3"), (45, 30, "150.0"),
        (0, 30, "0.0"), (1, 2000, "0.1"), (1, 2001, "0.0"), (57_384_000_000, 60_000_000_000, "95.6"),
        (1_000_000_000_000_000, 1, "100000000000000000.0"),
    ])
    func progressIsRoundedToOneDecimalAndNotCapped(actual: Int64, target: Int64, expected: String) throws {
        let goal = try ReportTarget(name: "t", figure: .major, target: target)
        #expect(TargetProgress(target: goal, actual: Int128(actual)).progressPct.description == expected)
    }

    @Test func amountsAreShownIn100MillionYuanWithTwoDecimals() {
        #expect(FixedDecimal.yi(57_384_000_000) == "573.84")
        #expect(FixedDecimal.yi(31_830_000_000) == "318.30")
        #expect(FixedDecimal.yi(0) == "0.00")
        #expect(FixedDecimal.yi(500_000) == "0.01")
        #expect(FixedDecimal.yi(499_999) == "0.00")
    }
}

@Suite("Targets")
struct TargetTests {
    @Test(arguments: [
        "projects.major", "projects.total_investment", "projects.strategic_emerging_new_start",
        "projects.rare_earth_new_start_over_100m", "projects.by_status.started", "projects.by_category.pm_motor",
        "recruitment.enterprises_contacted", "recruitment.projects_introduced.rare_earth_material",
        "recruitment.by_campaign.百日攻堅.site_visits", "recruitment.by_campaign.a.b.agreements_signed",
    ])
    func knownPathsReadAndWriteBack(path: String) throws {
        #expect(try ReportFigure(path: path).path == path)
    }

    @Test func countSuffixIsAccepted() throws {
        #expect(try ReportFigure(path: "projects.strategic_emerging_new_start.count") == .strategicEmergingNewStart)
        #expect(try ReportFigure(path: "projects.rare_earth_new_start_over_100m.count") == .rareEarthNewStartOver100m)
    }

    @Test(arguments: [
        "", "projects", "projects.majors", "projects.by_status.cancel", "projects.by_category.steel",
        "recruitment.projects_introduced.motors", "recruitment.by_campaign.x.visits", "recruitment.by_campaign..site_visits",
        "projects.industrial_new_start_over_100m.count", "projects.major.count",
    ])
    func unknownPathsAreRefusedWithTheKnownOnes(path: String) {
        #expect(throws: ReportTargetError.self) { try ReportFigure(path: path) }
        do {
            _ = try ReportFigure(path: path)
        } catch {
            #expect(error.message.contains("projects.major"))
        }
    }

    @Test func targetMustBeAtLeastOne() {
        #expect(throws: ReportTargetError.self) { try ReportTarget(name: "t", path: "projects.major", target: 0) }
    }

    @Test func targetsTrackTheirFigure() throws {
        let events = [
            event("p1", at: "2024-03-01T09:00:00+08:00", introduced("WL-PM-01", .pmMotor)),
            event("p2", at: "2024-03-01T09:00:00+08:00", introduced("WL-PM-02", .pmMotor)),
            event("v1", at: "2024-03-01T09:00:00+08:00", visited("臥龍控股集團", "百日攻堅")),
        ]
        let targets = [
            try ReportTarget(name: "稀土永磁電機項目", path: "recruitment.projects_introduced.pm_motor", target: 30),
            try ReportTarget(name: "visits", path: "recruitment.by_campaign.百日攻堅.site_visits", target: 1),
            try ReportTarget(name: "other campaign", path: "recruitment.by_campaign.早春.site_visits", target: 4),
        ]
        let progress = report(events, targets: targets).targets
        #expect(progress.map(\.actual) == [2, 1, 0])
        #expect(progress.map(\.progressPct.description) == ["6.7", "100.0", "0.0"])
    }
}

@Suite("Report output")
struct ReportOutputTests {
    static let events: [Event] = [
        event("a1", at: "2023-01-10T09:00:00+08:00", registered("A1", year: 2023, categories: [.strategicEmerging])),
        event("r1", at: "2024-01-10T09:00:00+08:00",
              registered("P1", categories: [.industrial, .rareEarth, .strategicEmerging], total: 1_500_000_000, planned: 600_000_000)),
        event("r2", at: "2024-01-10T09:00:00+08:00", registered("P2", categories: [.infrastructure], newStart: false,
                                                                 total: 80_000_000, planned: 30_000_000)),
        event("s1", at: "2024-03-01T09:00:00+08:00", status("P1", .started)),
        event("i1", at: "2024-04-05T09:00:00+08:00", invested("P1", "2024-03", 35_000_000)),
        event("c1", at: "2024-02-01T09:00:00+08:00", contacted("臥龍控股集團", "百日攻堅")),
        event("v1", at: "2024-02-01T09:00:00+08:00", visited("臥龍控股集團", "百日攻堅")),
        event("g1", at: "2024-02-01T09:00:00+08:00", signed("臥龍控股集團", "百日攻堅")),
        event("p1", at: "2024-02-01T09:00:00+08:00", introduced("WL-PM-01", .pmMotor)),
    ]

    static func targets() throws -> [ReportTarget] {
        [try ReportTarget(name: "pm_motor projects introduced", path: "recruitment.projects_introduced.pm_motor", target: 30)]
    }

    @Test func jsonHasTheContractsShapeAndKeyOrder() throws {
        let json = report(Self.events, targets: try Self.targets()).jsonText()
        let expected = #"{"year":2024,"projects":{"major":2,"total_investment":1580000000,"planned_investment":630000000,"#
            + #""completed_investment":35000000,"industrial":1,"industrial_new_start_over_100m":1,"#
            + #""strategic_emerging_new_start":{"count":1,"previous":1,"growth_pct":0.0},"rare_earth":1,"#
            + #""rare_earth_new_start_over_100m":{"count":1,"previous":0,"growth_pct":null},"#
            + #""by_status":{"planned":1,"signed":0,"started":1,"resumed":0,"suspended":0,"completed":0,"in_production":0},"#
            + #""by_category":{"industrial":1,"strategic_emerging":1,"rare_earth":1,"pm_motor":0,"rare_earth_material":0,"infrastructure":1}},"#
            + #""recruitment":{"enterprises_contacted":1,"site_visits":1,"agreements_signed":1,"#
            + #""by_campaign":{"百日攻堅":{"enterprises_contacted":1,"site_visits":1,"agreements_signed":1}},"#
            + #""projects_introduced":{"pm_motor":1,"rare_earth_material":0}},"#
            + #""targets":[{"name":"pm_motor projects introduced","target":30,"actual":1,"progress_pct":3.3}]}"#
        #expect(json == expected)
    }

    @Test func jsonParsesBackAsJSON() throws {
        let json = report(Self.events, targets: try Self.targets()).jsonText()
        let value = try JSONParser.parse(json)
        #expect(value["projects"]?["major"] == .integer(2))
    }

    @Test func tableShowsAmountsGrowthAndBars() throws {
        let table = report(Self.events, targets: try Self.targets()).renderTable()
        #expect(table.contains("15.80"))
        #expect(table.contains("6.30"))
        #expect(table.contains("上年 1  0.00%"))
        #expect(table.contains("上年 0  —"))
        #expect(table.contains("[░░░░░░░░░░░░░░░░░░░░]    3.3%"))
        #expect(table.hasSuffix("\n"))
    }

    @Test func tableShowsGrowthWithItsSign() {
        #expect(ZoneReport.growthNote(Growth(count: 32, previous: 28)) == "上年 28  +14.29%")
        #expect(ZoneReport.growthNote(Growth(count: 28, previous: 32)) == "上年 32  -12.50%")
    }

    @Test func barsFillWithProgressAndStopAtFull() {
        #expect(ZoneReport.bar(FixedDecimal(units: 500, places: 1)) == "[" + String(repeating: "█", count: 10) + String(repeating: "░", count: 10) + "]")
        #expect(ZoneReport.bar(FixedDecimal(units: 1500, places: 1)) == "[" + String(repeating: "█", count: 20) + "]")
    }

    @Test func tableColumnsAlignByDisplayWidth() {
        let table = report(Self.events).renderTable()
        // Every figure row has its value ending at the same column.
        let rows = table.split(separator: "\n").filter { $0.hasPrefix("  ") && ($0.hasSuffix(" 个") || $0.hasSuffix(" 亿元") || $0.hasSuffix(" 家") || $0.hasSuffix(" 次")) }
        #expect(rows.count >= 10)
        let ends = Set(rows.map { row in displayWidth(row) - displayWidth(row.split(separator: " ").last ?? "") })
        #expect(ends.count == 1)
    }

    /// Characters that differ between the scripts: a Simplified view has none of the
    /// Traditional ones, and the reverse.
    static let traditionalOnly: Set<Character> = Set("項數總資當劃產業類開億戰興實簽協議訪對際標個狀態別進動")
    static let simplifiedOnly: Set<Character> = Set("项数总资当划产业类开亿战兴实签协议访对际标个状态别进动")

    @Test(arguments: ZoneLanguage.allCases)
    func theTableIsInOneLanguageCategoriesAndStatusesIncluded(language: ZoneLanguage) throws {
        let table = report(Self.events, targets: []).renderTable(language: language)
        // The page's own words: without the data (a campaign's name).
        let words = table.replacingOccurrences(of: "百日攻堅", with: "").filter { !$0.isASCII }
        switch language {
        case .simplifiedChinese:
            #expect(table.hasPrefix("2024 年度报告\n"))
            #expect(table.contains("重大项目数"))
            #expect(table.contains("按状态  计划中 "))
            #expect(table.contains("稀土永磁电机"))
            #expect(words.allSatisfy { !Self.traditionalOnly.contains($0) }, "\(table)")
        case .traditionalChinese:
            #expect(table.contains("重大項目數"))
            #expect(table.contains("按狀態  計劃中 "))
            #expect(table.contains("稀土永磁電機"))
            #expect(words.allSatisfy { !Self.simplifiedOnly.contains($0) }, "\(table)")
        case .english:
            #expect(table.hasPrefix("Report for 2024\n"))
            #expect(table.contains("by status  planned "))
            #expect(table.contains("PM motor"))
            // Only the figures' own characters are not ASCII: bars, the ≥ and the em dash.
            #expect(words.allSatisfy { "█░≥—·".contains($0) }, "\(table)")
        }
        // No wire code of a category or status in the table.
        for code in ["pm_motor", "rare_earth", "strategic_emerging", "in_production", "rare_earth_material"] {
            #expect(!table.contains(code), "\(code) in \(table)")
        }
    }

    @Test func theJSONIsTheSameInEveryLanguage() {
        // The JSON has no language: its text is one, whatever the table's.
        let value = report(Self.events)
        #expect(value.jsonText().contains("\"pm_motor\""))
        #expect(!value.jsonText().contains("稀土永磁"))
    }

    @Test func displayWidthCountsWideCharactersTwice() {
        #expect(displayWidth("abc") == 3)
        #expect(displayWidth("稀土") == 4)
        #expect(displayWidth("億元 ok") == 7)
        #expect(displayWidth("ＡＢ") == 4)
        #expect(displayWidth("e\u{301}") == 1)
        #expect(displayWidth("█░") == 2)
    }
}

@Suite("Fixed decimals")
struct FixedDecimalTests {
    @Test func comparesExactlyAcrossPlaces() {
        #expect(FixedDecimal(units: 1429, places: 2) < FixedDecimal(units: 143, places: 1))
        #expect(!(FixedDecimal(units: 1430, places: 2) < FixedDecimal(units: 143, places: 1)))
        #expect(FixedDecimal(units: -5, places: 1) < FixedDecimal(units: 0, places: 2))
    }

    @Test func writesAllPlacesOrTheShortestForJSON() {
        #expect(FixedDecimal(units: 5, places: 2).description == "0.05")
        #expect(FixedDecimal(units: -5, places: 2).description == "-0.05")
        #expect(FixedDecimal(units: 5000, places: 2).jsonText == "50.0")
        #expect(FixedDecimal(units: 1430, places: 2).jsonText == "14.3")
        #expect(FixedDecimal(units: 0, places: 1).jsonText == "0.0")
        #expect(FixedDecimal(units: 7, places: 0).jsonText == "7")
    }
}
