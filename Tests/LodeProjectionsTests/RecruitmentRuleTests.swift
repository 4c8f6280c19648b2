import LodeEvents
import Testing
@testable import LodeProjections

@Suite("Recruitment rules")
struct RecruitmentRuleTests {
    @Test func enterprisesContactedCountDistinctEnterprises() {
        var state = ZoneProjection(calendar: shanghai)
        do { let changed = state.apply(event("c1", at: "2024-02-01T09:00:00+08:00", contacted("臥龍控股集團", "百日攻堅"))); #expect(changed) }
        // Same enterprise, other campaign: new in the campaign, not in the year.
        do { let changed = state.apply(event("c2", at: "2024-02-02T09:00:00+08:00", contacted("臥龍控股集團", "早春行動"))); #expect(changed) }
        // Same enterprise, same campaign, new event: changes nothing.
        do { let changed = state.apply(event("c3", at: "2024-02-03T09:00:00+08:00", contacted("臥龍控股集團", "百日攻堅"))); #expect(!changed) }
        state.apply(event("c4", at: "2024-02-04T09:00:00+08:00", contacted("江蘇大中電機", "百日攻堅")))
        let figures = state.report(year: 2024).recruitment
        #expect(figures.enterprisesContacted == 2)
        #expect(figures.byCampaign.map(\.name) == ["早春行動", "百日攻堅"].sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(figures.byCampaign.first { $0.name == "百日攻堅" }?.enterprisesContacted == 2)
        #expect(figures.byCampaign.first { $0.name == "早春行動" }?.enterprisesContacted == 1)
    }

    @Test func enterprisesAreDistinctByTheirExactString() {
        let events = [
            event("c1", at: "2024-02-01T09:00:00+08:00", contacted("Soci\u{E9}t\u{E9}")),
            event("c2", at: "2024-02-01T09:00:00+08:00", contacted("Soci\u{E9}te\u{301}")),
            event("c3", at: "2024-02-01T09:00:00+08:00", contacted("臥龍控股集團 ")),
            event("c4", at: "2024-02-01T09:00:00+08:00", contacted("臥龍控股集團")),
        ]
        #expect(report(events).recruitment.enterprisesContacted == 4)
    }

    @Test func siteVisitsCountDistinctEventIDs() {
        var state = ZoneProjection(calendar: shanghai)
        let visit = event("v1", at: "2024-03-01T09:00:00+08:00", visited("臥龍控股集團"))
        do { let changed = state.apply(visit); #expect(changed) }
        do { let changed = state.apply(visit); #expect(!changed) }
        // The same enterprise visiting again is another visit.
        do { let changed = state.apply(event("v2", at: "2024-04-01T09:00:00+08:00", visited("臥龍控股集團"))); #expect(changed) }
        #expect(state.report(year: 2024).recruitment.siteVisits == 2)
        #expect(state.report(year: 2024).recruitment.byCampaign.first?.siteVisits == 2)
    }

    @Test func agreementsSignedCountDistinctEnterprises() {
        let events = [
            event("a1", at: "2024-03-01T09:00:00+08:00", signed("臥龍控股集團")),
            event("a2", at: "2024-04-01T09:00:00+08:00", signed("臥龍控股集團")),
            event("a3", at: "2024-04-01T09:00:00+08:00", signed("重慶驅創")),
        ]
        #expect(report(events).recruitment.agreementsSigned == 2)
    }

    @Test func projectsIntroducedCountDistinctProjectIDsPerIndustry() {
        let events = [
            event("p1", at: "2024-03-01T09:00:00+08:00", introduced("WL-PM-01", .pmMotor)),
            event("p2", at: "2024-03-02T09:00:00+08:00", introduced("WL-PM-01", .pmMotor, enterprise: "臥龍電驅")),
            event("p3", at: "2024-03-03T09:00:00+08:00", introduced("WL-PM-02", .pmMotor)),
            event("p4", at: "2024-03-03T09:00:00+08:00", introduced("WL-PM-02", .industrial)),
        ]
        let figures = report(events).recruitment
        #expect(figures.projectsIntroduced[.pmMotor] == 2)
        #expect(figures.projectsIntroduced[.industrial] == 1)
        #expect(figures.projectsIntroduced[.rareEarthMaterial] == 0)
    }

    @Test func pmMotorAndRareEarthMaterialAreAlwaysInTheReport() {
        let json = report([]).jsonText()
        #expect(json.contains(#""projects_introduced":{"pm_motor":0,"rare_earth_material":0}"#))
    }

    @Test func recruitmentYearIsTheEventTimesYearInTheZone() {
        // 2023-12-31T16:30:00Z is 2024-01-01 00:30 in Asia/Shanghai.
        let events = [
            event("c1", at: "2023-12-31T16:30:00Z", contacted("臥龍控股集團")),
            event("c2", at: "2023-12-31T15:59:59Z", contacted("江蘇大中電機")),
            event("v1", at: "2023-12-31T16:00:00Z", visited("江蘇大中電機")),
        ]
        let year2024 = report(events, year: 2024).recruitment
        let year2023 = report(events, year: 2023).recruitment
        #expect(year2024.enterprisesContacted == 1)
        #expect(year2024.siteVisits == 1)
        #expect(year2023.enterprisesContacted == 1)
        #expect(year2023.siteVisits == 0)
    }

    @Test func theZoneTimeZoneDecidesTheYear() throws {
        var utc = ZoneProjection(calendar: try ZoneCalendar(timeZoneIdentifier: "UTC"))
        utc.apply(event("c1", at: "2023-12-31T16:30:00Z", contacted("臥龍控股集團")))
        #expect(utc.report(year: 2023).recruitment.enterprisesContacted == 1)
        #expect(utc.report(year: 2024).recruitment.enterprisesContacted == 0)
    }

    @Test func byCampaignOnlyListsCampaignsOfTheYear() {
        let events = [
            event("c1", at: "2023-05-01T09:00:00+08:00", contacted("臥龍控股集團", "2023招商")),
            event("c2", at: "2024-05-01T09:00:00+08:00", contacted("臥龍控股集團", "百日攻堅")),
        ]
        #expect(report(events).recruitment.byCampaign.map(\.name) == ["百日攻堅"])
    }
}
