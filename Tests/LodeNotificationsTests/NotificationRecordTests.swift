import Foundation
import LodeEvents
import LodeNotifications
import LodeProjections
import Testing

@Suite("A notification kept in the outbox reads back whole")
struct NotificationRecordTests {
    static let created = Date(timeIntervalSince1970: 1_717_200_000.123)

    @Test(arguments: [
        NotificationCause.event(id: "evt-1", type: .projectStatusChanged),
        .threshold(year: 2024, figure: .agreementsSigned, threshold: 20, value: 21),
        .milestone(year: 2024, target: try! ReportTarget(name: "稀土永磁电机", path: "recruitment.projects_introduced.pm_motor", target: 30),
                   milestone: 50, threshold: 15, value: 15),
    ])
    func everyCauseRoundTrips(cause: NotificationCause) throws {
        let notification = ZoneNotification(key: "k:1", rule: "r", channels: ["office", "群"], title: "项目开工",
                                            text: "年产5万吨稀土永磁材料项目 开工", cause: cause, createdAt: Self.created)
        let back = try #require(ZoneNotification(record: notification.record()))
        #expect(back == notification)
    }

    @Test func somethingElseIsNotARecord() {
        #expect(ZoneNotification(record: Array(#"{"key":"k"}"#.utf8)) == nil)
        #expect(ZoneNotification(record: Array("nope".utf8)) == nil)
    }
}
