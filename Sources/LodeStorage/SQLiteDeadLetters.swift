import Foundation
import GRDB

/// Where a dead letter is, as far as the index knows.
public enum DeadLetterState: String, Sendable, Hashable, CaseIterable {
    /// In `lode.dead` (or on its way there: the worker writes the row before it publishes).
    case queued
    /// Published to `lode.events` again with a confirm, then removed from `lode.dead`.
    case replayed
    /// Removed from `lode.dead` for good.
    case purged
    /// Not in `lode.dead` when a sweep read all of it: removed by something other than
    /// `lodectl dlq` (a queue purge from the management UI, another tool). Queued again if a
    /// later sweep meets it.
    case missing
}

/// One dead letter as the index keeps it: what `lodectl dlq list` and `show` print without
/// touching the broker.
public struct DeadLetterRecord: Sendable, Hashable {
    /// Short and stable: derived from the dead letter's reason and body, so the same dead letter
    /// published twice (a crash before the worker's ack) is one row, and a message met in
    /// `lode.dead` finds its row again.
    public var id: String
    /// The event type, when known (the message's `type` property, or the body's `type`).
    public var type: String?
    /// `x-lode-reason`: `invalid_event`, `poison`, ...
    public var reason: String
    /// `x-lode-error`: the message a person reads.
    public var error: String
    public var attempts: Int
    /// `x-lode-first-failed-at`, RFC 3339.
    public var firstFailedAt: String
    public var eventID: String?
    /// The message's properties and headers as a JSON object (what `lodectl dlq show` prints).
    public var properties: [UInt8]
    /// The original body, byte for byte.
    public var body: [UInt8]
    public var state: DeadLetterState
    /// When the row last changed state (or was written).
    public var changedAt: Date

    public init(id: String, type: String?, reason: String, error: String, attempts: Int, firstFailedAt: String,
                eventID: String?, properties: [UInt8], body: [UInt8], state: DeadLetterState = .queued,
                changedAt: Date = Date()) {
        self.id = id
        self.type = type
        self.reason = reason
        self.error = error
        self.attempts = attempts
        self.firstFailedAt = firstFailedAt
        self.eventID = eventID
        self.properties = properties
        self.body = body
        self.state = state
        self.changedAt = changedAt
    }
}

/// The index of dead letters: one row per dead letter the worker published to `lode.dead`, or
/// that a sweep of `lode.dead` met there.
///
/// The queue stays the truth about what is dead-lettered; the index is what lets `list` and
/// `show` answer without holding the queue's messages unacknowledged, and what `replay` and
/// `purge` mark. Its rows only move between states when something was done to the queue, and a
/// sweep that meets a message puts its row back to ``DeadLetterState/queued``.
public protocol DeadLetterIndex: Sendable {
    /// Writes each record as ``DeadLetterState/queued``, in one transaction; a row already there
    /// (the same dead letter again) is queued again, with the greater attempt count and the
    /// newer error; its first failure time and body stay.
    func recordDeadLetters(_ records: [DeadLetterRecord]) throws(StorageError)

    /// Moves the rows `ids` to `state`, in one transaction.
    func markDeadLetters(_ ids: [String], as state: DeadLetterState, at time: Date) throws(StorageError)

    /// After a sweep that read all of `lode.dead`: marks ``DeadLetterState/missing`` the rows
    /// still queued that it did not meet (`met`) and that were recorded before `recordedBefore`
    /// (a row the worker has just written may not be in the queue yet). Returns how many.
    func markMissing(except met: Set<String>, recordedBefore: Date, at time: Date) throws(StorageError) -> Int

    /// The rows in one of `states`, oldest first.
    func deadLetters(in states: Set<DeadLetterState>) throws(StorageError) -> [DeadLetterRecord]

    /// One row by its id, or `nil`.
    func deadLetter(id: String) throws(StorageError) -> DeadLetterRecord?
}

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

extension SQLiteZoneStore: DeadLetterIndex {
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

    /// The newest dead letters still in `lode.dead` as far as the index knows, at most `limit`,
    /// newest first: id, type, reason and first failure only (no bodies), for the status page.
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
