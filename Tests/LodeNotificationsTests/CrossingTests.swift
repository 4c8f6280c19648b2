import LodeEvents
import LodeNotifications
import LodeProjections
import Testing

@Suite("Rules on figures and targets")
struct CrossingTests {
    static let signing = try! ReportTarget(name: "签约企业", path: "recruitment.agreements_signed", target: 20)
    static let pmMotor = try! ReportTarget(name: "稀土永磁电机项目引进", path: "recruitment.projects_introduced.pm_motor", target: 30)

    static let thresholdRules = NotificationRules(rules: [
        try! rule("agreements-20", .figureThresholds(.agreementsSigned, thresholds: [20]),
                  "{year}年签约企业达到{value}家（阈值{threshold}，{figure}）"),
    ], calendar: shanghai)

    @Test func aThresholdNotifiesWhenTheFigureGoesFromBelowToAtOrAbove() {
        let crossed = Self.thresholdRules.crossings(year: 2024, before: report(agreements: 19), after: report(agreements: 21), targets: [], now: now)
        #expect(crossed.map(\.key) == ["figure:agreements-20:2024:20:recruitment.agreements_signed"])
        #expect(crossed.first?.text == "2024年签约企业达到21家（阈值20，recruitment.agreements_signed）")
        #expect(crossed.first?.cause == .threshold(year: 2024, figure: .agreementsSigned, threshold: 20, value: 21))
        #expect(crossed.first?.title == "agreements-20")
    }

    @Test func aThresholdDoesNotNotifyBelowItOrWhenAlreadyAbove() {
        let rules = Self.thresholdRules
        #expect(rules.crossings(year: 2024, before: report(agreements: 10), after: report(agreements: 19), targets: [], now: now).isEmpty)
        #expect(rules.crossings(year: 2024, before: report(agreements: 20), after: report(agreements: 25), targets: [], now: now).isEmpty)
        #expect(rules.crossings(year: 2024, before: report(agreements: 25), after: report(agreements: 18), targets: [], now: now).isEmpty)
        #expect(rules.crossings(year: 2024, before: report(agreements: 19), after: report(agreements: 19), targets: [], now: now).isEmpty)
    }

    @Test func theSameCrossingHasTheSameKeyAndNextYearAnother() {
        let rules = Self.thresholdRules
        let first = rules.crossings(year: 2024, before: report(agreements: 19), after: report(agreements: 20), targets: [], now: now)
        // Rebuilt from the log in one transaction: from nothing to everything.
        let rebuilt = rules.crossings(year: 2024, before: report(agreements: 0), after: report(agreements: 23), targets: [], now: now)
        // Fell back (a correction) and rose again.
        let again = rules.crossings(year: 2024, before: report(agreements: 18), after: report(agreements: 20), targets: [], now: now)
        let nextYear = rules.crossings(year: 2025, before: report(year: 2025, agreements: 19), after: report(year: 2025, agreements: 20), targets: [], now: now)
        #expect(first.count == 1)
        #expect(first.map(\.key) == rebuilt.map(\.key))
        #expect(first.map(\.key) == again.map(\.key))
        #expect(nextYear.map(\.key) == ["figure:agreements-20:2025:20:recruitment.agreements_signed"])
        #expect(Set(first.map(\.idempotencyKey)).isDisjoint(with: nextYear.map(\.idempotencyKey)))
    }

    @Test func severalThresholdsPassedAtOnceEachNotifyInAscendingOrder() throws {
        let rules = NotificationRules(rules: [
            try rule("agreements", .figureThresholds(.agreementsSigned, thresholds: [20, 10, 15]), "{threshold}"),
        ], calendar: shanghai)
        let crossed = rules.crossings(year: 2024, before: report(agreements: 9), after: report(agreements: 16), targets: [], now: now)
        #expect(crossed.map(\.text) == ["10", "15"])
    }

    @Test func aCampaignFigureNamesItsCampaignAndAnAmountFigureRendersInYi() throws {
        let rules = NotificationRules(rules: [
            try rule("visits", .figureThresholds(.campaign("百日攻坚", .siteVisits), thresholds: [100]), "「{campaign}」考察{value}次"),
            try rule("investment", .figureThresholds(.totalInvestment, thresholds: [50_000_000_000]), "总投资{value_yi}亿元"),
        ], calendar: shanghai)
        let crossed = rules.crossings(
            year: 2024, before: report(campaign: ("百日攻坚", 99)), after: report(campaign: ("百日攻坚", 100), totalInvestment: 57_384_000_000),
            targets: [], now: now)
        #expect(crossed.map(\.text) == ["「百日攻坚」考察100次", "总投资573.84亿元"])
    }

    @Test func targetMilestonesNotifyEachOnceWithTheTargetsNameAndNumbers() throws {
        let rules = NotificationRules(rules: [
            try rule("signing-progress", .targetMilestones(target: "签约企业", milestones: [50, 80, 100]),
                     title: "{target_name}完成{milestone}%",
                     "{year}年「{target_name}」已完成{value}/{target}（{progress_pct}%），达到{milestone}%节点（{threshold}）"),
        ], calendar: shanghai)
        let targets = [Self.pmMotor, Self.signing]
        let to50 = rules.crossings(year: 2024, before: report(agreements: 9), after: report(agreements: 10), targets: targets, now: now)
        #expect(to50.map(\.key) == ["target:signing-progress:2024:50:20:recruitment.agreements_signed"])
        #expect(to50.first?.title == "签约企业完成50%")
        #expect(to50.first?.text == "2024年「签约企业」已完成10/20（50.0%），达到50%节点（10）")
        #expect(to50.first?.cause == .milestone(year: 2024, target: Self.signing, milestone: 50, threshold: 10, value: 10))

        let to100 = rules.crossings(year: 2024, before: report(agreements: 10), after: report(agreements: 21), targets: targets, now: now)
        #expect(to100.map(\.key) == [
            "target:signing-progress:2024:80:20:recruitment.agreements_signed",
            "target:signing-progress:2024:100:20:recruitment.agreements_signed",
        ])
        #expect(to100.last?.text == "2024年「签约企业」已完成21/20（105.0%），达到100%节点（20）")
        #expect(rules.crossings(year: 2024, before: report(agreements: 11), after: report(agreements: 15), targets: targets, now: now).isEmpty)
    }

    @Test func aRuleForEveryTargetWatchesEachTarget() throws {
        let rules = NotificationRules(rules: [
            try rule("all-targets", .targetMilestones(target: nil, milestones: [100]), "{target_name} {industry}"),
        ], calendar: shanghai)
        let crossed = rules.crossings(
            year: 2024, before: report(agreements: 19, pmMotor: 29), after: report(agreements: 20, pmMotor: 30),
            targets: [Self.pmMotor, Self.signing], now: now)
        #expect(crossed.map(\.text) == ["稀土永磁电机项目引进 pm_motor", "签约企业 "])
        #expect(rules.hasCrossingRules && !rules.hasEventRules)
    }

    @Test func aMilestoneOfAnUnevenTargetIsRoundedUp() {
        #expect(NotificationRules.threshold(of: 30, milestone: 50) == 15)
        #expect(NotificationRules.threshold(of: 30, milestone: 80) == 24)
        #expect(NotificationRules.threshold(of: 7, milestone: 50) == 4)
        #expect(NotificationRules.threshold(of: 20, milestone: 100) == 20)
    }

    @Test func badNumbersAreRefused() {
        #expect(throws: NotificationConfigError.self) { try rule("x", .figureThresholds(.major, thresholds: [0]), "-") }
        #expect(throws: NotificationConfigError.self) { try rule("x", .figureThresholds(.major, thresholds: []), "-") }
        #expect(throws: NotificationConfigError.self) { try rule("x", .targetMilestones(target: nil, milestones: [0]), "-") }
        #expect(throws: NotificationConfigError.self) { try rule("x", .targetMilestones(target: nil, milestones: [50, 50]), "-") }
        #expect(throws: NotificationConfigError.self) { try rule("x", .figureThresholds(.major, thresholds: [5]), "{milestone}") }
    }
}
