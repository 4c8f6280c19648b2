import LodeEvents
import Testing
@testable import LodeProjections

@Suite("Project rules")
struct ProjectRuleTests {
    @Test func laterRegistrationCorrectsEarlierWhateverTheOrder() {
        let first = event("r1", at: "2024-01-10T09:00:00+08:00", registered("P1", total: 300_000_000))
        let correction = event("r2", at: "2024-02-10T09:00:00+08:00", registered("P1", total: 500_000_000))
        #expect(report([first, correction]).projects.totalInvestment == 500_000_000)
        #expect(report([correction, first]).projects.totalInvestment == 500_000_000)
    }

    @Test func olderRegistrationAppliedLastChangesNothing() {
        var state = projection([event("r2", at: "2024-02-10T09:00:00+08:00", registered("P1", total: 500_000_000))])
        let changed = state.apply(event("r1", at: "2024-01-10T09:00:00+08:00", registered("P1", total: 300_000_000)))
        #expect(!changed)
        #expect(state.registrations["P1"]?.value.totalInvestment == 500_000_000)
    }

    @Test func redeliveryChangesNothing() {
        let registration = event("r1", at: "2024-01-10T09:00:00+08:00", registered("P1"))
        var state = ZoneProjection(calendar: shanghai)
        do { let changed = state.apply(registration); #expect(changed) }
        do { let changed = state.apply(registration); #expect(!changed) }
    }

    @Test func equalTimesAreBrokenByTheGreaterIDInByteOrder() {
        // "Z" (0x5A) sorts before "a" (0x61) in bytes; the same instant is
        // written with two offsets.
        let a = event("a", at: "2024-03-01T10:00:00+08:00", registered("P1", total: 111_000_000))
        let z = event("Z", at: "2024-03-01T02:00:00Z", registered("P1", total: 222_000_000))
        #expect(report([a, z]).projects.totalInvestment == 111_000_000)
        #expect(report([z, a]).projects.totalInvestment == 111_000_000)
    }

    @Test func idTieBreakUsesBytesNotCanonicalEquivalence() {
        // U+00E9 (C3 A9) and "e" + U+0301 (65 CC 81) are equal as Swift
        // Strings but not as bytes; the precomposed one is greater.
        let composed = event("\u{E9}", at: "2024-03-01T10:00:00+08:00", registered("P1", total: 111_000_000))
        let decomposed = event("e\u{301}", at: "2024-03-01T10:00:00+08:00", registered("P1", total: 222_000_000))
        #expect(report([composed, decomposed]).projects.totalInvestment == 111_000_000)
        #expect(report([decomposed, composed]).projects.totalInvestment == 111_000_000)
    }

    @Test func correctionMayMoveAProjectToAnotherPlanYear() {
        let events = [
            event("r1", at: "2024-01-10T09:00:00+08:00", registered("P1", year: 2024)),
            event("r2", at: "2024-03-10T09:00:00+08:00", registered("P1", year: 2025)),
        ]
        #expect(report(events, year: 2024).projects.major == 0)
        #expect(report(events, year: 2025).projects.major == 1)
    }

    @Test func nonMajorProjectsAreNotCounted() {
        let events = [
            event("r1", at: "2024-01-10T09:00:00+08:00", registered("P1", major: false)),
            event("r2", at: "2024-01-10T09:00:00+08:00", registered("P2", major: true)),
        ]
        let figures = report(events).projects
        #expect(figures.major == 1)
        #expect(figures.totalInvestment == 200_000_000)
    }

    @Test func latestStatusByTimeDecides() {
        let registration = event("r1", at: "2024-01-10T09:00:00+08:00", registered("P1"))
        let started = event("s1", at: "2024-03-01T09:00:00+08:00", status("P1", .started))
        let suspended = event("s2", at: "2024-04-01T09:00:00+08:00", status("P1", .suspended))
        #expect(report([registration, started, suspended]).projects.byStatus[.suspended] == 1)
        #expect(report([registration, suspended, started]).projects.byStatus[.suspended] == 1)
        #expect(report([registration, suspended, started]).projects.byStatus[.started] == 0)
    }

    @Test func cancelledProjectsCountInNoProjectFigure() {
        let events = [
            event("r1", at: "2024-01-10T09:00:00+08:00",
                  registered("P1", categories: [.industrial, .rareEarth, .strategicEmerging], total: 900_000_000)),
            event("i1", at: "2024-02-05T09:00:00+08:00", invested("P1", "2024-01", 5_000_000)),
            event("s1", at: "2024-03-01T09:00:00+08:00", status("P1", .cancelled)),
        ]
        let figures = report(events).projects
        #expect(figures.major == 0)
        #expect(figures.totalInvestment == 0)
        #expect(figures.completedInvestment == 0)
        #expect(figures.industrial == 0 && figures.rareEarth == 0)
        #expect(figures.strategicEmergingNewStart.count == 0)
        #expect(figures.byCategory.values.allSatisfy { $0 == 0 })
        #expect(figures.byStatus.values.allSatisfy { $0 == 0 })
    }

    @Test func cancelledThenResumedCountsAgain() {
        let events = [
            event("r1", at: "2024-01-10T09:00:00+08:00", registered("P1")),
            event("s1", at: "2024-03-01T09:00:00+08:00", status("P1", .cancelled)),
            event("s2", at: "2024-04-01T09:00:00+08:00", status("P1", .resumed)),
        ]
        #expect(report(events).projects.major == 1)
        #expect(report(events).projects.byStatus[.resumed] == 1)
    }

    @Test func statusBeforeRegistrationIsKeptAndCountsOnceRegistered() {
        var state = ZoneProjection(calendar: shanghai)
        do { let changed = state.apply(event("s1", at: "2024-03-01T09:00:00+08:00", status("P1", .started))); #expect(changed) }
        #expect(state.report(year: 2024).projects.major == 0)
        state.apply(event("r1", at: "2024-04-01T09:00:00+08:00", registered("P1")))
        #expect(state.report(year: 2024).projects.byStatus[.started] == 1)
        #expect(state.report(year: 2024).projects.byStatus[.planned] == 0)
    }

    @Test func cancellationBeforeRegistrationKeepsTheProjectOut() {
        let events = [
            event("s1", at: "2024-03-01T09:00:00+08:00", status("P1", .cancelled)),
            event("r1", at: "2024-04-01T09:00:00+08:00", registered("P1")),
        ]
        #expect(report(events).projects.major == 0)
    }

    @Test func projectsWithoutStatusArePlanned() {
        let events = [
            event("r1", at: "2024-01-10T09:00:00+08:00", registered("P1")),
            event("r2", at: "2024-01-10T09:00:00+08:00", registered("P2")),
            event("s2", at: "2024-02-10T09:00:00+08:00", status("P2", .inProduction)),
        ]
        let byStatus = report(events).projects.byStatus
        #expect(byStatus[.planned] == 1)
        #expect(byStatus[.inProduction] == 1)
    }

    @Test func latestInvestmentReportPerProjectAndPeriodCounts() {
        let events = [
            event("r1", at: "2024-01-10T09:00:00+08:00", registered("P1")),
            event("i1", at: "2024-02-05T09:00:00+08:00", invested("P1", "2024-01", 5_000_000)),
            event("i2", at: "2024-02-20T09:00:00+08:00", invested("P1", "2024-01", 7_000_000)),
            event("i3", at: "2024-03-05T09:00:00+08:00", invested("P1", "2024-02", 3_000_000)),
        ]
        #expect(report(events).projects.completedInvestment == 10_000_000)
        #expect(report(events.reversed()).projects.completedInvestment == 10_000_000)
    }

    @Test func olderInvestmentReportChangesNothing() {
        var state = projection([event("i2", at: "2024-02-20T09:00:00+08:00", invested("P1", "2024-01", 7_000_000))])
        do { let changed = state.apply(event("i1", at: "2024-02-05T09:00:00+08:00", invested("P1", "2024-01", 5_000_000))); #expect(!changed) }
        #expect(state.investment["P1"]?[YearMonth(year: 2024, month: 1)!]?.value == 7_000_000)
    }

    @Test func investmentCountsByPeriodNotByReportTime() {
        // Reported in January 2025 for December 2024: counts in 2024. A
        // period of 2023 does not count in 2024.
        let events = [
            event("r1", at: "2024-01-10T09:00:00+08:00", registered("P1")),
            event("i1", at: "2025-01-05T09:00:00+08:00", invested("P1", "2024-12", 4_000_000)),
            event("i2", at: "2024-01-05T09:00:00+08:00", invested("P1", "2023-12", 9_000_000)),
        ]
        #expect(report(events).projects.completedInvestment == 4_000_000)
    }

    @Test func investmentReportedBeforeRegistrationCountsOnceRegistered() {
        var state = projection([event("i1", at: "2024-02-05T09:00:00+08:00", invested("P1", "2024-01", 5_000_000))])
        #expect(state.report(year: 2024).projects.completedInvestment == 0)
        state.apply(event("r1", at: "2024-03-10T09:00:00+08:00", registered("P1")))
        #expect(state.report(year: 2024).projects.completedInvestment == 5_000_000)
    }

    @Test func investmentOfProjectsNotCountedIsLeftOut() {
        let events = [
            event("r1", at: "2024-01-10T09:00:00+08:00", registered("P1", major: false)),
            event("r2", at: "2024-01-10T09:00:00+08:00", registered("P2", year: 2023)),
            event("i1", at: "2024-02-05T09:00:00+08:00", invested("P1", "2024-01", 5_000_000)),
            event("i2", at: "2024-02-05T09:00:00+08:00", invested("P2", "2024-01", 6_000_000)),
        ]
        #expect(report(events).projects.completedInvestment == 0)
    }

    @Test func over100mIsAtLeastOneHundredMillion() {
        let events = [
            event("r1", at: "2024-01-10T09:00:00+08:00", registered("P1", categories: [.industrial, .rareEarth], total: 100_000_000)),
            event("r2", at: "2024-01-10T09:00:00+08:00", registered("P2", categories: [.industrial, .rareEarth], total: 99_999_999)),
            event("r3", at: "2024-01-10T09:00:00+08:00",
                  registered("P3", categories: [.industrial, .rareEarth], newStart: false, total: 800_000_000)),
        ]
        let figures = report(events).projects
        #expect(figures.industrial == 3)
        #expect(figures.rareEarth == 3)
        #expect(figures.industrialNewStartOver100m == 1)
        #expect(figures.rareEarthNewStartOver100m.count == 1)
    }

    @Test func strategicEmergingNewStartNeedsBothAndNoAmount() {
        let events = [
            event("r1", at: "2024-01-10T09:00:00+08:00", registered("P1", categories: [.strategicEmerging], total: 1_000)),
            event("r2", at: "2024-01-10T09:00:00+08:00", registered("P2", categories: [.strategicEmerging], newStart: false)),
            event("r3", at: "2024-01-10T09:00:00+08:00", registered("P3", categories: [.industrial])),
        ]
        #expect(report(events).projects.strategicEmergingNewStart.count == 1)
    }

    @Test func categoriesAreExplicit() {
        let events = [
            event("r1", at: "2024-01-10T09:00:00+08:00", registered("P1", categories: [.industrial, .pmMotor])),
            event("r2", at: "2024-01-10T09:00:00+08:00", registered("P2", categories: [.infrastructure])),
        ]
        let figures = report(events).projects
        #expect(figures.rareEarth == 0)
        #expect(figures.industrial == 1)
        #expect(figures.byCategory == [.industrial: 1, .pmMotor: 1, .infrastructure: 1, .rareEarth: 0,
                                       .strategicEmerging: 0, .rareEarthMaterial: 0])
    }

    @Test func previousIsTheSameFigureForTheYearBeforeAsKnownNow() {
        let events = [
            event("a1", at: "2023-01-10T09:00:00+08:00", registered("A1", year: 2023, categories: [.strategicEmerging, .rareEarth])),
            event("a2", at: "2023-01-10T09:00:00+08:00", registered("A2", year: 2023, categories: [.strategicEmerging, .rareEarth])),
            event("a3", at: "2023-01-10T09:00:00+08:00", registered("A3", year: 2023, categories: [.strategicEmerging])),
            event("a4", at: "2023-01-10T09:00:00+08:00", registered("A4", year: 2023, categories: [.strategicEmerging], major: false)),
            event("x3", at: "2024-06-01T09:00:00+08:00", status("A3", .cancelled)),
            event("b1", at: "2024-01-10T09:00:00+08:00", registered("B1", categories: [.strategicEmerging, .rareEarth])),
            event("b2", at: "2024-01-10T09:00:00+08:00", registered("B2", categories: [.strategicEmerging, .rareEarth])),
            event("b3", at: "2024-01-10T09:00:00+08:00", registered("B3", categories: [.strategicEmerging, .rareEarth])),
        ]
        let figures = report(events).projects
        #expect(figures.strategicEmergingNewStart == Growth(count: 3, previous: 2))
        #expect(figures.rareEarthNewStartOver100m == Growth(count: 3, previous: 2))
        #expect(figures.strategicEmergingNewStart.growthPct?.description == "50.00")
        // Projects two years back are not "previous".
        #expect(report(events, year: 2025).projects.strategicEmergingNewStart == Growth(count: 0, previous: 3))
    }
}
