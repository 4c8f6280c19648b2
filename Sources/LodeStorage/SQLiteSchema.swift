import GRDB

/// The SQLite schema, as versioned migrations (``DatabaseMigrator``).
///
/// A migration, once released, never changes: a new version of the schema
/// is a new migration appended here. (Nothing is released yet: v1 was
/// restructured in place for the hashed inbox, under a new identifier, so
/// that a development database of the old v1 is refused rather than
/// misread.) Every table is `STRICT`; text compares
/// with SQLite's default `BINARY` collation, byte by byte, as
/// ``LodeProjections/ExactText`` does. An event's place in "latest by
/// `time`" is the row value `(event_seconds, event_nanos, event_id,
/// event_source)`: the instant of its `time` as whole seconds since the epoch
/// and nanoseconds, then its id in byte order, then its source in byte order
/// (the column v5 adds), exactly ``LodeProjections/EventStamp``'s order.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator { migrator(inboxKeyMask: ~0) }

    /// - Parameter inboxKeyMask: the store's ``SQLiteStoreConfiguration/inboxKeyMask`` (tests),
    ///   for v5, which computes the inbox's keys again.
    static func migrator(inboxKeyMask: UInt64) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: hashed inbox, event log, projection tables") { db in
            for statement in version1 { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v2: notification outbox, a row per delivery, rendered when sent") { db in
            for statement in SQLiteOutboxSchema.version { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v3: event notifications queued as a row per rule, channel and transaction") { db in
            for statement in SQLiteOutboxSchema.eventQueue { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v4: dead letter index") { db in
            for statement in SQLiteDeadLetterSchema.version { try db.execute(sql: statement) }
        }
        migrator.registerMigration("v5: an event's identity is its source and id") { db in
            try identityBySourceAndID(db, inboxKeyMask: inboxKeyMask)
        }
        return migrator
    }

    /// v5 (contract section 6: one department cannot take another's ids): the inbox's keys and
    /// `inbox_collision` become (source, id), computed again from the event log (whose ids were
    /// unique, so its (source, id) pairs are too); the "latest by time" rows get `event_source`,
    /// the last part of their stamp, from the log row of their `event_id`.
    static func identityBySourceAndID(_ db: Database, inboxKeyMask: UInt64) throws {
        let stamped = ProjectionTable.stamped.map(\.name)
        for table in stamped {
            try db.execute(sql: "ALTER TABLE \(table) ADD COLUMN event_source TEXT NOT NULL DEFAULT ''")
        }
        try db.execute(sql: "CREATE INDEX v5_event_log_by_id ON event_log (event_id)")
        for table in stamped {
            try db.execute(sql: """
                UPDATE \(table) SET event_source = COALESCE(
                  (SELECT source FROM event_log WHERE event_log.event_id = \(table).event_id), '')
                """)
        }
        try db.execute(sql: "DROP INDEX v5_event_log_by_id")
        try db.execute(sql: "DELETE FROM inbox")
        try db.execute(sql: "DELETE FROM inbox_recent")
        try db.execute(sql: "DROP TABLE inbox_collision")
        try db.execute(sql: identityCollisionTable)

        // 16 bytes per logged event; sorted by key, the inbox's b-tree is written left to right.
        // Equal keys keep log order: the first logged holds the key, the others go to
        // inbox_collision with their full source and id.
        var keys: [(key: Int64, seq: Int64)] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT seq, source, event_id FROM event_log ORDER BY seq")
        while let row = try rows.next() {
            keys.append((InboxKey.of(source: row[1], id: row[2], mask: inboxKeyMask), row[0]))
        }
        keys.sort { $0.key != $1.key ? $0.key < $1.key : $0.seq < $1.seq }
        let insert = try db.makeStatement(sql: "INSERT INTO inbox (id_key, seq) VALUES (?, ?)")
        let collide = try db.makeStatement(sql: """
            INSERT INTO inbox_collision (source, event_id, seq) SELECT source, event_id, seq FROM event_log WHERE seq = ?
            """)
        var previous: Int64?
        for entry in keys {
            if entry.key == previous {
                try collide.execute(arguments: [entry.seq])
            } else {
                try insert.execute(arguments: [entry.key, entry.seq])
            }
            previous = entry.key
        }
    }

    /// Events whose inbox key another event already holds, by their full source and id (v5).
    static let identityCollisionTable = """
        CREATE TABLE inbox_collision (
          source TEXT NOT NULL,
          event_id TEXT NOT NULL,
          seq INTEGER NOT NULL,
          PRIMARY KEY (source, event_id)
        ) STRICT, WITHOUT ROWID
        """

    static let version1 = [
        // The event log: every applied event, in the order applied (`seq`;
        // a batch's events get `seq` base + their index in the batch, so a
        // batch with duplicates leaves gaps). Appended at its end only.
        """
        CREATE TABLE event_log (
          seq INTEGER PRIMARY KEY,
          event_id TEXT NOT NULL,
          type TEXT NOT NULL,
          source TEXT NOT NULL,
          time TEXT NOT NULL,
          event_seconds INTEGER NOT NULL,
          event_nanos INTEGER NOT NULL,
          body BLOB NOT NULL
        ) STRICT
        """,
        // The inbox: one row per applied event, keyed by InboxKey (a 64-bit
        // hash of the id; of the source and id since v5), pointing at its event_log row. Small rows, so few
        // pages, whatever the ids' length.
        """
        CREATE TABLE inbox (
          id_key INTEGER PRIMARY KEY,
          seq INTEGER NOT NULL
        ) STRICT
        """,
        // The inbox's newest keys, moved into `inbox` in key order once there
        // are `SQLiteStoreConfiguration.inboxMergeRows` of them: a new key
        // then dirties a page of this small table (which stays in the page
        // cache) rather than a random leaf of the large one.
        """
        CREATE TABLE inbox_recent (
          id_key INTEGER PRIMARY KEY,
          seq INTEGER NOT NULL
        ) STRICT
        """,
        // Ids whose key another id already holds in the inbox, by the full id.
        // Empty unless two ids' 64-bit keys collide. (v5 keys it by source and id.)
        """
        CREATE TABLE inbox_collision (
          event_id TEXT PRIMARY KEY NOT NULL,
          seq INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID
        """,
        """
        CREATE TABLE project_registration (
          project_id TEXT PRIMARY KEY NOT NULL,
          name TEXT NOT NULL,
          plan_year INTEGER NOT NULL,
          categories TEXT NOT NULL,
          new_start INTEGER NOT NULL,
          total_investment INTEGER NOT NULL,
          planned_investment INTEGER NOT NULL,
          major INTEGER NOT NULL,
          enterprise TEXT,
          park TEXT,
          capacity TEXT,
          event_seconds INTEGER NOT NULL,
          event_nanos INTEGER NOT NULL,
          event_id TEXT NOT NULL
        ) STRICT, WITHOUT ROWID
        """,
        "CREATE INDEX project_registration_by_plan_year ON project_registration (plan_year)",
        """
        CREATE TABLE project_status (
          project_id TEXT PRIMARY KEY NOT NULL,
          status TEXT NOT NULL,
          event_seconds INTEGER NOT NULL,
          event_nanos INTEGER NOT NULL,
          event_id TEXT NOT NULL
        ) STRICT, WITHOUT ROWID
        """,
        """
        CREATE TABLE investment_report (
          project_id TEXT NOT NULL,
          period_year INTEGER NOT NULL,
          period_month INTEGER NOT NULL,
          completed_investment INTEGER NOT NULL,
          event_seconds INTEGER NOT NULL,
          event_nanos INTEGER NOT NULL,
          event_id TEXT NOT NULL,
          PRIMARY KEY (project_id, period_year, period_month)
        ) STRICT, WITHOUT ROWID
        """,
        """
        CREATE TABLE recruitment_contact (
          year INTEGER NOT NULL,
          campaign TEXT NOT NULL,
          enterprise TEXT NOT NULL,
          PRIMARY KEY (year, campaign, enterprise)
        ) STRICT, WITHOUT ROWID
        """,
        // Each visit event counts once: the inbox lets an id through once,
        // so a count per (year, campaign) is enough. A table of visit ids
        // would put every visit on a random page of a growing b-tree;
        // these few rows stay in the page cache.
        """
        CREATE TABLE recruitment_visit_count (
          year INTEGER NOT NULL,
          campaign TEXT NOT NULL,
          visits INTEGER NOT NULL,
          PRIMARY KEY (year, campaign)
        ) STRICT, WITHOUT ROWID
        """,
        """
        CREATE TABLE recruitment_agreement (
          year INTEGER NOT NULL,
          campaign TEXT NOT NULL,
          enterprise TEXT NOT NULL,
          PRIMARY KEY (year, campaign, enterprise)
        ) STRICT, WITHOUT ROWID
        """,
        """
        CREATE TABLE recruitment_introduction (
          year INTEGER NOT NULL,
          industry TEXT NOT NULL,
          project_id TEXT NOT NULL,
          PRIMARY KEY (year, industry, project_id)
        ) STRICT, WITHOUT ROWID
        """,
    ]

    /// The projection tables, which ``SQLiteZoneStore/rebuild()`` empties
    /// and fills again from the event log.
    static let projectionTables = ProjectionTable.all.map(\.name)
}

/// The statements of the apply path, prepared once per connection and
/// taken from GRDB's statement cache once per batch.
enum SQLiteStatements {
    /// The first `seq` of a batch.
    static let nextSeq = "SELECT COALESCE(MAX(seq), 0) + 1 FROM event_log"
    static let inboxSeq = "SELECT seq FROM inbox WHERE id_key = ?"
    /// No row changed when the key is already there.
    static let insertRecent = "INSERT INTO inbox_recent (id_key, seq) VALUES (?, ?) ON CONFLICT DO NOTHING"
    static let recentSeq = "SELECT seq FROM inbox_recent WHERE id_key = ?"
    static let recentCount = "SELECT COUNT(*) FROM inbox_recent"
    /// A key is in `inbox_recent` only while `inbox` does not hold it, so
    /// the move never conflicts. In key order: the large b-tree is walked
    /// once, left to right.
    static let mergeRecent = "INSERT INTO inbox (id_key, seq) SELECT id_key, seq FROM inbox_recent ORDER BY id_key"
    static let emptyRecent = "DELETE FROM inbox_recent"
    static let insertCollision = "INSERT INTO inbox_collision (source, event_id, seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
    static let collisionSeq = "SELECT seq FROM inbox_collision WHERE source = ? AND event_id = ?"
    static let logEvent = """
        INSERT INTO event_log (seq, event_id, type, source, time, event_seconds, event_nanos, body)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let loggedEvent = "SELECT event_id, source, body FROM event_log WHERE seq = ?"
    /// Every inbox row stands for one event_log row.
    static let loggedEventCount = """
        SELECT (SELECT COUNT(*) FROM inbox) + (SELECT COUNT(*) FROM inbox_recent) + (SELECT COUNT(*) FROM inbox_collision)
        """

    // The projection's statements, generated from the tables' one description.
    static let upsertRegistration = ProjectionTable.registration.sqliteUpsert
    static let upsertStatus = ProjectionTable.status.sqliteUpsert
    static let upsertInvestment = ProjectionTable.investment.sqliteUpsert
    static let insertContact = ProjectionTable.contact.sqliteUpsert
    /// Adds a batch's visits of one (year, campaign).
    static let addVisits = ProjectionTable.visitCount.sqliteUpsert
    static let insertAgreement = ProjectionTable.agreement.sqliteUpsert
    static let insertIntroduction = ProjectionTable.introduction.sqliteUpsert
}
