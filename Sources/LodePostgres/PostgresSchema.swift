import LodeStorage
import PostgresNIO

/// The PostgreSQL schema, as versioned migrations recorded in `lode_schema_migration`.
///
/// A released migration never changes; a new schema version is a new migration appended here.
/// Opening a store applies the missing ones in one transaction under an advisory lock, so
/// workers starting together migrate once; a database with a migration this build does not know
/// is refused (``StorageError/Kind/configuration``) rather than misread.
///
/// The tables are SQLite's (docs/storage.md), with PostgreSQL's types: every text compares by
/// bytes (`COLLATE "C"`, as SQLite's `BINARY` and ``LodeProjections/ExactText``), so the stamp
/// `(event_seconds, event_nanos, event_id, event_source)` compared as a row value is ``LodeProjections/EventStamp``'s
/// order. The projection tables are generated from ``ProjectionTable``, as the upserts are; a
/// released migration's tables stay as released (version 1 omits the `event_source` that version 4
/// adds).
enum PostgresSchema {
    struct Migration {
        let version: Int
        let name: String
        let statements: [String]
    }

    /// The advisory lock key space of Lodestone ('lode' in ASCII), with the second key saying what.
    static let lockSpace: Int32 = 0x6C6F_6465
    static let migrationLock: Int32 = 0
    static let promotionLock: Int32 = 1
    /// Crossings of a year: the lock's second key is `yearLockBase + year`.
    static let yearLockBase: Int32 = 1_000_000

    static let migrations: [Migration] = [
        Migration(version: 1, name: "event log and inbox, projection tables", statements: [
            // The event log is the inbox: its unique event_id is what lets an id through once,
            // however many workers insert it at the same time (the second waits for the first's
            // commit, then finds it there).
            """
            CREATE TABLE event_log (
              seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              event_id text COLLATE "C" NOT NULL UNIQUE,
              type text NOT NULL,
              source text NOT NULL,
              time text NOT NULL,
              event_seconds bigint NOT NULL,
              event_nanos bigint NOT NULL,
              body bytea NOT NULL
            )
            """,
        ] + ProjectionTable.all.map { $0.postgresTable(omitting: [ProjectionTable.stampSource]) } + [
            "CREATE INDEX project_registration_by_plan_year ON project_registration (plan_year)",
        ]),
        Migration(version: 2, name: "notification outbox", statements: [
            """
            CREATE TABLE notification_delivery (
              id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              key text COLLATE "C" NOT NULL,
              rule text COLLATE "C" NOT NULL,
              channel text COLLATE "C" NOT NULL,
              record bytea,
              event_seq bigint,
              created_at double precision NOT NULL,
              state text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
              attempts integer NOT NULL DEFAULT 0,
              pending_since double precision NOT NULL,
              next_attempt_at double precision NOT NULL,
              last_attempt_at double precision,
              last_error text,
              delivered_at double precision,
              claimed_by text,
              claimed_until double precision
            )
            """,
            "CREATE TABLE notification_key (key text COLLATE \"C\" PRIMARY KEY)",
            "CREATE INDEX notification_delivery_pending ON notification_delivery (rule, channel, id) WHERE state = 'pending'",
            "CREATE INDEX notification_delivery_failed ON notification_delivery (id) WHERE state = 'failed'",
            """
            CREATE TABLE notification_queue (
              id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
              rule text COLLATE "C" NOT NULL,
              channel text COLLATE "C" NOT NULL,
              seqs bytea NOT NULL,
              next_index integer NOT NULL DEFAULT 0,
              created_at double precision NOT NULL
            )
            """,
            "CREATE INDEX notification_queue_order ON notification_queue (rule, channel, id)",
        ]),
        Migration(version: 3, name: "dead letter index", statements: [
            """
            CREATE TABLE dead_letter (
              id text COLLATE "C" PRIMARY KEY,
              recorded bigint GENERATED ALWAYS AS IDENTITY,
              type text,
              reason text NOT NULL,
              error text NOT NULL,
              attempts integer NOT NULL,
              first_failed_at text NOT NULL,
              event_id text,
              properties bytea NOT NULL,
              body bytea NOT NULL,
              state text NOT NULL CHECK (state IN ('queued', 'replayed', 'purged', 'missing')),
              recorded_at double precision NOT NULL,
              changed_at double precision NOT NULL
            )
            """,
            "CREATE INDEX dead_letter_by_state ON dead_letter (state, type)",
        ]),
        // Contract section 6: one department cannot take another's ids. The "latest by time" rows
        // get the last part of their stamp from the log row of their event_id (unique until now),
        // then the log's uniqueness, the inbox, becomes (source, event_id).
        Migration(version: 4, name: "an event's identity is its source and id", statements: ProjectionTable.stamped.flatMap { table in
            [
                "ALTER TABLE \(table.name) ADD COLUMN event_source text COLLATE \"C\" NOT NULL DEFAULT ''",
                "UPDATE \(table.name) AS t SET event_source = e.source FROM event_log e WHERE e.event_id = t.event_id",
            ]
        } + [
            "ALTER TABLE event_log ALTER COLUMN source TYPE text COLLATE \"C\"",
            "ALTER TABLE event_log DROP CONSTRAINT event_log_event_id_key",
            "ALTER TABLE event_log ADD CONSTRAINT event_log_identity UNIQUE (source, event_id)",
        ]),
    ]

    /// Brings the schema up to date, or refuses a database of a newer Lodestone.
    /// - Parameter lastVersion: for tests, the last version to apply (a database as an older
    ///   Lodestone left it).
    static func migrate(_ session: PostgresSession, upTo lastVersion: Int = .max) throws(StorageError) {
        try session.transaction("bringing the schema up to date") { transaction in
            try transaction.query("SELECT pg_advisory_xact_lock(\(lockSpace), \(migrationLock))")
            try transaction.execute("""
                CREATE TABLE IF NOT EXISTS lode_schema_migration (
                  version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """)
            var applied: Set<Int> = []
            for row in try transaction.query("SELECT version FROM lode_schema_migration") {
                applied.insert(try row.decode(Int.self))
            }
            let known = Set(migrations.map(\.version))
            let unknown = applied.subtracting(known).sorted()
            guard unknown.isEmpty else {
                throw StorageError(
                    kind: .configuration,
                    message: "the database was written by a newer Lodestone (schema versions \(unknown.map(String.init).joined(separator: ", ")) are unknown to this one); run the newer version or another database",
                    path: session.location.redacted)
            }
            for migration in migrations where !applied.contains(migration.version) && migration.version <= lastVersion {
                for statement in migration.statements { try transaction.execute(statement) }
                try transaction.query("INSERT INTO lode_schema_migration (version, name) VALUES (\(migration.version), \(migration.name))")
            }
        }
    }

    /// The projection tables, which a rebuild empties.
    static let projectionTables = ProjectionTable.all.map(\.name)
}
