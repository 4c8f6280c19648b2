import Crypto
import LodeJSON
import Testing
@testable import LodeEvents

@Suite("Event encoding, fingerprints and derived ids")
struct EventEncodingTests {
    static let time = try! EventTime(parsing: "2024-05-05T10:00:00+08:00")

    static let everyKind: [Event] = [
        Event(id: "r1", source: "s", time: time, data: .projectRegistered(ProjectRegistered(
            projectID: "BT-1", name: "名稱 \"quoted\"\n", planYear: 2024, categories: [.rareEarth, .industrial],
            newStart: false, totalInvestment: 1_000_000_000_000_000, plannedInvestment: 0, major: false,
            enterprise: "E", park: "P", capacity: "C"))),
        Event(id: "r2", source: "s", time: time, data: .projectRegistered(ProjectRegistered(
            projectID: "BT-2", name: "n", planYear: 1900, categories: [.infrastructure], newStart: true,
            totalInvestment: 1, plannedInvestment: 1))),
        Event(id: "c1", source: "s", time: time, data: .projectStatusChanged(ProjectStatusChanged(
            projectID: "BT-1", status: .inProduction, note: "投產"))),
        Event(id: "c2", source: "s", time: time, data: .projectStatusChanged(ProjectStatusChanged(projectID: "BT-1", status: .cancelled))),
        Event(id: "i1", source: "s", time: time, data: .investmentReported(InvestmentReported(
            projectID: "BT-1", period: YearMonth(year: 2024, month: 4)!, completedInvestment: 35_000_000))),
        Event(id: "e1", source: "s", time: time, data: .enterpriseContacted(EnterpriseContacted(enterprise: "E", campaign: "C", industry: .pmMotor))),
        Event(id: "e2", source: "s", time: time, data: .enterpriseContacted(EnterpriseContacted(enterprise: "E", campaign: "C"))),
        Event(id: "v1", source: "s", time: time, data: .siteVisit(SiteVisit(enterprise: "E", campaign: "C", visitors: 0))),
        Event(id: "v2", source: "s", time: time, data: .siteVisit(SiteVisit(enterprise: "E", campaign: "C"))),
        Event(id: "a1", source: "s", time: time, data: .agreementSigned(AgreementSigned(
            enterprise: "E", campaign: "C", projectID: "WL-1", intendedInvestment: 2_000_000_000))),
        Event(id: "a2", source: "s", time: time, data: .agreementSigned(AgreementSigned(enterprise: "E", campaign: "C"))),
        Event(id: "p1", source: "s", time: time, data: .projectIntroduced(ProjectIntroduced(
            enterprise: "E", campaign: "C", projectID: "WL-1", industry: .rareEarthMaterial))),
    ]

    @Test(arguments: everyKind)
    func decodingAnEncodedEventGivesItBack(event: Event) throws {
        #expect(try Event.decode(event.encoded()) == event)
        #expect(try Event.decode(event.jsonValue.serializedBytes()) == event)
    }

    @Test func encodesInTheContractsOrderWithDataContentType() throws {
        let event = try Event.decode(Fixtures.body(Fixtures.envelope(.siteVisit)))
        #expect(String(decoding: event.encoded(), as: UTF8.self) == #"{"specversion":"1.0","id":"evt-0001","source":"bt-zone/projects","type":"zone.recruitment.site_visit","time":"2024-05-05T10:00:00+08:00","datacontenttype":"application/json","data":{"enterprise":"臥龍控股集團","campaign":"百日攻堅","visitors":6}}"#)
    }

    @Test(arguments: everyKind)
    func canonicalContentIsTheCanonicalJSONOfTheRequiredAttributesAndData(event: Event) {
        let expected = event.jsonValue.setting("datacontenttype", nil).canonicalBytes()
        #expect(event.canonicalContent == expected)
    }

    @Test func fingerprintIgnoresLayoutKeyOrderExtensionsAndTheMajorDefault() throws {
        let plain = try Event.decode(Fixtures.body(Fixtures.envelope().settingData("major", nil)))
        let reordered = try JSONParser.parse(#"""
            { "data": { "park": "稀土永磁電機產業園", "major": true, "planned_investment": 600000000,
                        "total_investment": 1500000000, "new_start": true, "categories": ["industrial", "pm_motor"],
                        "plan_year": 2024, "name": "浙江中車尚馳年產10萬臺新能源永磁驅動系統北方基地項目",
                        "project_id": "BT-2024-001" },
              "time": "2024-05-05T10:00:00+08:00", "type": "zone.project.registered", "source": "bt-zone/projects",
              "id": "evt-0001", "specversion": "1.0", "datacontenttype": "application/json", "traceparent": "x" }
            """#)
        let same = try Event.decode(Fixtures.body(reordered))
        #expect(same.contentFingerprint == plain.contentFingerprint)
        #expect(plain.contentFingerprint.hasPrefix("sha256:"))
        #expect(plain.contentFingerprint.count == 7 + 64)
    }

    @Test func fingerprintChangesWithAnyContent() throws {
        let base = try Event.decode(Fixtures.body(Fixtures.envelope())).contentFingerprint
        let changes: [JSONValue] = [
            Fixtures.envelope().settingData("total_investment", .integer(1_500_000_001)),
            Fixtures.envelope().settingData("major", .bool(false)),
            Fixtures.envelope(id: "evt-0002"),
            Fixtures.envelope(source: "other"),
            Fixtures.envelope(time: "2024-05-05T02:00:00Z"),
        ]
        for change in changes {
            #expect(try Event.decode(Fixtures.body(change)).contentFingerprint != base)
        }
    }

    @Test func derivedIDIsStableAcrossRunsAndPlatforms() throws {
        let event = try Event.decode(Fixtures.body(Fixtures.envelope(.siteVisit)))
        let id = Event.derivedID(type: event.type, source: event.source, time: event.time, data: event.data)
        // The canonical JSON below and SHA-256 define it; the pinned value was checked with sha256sum.
        #expect(id == "sha256:" + SHA256.hash(data: Array(#"{"data":{"campaign":"百日攻堅","enterprise":"臥龍控股集團","visitors":6},"source":"bt-zone/projects","time":"2024-05-05T10:00:00+08:00","type":"zone.recruitment.site_visit"}"#.utf8)).hex.prefix(32))
        #expect(id == "sha256:3a740343948eb6adf121c8c6e489bc0b")
        #expect(Event(derivingIDFromSource: event.source, time: event.time, data: event.data).id == id)
    }

    @Test func derivedIDDiffersForDifferentContent() throws {
        let time = try EventTime(parsing: "2024-05-05T10:00:00+08:00")
        let visit = EventData.siteVisit(SiteVisit(enterprise: "E", campaign: "C", visitors: 3))
        let id = Event.derivedID(type: .siteVisit, source: "s", time: time, data: visit)
        #expect(Event.derivedID(type: .siteVisit, source: "s2", time: time, data: visit) != id)
        #expect(Event.derivedID(type: .siteVisit, source: "s", time: try EventTime(parsing: "2024-05-05T02:00:00Z"), data: visit) != id)
        #expect(Event.derivedID(type: .siteVisit, source: "s", time: time,
                                data: .siteVisit(SiteVisit(enterprise: "E", campaign: "C", visitors: 4))) != id)
        #expect(Event.derivedID(type: .siteVisit, source: "s", time: time, data: visit) == id)
    }

    @Test func contentTypeAloneDecidesBatchOrSingle() {
        #expect(MessageFormat(contentType: "application/cloudevents-batch+json") == .batch)
        #expect(MessageFormat(contentType: "Application/CloudEvents-Batch+JSON; charset=utf-8") == .batch)
        #expect(MessageFormat(contentType: "application/cloudevents+json") == .single)
        #expect(MessageFormat(contentType: "application/json") == .single)
        #expect(MessageFormat(contentType: nil) == .single)
        #expect(MessageFormat.batch.contentType == "application/cloudevents-batch+json")
    }
}
