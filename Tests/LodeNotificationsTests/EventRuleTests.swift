import LodeEvents
import LodeNotifications
import LodeProjections
import Testing

@Suite("Rules on events")
struct EventRuleTests {
    static let facts = ProjectFacts(
        projectID: "BT-17", name: "稀土永磁电机项目", planYear: 2024, categories: [.industrial, .pmMotor],
        enterprise: "臥龍控股集團", park: "稀土高新区", status: .started)

    @Test func aStatusRuleFiresForItsStatusesWithTheProjectsName() throws {
        let rules = NotificationRules(rules: [
            try rule("started", .event(.projectStatusChanged, EventConditions(statuses: [.started, .inProduction])),
                     title: "项目{status}", "{project_name}（{project_id}，{enterprise}，{park}）{year}年计划项目：{status}"),
        ], calendar: shanghai)
        let started = event("evt-1", .projectStatusChanged(ProjectStatusChanged(projectID: "BT-17", status: .started)))
        let notifications = rules.notifications(for: started, project: Self.facts, now: now)
        #expect(notifications.count == 1)
        #expect(notifications.first?.key == "event:started:5:tests:evt-1")
        #expect(notifications.first?.title == "项目started")
        #expect(notifications.first?.text == "稀土永磁电机项目（BT-17，臥龍控股集團，稀土高新区）2024年计划项目：started")
        #expect(notifications.first?.channels == ["office"])
        #expect(notifications.first?.cause == .event(id: "evt-1", type: .projectStatusChanged))
        #expect(notifications.first?.createdAt == now)

        let suspended = event("evt-2", .projectStatusChanged(ProjectStatusChanged(projectID: "BT-17", status: .suspended)))
        #expect(rules.notifications(for: suspended, project: Self.facts, now: now).isEmpty)
    }

    @Test func aStatusChangeOfAnUnregisteredProjectNotifiesUnderItsID() throws {
        let rules = NotificationRules(rules: [
            try rule("started", .event(.projectStatusChanged, EventConditions(statuses: [.started])), "{project_name} {year}"),
        ], calendar: shanghai)
        let started = event("evt-1", at: "2025-01-01T01:00:00+08:00", .projectStatusChanged(ProjectStatusChanged(projectID: "BT-99", status: .started)))
        // No facts: the name falls back to the id, the year to the event's year in the zone.
        #expect(rules.notifications(for: started, project: nil, now: now).map(\.text) == ["BT-99 2025"])
    }

    @Test func aCategoryConditionUsesTheProjectsFacts() throws {
        let rules = NotificationRules(rules: [
            try rule("rare-earth", .event(.projectStatusChanged, EventConditions(categories: [.rareEarth])), "{project_name}"),
        ], calendar: shanghai)
        let started = event("evt-1", .projectStatusChanged(ProjectStatusChanged(projectID: "BT-17", status: .started)))
        #expect(rules.notifications(for: started, project: Self.facts, now: now).isEmpty)
        var rareEarth = Self.facts
        rareEarth.categories = [.rareEarth]
        #expect(rules.notifications(for: started, project: rareEarth, now: now).count == 1)
        #expect(rules.notifications(for: started, project: nil, now: now).isEmpty)
    }

    @Test func anAgreementRuleFiresPerCampaign() throws {
        let rules = NotificationRules(rules: [
            try rule("signed", .event(.agreementSigned, EventConditions(campaigns: ["百日攻坚"])),
                     "{enterprise}在「{campaign}」签约，意向投资{amount_yi}亿元（{amount}元）"),
        ], calendar: shanghai)
        let signed = event("evt-3", .agreementSigned(AgreementSigned(enterprise: "北方稀土", campaign: "百日攻坚", intendedInvestment: 350_000_000)))
        #expect(rules.notifications(for: signed, project: nil, now: now).map(\.text)
            == ["北方稀土在「百日攻坚」签约，意向投资3.50亿元（350000000元）"])
        let elsewhere = event("evt-4", .agreementSigned(AgreementSigned(enterprise: "北方稀土", campaign: "秋季招商")))
        #expect(rules.notifications(for: elsewhere, project: nil, now: now).isEmpty)
    }

    @Test func anIntroducedProjectRuleFiresForItsIndustry() throws {
        let rules = NotificationRules(rules: [
            try rule("pm-motor", .event(.projectIntroduced, EventConditions(categories: [.pmMotor])),
                     "引进{industry}项目{project_name}（{enterprise}）"),
        ], calendar: shanghai)
        let pmMotor = event("evt-5", .projectIntroduced(ProjectIntroduced(enterprise: "臥龍", campaign: "c", projectID: "IN-1", industry: .pmMotor)))
        let material = event("evt-6", .projectIntroduced(ProjectIntroduced(enterprise: "臥龍", campaign: "c", projectID: "IN-2", industry: .rareEarthMaterial)))
        #expect(rules.notifications(for: pmMotor, project: nil, now: now).map(\.text) == ["引进pm_motor项目IN-1（臥龍）"])
        #expect(rules.notifications(for: material, project: nil, now: now).isEmpty)
    }

    @Test func anInvestmentRuleFiresFromItsAmountAndCountsInItsPeriodsYear() throws {
        let rules = NotificationRules(rules: [
            try rule("big-month", .event(.investmentReported, EventConditions(minimumAmount: 100_000_000)),
                     "{project_name} {period} 完成投资{amount_yi}亿元（{year}）"),
        ], calendar: shanghai)
        func report(_ id: String, _ amount: Int64) -> Event {
            event(id, at: "2025-01-03T09:00:00+08:00",
                  .investmentReported(InvestmentReported(projectID: "BT-17", period: YearMonth(period: "2024-12")!, completedInvestment: amount)))
        }
        #expect(rules.notifications(for: report("evt-7", 100_000_000), project: Self.facts, now: now).map(\.text)
            == ["稀土永磁电机项目 2024-12 完成投资1.00亿元（2024）"])
        #expect(rules.notifications(for: report("evt-8", 99_999_999), project: Self.facts, now: now).isEmpty)
    }

    @Test func aRegistrationCarriesItsOwnFacts() throws {
        let rules = NotificationRules(rules: [
            try rule("registered", .event(.projectRegistered, EventConditions(categories: [.rareEarth])),
                     "{year}年新列项目{project_name}：{categories}"),
        ], calendar: shanghai)
        let registration = event("evt-9", .projectRegistered(ProjectRegistered(
            projectID: "BT-1", name: "稀土新材料", planYear: 2025, categories: [.rareEarth, .industrial], newStart: true,
            totalInvestment: 1, plannedInvestment: 1)))
        #expect(rules.notifications(for: registration, project: nil, now: now).map(\.text) == ["2025年新列项目稀土新材料：rare_earth, industrial"])
    }

    @Test func eachMatchingRuleNotifiesOnceWithItsOwnKey() throws {
        let rules = NotificationRules(rules: [
            try rule("a", .event(.siteVisit, EventConditions()), "{enterprise} {visitors}"),
            try rule("b", .event(.siteVisit, EventConditions()), channels: ["log", "office"], "{source} {event_type} {event_id}"),
            try rule("c", .event(.enterpriseContacted, EventConditions()), "-"),
        ], calendar: shanghai)
        let visit = event("evt-10", .siteVisit(SiteVisit(enterprise: "包钢", campaign: "c", visitors: 12)))
        let notifications = rules.notifications(for: visit, project: nil, now: now)
        #expect(notifications.map(\.key) == ["event:a:5:tests:evt-10", "event:b:5:tests:evt-10"])
        #expect(notifications.map(\.text) == ["包钢 12", "tests zone.recruitment.site_visit evt-10"])
        #expect(notifications.last?.channels == ["log", "office"])
        // The same event again (a replay or a rebuild) gives the same keys.
        #expect(rules.notifications(for: visit, project: nil, now: now.addingTimeInterval(60)).map(\.key) == notifications.map(\.key))
        #expect(rules.hasEventRules && !rules.hasCrossingRules)
    }

    @Test func onlyACategoryConditionOnEventsWithoutCategoriesNeedsTheProjectsFacts() throws {
        let rules = NotificationRules(rules: [
            try rule("rare-earth", .event(.projectStatusChanged, EventConditions(categories: [.rareEarth])), "-"),
            try rule("started", .event(.investmentReported, EventConditions()), "-"),
            try rule("pm-motor", .event(.projectRegistered, EventConditions(categories: [.pmMotor])), "-"),
        ], calendar: shanghai)
        #expect(rules.needsProjectFacts(for: .projectStatusChanged))
        #expect(!rules.needsProjectFacts(for: .investmentReported), "no category condition")
        #expect(!rules.needsProjectFacts(for: .projectRegistered), "a registration carries its categories")
        #expect(rules.hasEventRules(for: .projectRegistered) && !rules.hasEventRules(for: .siteVisit))
    }

    @Test func aConditionAnEventTypeCannotMeetIsRefused() {
        #expect(throws: NotificationConfigError.self) {
            try rule("x", .event(.siteVisit, EventConditions(statuses: [.started])), "-")
        }
        #expect(throws: NotificationConfigError.self) {
            try rule("x", .event(.projectStatusChanged, EventConditions(minimumAmount: 5)), "-")
        }
        #expect(throws: NotificationConfigError.self) {
            try rule("bad name", .event(.siteVisit, EventConditions()), "-")
        }
        #expect(throws: NotificationConfigError.self) {
            try rule("x", .event(.siteVisit, EventConditions()), "{amount_yi}")
        }
    }
}
