import Foundation
import LodeEvents
import LodeNotifications
import LodeStorage
import Testing

@Suite("The notification outbox")
struct OutboxTests {
    static let start = Date(timeIntervalSince1970: 1_717_200_000)

    func notification(_ key: String, rule: String = "starts", channels: [String] = ["office"], at offset: Double = 0) -> ZoneNotification {
        ZoneNotification(key: key, rule: rule, channels: channels, title: "t-\(key)", text: "项目 \(key) 开工",
                         cause: .event(id: key, type: .projectStatusChanged), createdAt: Self.start.addingTimeInterval(offset))
    }

    func record(_ notifications: [ZoneNotification], in store: SQLiteZoneStore) throws -> Int {
        try store.enqueue(notifications)
    }

    @Test func aKeyIsRecordedOnceHoweverOftenItComes() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        #expect(try record([notification("a", channels: ["office", "chat"])], in: store) == 1)
        #expect(try record([notification("a", channels: ["office", "chat"]), notification("b")], in: store) == 1)
        #expect(try store.outboxEntries().map(\.channel) == ["office", "chat", "office"])
        #expect(try store.outboxCounts() == [.pending: 3])
    }

    @Test func eachRuleAndChannelGetsItsOldestPendingFirstAndTheNextOnlyAfterIt() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        _ = try record([notification("a"), notification("b"), notification("x", rule: "agreements")], in: store)
        let now = Self.start.addingTimeInterval(1)
        var due = try store.dueDeliveries(now: now, limit: 10)
        #expect(due.map(\.notification.key) == ["a", "x"])

        // A failed attempt holds its rule back until its next attempt; the other rule goes on.
        let a = try #require(due.first)
        try store.recordFailedAttempt(a.id, error: "HTTP 503", at: now, nextAttemptAt: now.addingTimeInterval(60))
        due = try store.dueDeliveries(now: now.addingTimeInterval(1), limit: 10)
        #expect(due.map(\.notification.key) == ["x"])
        due = try store.dueDeliveries(now: now.addingTimeInterval(61), limit: 10)
        #expect(due.map(\.notification.key) == ["a", "x"])
        #expect(due.first?.attempts == 1)

        try store.recordDelivered(a.id, at: now.addingTimeInterval(61))
        due = try store.dueDeliveries(now: now.addingTimeInterval(62), limit: 10)
        #expect(due.map(\.notification.key) == ["b", "x"])
        #expect(due.first?.notification == notification("b"))
    }

    @Test func aDeliveryGivenUpIsFailedUntilAnOperatorRetriesIt() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        _ = try record([notification("a")], in: store)
        let delivery = try #require(try store.dueDeliveries(now: Self.start, limit: 1).first)
        let later = Self.start.addingTimeInterval(3600)
        try store.recordGivenUp(delivery.id, error: "refused: HTTP 401", at: later)
        #expect(try store.dueDeliveries(now: later, limit: 10).isEmpty)
        let failed = try store.outboxEntries(failedOnly: true)
        #expect(failed.map(\.id) == [delivery.id])
        #expect(failed.first?.lastError == "refused: HTTP 401")

        #expect(try store.retryDelivery(delivery.id, now: later))
        #expect(try store.retryDelivery(delivery.id, now: later) == false, "only a failed delivery is retried")
        let again = try #require(try store.dueDeliveries(now: later, limit: 10).first)
        #expect(again.id == delivery.id)
        #expect(again.pendingSince == later)
    }
}
