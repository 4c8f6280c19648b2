import LodeJSON
import LodeEvents

extension ZoneReport {
    /// The report as the JSON object of contract section 4, keys in the
    /// contract's order: integers as integers, `growth_pct` as a number of
    /// up to 2 decimals or `null`, `progress_pct` with 1 decimal.
    /// `by_status` lists every stage but `cancelled` (counted projects are
    /// never cancelled), `by_category` every category, zeros included;
    /// `projects_introduced` lists `pm_motor` and `rare_earth_material`
    /// always, then any other industry with a project; `by_campaign` lists
    /// the campaigns with an event in the year, in UTF-8 byte order.
    public var jsonValue: JSONValue {
        let projects = self.projects
        let recruitment = self.recruitment
        let introduced: [JSONMember] = Category.reportOrder.compactMap { industry in
            let count = recruitment.projectsIntroduced[industry] ?? 0
            guard count > 0 || industry == .pmMotor || industry == .rareEarthMaterial else { return nil }
            return JSONMember(industry.rawValue, .integer(count))
        }
        return .object([
            JSONMember("year", .integer(year)),
            JSONMember("projects", .object([
                JSONMember("major", .integer(projects.major)),
                JSONMember("total_investment", .integer(projects.totalInvestment)),
                JSONMember("planned_investment", .integer(projects.plannedInvestment)),
                JSONMember("completed_investment", .integer(projects.completedInvestment)),
                JSONMember("industrial", .integer(projects.industrial)),
                JSONMember("industrial_new_start_over_100m", .integer(projects.industrialNewStartOver100m)),
                JSONMember("strategic_emerging_new_start", projects.strategicEmergingNewStart.jsonValue),
                JSONMember("rare_earth", .integer(projects.rareEarth)),
                JSONMember("rare_earth_new_start_over_100m", projects.rareEarthNewStartOver100m.jsonValue),
                JSONMember("by_status", .object(ProjectStage.reported.map {
                    JSONMember($0.rawValue, .integer(projects.byStatus[$0] ?? 0))
                })),
                JSONMember("by_category", .object(Category.allCases.map {
                    JSONMember($0.rawValue, .integer(projects.byCategory[$0] ?? 0))
                })),
            ])),
            JSONMember("recruitment", .object([
                JSONMember("enterprises_contacted", .integer(recruitment.enterprisesContacted)),
                JSONMember("site_visits", .integer(recruitment.siteVisits)),
                JSONMember("agreements_signed", .integer(recruitment.agreementsSigned)),
                JSONMember("by_campaign", .object(recruitment.byCampaign.map { campaign in
                    JSONMember(campaign.name, .object([
                        JSONMember("enterprises_contacted", .integer(campaign.enterprisesContacted)),
                        JSONMember("site_visits", .integer(campaign.siteVisits)),
                        JSONMember("agreements_signed", .integer(campaign.agreementsSigned)),
                    ]))
                })),
                JSONMember("projects_introduced", .object(introduced)),
            ])),
            JSONMember("targets", .array(targets.map { progress in
                .object([
                    JSONMember("name", .string(progress.target.name)),
                    JSONMember("target", .integer(progress.target.target)),
                    JSONMember("actual", .integer(progress.actual)),
                    JSONMember("progress_pct", progress.progressPct.jsonNumber),
                ])
            })),
        ])
    }

    /// ``jsonValue`` as compact JSON text (no trailing newline). The same
    /// report always gives the same bytes.
    public func jsonText() -> String {
        jsonValue.serializedText()
    }
}

extension Growth {
    var jsonValue: JSONValue {
        .object([
            JSONMember("count", .integer(count)),
            JSONMember("previous", .integer(previous)),
            JSONMember("growth_pct", growthPct?.jsonNumber ?? .null),
        ])
    }
}

extension FixedDecimal {
    var jsonNumber: JSONValue {
        // jsonText is always digits with an optional '-' and one '.', which
        // is JSON number syntax.
        JSONNumber(text: jsonText).map(JSONValue.number) ?? .null
    }
}

extension Category {
    /// `pm_motor` and `rare_earth_material` first (the figures the report
    /// always shows), then the others in declaration order.
    static let reportOrder: [Category] =
        [.pmMotor, .rareEarthMaterial] + allCases.filter { $0 != .pmMotor && $0 != .rareEarthMaterial }
}
