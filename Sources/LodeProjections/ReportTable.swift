import LodeEvents

extension ZoneReport {
    /// The report as a text table for a terminal (`lodectl report`), in `language`:
    /// amounts in 亿元 with two decimals, growth with its sign, targets as
    /// progress bars, columns aligned by display width (a CJK character
    /// takes two columns). Pure: the same report gives the same text; every
    /// line ends with a newline.
    public func renderTable(language: ZoneLanguage = .default) -> String {
        let words = ReportLabels.of(language)
        var lines: [String] = []
        let rowLabels = [words.industrialNewStartOver100m, words.strategicEmergingNewStart, words.rareEarthNewStartOver100m]
            + Category.allCases.map { words.projectsIntroduced + " " + $0.name(in: language) }
        let labelWidth = max(28, rowLabels.map { displayWidth($0) }.max() ?? 0)
        func row(_ label: String, _ value: String, _ note: String = "") {
            let line = "  " + label.padded(to: labelWidth) + value.padded(left: 12) + (note.isEmpty ? "" : "  " + note)
            lines.append(line)
        }
        let separator = language == .english ? ", " : "、"

        lines.append(words.title(year))
        lines.append("")
        lines.append(words.projects)
        row(words.major, "\(projects.major)", words.projectUnit)
        row(words.totalInvestment, FixedDecimal.yi(projects.totalInvestment), words.yiUnit)
        row(words.plannedInvestment, FixedDecimal.yi(projects.plannedInvestment), words.yiUnit)
        row(words.completedInvestment, FixedDecimal.yi(projects.completedInvestment), words.yiUnit)
        row(words.industrial, "\(projects.industrial)", words.projectUnit)
        row(words.industrialNewStartOver100m, "\(projects.industrialNewStartOver100m)", words.projectUnit)
        row(words.strategicEmergingNewStart, "\(projects.strategicEmergingNewStart.count)",
            Self.growthNote(projects.strategicEmergingNewStart, words))
        row(words.rareEarth, "\(projects.rareEarth)", words.projectUnit)
        row(words.rareEarthNewStartOver100m, "\(projects.rareEarthNewStartOver100m.count)",
            Self.growthNote(projects.rareEarthNewStartOver100m, words))
        lines.append("  " + words.byStatus + "  " + ProjectStage.reported.map { "\($0.name(in: language)) \(projects.byStatus[$0] ?? 0)" }
            .joined(separator: separator))
        lines.append("  " + words.byCategory + "  " + Category.allCases.map { "\($0.name(in: language)) \(projects.byCategory[$0] ?? 0)" }
            .joined(separator: separator))

        lines.append("")
        lines.append(words.recruitment)
        row(words.enterprisesContacted, "\(recruitment.enterprisesContacted)", words.enterpriseUnit)
        row(words.siteVisits, "\(recruitment.siteVisits)", words.visitUnit)
        row(words.agreementsSigned, "\(recruitment.agreementsSigned)", words.enterpriseUnit)
        for industry in Category.reportOrder {
            let count = recruitment.projectsIntroduced[industry] ?? 0
            guard count > 0 || industry == .pmMotor || industry == .rareEarthMaterial else { continue }
            row(words.projectsIntroduced + " " + industry.name(in: language), "\(count)", words.projectUnit)
        }
        if !recruitment.byCampaign.isEmpty {
            lines.append("")
            let nameWidth = max(labelWidth, recruitment.byCampaign.map { displayWidth($0.name.terminalSafe) }.max() ?? 0)
            lines.append("  " + words.campaign.padded(to: nameWidth) + words.campaignContacted.padded(left: 10)
                + words.campaignVisits.padded(left: 10) + words.campaignSigned.padded(left: 10))
            for campaign in recruitment.byCampaign {
                lines.append("  " + campaign.name.terminalSafe.padded(to: nameWidth)
                    + "\(campaign.enterprisesContacted)".padded(left: 10)
                    + "\(campaign.siteVisits)".padded(left: 10)
                    + "\(campaign.agreementsSigned)".padded(left: 10))
            }
        }

        if !targets.isEmpty {
            lines.append("")
            lines.append(words.targets)
            let nameWidth = max(labelWidth, targets.map { displayWidth($0.target.name.terminalSafe) }.max() ?? 0)
            for progress in targets {
                let amounts = progress.target.figure.isAmount
                    ? "\(FixedDecimal.yi(progress.actual)) / \(FixedDecimal.yi(Int128(progress.target.target))) \(words.yiUnit)"
                    : "\(progress.actual) / \(progress.target.target)"
                lines.append("  " + progress.target.name.terminalSafe.padded(to: nameWidth) + " "
                    + Self.bar(progress.progressPct) + " " + "\(progress.progressPct)%".padded(left: 7)
                    + "  " + amounts)
            }
        }
        return lines.map { $0.hasSuffix(" ") ? String($0.reversed().drop { $0 == " " }.reversed()) + "\n" : $0 + "\n" }.joined()
    }


    /// `上年 28  +14.29%`; `上年 0  —` when there is nothing to compare.
    static func growthNote(_ growth: Growth, _ words: ReportLabels = .simplified) -> String {
        let change: String
        if let pct = growth.growthPct {
            change = (pct.units > 0 ? "+" : "") + pct.description + "%"
        } else {
            change = "—"
        }
        return "\(words.previousYear) \(growth.previous)  \(change)"
    }

    /// A bar of 20 cells, full at 100% and beyond.
    static func bar(_ pct: FixedDecimal) -> String {
        let cells = 20
        let filled = max(0, min(cells, Int(pct.units) * cells / 1000))
        return "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: cells - filled) + "]"
    }
}

extension ReportFigure {
    /// Whether the figure is an amount of money (shown in 亿元).
    public var isAmount: Bool {
        switch self {
        case .totalInvestment, .plannedInvestment, .completedInvestment: true
        default: false
        }
    }
}
