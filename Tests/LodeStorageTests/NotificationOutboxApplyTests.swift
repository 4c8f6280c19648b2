import Foundation
import LodeEvents
import LodeNotifications
import LodeProjections
import LodeStorage
import LodeTestSupport
import Testing

/// Notifications recorded by `apply` in the batch's transaction: once per cause, whatever the
/// order, the duplicates or the batches; a rebuild records nothing.
@Suite("Notifications recorded with the batch that causes them")
struct NotificationOutboxApplyTests {
    static func policy() throws -> NotificationPolicy {
        let rules = [
            try NotificationRule(name: "started", trigger: .event(.projectStatusChanged, EventConditions(statuses: [.started])),
                                 channels: ["office"], message: Template("{project_name} 开工")),
            try NotificationRule(name: "agreements-10", trigger: .figureThresholds(.agreementsSigned, thresholds: [10, 15]),
                                 channels: ["office", "chat"], message: Template("{year}年签约企业达到 {value} 家")),
            try NotificationRule(name: "pm-motor", trigger: .targetMilestones(target: nil, milestones: [25, 50]),
                                 channels: ["office"], message: Template("{target_name} {milestone}%")),
        ]
        return NotificationPolicy(rules: NotificationRules(rules: rules, calendar: shanghai), targets: [2024: try Demo.targets()])
    }

    func store(in directory: TemporaryDirectory, name: String) throws -> SQLiteZoneStore {
        var configuration = SQLiteStoreConfiguration(calendar: shanghai)
        configuration.notifications = try Self.policy()
        return try SQLiteZoneStore(path: directory.file(name), configuration: configuration)
    }

    /// The outbox's notification keys.
    func keys(_ store: SQLiteZoneStore) throws -> [String] {
        try store.recordedNotificationKeys().sorted()
    }

    @Test func anyOrderAndAnyDuplicationRecordTheSameNotificationsOnce() throws {
        let events = try Demo.incoming()
        let directory = try TemporaryDirectory()
        let inOrder = try store(in: directory, name: "a.sqlite")
        _ = try inOrder.apply(events)
        let expected = try keys(inOrder)

        let started = events.filter {
            if case .projectStatusChanged(let change) = $0.event.data { change.status == .started } else { false }
        }
        #expect(expected.filter { $0.hasPrefix("event:started:") }.count == started.count)
        #expect(expected.filter { $0.hasPrefix("figure:agreements-10:2024:") }.count == 2, "\(expected)")
        #expect(expected.contains { $0.hasPrefix("target:pm-motor:2024:25:") })
        // Each notification has a delivery per channel of its rule.
        let entries = try inOrder.outboxEntries(limit: 100_000)
        #expect(entries.filter { $0.rule == "agreements-10" }.map(\.channel).sorted() == ["chat", "chat", "office", "office"])

        var generator = SeededGenerator(seed: 7)
        let shuffled = (events + events.prefix(300)).shuffled(using: &generator)
        let other = try store(in: directory, name: "b.sqlite")
        var start = 0
        while start < shuffled.count {
            let size = Int.random(in: 1...200, using: &generator)
            _ = try other.apply(Array(shuffled[start..<min(start + size, shuffled.count)]))
            start += size
        }
        #expect(try keys(other) == expected)

        // Redelivered batches and a rebuild add nothing.
        _ = try other.apply(Array(events.prefix(500)))
        try other.rebuild()
        #expect(try keys(other) == expected)
        #expect(try other.outboxCounts() == inOrder.outboxCounts(), "as many notifications, queued or not, as the store that saw each event once")
    }

    @Test func anEventNotificationIsRenderedWhenItIsSentWithTheProjectsName() throws {
        let events = try Demo.incoming()
        let directory = try TemporaryDirectory()
        let store = try store(in: directory, name: "a.sqlite")
        _ = try store.apply(events)
        let due = try store.dueDeliveries(now: Date().addingTimeInterval(1), limit: 10)
        let started = try #require(due.first { $0.notification.rule == "started" })
        let eventID = try #require(started.notification.cause.eventID)
        let event = try #require(events.first { $0.event.id == eventID }?.event)
        guard case .projectStatusChanged(let change) = event.data else { Issue.record("not a status change"); return }
        let registration = events.compactMap { incoming -> ProjectRegistered? in
            if case .projectRegistered(let registered) = incoming.event.data, registered.projectID == change.projectID { registered } else { nil }
        }.last
        #expect(started.notification.text == "\(registration?.name ?? change.projectID) 开工")
        #expect(started.notification.key == "event:started:\(event.source.utf8.count):\(event.source):\(eventID)")
    }

    @Test func eventNotificationsWaitQueuedAndReachTheOutboxAWindowAtATimeInLogOrder() throws {
        let rule = try NotificationRule(name: "registered", trigger: .event(.projectRegistered, EventConditions()),
                                        channels: ["office", "chat"], message: Template("{project_name}"))
        var configuration = SQLiteStoreConfiguration(calendar: shanghai)
        configuration.notifications = NotificationPolicy(rules: NotificationRules(rules: [rule], calendar: shanghai))
        let directory = try TemporaryDirectory()
        let store = try SQLiteZoneStore(path: directory.file("a.sqlite"), configuration: configuration)
        let registrations = try Demo.incoming().filter { $0.event.type == .projectRegistered }
        // Three transactions: the queue holds a row per rule, channel and transaction.
        for part in [registrations[..<20], registrations[20..<45], registrations[45...]] { _ = try store.apply(Array(part)) }
        let total = registrations.count
        #expect(try store.queuedNotificationCounts().map(\.count) == [total, total])
        #expect(try store.outboxCounts() == [.pending: 2 * total])
        #expect(try store.outboxEntries().isEmpty)

        #expect(try store.promoteQueuedNotifications(window: 30) == 60)
        #expect(try store.promoteQueuedNotifications(window: 30) == 0, "a full window is left alone")
        #expect(try store.outboxCounts() == [.pending: 2 * total])
        let office = try store.outboxEntries().filter { $0.channel == "office" }
        #expect(office.map(\.key) == registrations.prefix(30).map { NotificationKey.event(rule: "registered", source: $0.event.source, eventID: $0.event.id) })

        // Down to half its window, a channel is refilled; the other is not.
        for entry in office.prefix(15) { try store.recordDelivered(entry.id, at: Date()) }
        #expect(try store.promoteQueuedNotifications(window: 30) == 15)
        #expect(try store.queuedNotificationCounts().map(\.count) == [total - 30, total - 45], "chat, then office")
        #expect(try store.outboxCounts() == [.pending: 2 * total - 15, .delivered: 15])
        let officeKeys = try store.outboxEntries().filter { $0.channel == "office" }.map(\.key)
        #expect(officeKeys == registrations.prefix(45).map { NotificationKey.event(rule: "registered", source: $0.event.source, eventID: $0.event.id) })
    }

    @Test func withoutAPolicyNothingIsRecorded() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        _ = try store.apply(try Demo.incoming())
        #expect(try store.outboxEntries().isEmpty)
    }
}
