import LodeEvents

extension ZoneReport {
    /// The report as a text table for a terminal (`lodectl report`):
    /// amounts in 億元 with two decimals, growth with its sign, targets as
    /// progress bars, columns aligned by display width (a CJK character
    /// takes two columns). Pure: the same report gives the same text; every
    /// line ends with a newline.
    public func renderTable() -> String {
        var lines: [String] = []
        let labelWidth = 28
        func row(_ label: String, _ value: String, _ note: String = "") {
            let line = "  " + label.padded(to: labelWidth) + value.padded(left: 12) + (note.isEmpty ? "" : "  " + note)
            lines.append(line)
        }

        lines.append("\(year) 年度報告")
        lines.append("")
        lines.append("重大項目")
        row("重大項目數", "\(projects.major)", "個")
        row("總投資", FixedDecimal.yi(projects.totalInvestment), "億元")
        row("當年計劃投資", FixedDecimal.yi(projects.plannedInvestment), "億元")
        row("已完成投資", FixedDecimal.yi(projects.completedInvestment), "億元")
        row("產業類項目", "\(projects.industrial)", "個")
        row("新開工億元以上產業類項目", "\(projects.industrialNewStartOver100m)", "個")
        row("新開工戰略性新興產業項目", "\(projects.strategicEmergingNewStart.count)",
            Self.growthNote(projects.strategicEmergingNewStart))
        row("稀土產業項目", "\(projects.rareEarth)", "個")
        row("新開工億元以上稀土產業項目", "\(projects.rareEarthNewStartOver100m.count)",
            Self.growthNote(projects.rareEarthNewStartOver100m))
        lines.append("  按狀態  " + ProjectStage.reported.map { "\($0.rawValue) \(projects.byStatus[$0] ?? 0)" }
            .joined(separator: " · "))
        lines.append("  按類別  " + Category.allCases.map { "\($0.rawValue) \(projects.byCategory[$0] ?? 0)" }
            .joined(separator: " · "))

        lines.append("")
        lines.append("招商引資")
        row("走訪對接企業", "\(recruitment.enterprisesContacted)", "家")
        row("實地考察", "\(recruitment.siteVisits)", "次")
        row("簽訂合作協議", "\(recruitment.agreementsSigned)", "家")
        for industry in Category.reportOrder {
            let count = recruitment.projectsIntroduced[industry] ?? 0
            guard count > 0 || industry == .pmMotor || industry == .rareEarthMaterial else { continue }
            row("引進項目 " + industry.rawValue, "\(count)", "個")
        }
        if !recruitment.byCampaign.isEmpty {
            lines.append("")
            let nameWidth = max(labelWidth, recruitment.byCampaign.map { displayWidth($0.name.terminalSafe) }.max() ?? 0)
            lines.append("  " + "招商行動".padded(to: nameWidth) + "走訪企業".padded(left: 10)
                + "實地考察".padded(left: 10) + "簽約企業".padded(left: 10))
            for campaign in recruitment.byCampaign {
                lines.append("  " + campaign.name.terminalSafe.padded(to: nameWidth)
                    + "\(campaign.enterprisesContacted)".padded(left: 10)
                    + "\(campaign.siteVisits)".padded(left: 10)
                    + "\(campaign.agreementsSigned)".padded(left: 10))
            }
        }

        if !targets.isEmpty {
            lines.append("")
            lines.append("目標")
            let nameWidth = max(labelWidth, targets.map { displayWidth($0.target.name.terminalSafe) }.max() ?? 0)
            for progress in targets {
                let amounts = progress.target.figure.isAmount
                    ? "\(FixedDecimal.yi(progress.actual)) / \(FixedDecimal.yi(Int128(progress.target.target))) 億元"
                    : "\(progress.actual) / \(progress.target.target)"
                lines.append("  " + progress.target.name.terminalSafe.padded(to: nameWidth) + " "
                    + Self.bar(progress.progressPct) + " " + "\(progress.progressPct)%".padded(left: 7)
                    + "  " + amounts)
            }
        }
        return lines.map { $0 + "\n" }.joined()
    }


    /// `上年 28  +14.29%`; `上年 0  —` when there is nothing to compare.
    static func growthNote(_ growth: Growth) -> String {
        let change: String
        if let pct = growth.growthPct {
            change = (pct.units > 0 ? "+" : "") + pct.description + "%"
        } else {
            change = "—"
        }
        return "上年 \(growth.previous)  \(change)"
    }

    /// A bar of 20 cells, full at 100% and beyond.
    static func bar(_ pct: FixedDecimal) -> String {
        let cells = 20
        let filled = max(0, min(cells, Int(pct.units) * cells / 1000))
        return "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: cells - filled) + "]"
    }
}

extension ReportFigure {
    /// Whether the figure is an amount of money (shown in 億元).
    var isAmount: Bool {
        switch self {
        case .totalInvestment, .plannedInvestment, .completedInvestment: true
        default: false
        }
    }
}
