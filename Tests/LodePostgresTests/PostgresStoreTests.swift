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

/// The seed article's events (``DemoSet``).
enum Demo {
    static func incoming() throws -> [IncomingEvent] { try DemoSet.incoming() }
}

/// The PostgreSQL store against the pure rules: the same reports as ``ZoneProjection`` for the
/// same events, in any order, with any duplicates, in any batches, from any number of workers
/// at once.
@Suite("PostgreSQL store", .serialized)
struct PostgresStoreTests {
    @Test func theDemoSetGivesTheSeedArticlesFiguresInFileOrderShuffledAndAfterARebuild() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let store = try database.open()
        defer { try? store.close() }
        let events = try Demo.incoming()
        var rng = SeededGenerator(seed: 2024)
        let replayed = ZoneWorld.replayed(events, copies: 1...3, using: &rng)
        var applied = 0, duplicates = 0
        for batch in ZoneWorld.split(replayed, largest: 700, using: &rng) {
            let outcome = try store.apply(batch)
            #expect(outcome.outcomes.count == batch.count)
            #expect(outcome.conflicts.isEmpty)
            applied += outcome.applied
            duplicates += outcome.duplicates
        }
        #expect(applied == 1_593)
        #expect(duplicates == replayed.count - 1_593)
        #expect(try store.loggedEventCount() == 1_593)
        let expected = ZoneWorld.expectedReports(events, years: [2023, 2024, 2025])
        #expect(try [2023, 2024, 2025].map { try store.report(year: $0, targets: []) } == expected)
        let report = try store.report(year: 2024, targets: [])
        #expect(report.projects.major == 71)
        #expect(report.projects.totalInvestment == 57_384_000_000)
        #expect(report.recruitment.enterprisesContacted == 904)
        #expect(report.recruitment.siteVisits == 276)
        #expect(report.recruitment.agreementsSigned == 17)
        // The projects behind the figures (lodectl projects): the pure rules' list, in byte order.
        var projection = ZoneProjection(calendar: ZoneWorld.calendar)
        projection.apply(contentsOf: events.map(\.event))
        for year in [2023, 2024, 2025] {
            #expect(try store.projects(year: year) == projection.projects(year: year), "\(year)")
        }
        #expect(try store.projects(year: 2024).count == 71)

        var calls: [[Int]] = []
        #expect(try store.rebuild { replayed, total in calls.append([replayed, total]) }.eventsReplayed == 1_593)
        #expect(calls.first == [0, 1_593] && calls.last == [1_593, 1_593])
        #expect(try [2023, 2024, 2025].map { try store.report(year: $0, targets: []) } == expected)
    }

    @Test func oneBatchOrManyInAnyOrderWithDuplicatesGiveThePureRulesReport() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        for seed in 1...12 as ClosedRange<UInt64> {
            var rng = SeededGenerator(seed: seed)
            let codes = (0..<Int.random(in: 1...60, using: &rng)).map { _ in Int.random(in: 0...200, using: &rng) + 1000 * Int(seed) }
            let events = codes.map(ZoneWorld.event(from:))
            let distinct = Set(codes).count
            // A fresh database for each seed: the tables are emptied between them.
            try database.execute("""
                DROP TABLE IF EXISTS event_log, project_registration, project_status, investment_report, recruitment_contact,
                  recruitment_visit_count, recruitment_agreement, recruitment_introduction, notification_delivery, notification_key,
                  notification_queue, dead_letter, lode_schema_migration
                """)
            let store = try database.open()
            defer { try? store.close() }
            let expected = ZoneWorld.expectedReports(events)
            let whole = try store.apply(events)
            #expect(whole.applied == distinct)
            #expect(whole.duplicates == events.count - distinct)
            #expect(try [2023, 2024].map { try store.report(year: $0, targets: []) } == expected, "seed \(seed), one batch")

            // The same events again, shuffled, duplicated and split: nothing changes.
            let replayed = ZoneWorld.replayed(events, copies: 1...3, using: &rng)
            for batch in ZoneWorld.split(replayed, largest: max(1, replayed.count / 3), using: &rng) {
                let outcome = try store.apply(batch)
                #expect(outcome.applied == 0)
                #expect(outcome.duplicates == batch.count)
            }
            #expect(try store.loggedEventCount() == distinct)
            #expect(try [2023, 2024].map { try store.report(year: $0, targets: []) } == expected, "seed \(seed), replayed")
            try store.rebuild()
            #expect(try [2023, 2024].map { try store.report(year: $0, targets: []) } == expected, "seed \(seed), rebuilt")
        }
    }

    @Test func shuffledDuplicatedAndSplitIntoBatchesTheReportIsThePureRulesOnes() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let store = try database.open()
        defer { try? store.close() }
        var rng = SeededGenerator(seed: 99)
        let events = (0..<400).map { ZoneWorld.event(from: $0) }
        let replayed = ZoneWorld.replayed(events, copies: 1...3, using: &rng)
        var applied = 0
        for batch in ZoneWorld.split(replayed, largest: 50, using: &rng) { applied += try store.apply(batch).applied }
        #expect(applied == events.count)
        #expect(try [2023, 2024].map { try store.report(year: $0, targets: []) } == ZoneWorld.expectedReports(events))
    }

    @Test func workersApplyingAtTheSameTimeGiveOneWorkersReport() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let events = (0..<3_000).map { ZoneWorld.event(from: $0) }
        var rng = SeededGenerator(seed: 3)
        let replayed = ZoneWorld.replayed(events, copies: 1...3, using: &rng)
        let batches = ZoneWorld.split(replayed, largest: 200, using: &rng)
        // Four stores (four workers' connections), each taking the next batch as it comes free.
        let stores = try (0..<4).map { _ in try database.open() }
        defer { for store in stores { try? store.close() } }
        let (applied, failures) = applyConcurrently(batches, to: stores)
        #expect(failures == [])
        #expect(applied == events.count)
        #expect(try stores[0].loggedEventCount() == events.count)
        #expect(try [2023, 2024].map { try stores[1].report(year: $0, targets: []) } == ZoneWorld.expectedReports(events))
    }

    @Test func anIDAppliedAgainWithOtherContentIsAConflictingDuplicateAndTheFirstStays() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        let store = try database.open()
        defer { try? store.close() }
        let first = IncomingEvent(Event(id: "same-id", source: "tests", time: try EventTime(parsing: "2024-03-01T10:00:00+08:00"),
                                        data: .enterpriseContacted(EnterpriseContacted(enterprise: "A", campaign: "c"))))
        let other = IncomingEvent(Event(id: "same-id", source: "tests", time: try EventTime(parsing: "2024-03-01T10:00:00+08:00"),
                                        data: .enterpriseContacted(EnterpriseContacted(enterprise: "B", campaign: "c"))))
        let inOneBatch = try store.apply([first, other, first])
        #expect(inOneBatch.applied == 1)
        #expect(inOneBatch.duplicates == 1)
        #expect(inOneBatch.conflicts.map(\.index) == [1])
        let later = try store.apply([other])
        #expect(later.conflicts.first?.conflict.eventID == "same-id")
        #expect(try store.report(year: 2024, targets: []).recruitment.enterprisesContacted == 1)
    }

    @Test func aDatabaseOfANewerLodestoneIsRefused() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        try database.open().close()
        try database.execute("INSERT INTO lode_schema_migration (version, name) VALUES (999, 'from the future')")
        #expect {
            try database.open()
        } throws: { error in
            (error as? StorageError)?.kind == .configuration && "\(error)".contains("newer Lodestone")
        }
    }

    @Test func aWrongPasswordIsAConfigurationErrorThatNeverShowsThePassword() throws {
        let database = try PostgresTestDatabase()
        defer { database.drop() }
        var configuration = PostgresStoreConfiguration(calendar: try ZoneCalendar())
        configuration.applicationName = "tests"
        #expect {
            try PostgresZoneStore(location: database.location, password: "not-the-Secret-42", configuration: configuration)
        } throws: { error in
            (error as? StorageError)?.kind == .configuration && !"\(error)".contains("not-the-Secret-42")
        }
    }

    @Test func aServerThatIsNotThereIsUnavailable() throws {
        var location = try PostgresLocation(parsing: "postgres://lode@127.0.0.1:9/lode?connect_timeout=2")
        location.connectTimeoutSeconds = 2
        #expect {
            try PostgresZoneStore(location: location, password: nil, configuration: PostgresStoreConfiguration(calendar: try ZoneCalendar()))
        } throws: { error in
            (error as? StorageError)?.kind == .unavailable
        }
    }
}
