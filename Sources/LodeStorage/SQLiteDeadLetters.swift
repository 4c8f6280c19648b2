import Foundation
import GRDB

/// The dead-letter index in the worker's SQLite file: the table `dead_letter`.
enum SQLiteDeadLetterSchema {
    static let version = [
        // One row per dead letter (its id is derived from reason and body, so copies of one
        // dead letter are one row); `rowid` is the order they were first recorded in.
        """
        CREATE TABLE dead_letter (
          id TEXT PRIMARY KEY NOT NULL,
          type TEXT,
          reason TEXT NOT NULL,
          error TEXT NOT NULL,
          attempts INTEGER NOT NULL,
          first_failed_at TEXT NOT NULL,
          event_id TEXT,
          properties BLOB NOT NULL,
          body BLOB NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('queued', 'replayed', 'purged', 'missing')),
          recorded_at REAL NOT NULL,
          changed_at REAL NOT NULL
        ) STRICT
        """,
        "CREATE INDEX dead_letter_by_state ON dead_letter(state, type)",
    ]
}

extension SQLiteZoneStore {
    public func recordDeadLetters(_ records: [DeadLetterRecord]) throws(StorageError) {
        guard !records.isEmpty else { return }
        try writing("recording \(records.count) dead letters") { db in
            let upsert = try db.cachedStatement(sql: """
                INSERT INTO dead_letter (id, type, reason, error, attempts, first_failed_at, event_id, properties, body,
                  state, recorded_at, changed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                  state = 'queued', error = excluded.error, attempts = MAX(attempts, excluded.attempts),
                  type = COALESCE(type, excluded.type), event_id = COALESCE(event_id, excluded.event_id),
                  changed_at = CASE WHEN state = 'queued' THEN changed_at ELSE excluded.changed_at END
                """)
            for record in records {
                let time = record.changedAt.timeIntervalSince1970
                try upsert.execute(arguments: [
                    record.id, record.type, record.reason, record.error, record.attempts, record.firstFailedAt,
                    record.eventID, Data(record.properties), Data(record.body), time, time,
                ])
            }
        }
    }

    public func markDeadLetters(_ ids: [String], as state: DeadLetterState, at time: Date) throws(StorageError) {
        guard !ids.isEmpty else { return }
        try writing("marking \(ids.count) dead letters \(state.rawValue)") { db in
            let update = try db.cachedStatement(sql: "UPDATE dead_letter SET state = ?, changed_at = ? WHERE id = ?")
            for id in ids { try update.execute(arguments: [state.rawValue, time.timeIntervalSince1970, id]) }
        }
    }

    public func markMissing(except met: Set<String>, recordedBefore: Date, at time: Date) throws(StorageError) -> Int {
        try writing("marking missing dead letters") { db in
            let queued = try String.fetchAll(db, sql: "SELECT id FROM dead_letter WHERE state = 'queued' AND recorded_at < ?",
                                             arguments: [recordedBefore.timeIntervalSince1970])
            let missing = queued.filter { !met.contains($0) }
            let update = try db.cachedStatement(sql: "UPDATE dead_letter SET state = 'missing', changed_at = ? WHERE id = ?")
            for id in missing { try update.execute(arguments: [time.timeIntervalSince1970, id]) }
            return missing.count
        }
    }

    public func recentDeadLetters(limit: Int) throws(StorageError) -> [(id: String, type: String?, reason: String, firstFailedAt: String)] {
        try reading("listing recent dead letters") { db in
            try Row.fetchAll(db, sql: """
                SELECT id, type, reason, first_failed_at FROM dead_letter WHERE state = 'queued' ORDER BY rowid DESC LIMIT ?
                """, arguments: [limit]).map { ($0["id"], $0["type"], $0["reason"], $0["first_failed_at"]) }
        }
    }

    public func deadLetters(in states: Set<DeadLetterState>) throws(StorageError) -> [DeadLetterRecord] {
        let names = DeadLetterState.allCases.filter(states.contains).map { "'\($0.rawValue)'" }
        guard !names.isEmpty else { return [] }
        return try reading("listing dead letters") { db in
            try Row.fetchAll(db, sql: "SELECT * FROM dead_letter WHERE state IN (\(names.joined(separator: ","))) ORDER BY rowid")
                .map(Self.deadLetterRecord)
        }
    }

    public func deadLetter(id: String) throws(StorageError) -> DeadLetterRecord? {
        try reading("reading a dead letter") { db in
            try Row.fetchOne(db, sql: "SELECT * FROM dead_letter WHERE id = ?", arguments: [id]).map(Self.deadLetterRecord)
        }
    }

    private static func deadLetterRecord(_ row: Row) -> DeadLetterRecord {
        let properties: Data = row["properties"]
        let body: Data = row["body"]
        return DeadLetterRecord(
            id: row["id"], type: row["type"], reason: row["reason"], error: row["error"], attempts: row["attempts"],
            firstFailedAt: row["first_failed_at"], eventID: row["event_id"], properties: Array(properties),
            body: Array(body), state: DeadLetterState(rawValue: row["state"]) ?? .queued,
            changedAt: Date(timeIntervalSince1970: row["changed_at"]))
    }
}
