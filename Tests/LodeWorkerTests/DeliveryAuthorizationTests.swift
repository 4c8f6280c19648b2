import Foundation
import LodeAMQP
import LodeDeadLetters
import LodeEvents
import LodePermissions
import LodeWorker
import Testing

/// With `departments:`, each delivery's sender is judged once and each event of it on its own
/// (contract section 6): what is refused goes to `lode.dead` as `unauthorized`.
@Suite("Deliveries judged by their sender")
struct DeliveryAuthorizationTests {
    static let departments = try! Departments([
        Department(name: "reform", user: "lode-reform", types: [.projectStatusChanged],
                   sources: [.exact("bt-dept/projects")]),
        Department(name: "invest", user: "lode-invest", types: [.siteVisit], sources: [.prefix("invest/")]),
    ], replayUsers: ["lode-ctl"])

    static func status(_ id: String, source: String = "bt-dept/projects") -> String {
        #"{"specversion":"1.0","id":"\#(id)","source":"\#(source)","type":"zone.project.status_changed","time":"2024-05-05T10:00:00+08:00","data":{"project_id":"BT-17","status":"started"}}"#
    }

    static func delivery(_ body: String, user: String?, batch: Bool = false, headers: FieldTable? = nil) -> Delivery {
        Delivery(unreceived: Array(body.utf8), properties: MessageProperties(
            contentType: batch ? "application/cloudevents-batch+json" : "application/cloudevents+json", headers: headers,
            deliveryMode: 2, userID: user))
    }

    @Test func aDepartmentsOwnEventIsApplied() {
        let decoded = DecodedDeliveries([Self.delivery(Self.status("e-1"), user: "lode-reform")], departments: Self.departments)
        #expect(decoded.rejected.isEmpty)
        #expect(decoded.events.map(\.event.id) == ["e-1"])
    }

    @Test func withoutDepartmentsEveryProducerIsAccepted() {
        let decoded = DecodedDeliveries([Self.delivery(Self.status("e-1"), user: nil)])
        #expect(decoded.events.count == 1 && decoded.rejected.isEmpty)
    }

    /// A batch holds one type and one source, so its valid events share a verdict; each is still
    /// judged and dead-lettered on its own, with its own bytes, and an invalid one keeps its reason.
    @Test func eachEventOfABatchIsJudgedOnItsOwn() throws {
        let broken = Self.status("broken", source: "invest/x").replacingOccurrences(of: #""started""#, with: #""begun""#)
        let body = "[\(Self.status("foreign-1", source: "invest/x")),\(broken),\(Self.status("foreign-2", source: "invest/x"))]"
        let decoded = DecodedDeliveries([Self.delivery(body, user: "lode-reform", batch: true)], departments: Self.departments)
        #expect(decoded.events.isEmpty)
        #expect(decoded.rejected.map(\.rejected.reason) == ["unauthorized", "invalid_event", "unauthorized"])
        #expect(decoded.rejected.map(\.rejected.eventID) == ["foreign-1", "broken", "foreign-2"])
        let refused = try #require(decoded.rejected.first?.rejected)
        #expect(refused.body == Array(Self.status("foreign-1", source: "invest/x").utf8), "the event's own bytes, not the batch's")
        #expect(refused.error.contains("'lode-reform'") && refused.error.contains("source 'invest/x'")
            && refused.error.contains("'bt-dept/projects'"), "\(refused.error)")

        // The department's own batch: its valid events are applied, the invalid one refused alone.
        let own = "[\(Self.status("ok-1")),\(Self.status("broken").replacingOccurrences(of: #""started""#, with: #""begun""#)),\(Self.status("ok-2"))]"
        let mine = DecodedDeliveries([Self.delivery(own, user: "lode-reform", batch: true)], departments: Self.departments)
        #expect(mine.events.map(\.event.id) == ["ok-1", "ok-2"])
        #expect(mine.rejected.map(\.rejected.reason) == ["invalid_event"])
    }

    @Test func aTypeTheDepartmentMayNotSendIsUnauthorized() throws {
        let decoded = DecodedDeliveries([Self.delivery(Self.status("e-1"), user: "lode-invest")], departments: Self.departments)
        let refused = try #require(decoded.rejected.first?.rejected)
        #expect(refused.reason == "unauthorized")
        #expect(refused.error.contains("may not send type zone.project.status_changed"))
        #expect(refused.error.contains("zone.recruitment.site_visit"))
    }

    @Test func noUserIDAndAStrangerAreUnauthorizedButAnInvalidEventKeepsItsReason() {
        let decoded = DecodedDeliveries([
            Self.delivery(Self.status("e-1"), user: nil),
            Self.delivery(Self.status("e-2"), user: "mallory"),
            Self.delivery("{not json", user: "mallory"),
        ], departments: Self.departments)
        #expect(decoded.events.isEmpty)
        #expect(decoded.rejected.map(\.rejected.reason) == ["unauthorized", "unauthorized", "invalid_json"])
        #expect(decoded.rejected.map(\.delivery) == [0, 1, 2])
        #expect(decoded.rejected[0].rejected.error.contains("no user_id"))
        #expect(decoded.rejected[1].rejected.error.contains("'mallory'"))
    }

    @Test func aReplayIsJudgedAsTheDepartmentItNamesAndAForgedNameIsIgnored() {
        let named: FieldTable = ["x-lode-original-user-id": .string("lode-reform")]
        let decoded = DecodedDeliveries([
            Self.delivery(Self.status("e-1"), user: "lode-ctl", headers: named),
            // A department cannot pass its event off as another's with the header.
            Self.delivery(Self.status("e-2"), user: "lode-invest", headers: named),
        ], departments: Self.departments)
        #expect(decoded.events.map(\.event.id) == ["e-1"])
        #expect(decoded.rejected.map(\.rejected.eventID) == ["e-2"])
    }
}
