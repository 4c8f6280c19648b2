import Dispatch
import Foundation
import LodeEvents
import LodeNotifications
import LodePostgres
import LodePostgresTestSupport
import LodeProjections
import LodeStorage
import LodeTestSupport
import Synchronization
import Testing

/// Notifications with concurrent workers on one PostgreSQL: recorded once per cause, crossings
/// never missed, each delivery sent by one dispatcher at a time.
@Suite("PostgreSQL outbox", .serialized)
struct PostgresNotificationTests {
    static func policy() throws -> NotificationPolicy {
        let rules = [
            try NotificationRule(name: "started", trigger: .event(.projectStatusChanged, EventConditions(statuses: [.started])),
                                 channels: ["office"], message: Template("{project_name} 开工")),
            try NotificationRule(name: "contacts", trigger: .figureThresholds(.enterprisesContacted, thresholds: [10, 25, 40]),
                                 channels: ["office", "chat"], message: Template("{year}年走访企业达到 {value} 家")),
        ]
        return NotificationPolicy(rules: NotificationRules(rules: rules, calendar: ZoneWorld.calendar))
    }

    static func contact(_ index: Int) throws -> IncomingEvent {
        IncomingEvent(Event(id: "contact-\(index)", source: "tests", time: try EventTime(parsing: "2024-05-01T10:00:00+08:00"),
                            data: .enterpriseContacted(EnterpriseContacted(enterprise: "企業\(index)", campaign: "百日攻堅"))))
    }

    @Test func aThresholdCrossedByManyWorkersAtOnceIsNotifiedExactlyOnce() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let stores = try (0..<4).map { _ in try database.open(notifications: try Self.policy()) }
        defer { for store in stores { try? store.close() } }
        // 48 contacts in batches of 3, four workers at once: each threshold is crossed by some
        // batch whose transaction ran beside others'.
        let events = try (0..<48).map(Self.contact)
        let batches = stride(from: 0, to: events.count, by: 3).map { Array(events[$0..<min($0 + 3, events.count)]) }
        let (_, failures) = applyConcurrently(batches, to: stores)
        #expect(failures == [])
        let keys = try stores[0].recordedNotificationKeys().filter { $0.hasPrefix("figure:contacts:2024:") }.sorted()
        #expect(keys.count == 3, "\(keys)")
        // Two channels each.
        #expect(try stores[0].outboxEntries(failedOnly: false, limit: 100).filter { $0.rule == "contacts" }.count == 6)
    }

    @Test func eventNotificationsAreQueuedOnceAndPromotedOnce() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let store = try database.open(notifications: try Self.policy())
        let other = try database.open(notifications: try Self.policy())
        defer { try? store.close(); try? other.close() }
        let events = try Demo.incoming()
        let started = events.filter {
            if case .projectStatusChanged(let change) = $0.event.data { change.status == .started } else { false }
        }
        _ = try store.apply(events)
        _ = try other.apply(Array(events.prefix(500)))  // redelivered: nothing new
        let keys = try store.recordedNotificationKeys().filter { $0.hasPrefix("event:started:") }
        #expect(keys.count == started.count)
        // Two dispatchers promoting at once move each queued notification once.
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            _ = try? (index == 0 ? store : other).promoteQueuedNotifications(window: 10_000)
        }
        #expect(try store.recordedNotificationKeys().filter { $0.hasPrefix("event:started:") } == keys)
        #expect(try store.outboxEntries(failedOnly: false, limit: 100_000).filter { $0.rule == "started" }.count == started.count)
    }

    @Test func aDeliveryClaimedByOneDispatcherIsNotHandedToAnother() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let first = try database.open(notifications: try Self.policy())
        let second = try database.open(notifications: try Self.policy())
        defer { try? first.close(); try? second.close() }
        _ = try first.apply(try (0..<12).map(Self.contact))
        let now = Date()
        let taken = try first.dueDeliveries(now: now, limit: 10)
        #expect(taken.count == 2)  // one per (rule, channel): office and chat
        #expect(try second.dueDeliveries(now: now, limit: 10).isEmpty)
        #expect(try first.isStillDue(taken[0]))
        #expect(try !second.isStillDue(taken[0]))
        try first.recordDelivered(taken[0].id, at: now)
        try first.recordFailedAttempt(taken[1].id, error: "503", at: now, nextAttemptAt: now)
        // Given back: the other dispatcher may take the failed one now.
        let retaken = try second.dueDeliveries(now: now.addingTimeInterval(1), limit: 10)
        #expect(retaken.map(\.id) == [taken[1].id])
        #expect(retaken.first?.attempts == 1)
    }

    @Test func aClaimThatOutlivesItsDispatcherIsTakenOverAfterItLapses() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let first = try database.open(notifications: try Self.policy(), claim: .seconds(1))
        let second = try database.open(notifications: try Self.policy(), claim: .seconds(1))
        defer { try? first.close(); try? second.close() }
        _ = try first.apply(try (0..<12).map(Self.contact))
        let now = Date()
        let taken = try first.dueDeliveries(now: now, limit: 10)
        #expect(!taken.isEmpty)
        #expect(try second.dueDeliveries(now: now, limit: 10).isEmpty)
        // The first dispatcher died holding them: after the claim lapses they are the second's.
        #expect(try second.dueDeliveries(now: now.addingTimeInterval(5), limit: 10).map(\.id).sorted() == taken.map(\.id).sorted())
    }

    @Test func theDeadLetterIndexKeepsOneRowPerDeadLetterAndItsStates() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let store = try database.open()
        defer { try? store.close() }
        let record = DeadLetterRecord(id: "3f9c2a17b0d4", type: "zone.project.registered", reason: "invalid_event",
                                      error: "data.plan_year: expected an integer", attempts: 1,
                                      firstFailedAt: "2024-05-01T02:00:00Z", eventID: "e1", properties: Array("{}".utf8),
                                      body: Array("{\"id\":\"e1\"}".utf8))
        try store.recordDeadLetters([record])
        var again = record
        again.attempts = 3
        again.error = "newer error"
        try store.recordDeadLetters([again])
        let rows = try store.deadLetters(in: [.queued])
        #expect(rows.count == 1)
        #expect(rows.first?.attempts == 3)
        #expect(rows.first?.body == record.body)
        #expect(try store.recentDeadLetters(limit: 5).map(\.id) == ["3f9c2a17b0d4"])
        try store.markDeadLetters(["3f9c2a17b0d4"], as: .replayed, at: Date())
        #expect(try store.deadLetter(id: "3f9c2a17b0d4")?.state == .replayed)
        #expect(try store.deadLetters(in: [.queued]).isEmpty)
        try store.recordDeadLetters([record])
        #expect(try store.markMissing(except: [], recordedBefore: Date().addingTimeInterval(60), at: Date()) == 1)
        #expect(try store.deadLetter(id: "3f9c2a17b0d4")?.state == .missing)
    }

    @Test func aFailedDeliveryCanBeRetriedByAnOperator() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let store = try database.open(notifications: try Self.policy())
        defer { try? store.close() }
        _ = try store.apply(try (0..<12).map(Self.contact))
        let due = try store.dueDeliveries(now: Date(), limit: 10)
        let id = try #require(due.first?.id)
        try store.recordGivenUp(id, error: "refused: 401", at: Date())
        #expect(try store.outboxEntries(failedOnly: true, limit: 10).map(\.id) == [id])
        #expect(try store.outboxCounts()[.failed] == 1)
        #expect(try store.retryDelivery(id, now: Date()))
        #expect(try !store.retryDelivery(id, now: Date()))
        #expect(try store.outboxEntries(failedOnly: true, limit: 10).isEmpty)
    }
}
