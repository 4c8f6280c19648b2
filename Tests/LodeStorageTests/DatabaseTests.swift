import Foundation
import GRDB
import LodeEvents
@testable import LodeStorage
import Testing

/// Opening the database: durability settings, migrations, clear errors,
/// and failures that are not the events' fault told apart from bad data.
@Suite("SQLite database")
struct DatabaseTests {
    @Test func walWithSynchronousFullAndABusyTimeout() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory, busyTimeout: .milliseconds(2_500))
        let settings = try store.withWriterConnection { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"),
             try Int.fetchOne(db, sql: "PRAGMA synchronous"),
             try Int.fetchOne(db, sql: "PRAGMA busy_timeout"))
        }
        #expect(settings.0 == "wal")
        #expect(settings.1 == 2)  // FULL
        #expect(settings.2 == 2_500)
    }

    @Test func theWorkersStoreCommitsWithoutTheFsyncAndSyncsTheWALOnRequest() throws {
        let directory = try TemporaryDirectory()
        var configuration = SQLiteStoreConfiguration(calendar: shanghai)
        configuration.defersSync = true
        let store = try SQLiteZoneStore(path: directory.file("deferred.sqlite"), configuration: configuration)
        #expect(store.defersSync)
        #expect(try store.withWriterConnection { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 1)  // NORMAL
        let events = try Demo.incoming()
        _ = try store.apply(Array(events.prefix(100)))
        try store.syncCommits()
        _ = try store.apply(Array(events.dropFirst(100)))
        try store.syncCommits()
        #expect(try store.loggedEventCount() == events.count)
        // Reopened, the store syncs its WAL again (another file descriptor) and has every event.
        try store.close()
        let reopened = try SQLiteZoneStore(path: directory.file("deferred.sqlite"), configuration: configuration)
        try reopened.syncCommits()
        #expect(try reopened.report(year: 2024, targets: []) == expectedReport(events, year: 2024))
    }

    @Test func reopeningKeepsEverythingAndMigratesOnce() throws {
        let directory = try TemporaryDirectory()
        let visit = incoming("v-1", at: "2024-03-01T10:00:00+08:00", visited("甲"))
        do {
            let store = try openStore(in: directory)
            _ = try store.apply([visit])
            try store.close()
        }
        let store = try openStore(in: directory)
        #expect(try store.apply([visit]).outcomes == [.duplicate])
        #expect(try store.report(year: 2024, targets: []).recruitment.siteVisits == 1)
        let migrations = try store.withWriterConnection { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }
        #expect(migrations.count == SQLiteSchema.migrator.migrations.count, "each migration applied once: \(migrations)")
        #expect(Set(migrations).count == migrations.count)
    }

    @Test func aMissingDirectoryIsAConfigurationErrorNamingThePath() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("no-such-dir/lode.sqlite")
        let error = try #require(throws: StorageError.self) {
            try SQLiteZoneStore(path: path, configuration: SQLiteStoreConfiguration(calendar: shanghai))
        }
        #expect(error.kind == .configuration)
        #expect(!error.isRetryable)
        #expect(error.message.contains(path))
        #expect(error.message.contains(directory.file("no-such-dir")))
        #expect(error.message.contains("does not exist"))
    }

    @Test func aFileThatIsNotADatabaseIsDamaged() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("notes.sqlite")
        try Data(repeating: 0x41, count: 8_192).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: StorageError.self) {
            try SQLiteZoneStore(path: path, configuration: SQLiteStoreConfiguration(calendar: shanghai))
        }
        #expect(error.kind == .damaged)
        #expect(error.description.contains(path))
    }

    @Test func aDatabaseFromANewerLodestoneIsRefused() throws {
        let directory = try TemporaryDirectory()
        do {
            let store = try openStore(in: directory)
            try store.withWriterConnection { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')")
            }
            try store.close()
        }
        let error = try #require(throws: StorageError.self) { try openStore(in: directory) }
        #expect(error.kind == .configuration)
        #expect(error.message.contains("v99: from the future"))
    }

    @Test func aLockedDatabaseIsRetryableAndTheBatchPassesOnceItIsFree() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory, busyTimeout: .milliseconds(100))
        let other = try DatabaseQueue(path: directory.file("lode.sqlite"))
        let visit = incoming("v-1", at: "2024-03-01T10:00:00+08:00", visited("甲"))
        try other.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            let error = try #require(throws: StorageError.self) { try store.apply([visit]) }
            #expect(error.kind == .unavailable)
            #expect(error.isRetryable)
            #expect(error.sqliteCode.map { $0 & 0xFF } == 5)  // SQLITE_BUSY
            try db.execute(sql: "ROLLBACK")
        }
        #expect(try store.apply([visit]).outcomes == [.applied(changedProjection: true)])
        #expect(store.counts.eventsApplied == 1)
    }

    @Test func aReadOnlyDatabaseIsRetryableNotBadData() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        try store.withWriterConnection { db in try db.execute(sql: "PRAGMA query_only = ON") }
        let visit = incoming("v-1", at: "2024-03-01T10:00:00+08:00", visited("甲"))
        let error = try #require(throws: StorageError.self) { try store.apply([visit]) }
        #expect(error.kind == .unavailable)
        #expect(store.counts.eventsApplied == 0)
        try store.withWriterConnection { db in try db.execute(sql: "PRAGMA query_only = OFF") }
        #expect(try store.apply([visit]).applied == 1)
        #expect(try store.loggedEventCount() == 1)
    }

    @Test func aFailedBatchWritesNothing() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        // A trigger that fails on the third event stands in for a disk that
        // fills in the middle of a batch.
        try store.withWriterConnection { db in
            try db.execute(sql: """
                CREATE TEMP TRIGGER fail_third AFTER INSERT ON main.event_log WHEN NEW.event_id = 'v-3'
                BEGIN SELECT RAISE(ABORT, 'disk full, as it were'); END
                """)
        }
        let batch = (1...5).map { incoming("v-\($0)", at: "2024-03-01T10:00:00+08:00", visited("甲")) }
        #expect(throws: StorageError.self) { try store.apply(batch) }
        #expect(try store.loggedEventCount() == 0)
        #expect(try store.report(year: 2024, targets: []).recruitment.siteVisits == 0)
    }
}
