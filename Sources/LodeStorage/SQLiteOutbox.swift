import Foundation
import GRDB
import LodeEvents
import LodeNotifications

/// The notification outbox in the worker's SQLite file: `notification_queue`, the event rules'
/// notifications as the batch's transaction records them (a row per rule, channel and
/// transaction); `notification_delivery`, one row per notification and channel being sent or
/// sent (the record and its state); and `notification_key`, the keys of crossings already
/// notified. Notifications are written by ``SQLiteZoneStore/apply(_:)`` in the batch's
/// transaction; the dispatcher and `lodectl notifications` use the methods here.
enum SQLiteOutboxSchema {
    static let version = [
        // One row per notification and channel: a crossing's, appended in the batch's
        // transaction; an event's, moved here from `notification_queue` by the dispatcher. No
        // unique key here: a notification caused by an event is made once, because the inbox
        // lets each event be applied once and the rules run only for applied events. An event's
        // notification holds the event's log `seq` and is rendered when it is sent (`record`
        // NULL until then); any other holds its rendered `record`.
        """
        CREATE TABLE notification_delivery (
          id INTEGER PRIMARY KEY,
          key TEXT NOT NULL,
          rule TEXT NOT NULL,
          channel TEXT NOT NULL,
          record BLOB,
          event_seq INTEGER,
          created_at REAL NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
          attempts INTEGER NOT NULL DEFAULT 0,
          pending_since REAL NOT NULL,
          next_attempt_at REAL NOT NULL,
          last_attempt_at REAL,
          last_error TEXT,
          delivered_at REAL
        ) STRICT
        """,
        // The keys of the notifications no inbox protects: crossings (rule, year, figure,
        // threshold), and notifications put in by hand.
        "CREATE TABLE notification_key (key TEXT PRIMARY KEY NOT NULL) STRICT, WITHOUT ROWID",
        "CREATE INDEX notification_delivery_pending ON notification_delivery(rule, channel, id) WHERE state = 'pending'",
        "CREATE INDEX notification_delivery_failed ON notification_delivery(id) WHERE state = 'failed'",
    ]

    /// Records rendered `notifications` (crossings, hand-made ones) in the current transaction,
    /// a row per channel, each only if its key is not known yet. Returns how many were new.
    @discardableResult
    static func record(_ notifications: [ZoneNotification], in db: Database) throws -> Int {
        guard !notifications.isEmpty else { return 0 }
        // Cached: it runs for each crossing of each batch.
        let insertKey = try db.cachedStatement(sql: "INSERT INTO notification_key (key) VALUES (?) ON CONFLICT(key) DO NOTHING")
        let insertDelivery = try db.cachedStatement(sql: """
            INSERT INTO notification_delivery (key, rule, channel, record, created_at, state, pending_since, next_attempt_at)
            VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)
            """)
        var recorded = 0
        for notification in notifications {
            try insertKey.execute(arguments: [notification.key])
            guard db.changesCount == 1 else { continue }
            let created = notification.createdAt.timeIntervalSince1970
            let record = Data(notification.record())
            for channel in notification.channels {
                try insertDelivery.execute(arguments: [notification.key, notification.rule, channel, record, created, created, created])
            }
            recorded += 1
        }
        return recorded
    }

    static let eventQueue = [
        // An event rule's notifications of one transaction, for one channel: the log `seq`s of
        // the events it matched, 8 bytes each (little-endian), in log order. The consumer's
        // transaction pays one row per rule and channel, however many events match; the
        // dispatcher moves them into `notification_delivery` a window at a time
        // (``SQLiteZoneStore/promoteQueuedNotifications(window:)``), `next_index` counting those
        // moved, so a channel that is down holds a window of rows there, not the whole backlog.
        """
        CREATE TABLE notification_queue (
          id INTEGER PRIMARY KEY,
          rule TEXT NOT NULL,
          channel TEXT NOT NULL,
          seqs BLOB NOT NULL,
          next_index INTEGER NOT NULL DEFAULT 0,
          created_at REAL NOT NULL
        ) STRICT
        """,
        "CREATE INDEX notification_queue_order ON notification_queue(rule, channel, id)",
    ]

    /// Queues the notifications of event rules matched in this transaction: `matches` holds,
    /// per rule, the log `seq`s of the events it matched, in order. One row per rule and channel.
    static func queueEventNotifications(_ matches: [(rule: NotificationRule, seqs: [Int64])], now: Double, in db: Database) throws {
        let insert = try BoundStatement(db, sql: "INSERT INTO notification_queue (rule, channel, seqs, created_at) VALUES (?, ?, ?, ?)")
        for (rule, seqs) in matches where !seqs.isEmpty {
            let packed = QueuedSeqs.pack(seqs)
            for channel in rule.channels {
                try insert.run(.text(rule.name), .text(channel), .blob(packed), .real(now))
            }
        }
    }
}

extension SQLiteOutboxSchema {
    /// The key of `rule`'s notification of the event logged as `seq`. The log is append-only,
    /// so the event is there; were it not, the key names the seq, and the delivery is given up
    /// when it is rendered, saying why.
    static func eventKey(rule: String, seq: Int64, in db: Database) throws -> String {
        let logged = try db.cachedStatement(sql: "SELECT source, event_id FROM event_log WHERE seq = ?")
        guard let row = try Row.fetchOne(logged, arguments: [seq]) else {
            return NotificationKey.event(rule: rule, source: "", eventID: "log seq \(seq)")
        }
        return NotificationKey.event(rule: rule, source: row[0], eventID: row[1])
    }
}

/// The `seqs` column of `notification_queue`: 64-bit little-endian integers, back to back.
public enum QueuedSeqs {
    public static func pack(_ seqs: [Int64]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(seqs.count * 8)
        for seq in seqs { withUnsafeBytes(of: seq.littleEndian) { bytes.append(contentsOf: $0) } }
        return bytes
    }

    static func unpack(_ data: Data) -> [Int64] {
        unpack([UInt8](data))
    }

    public static func unpack(_ bytes: [UInt8]) -> [Int64] {
        stride(from: 0, to: bytes.count - bytes.count % 8, by: 8).map { offset in
            bytes.withUnsafeBytes { Int64(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: Int64.self)) }
        }
    }
}

/// One delivery as `lodectl notifications list` shows it.
public struct OutboxEntry: Sendable, Hashable {
    public var id: Int64
    public var rule: String
    public var channel: String
    public var state: DeliveryState
    public var attempts: Int
    public var title: String
    public var key: String
    public var createdAt: Date
    public var lastError: String?
    public var deliveredAt: Date?

    public init(id: Int64, rule: String, channel: String, state: DeliveryState, attempts: Int, title: String, key: String,
                createdAt: Date, lastError: String?, deliveredAt: Date?) {
        self.id = id
        self.rule = rule
        self.channel = channel
        self.state = state
        self.attempts = attempts
        self.title = title
        self.key = key
        self.createdAt = createdAt
        self.lastError = lastError
        self.deliveredAt = deliveredAt
    }
}

extension SQLiteZoneStore {
    @discardableResult
    public func enqueue(_ notifications: [ZoneNotification]) throws(StorageError) -> Int {
        try writing("recording notifications") { db in try SQLiteOutboxSchema.record(notifications, in: db) }
    }

    /// Moves queued event notifications (``SQLiteOutboxSchema/eventQueue``) into
    /// `notification_delivery`, oldest first, so that each rule and channel has up to `window`
    /// pending there; a rule and channel is refilled only once it is down to half its window.
    /// Returns how many it moved. The dispatcher calls it before each look for due deliveries.
    @discardableResult
    public func promoteQueuedNotifications(window: Int = 256) throws(StorageError) -> Int {
        // A read first, on a reader connection: while a channel is down its window stays full,
        // and then nothing is written at all.
        let rooms: [(rule: String, channel: String, room: Int)] = try reading("reading queued notifications") { db in
            var rooms: [(String, String, Int)] = []
            let next = try db.cachedStatement(sql: """
                SELECT rule, channel FROM notification_queue WHERE (rule, channel) > (?, ?) ORDER BY rule, channel LIMIT 1
                """)
            let pending = try db.cachedStatement(sql: """
                SELECT COUNT(*) FROM notification_delivery WHERE state = 'pending' AND rule = ? AND channel = ?
                """)
            var after = ("", "")
            // One index seek per (rule, channel): the queue may hold many rows of each.
            while let row = try Row.fetchOne(next, arguments: [after.0, after.1]) {
                after = (row[0], row[1])
                let waiting = try Int.fetchOne(pending, arguments: [after.0, after.1]) ?? 0
                if waiting * 2 <= window { rooms.append((after.0, after.1, window - waiting)) }
            }
            return rooms
        }
        guard !rooms.isEmpty else { return 0 }
        return try writing("moving queued notifications to the outbox") { db in
            let queued = try db.cachedStatement(sql: """
                SELECT id, seqs, next_index, created_at FROM notification_queue WHERE rule = ? AND channel = ? ORDER BY id LIMIT ?
                """)
            let insert = try db.cachedStatement(sql: """
                INSERT INTO notification_delivery (key, rule, channel, event_seq, created_at, state, pending_since, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)
                """)
            let remove = try db.cachedStatement(sql: "DELETE FROM notification_queue WHERE id = ?")
            let advance = try db.cachedStatement(sql: "UPDATE notification_queue SET next_index = ? WHERE id = ?")
            var moved = 0
            for (rule, channel, room) in rooms {
                var room = room
                for row in try Row.fetchAll(queued, arguments: [rule, channel, room]) where room > 0 {
                    let id: Int64 = row["id"], start: Int = row["next_index"], created: Double = row["created_at"]
                    let seqs = QueuedSeqs.unpack(row["seqs"])
                    let end = min(seqs.count, start + room)
                    for seq in seqs[min(start, end)..<end] {
                        try insert.execute(arguments: [try SQLiteOutboxSchema.eventKey(rule: rule, seq: seq, in: db), rule, channel, seq,
                                                       created, created, created])
                    }
                    if end == seqs.count {
                        try remove.execute(arguments: [id])
                    } else {
                        try advance.execute(arguments: [end, id])
                    }
                    room -= end - start
                    moved += end - start
                }
            }
            return moved
        }
    }

    public func dueDeliveries(now: Date, limit: Int) throws -> [OutboxDelivery] {
        try promoteQueuedNotifications()
        let rows: [Row] = try reading("reading due notifications") { db in
            try Row.fetchAll(db, sql: """
                SELECT d.id, d.key, d.rule, d.channel, d.attempts, d.pending_since, d.created_at, d.record, l.body
                FROM notification_delivery d LEFT JOIN event_log l ON l.seq = d.event_seq
                WHERE d.id IN (SELECT MIN(id) FROM notification_delivery WHERE state = 'pending' GROUP BY rule, channel)
                  AND d.next_attempt_at <= ?
                ORDER BY d.id LIMIT ?
                """, arguments: [now.timeIntervalSince1970, limit])
        }
        var due: [OutboxDelivery] = []
        for row in rows {
            let id: Int64 = row["id"]
            let notification: ZoneNotification?
            if let record = row["record"] as Data? {
                notification = ZoneNotification(record: Array(record))
            } else {
                notification = try renderEventNotification(
                    rule: row["rule"], key: row["key"], body: row["body"], createdAt: Date(timeIntervalSince1970: row["created_at"]))
            }
            guard let notification else {
                try recordGivenUp(id, error: "cannot render: the rule '\(row["rule"] as String)' is no longer in the config, or its event is not in the log",
                                  at: now)
                continue
            }
            due.append(OutboxDelivery(id: id, channel: row["channel"], notification: notification,
                                      attempts: row["attempts"], pendingSince: Date(timeIntervalSince1970: row["pending_since"])))
        }
        return due
    }

    /// An event rule's notification, rendered from the logged event and the project as the
    /// projection knows it now; `nil` when the rule is gone or the event is not logged.
    private func renderEventNotification(rule: String, key: String, body: Data?, createdAt: Date) throws -> ZoneNotification? {
        guard let rules = notificationRules, let body, let event = try? Event.decode(Array(body)) else { return nil }
        let facts = try reading("reading a project for a notification") { db in
            try NotificationStep.projectID(of: event).flatMap { try NotificationStep.facts(of: $0, db: db) }
        }
        return rules.notifications(for: event, project: facts, now: createdAt).first { $0.rule == rule && $0.key == key }
    }

    public func isStillDue(_ delivery: OutboxDelivery) throws -> Bool {
        try reading("checking a notification") { db in
            try Bool.fetchOne(db, sql: "SELECT state = 'pending' AND attempts = ? FROM notification_delivery WHERE id = ?",
                              arguments: [delivery.attempts, delivery.id]) ?? false
        }
    }

    public func recordDelivered(_ id: Int64, at time: Date) throws {
        try writing("recording a delivered notification") { db in
            try db.execute(sql: """
                UPDATE notification_delivery SET state = 'delivered', attempts = attempts + 1, last_attempt_at = ?,
                  delivered_at = ?, last_error = NULL WHERE id = ?
                """, arguments: [time.timeIntervalSince1970, time.timeIntervalSince1970, id])
        }
    }

    public func recordFailedAttempt(_ id: Int64, error: String, at time: Date, nextAttemptAt: Date) throws {
        try writing("recording a failed notification attempt") { db in
            try db.execute(sql: """
                UPDATE notification_delivery SET attempts = attempts + 1, last_attempt_at = ?, last_error = ?,
                  next_attempt_at = ? WHERE id = ? AND state = 'pending'
                """, arguments: [time.timeIntervalSince1970, String(error.prefix(2000)), nextAttemptAt.timeIntervalSince1970, id])
        }
    }

    public func recordGivenUp(_ id: Int64, error: String, at time: Date) throws {
        try writing("recording a failed notification") { db in
            try db.execute(sql: """
                UPDATE notification_delivery SET state = 'failed', attempts = attempts + 1, last_attempt_at = ?,
                  last_error = ? WHERE id = ? AND state = 'pending'
                """, arguments: [time.timeIntervalSince1970, String(error.prefix(2000)), id])
        }
    }

    public func queuedNotificationCounts() throws(StorageError) -> [(rule: String, channel: String, count: Int)] {
        try reading("counting queued notifications") { db in
            try Row.fetchAll(db, sql: """
                SELECT rule, channel, SUM(length(seqs) / 8 - next_index) AS n FROM notification_queue GROUP BY rule, channel ORDER BY rule, channel
                """).map { ($0["rule"], $0["channel"], $0["n"]) }
        }
    }

    public func recordedNotificationKeys() throws(StorageError) -> Set<String> {
        try reading("reading notification keys") { db in
            var keys = Set(try String.fetchAll(db, sql: "SELECT key FROM notification_delivery"))
            for row in try Row.fetchAll(db, sql: "SELECT rule, seqs, next_index FROM notification_queue") {
                let rule: String = row["rule"], start: Int = row["next_index"]
                for seq in QueuedSeqs.unpack(row["seqs"]).dropFirst(start) {
                    keys.insert(try SQLiteOutboxSchema.eventKey(rule: rule, seq: seq, in: db))
                }
            }
            return keys
        }
    }

    public func outboxEntries(failedOnly: Bool = false, limit: Int = 1000) throws(StorageError) -> [OutboxEntry] {
        try reading("listing notifications") { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, rule, channel, state, attempts, last_error, delivered_at, key, created_at, record
                FROM notification_delivery \(failedOnly ? "WHERE state = 'failed'" : "")
                ORDER BY id DESC LIMIT ?
                """, arguments: [limit])
            return rows.reversed().map { row in
                let record: Data? = row["record"]
                let deliveredAt: Double? = row["delivered_at"]
                return OutboxEntry(
                    id: row["id"], rule: row["rule"], channel: row["channel"],
                    state: DeliveryState(rawValue: row["state"]) ?? .pending, attempts: row["attempts"],
                    title: record.flatMap { ZoneNotification(record: Array($0))?.title } ?? "", key: row["key"],
                    createdAt: Date(timeIntervalSince1970: row["created_at"]), lastError: row["last_error"],
                    deliveredAt: deliveredAt.map { Date(timeIntervalSince1970: $0) })
            }
        }
    }

    public func retryDelivery(_ id: Int64, now: Date = Date()) throws(StorageError) -> Bool {
        try writing("retrying a notification") { db in
            try db.execute(sql: """
                UPDATE notification_delivery SET state = 'pending', pending_since = ?, next_attempt_at = ?
                WHERE id = ? AND state = 'failed'
                """, arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970, id])
            return db.changesCount == 1
        }
    }

    /// Counts of deliveries by state, for metrics.
    public func outboxCounts() throws(StorageError) -> [DeliveryState: Int] {
        try reading("counting notifications") { db in
            var counts: [DeliveryState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM notification_delivery GROUP BY state") {
                if let state = DeliveryState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            let queued = try Int.fetchOne(db, sql: "SELECT SUM(length(seqs) / 8 - next_index) FROM notification_queue") ?? 0
            if queued > 0 { counts[.pending, default: 0] += queued }
            return counts
        }
    }
}

extension SQLiteZoneStore {
    /// A read on one of the pool's reader connections (never waits for the writer).
    func reading<T>(_ doing: String, _ body: (Database) throws -> T) throws(StorageError) -> T {
        do {
            return try pool.read(body)
        } catch {
            throw StorageError.lifting(error, doing: doing, path: path)
        }
    }

    /// A short write transaction of its own.
    func writing<T>(_ doing: String, _ body: (Database) throws -> T) throws(StorageError) -> T {
        do {
            return try pool.write(body)
        } catch {
            throw StorageError.lifting(error, doing: doing, path: path)
        }
    }
}
