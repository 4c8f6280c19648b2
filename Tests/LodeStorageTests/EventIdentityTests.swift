import Foundation
import GRDB
import LodeEvents
import LodeProjections
@testable import LodeStorage
import Testing

/// An event's identity is its source and id (contract section 6: one department cannot
/// suppress or alter another's events by reusing their ids).
@Suite("Event identity: source and id")
struct EventIdentityTests {
    @Test func theSameIDFromTwoSourcesIsTwoEventsAndEachIsStillDeduplicated() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        let mine = incoming("visit-1", at: "2024-03-01T10:00:00+08:00", visited("甲"), source: "invest/spring")
        let squatter = incoming("visit-1", at: "2024-03-01T10:00:00+08:00", visited("乙"), source: "park/north")
        #expect(try store.apply([squatter]).outcomes == [.applied(changedProjection: true)])
        #expect(try store.apply([mine]).outcomes == [.applied(changedProjection: true)], "not a conflicting duplicate of the squatter's")
        #expect(try store.apply([mine, squatter]).outcomes == [.duplicate, .duplicate], "re-runs stay harmless")
        let changed = incoming("visit-1", at: "2024-03-01T10:00:00+08:00", visited("丙"), source: "invest/spring")
        let outcome = try store.apply([changed])
        #expect(outcome.conflicts.count == 1, "the same source and id with other content is still a producer error")
        #expect(outcome.conflicts.first?.conflict.description.contains("from source 'invest/spring'") == true)
        #expect(try store.apply([squatter]).outcomes == [.duplicate], "the other source's event is still deduplicated on its own")
        #expect(try store.report(year: 2024, targets: []).recruitment.siteVisits == 2)
        #expect(try store.loggedEventCount() == 2)
    }

    @Test func aSquatterFirstChangesNothingOfTheOthersFigures() throws {
        let directory = try TemporaryDirectory()
        let honest = try openStore(in: directory, name: "honest.sqlite")
        let squatted = try openStore(in: directory, name: "squatted.sqlite")
        let events = try Demo.incoming().filter { $0.event.type == .projectRegistered }.prefix(10)
        _ = try honest.apply(Array(events))
        // Another department publishes first, under every one of those ids, a cancellation of a
        // project of its own: different events, so the real ones still apply in full.
        let squats = events.map { incoming($0.event.id, at: "2024-01-01T00:00:00+08:00", status("SQUAT-1", .cancelled), source: "park/north") }
        _ = try squatted.apply(Array(squats))
        #expect(try squatted.apply(Array(events)).applied == events.count)
        let expected = try honest.report(year: 2024, targets: [])
        #expect(try squatted.report(year: 2024, targets: []) == expected)
    }

    @Test func twoSourcesWithTheSameTimeAndIDForOneProjectGiveTheSameWinnerInAnyOrder() throws {
        let directory = try TemporaryDirectory()
        let a = incoming("reg-1", at: "2024-03-01T10:00:00+08:00", registered("BT-1", total: 100_000_000), source: "dev-reform")
        let b = incoming("reg-1", at: "2024-03-01T10:00:00+08:00", registered("BT-1", total: 900_000_000), source: "park/north")
        let forward = try openStore(in: directory, name: "forward.sqlite")
        _ = try forward.apply([a])
        _ = try forward.apply([b])
        let backward = try openStore(in: directory, name: "backward.sqlite")
        _ = try backward.apply([b])
        _ = try backward.apply([a])
        let report = try forward.report(year: 2024, targets: [])
        #expect(report == (try backward.report(year: 2024, targets: [])))
        #expect(report.projects.totalInvestment == 900_000_000, "the greater source wins the tie, as EventStamp orders")
        var projection = ZoneProjection(calendar: shanghai)
        projection.apply(b.event)
        projection.apply(a.event)
        #expect(projection.report(year: 2024, targets: []) == report, "the pure rules agree")
    }

    /// A narrow inbox key mask makes every (source, id) share a few keys: the full source and id
    /// in inbox_collision decide, so the same id from two sources is still two events, and each
    /// is still deduplicated.
    @Test func collidingKeysOfTheSameIDFromTwoSourcesAreTwoEvents() throws {
        let directory = try TemporaryDirectory()
        var configuration = SQLiteStoreConfiguration(calendar: shanghai)
        configuration.inboxKeyMask = 0x1
        let store = try SQLiteZoneStore(path: directory.file("narrow.sqlite"), configuration: configuration)
        let events = (0..<6).flatMap { index in
            ["dev-reform", "park/north"].map { source in
                incoming("v-\(index)", at: "2024-03-01T10:00:00+08:00", visited("甲\(index)"), source: source)
            }
        }
        #expect(try store.apply(events).applied == 12)
        #expect(try store.apply(events.reversed()).duplicates == 12)
        #expect(try store.report(year: 2024, targets: []).recruitment.siteVisits == 12)
        let collisions = try store.withWriterConnection { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox_collision") }
        #expect(collisions == 10, "two keys, twelve events")
    }

    /// A store written before identities were (source, id): its inbox is keyed again, its
    /// "latest by time" rows get their source, and its events stay applied exactly once.
    @Test func aVersion4StoreIsMigratedAndItsEventsStayAppliedOnce() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("v4.sqlite")
        let events = [
            incoming("reg-1", at: "2024-03-01T10:00:00+08:00", registered("BT-1"), source: "dev-reform"),
            incoming("st-1", at: "2024-04-01T10:00:00+08:00", status("BT-1", .started), source: "dev-reform"),
            incoming("v-1", at: "2024-04-02T10:00:00+08:00", visited("甲"), source: "invest/spring"),
        ]
        do {
            let pool = try DatabasePool(path: path)
            try SQLiteSchema.migrator.migrate(pool, upTo: "v4: dead letter index")
            try pool.write { db in
                for (index, incoming) in events.enumerated() {
                    let event = incoming.event
                    try db.execute(sql: """
                        INSERT INTO event_log (seq, event_id, type, source, time, event_seconds, event_nanos, body)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [index + 1, event.id, event.type.rawValue, event.source, event.time.text,
                                         event.time.instant.secondsSinceEpoch, Int64(event.time.instant.nanoseconds), Data(incoming.body)])
                    // Version 4 keyed the inbox by the id alone; any key does: v5 computes them again.
                    try db.execute(sql: "INSERT INTO inbox (id_key, seq) VALUES (?, ?)", arguments: [index * 1000, index + 1])
                }
                try db.execute(sql: """
                    INSERT INTO project_registration (project_id, name, plan_year, categories, new_start, total_investment,
                      planned_investment, major, event_seconds, event_nanos, event_id)
                    VALUES ('BT-1', '測試項目', 2024, 'industrial', 1, 200000000, 100000000, 1, ?, 0, 'reg-1')
                    """, arguments: [events[0].event.time.instant.secondsSinceEpoch])
                try db.execute(sql: "INSERT INTO project_status VALUES ('BT-1', 'started', ?, 0, 'st-1')",
                               arguments: [events[1].event.time.instant.secondsSinceEpoch])
                try db.execute(sql: "INSERT INTO recruitment_visit_count VALUES (2024, '百日攻堅', 1)")
            }
            try pool.close()
        }
        let store = try SQLiteZoneStore(path: path, configuration: SQLiteStoreConfiguration(calendar: shanghai))
        let before = try store.report(year: 2024, targets: [])
        #expect(before.projects.major == 1 && before.recruitment.siteVisits == 1)
        #expect(try store.apply(events).outcomes == [.duplicate, .duplicate, .duplicate], "the re-keyed inbox finds them")
        let sources = try store.withWriterConnection { db in
            try String.fetchAll(db, sql: "SELECT event_source FROM project_registration UNION ALL SELECT event_source FROM project_status")
        }
        #expect(sources == ["dev-reform", "dev-reform"])
        #expect(try store.loggedEventCount() == 3)
        #expect(try store.report(year: 2024, targets: []) == before)
        #expect(try store.rebuild().eventsReplayed == 3)
        #expect(try store.report(year: 2024, targets: []) == before)
    }
}
