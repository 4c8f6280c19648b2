import Foundation
import LodeStorage
import PostgresNIO

/// The dead-letter index in PostgreSQL: the table `dead_letter`, as in SQLite (docs/dead-letters.md).
extension PostgresZoneStore {
    public func recordDeadLetters(_ records: [DeadLetterRecord]) throws(StorageError) {
        guard !records.isEmpty else { return }
        // Sorted by id: two workers recording the same dead letters lock their rows in one order.
        let sorted = records.sorted { ExactIDOrder.less($0.id, $1.id) }
        try service.transaction("recording \(records.count) dead letters") { transaction in
            for record in sorted {
                let time = record.changedAt.timeIntervalSince1970
                try transaction.query("""
                    INSERT INTO dead_letter (id, type, reason, error, attempts, first_failed_at, event_id, properties, body,
                      state, recorded_at, changed_at)
                    VALUES (\(record.id), \(record.type), \(record.reason), \(record.error), \(Int32(clamping: record.attempts)),
                      \(record.firstFailedAt), \(record.eventID), \(ByteBuffer(bytes: record.properties)), \(ByteBuffer(bytes: record.body)),
                      'queued', \(time), \(time))
                    ON CONFLICT (id) DO UPDATE SET
                      state = 'queued', error = excluded.error, attempts = GREATEST(dead_letter.attempts, excluded.attempts),
                      type = COALESCE(dead_letter.type, excluded.type), event_id = COALESCE(dead_letter.event_id, excluded.event_id),
                      changed_at = CASE WHEN dead_letter.state = 'queued' THEN dead_letter.changed_at ELSE excluded.changed_at END
                    """)
            }
        }
    }

    public func markDeadLetters(_ ids: [String], as state: DeadLetterState, at time: Date) throws(StorageError) {
        guard !ids.isEmpty else { return }
        let seconds = time.timeIntervalSince1970
        try service.transaction("marking \(ids.count) dead letters \(state.rawValue)") { transaction in
            try transaction.query("""
                UPDATE dead_letter SET state = \(state.rawValue), changed_at = \(seconds) WHERE id = ANY(\(ids)::text[])
                """)
        }
    }

    public func markMissing(except met: Set<String>, recordedBefore: Date, at time: Date) throws(StorageError) -> Int {
        let before = recordedBefore.timeIntervalSince1970, seconds = time.timeIntervalSince1970
        return try service.transaction("marking missing dead letters") { transaction in
            let queued = try transaction.query("SELECT id FROM dead_letter WHERE state = 'queued' AND recorded_at < \(before)")
                .map { try $0.decode(String.self) }
            let missing = queued.filter { !met.contains($0) }
            if !missing.isEmpty {
                try transaction.query("UPDATE dead_letter SET state = 'missing', changed_at = \(seconds) WHERE id = ANY(\(missing)::text[])")
            }
            return missing.count
        }
    }

    public func recentDeadLetters(limit: Int) throws(StorageError) -> [(id: String, type: String?, reason: String, firstFailedAt: String)] {
        let rows = try service.withConnection("listing recent dead letters") { transaction in
            try transaction.query("""
                SELECT id, type, reason, first_failed_at FROM dead_letter WHERE state = 'queued' ORDER BY recorded DESC LIMIT \(Int64(max(0, limit)))
                """).map { try $0.decode((String, String?, String, String).self) }.map { RecentDeadLetter(id: $0.0, type: $0.1, reason: $0.2, firstFailedAt: $0.3) }
        }
        return rows.map { ($0.id, $0.type, $0.reason, $0.firstFailedAt) }
    }

    private struct RecentDeadLetter: Sendable {
        let id: String
        let type: String?
        let reason: String
        let firstFailedAt: String
    }

    public func deadLetters(in states: Set<DeadLetterState>) throws(StorageError) -> [DeadLetterRecord] {
        let names = DeadLetterState.allCases.filter(states.contains).map(\.rawValue)
        guard !names.isEmpty else { return [] }
        return try service.withConnection("listing dead letters") { transaction in
            try transaction.query("\(unescaped: Self.deadLetterColumns) WHERE state = ANY(\(names)::text[]) ORDER BY recorded")
                .map(Self.deadLetterRecord)
        }
    }

    public func deadLetter(id: String) throws(StorageError) -> DeadLetterRecord? {
        try service.withConnection("reading a dead letter") { transaction in
            try transaction.query("\(unescaped: Self.deadLetterColumns) WHERE id = \(id)").first.map(Self.deadLetterRecord)
        }
    }

    private static let deadLetterColumns = """
        SELECT id, type, reason, error, attempts, first_failed_at, event_id, properties, body, state, changed_at FROM dead_letter
        """

    private static func deadLetterRecord(_ row: PostgresRow) throws -> DeadLetterRecord {
        let (id, type, reason, error, attempts, firstFailedAt, eventID, properties, body, state, changedAt) =
            try row.decode((String, String?, String, String, Int32, String, String?, ByteBuffer, ByteBuffer, String, Double).self)
        return DeadLetterRecord(
            id: id, type: type, reason: reason, error: error, attempts: Int(attempts), firstFailedAt: firstFailedAt,
            eventID: eventID, properties: Array(properties.readableBytesView), body: Array(body.readableBytesView),
            state: DeadLetterState(rawValue: state) ?? .queued, changedAt: Date(timeIntervalSince1970: changedAt))
    }
}

/// Byte order of ids, as `COLLATE "C"` sorts them.
enum ExactIDOrder {
    static func less(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
}
