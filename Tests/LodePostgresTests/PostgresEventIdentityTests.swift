import Foundation
import LodeEvents
@testable import LodePostgres
import LodePostgresTestSupport
import LodeProjections
import LodeStorage
import LodeTestSupport
import Testing

/// An event's identity is its source and id (contract section 6: one department cannot suppress
/// or alter another's events by reusing their ids), in the PostgreSQL store as in SQLite's.
@Suite("PostgreSQL store: event identity", .serialized)
struct PostgresEventIdentityTests {
    static func event(_ id: String, source: String, at time: String = "2024-03-01T10:00:00+08:00", _ data: EventData) throws -> IncomingEvent {
        IncomingEvent(Event(id: id, source: source, time: try EventTime(parsing: time), data: data))
    }

    static func visit(_ enterprise: String) -> EventData {
        .siteVisit(SiteVisit(enterprise: enterprise, campaign: "百日攻坚"))
    }

    static func registration(_ projectID: String, total: Int64) -> EventData {
        .projectRegistered(ProjectRegistered(
            projectID: projectID, name: "测试项目", planYear: 2024, categories: [.industrial], newStart: true,
            totalInvestment: total, plannedInvestment: total / 2, major: true))
    }

    @Test func theSameIDFromTwoSourcesIsTwoEventsAndEachIsStillDeduplicated() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let store = try database.open()
        defer { try? store.close() }
        let mine = try Self.event("visit-1", source: "invest/spring", Self.visit("甲"))
        let other = try Self.event("visit-1", source: "park/north", Self.visit("乙"))
        #expect(try store.apply([other]).outcomes == [.applied(changedProjection: true)])
        #expect(try store.apply([mine]).outcomes == [.applied(changedProjection: true)], "not a conflicting duplicate of the other's")
        #expect(try store.apply([mine, other, mine]).outcomes == [.duplicate, .duplicate, .duplicate], "re-runs stay harmless")
        let changed = try Self.event("visit-1", source: "invest/spring", Self.visit("丙"))
        let conflicts = try store.apply([changed]).conflicts
        try #require(conflicts.count == 1, "the same source and id with other content is still a producer error")
        #expect(conflicts[0].conflict.description.contains("event id 'visit-1' from source 'invest/spring'"), "\(conflicts[0].conflict)")
        #expect(try store.report(year: 2024, targets: []).recruitment.siteVisits == 2)
        #expect(try store.loggedEventCount() == 2)
    }

    @Test func twoSourcesWithTheSameTimeAndIDForOneProjectGiveTheSameWinnerInAnyOrderAsThePureRules() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let a = try Self.event("reg-1", source: "dev-reform", Self.registration("BT-1", total: 100_000_000))
        let b = try Self.event("reg-1", source: "park/north", Self.registration("BT-1", total: 900_000_000))
        var projection = ZoneProjection(calendar: ZoneWorld.calendar)
        projection.apply(a.event)
        projection.apply(b.event)
        let expected = projection.report(year: 2024)
        #expect(expected.projects.totalInvestment == 900_000_000, "the greater source wins the tie, as EventStamp orders")
        for order in [[a, b], [b, a]] {
            try database.execute("DROP TABLE IF EXISTS \(Self.allTables)")
            let store = try database.open()
            defer { try? store.close() }
            for event in order { _ = try store.apply([event]) }
            #expect(try store.report(year: 2024, targets: []) == expected)
            try database.execute("DROP TABLE IF EXISTS \(Self.allTables)")
        }
        // Both in one batch, too.
        let store = try database.open()
        defer { try? store.close() }
        #expect(try store.apply([b, a]).applied == 2)
        #expect(try store.report(year: 2024, targets: []) == expected)
    }

    /// A database written before identities were (source, id): version 4 gives its "latest by time"
    /// rows their source, and the log's uniqueness becomes (source, event_id); what it holds stays
    /// applied exactly once.
    @Test func aVersion3DatabaseIsMigratedAndItsEventsStayAppliedOnce() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let events = [
            try Self.event("reg-1", source: "dev-reform", Self.registration("BT-1", total: 200_000_000)),
            try Self.event("v-1", source: "invest/spring", at: "2024-04-02T10:00:00+08:00", Self.visit("甲")),
        ]
        var configuration = PostgresStoreConfiguration(calendar: try ZoneCalendar())
        configuration.lastSchemaVersion = 3
        let old = try PostgresZoneStore(location: database.location, password: database.password, configuration: configuration)
        try old.close()
        // The rows version 3 held, written as it wrote them (no event_source).
        for incoming in events {
            let event = incoming.event
            let body = try #require(String(bytes: incoming.body, encoding: .utf8))
            try database.execute("""
                INSERT INTO event_log (event_id, type, source, time, event_seconds, event_nanos, body)
                VALUES ('\(event.id)', '\(event.type.rawValue)', '\(event.source)', '\(event.time.text)',
                        \(event.time.instant.secondsSinceEpoch), \(event.time.instant.nanoseconds), convert_to('\(body)', 'UTF8'))
                """)
        }
        try database.execute("""
            INSERT INTO project_registration (project_id, name, plan_year, categories, new_start, total_investment,
              planned_investment, major, event_seconds, event_nanos, event_id)
            VALUES ('BT-1', '测试项目', 2024, 'industrial', true, 200000000, 100000000, true,
                    \(events[0].event.time.instant.secondsSinceEpoch), 0, 'reg-1')
            """)
        try database.execute("INSERT INTO recruitment_visit_count VALUES (2024, '百日攻坚', 1)")

        let store = try database.open()
        defer { try? store.close() }
        let before = try store.report(year: 2024, targets: [])
        #expect(before.projects.major == 1 && before.recruitment.siteVisits == 1)
        #expect(try store.apply(events).outcomes == [.duplicate, .duplicate], "the log's new uniqueness finds them")
        #expect(try store.report(year: 2024, targets: []) == before)
        // The same id from another source is now another event.
        let other = try Self.event("v-1", source: "park/north", at: "2024-04-02T10:00:00+08:00", Self.visit("乙"))
        #expect(try store.apply([other]).applied == 1)
        #expect(try store.report(year: 2024, targets: []).recruitment.siteVisits == 2)
        // The registration's stamp got its source: a tie on time and id from a greater source wins.
        let tie = try Self.event("reg-1", source: "park/north", Self.registration("BT-1", total: 900_000_000))
        #expect(try store.apply([tie]).outcomes == [.applied(changedProjection: true)])
        let lesser = try Self.event("reg-1", source: "a-first", Self.registration("BT-1", total: 100_000_000))
        #expect(try store.apply([lesser]).outcomes == [.applied(changedProjection: false)])
        #expect(try store.report(year: 2024, targets: []).projects.totalInvestment == 900_000_000)
        #expect(try store.rebuild().eventsReplayed == 5)
        #expect(try store.report(year: 2024, targets: []).projects.totalInvestment == 900_000_000)
    }

    static let allTables = """
        event_log, project_registration, project_status, investment_report, recruitment_contact,
          recruitment_visit_count, recruitment_agreement, recruitment_introduction, notification_delivery, notification_key,
          notification_queue, dead_letter, lode_schema_migration
        """
}
