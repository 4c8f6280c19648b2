import Foundation
import LodeEvents
import LodeNotifications
import LodeProjections
import LodeStorage
import PostgresNIO

/// The crossings of a batch with concurrent workers: a figure crossing a threshold is
/// notified once, and never missed because two transactions each saw only their own half.
///
/// Before it writes anything, the batch's transaction takes a transaction-scoped advisory lock
/// for each year whose report it may change (``LodeStorage/CrossingScope``, with the plan years
/// the database has for the projects it touches), plus one shared by every batch that touches a
/// project not registered yet, in ascending order. It reads the plan years again under the
/// locks and takes the locks of years that appeared meanwhile (a registration moved a project),
/// until none does. Then it reads the reports "before", applies the batch, and reads them
/// "after". Two batches that may change one year's figures so run one after the other for
/// that year: the second one's "before" is the first one's "after" (READ COMMITTED: each
/// statement sees what committed before it started), so every change of a figure is seen by
/// exactly one pair of reports. Batches of other years go on side by side. The keys of
/// crossings are unique in `notification_key`, as in SQLite.
struct CrossingCheck {
    let policy: NotificationPolicy
    let calendar: ZoneCalendar
    private var before: [Int: ZoneReport] = [:]
    private var locked: Set<Int32> = []
    private let scope: CrossingScope

    /// The second key of the lock shared by batches that touch unregistered projects.
    static let unregistered = Int32.min

    init(policy: NotificationPolicy, batch: [IncomingEvent], calendar: ZoneCalendar, _ transaction: Transaction) throws {
        self.policy = policy
        self.calendar = calendar
        scope = CrossingScope(batch, calendar: calendar)
        var years: Set<Int> = []
        while true {
            let (planYears, unregistered) = try Self.planYears(of: scope.projects, transaction)
            years = scope.years.union(planYears)
            var keys = Set(years.map { Int32(clamping: $0) })
            if unregistered { keys.insert(Self.unregistered) }
            let new = keys.subtracting(locked).sorted()
            if new.isEmpty { break }
            for key in new {
                var binds = PostgresBindings()
                binds.append(PostgresSchema.lockSpace &+ PostgresSchema.yearLockBase)
                binds.append(key)
                try transaction.query(PostgresQuery(unsafeSQL: "SELECT pg_advisory_xact_lock($1, $2)", binds: binds))
            }
            locked.formUnion(new)
        }
        for year in years {
            before[year] = try PostgresZoneStore.report(year: year, targets: [], transaction)
        }
    }

    /// The plan years the database has for `projects`, and whether one of them is not registered.
    static func planYears(of projects: Set<String>, _ transaction: Transaction) throws -> (Set<Int>, Bool) {
        guard !projects.isEmpty else { return ([], false) }
        var binds = PostgresBindings()
        binds.append(Array(projects))
        var years: Set<Int> = []
        var found = 0
        for row in try transaction.query(PostgresQuery(
            unsafeSQL: "SELECT plan_year FROM project_registration WHERE project_id = ANY($1::text[])", binds: binds)) {
            years.insert(Int(try row.decode(Int64.self)))
            found += 1
        }
        return (years, found < projects.count)
    }

    /// After the batch is applied (same transaction): the crossings it causes, recorded.
    func record(after step: BatchStep, _ transaction: Transaction, now: Date = Date()) throws {
        guard step.outcomes.contains(where: { if case .applied = $0 { true } else { false } }) else { return }
        var notifications: [ZoneNotification] = []
        for year in before.keys.sorted() {
            guard let previous = before[year] else { continue }
            let after = try PostgresZoneStore.report(year: year, targets: [], transaction)
            notifications += policy.rules.crossings(year: year, before: previous, after: after,
                                                    targets: policy.targets[year] ?? [], now: now)
        }
        try PostgresZoneStore.record(notifications, transaction)
    }
}

extension PostgresZoneStore {
    /// The keys of `rule`'s notifications of the events logged as `seqs`, in their order. The log
    /// is append-only, so the events are there; were one not, its key names the seq, and the
    /// delivery is given up when it is rendered, saying why.
    static func eventKeys(rule: String, seqs: [Int64], _ transaction: Transaction) throws -> [String] {
        guard !seqs.isEmpty else { return [] }
        var events: [Int64: (source: String, id: String)] = [:]
        for row in try transaction.query("SELECT seq, source, event_id FROM event_log WHERE seq = ANY(\(seqs)::int8[])") {
            let (seq, source, eventID) = try row.decode((Int64, String, String).self)
            events[seq] = (source, eventID)
        }
        return seqs.map { seq in
            guard let event = events[seq] else { return NotificationKey.event(rule: rule, source: "", eventID: "log seq \(seq)") }
            return NotificationKey.event(rule: rule, source: event.source, eventID: event.id)
        }
    }

    /// Records rendered notifications in the current transaction, a row per channel, each only
    /// if its key is not known yet. Returns how many were new.
    @discardableResult
    static func record(_ notifications: [ZoneNotification], _ transaction: Transaction) throws -> Int {
        guard !notifications.isEmpty else { return 0 }
        var binds = PostgresBindings()
        binds.append(notifications.map(\.key))
        var new: Set<String> = []
        for row in try transaction.query(PostgresQuery(unsafeSQL: """
            INSERT INTO notification_key (key) SELECT * FROM unnest($1::text[]) ON CONFLICT (key) DO NOTHING RETURNING key
            """, binds: binds)) {
            new.insert(try row.decode(String.self))
        }
        var recorded = 0
        for notification in notifications where new.remove(notification.key) != nil {
            let created = notification.createdAt.timeIntervalSince1970
            let record = ByteBuffer(bytes: notification.record())
            for channel in notification.channels {
                try transaction.query("""
                    INSERT INTO notification_delivery (key, rule, channel, record, created_at, state, pending_since, next_attempt_at)
                    VALUES (\(notification.key), \(notification.rule), \(channel), \(record), \(created), 'pending', \(created), \(created))
                    """)
            }
            recorded += 1
        }
        return recorded
    }

    @discardableResult
    public func enqueue(_ notifications: [ZoneNotification]) throws(StorageError) -> Int {
        try service.transaction("recording notifications") { transaction in try Self.record(notifications, transaction) }
    }

    /// Moves queued event notifications into `notification_delivery`, oldest first, so that each
    /// rule and channel has up to `window` pending there (refilled once down to half). One
    /// dispatcher at a time moves them (an advisory lock; the others skip), so two workers'
    /// dispatchers never move a notification twice.
    @discardableResult
    public func promoteQueuedNotifications(window: Int = 256) throws(StorageError) -> Int {
        try service.transaction("moving queued notifications to the outbox") { transaction in
            var binds = PostgresBindings()
            binds.append(PostgresSchema.lockSpace)
            binds.append(PostgresSchema.promotionLock)
            let gotLock = try transaction.query(PostgresQuery(unsafeSQL: "SELECT pg_try_advisory_xact_lock($1, $2)", binds: binds))
            guard try gotLock.first?.decode(Bool.self) == true else { return 0 }
            var rooms: [(rule: String, channel: String, room: Int)] = []
            for row in try transaction.query("""
                SELECT q.rule, q.channel,
                  (SELECT COUNT(*) FROM notification_delivery d WHERE d.state = 'pending' AND d.rule = q.rule AND d.channel = q.channel)
                FROM (SELECT DISTINCT rule, channel FROM notification_queue) q ORDER BY q.rule, q.channel
                """) {
                let (rule, channel, waiting) = try row.decode((String, String, Int64).self)
                if Int(waiting) * 2 <= window { rooms.append((rule, channel, window - Int(waiting))) }
            }
            var moved = 0
            for (rule, channel, room) in rooms {
                var room = room
                for row in try transaction.query("""
                    SELECT id, seqs, next_index, created_at FROM notification_queue
                    WHERE rule = \(rule) AND channel = \(channel) ORDER BY id LIMIT \(Int64(room))
                    """) where room > 0 {
                    let (id, packed, start, created) = try row.decode((Int64, ByteBuffer, Int32, Double).self)
                    let seqs = QueuedSeqs.unpack(Array(packed.readableBytesView))
                    let begin = min(Int(start), seqs.count)
                    let end = min(seqs.count, begin + room)
                    let chosen = Array(seqs[begin..<end])
                    let keys = try PostgresZoneStore.eventKeys(rule: rule, seqs: chosen, transaction)
                    if !chosen.isEmpty {
                        try transaction.query("""
                            INSERT INTO notification_delivery (key, rule, channel, event_seq, created_at, state, pending_since, next_attempt_at)
                            SELECT k, \(rule), \(channel), s, \(created), 'pending', \(created), \(created)
                            FROM unnest(\(keys)::text[], \(chosen)::int8[]) WITH ORDINALITY AS u(k, s, n) ORDER BY n
                            """)
                    }
                    if end == seqs.count {
                        try transaction.query("DELETE FROM notification_queue WHERE id = \(id)")
                    } else {
                        try transaction.query("UPDATE notification_queue SET next_index = \(Int32(end)) WHERE id = \(id)")
                    }
                    room -= end - begin
                    moved += end - begin
                }
            }
            return moved
        }
    }

    /// For each (rule, channel), its oldest pending delivery if due, claimed for this store's
    /// dispatcher for ``PostgresStoreConfiguration/deliveryClaim``: another worker's dispatcher
    /// skips it meanwhile, so one delivery is sent by one dispatcher at a time.
    public func dueDeliveries(now: Date, limit: Int) throws -> [OutboxDelivery] {
        try promoteQueuedNotifications()
        let nowSeconds = now.timeIntervalSince1970
        let claim = deliveryClaim.components
        let until = nowSeconds + Double(claim.seconds) + Double(claim.attoseconds) / 1e18
        let token = claimToken
        let rows = try service.transaction("claiming due notifications") { transaction in
            var claimed: [ClaimedDelivery] = []
            var seqs: [Int64] = []
            for row in try transaction.query("""
                UPDATE notification_delivery SET claimed_by = \(token), claimed_until = \(until)
                WHERE id IN (SELECT MIN(id) FROM notification_delivery WHERE state = 'pending' GROUP BY rule, channel)
                  AND next_attempt_at <= \(nowSeconds) AND state = 'pending'
                  AND (claimed_until IS NULL OR claimed_until < \(nowSeconds) OR claimed_by = \(token))
                RETURNING id, key, rule, channel, attempts, pending_since, created_at, record, event_seq
                """) {
                let (id, key, rule, channel, attempts, pendingSince, created, record, seq) =
                    try row.decode((Int64, String, String, String, Int32, Double, Double, ByteBuffer?, Int64?).self)
                if let seq { seqs.append(seq) }
                claimed.append(ClaimedDelivery(
                    id: id, key: key, rule: rule, channel: channel, attempts: Int(attempts), pendingSince: pendingSince,
                    createdAt: created, record: record.map { Array($0.readableBytesView) }, eventSeq: seq, body: nil))
            }
            if !seqs.isEmpty {
                var bodies: [Int64: [UInt8]] = [:]
                for row in try transaction.query("SELECT seq, body FROM event_log WHERE seq = ANY(\(seqs)::int8[])") {
                    let (seq, body) = try row.decode((Int64, ByteBuffer).self)
                    bodies[seq] = Array(body.readableBytesView)
                }
                claimed = claimed.map { delivery in
                    var delivery = delivery
                    delivery.body = delivery.eventSeq.flatMap { bodies[$0] }
                    return delivery
                }
            }
            return claimed
        }
        var due: [OutboxDelivery] = []
        for row in rows.sorted(by: { $0.id < $1.id }).prefix(limit) {
            let notification: ZoneNotification?
            if let record = row.record {
                notification = ZoneNotification(record: record)
            } else {
                notification = try renderEventNotification(
                    rule: row.rule, key: row.key, body: row.body, createdAt: Date(timeIntervalSince1970: row.createdAt))
            }
            guard let notification else {
                try recordGivenUp(row.id, error: "cannot render: the rule '\(row.rule)' is no longer in the config, or its event is not in the log", at: now)
                continue
            }
            due.append(OutboxDelivery(id: row.id, channel: row.channel, notification: notification, attempts: row.attempts,
                                      pendingSince: Date(timeIntervalSince1970: row.pendingSince)))
        }
        return due
    }

    private struct ClaimedDelivery: Sendable {
        let id: Int64
        let key: String
        let rule: String
        let channel: String
        let attempts: Int
        let pendingSince: Double
        let createdAt: Double
        let record: [UInt8]?
        let eventSeq: Int64?
        var body: [UInt8]?
    }

    /// An event rule's notification, rendered from the logged event and the project as the
    /// projection knows it now; `nil` when the rule is gone or the event is not logged.
    private func renderEventNotification(rule: String, key: String, body: [UInt8]?, createdAt: Date) throws -> ZoneNotification? {
        guard let rules = notifications?.rules, let body, let event = try? Event.decode(body) else { return nil }
        let projectID = CrossingScope.projectID(of: event)
        let facts = try service.withConnection("reading a project for a notification") { transaction in
            try projectID.map { try Self.facts(of: [$0], transaction)[$0] } ?? nil
        }
        return rules.notifications(for: event, project: facts, now: createdAt).first { $0.rule == rule && $0.key == key }
    }

    public func isStillDue(_ delivery: OutboxDelivery) throws -> Bool {
        let token = claimToken
        return try service.withConnection("checking a notification") { transaction in
            let rows = try transaction.query("""
                SELECT state = 'pending' AND attempts = \(Int32(clamping: delivery.attempts)) AND claimed_by = \(token)
                FROM notification_delivery WHERE id = \(delivery.id)
                """)
            return try rows.first?.decode(Bool?.self) ?? false
        }
    }

    public func recordDelivered(_ id: Int64, at time: Date) throws {
        let seconds = time.timeIntervalSince1970
        try service.withConnection("recording a delivered notification") { transaction in
            try transaction.query("""
                UPDATE notification_delivery SET state = 'delivered', attempts = attempts + 1, last_attempt_at = \(seconds),
                  delivered_at = \(seconds), last_error = NULL, claimed_by = NULL, claimed_until = NULL WHERE id = \(id)
                """)
        }
    }

    public func recordFailedAttempt(_ id: Int64, error: String, at time: Date, nextAttemptAt: Date) throws {
        let seconds = time.timeIntervalSince1970, next = nextAttemptAt.timeIntervalSince1970, text = String(error.prefix(2000))
        try service.withConnection("recording a failed notification attempt") { transaction in
            try transaction.query("""
                UPDATE notification_delivery SET attempts = attempts + 1, last_attempt_at = \(seconds), last_error = \(text),
                  next_attempt_at = \(next), claimed_by = NULL, claimed_until = NULL WHERE id = \(id) AND state = 'pending'
                """)
        }
    }

    public func recordGivenUp(_ id: Int64, error: String, at time: Date) throws {
        let seconds = time.timeIntervalSince1970, text = String(error.prefix(2000))
        try service.withConnection("recording a failed notification") { transaction in
            try transaction.query("""
                UPDATE notification_delivery SET state = 'failed', attempts = attempts + 1, last_attempt_at = \(seconds),
                  last_error = \(text), claimed_by = NULL, claimed_until = NULL WHERE id = \(id) AND state = 'pending'
                """)
        }
    }

    public func queuedNotificationCounts() throws(StorageError) -> [(rule: String, channel: String, count: Int)] {
        let rows = try service.withConnection("counting queued notifications") { transaction in
            try transaction.query("""
                SELECT rule, channel, CAST(SUM(length(seqs) / 8 - next_index) AS BIGINT) FROM notification_queue
                GROUP BY rule, channel ORDER BY rule, channel
                """).map { try $0.decode((String, String, Int64).self) }.map { QueuedCount(rule: $0.0, channel: $0.1, count: Int($0.2)) }
        }
        return rows.map { ($0.rule, $0.channel, $0.count) }
    }

    private struct QueuedCount: Sendable {
        let rule: String
        let channel: String
        let count: Int
    }

    public func recordedNotificationKeys() throws(StorageError) -> Set<String> {
        try service.withConnection("reading notification keys") { transaction in
            var keys = Set(try transaction.query("SELECT key FROM notification_delivery").map { try $0.decode(String.self) })
            for row in try transaction.query("SELECT rule, seqs, next_index FROM notification_queue") {
                let (rule, packed, start) = try row.decode((String, ByteBuffer, Int32).self)
                let seqs = Array(QueuedSeqs.unpack(Array(packed.readableBytesView)).dropFirst(Int(start)))
                guard !seqs.isEmpty else { continue }
                keys.formUnion(try PostgresZoneStore.eventKeys(rule: rule, seqs: seqs, transaction))
            }
            return keys
        }
    }

    public func outboxEntries(failedOnly: Bool, limit: Int) throws(StorageError) -> [OutboxEntry] {
        try service.withConnection("listing notifications") { transaction in
            let rows = try transaction.query(PostgresQuery(unsafeSQL: """
                SELECT id, rule, channel, state, attempts, last_error, delivered_at, key, created_at, record
                FROM notification_delivery \(failedOnly ? "WHERE state = 'failed'" : "")
                ORDER BY id DESC LIMIT \(max(0, limit))
                """))
            return try rows.reversed().map { row in
                let (id, rule, channel, state, attempts, lastError, deliveredAt, key, created, record) =
                    try row.decode((Int64, String, String, String, Int32, String?, Double?, String, Double, ByteBuffer?).self)
                return OutboxEntry(
                    id: id, rule: rule, channel: channel, state: DeliveryState(rawValue: state) ?? .pending, attempts: Int(attempts),
                    title: record.flatMap { ZoneNotification(record: Array($0.readableBytesView))?.title } ?? "", key: key,
                    createdAt: Date(timeIntervalSince1970: created), lastError: lastError,
                    deliveredAt: deliveredAt.map { Date(timeIntervalSince1970: $0) })
            }
        }
    }

    public func retryDelivery(_ id: Int64, now: Date) throws(StorageError) -> Bool {
        let seconds = now.timeIntervalSince1970
        return try service.withConnection("retrying a notification") { transaction in
            let rows = try transaction.query("""
                UPDATE notification_delivery SET state = 'pending', pending_since = \(seconds), next_attempt_at = \(seconds),
                  claimed_by = NULL, claimed_until = NULL
                WHERE id = \(id) AND state = 'failed' RETURNING id
                """)
            return rows.count == 1
        }
    }

    public func outboxCounts() throws -> [DeliveryState: Int] {
        let rows = try service.withConnection("counting notifications") { transaction in
            try transaction.query("""
                SELECT state, COUNT(*) FROM notification_delivery GROUP BY state
                UNION ALL SELECT 'queued', CAST(COALESCE(SUM(length(seqs) / 8 - next_index), 0) AS BIGINT) FROM notification_queue
                """).map { try $0.decode((String, Int64).self) }.map { StateCount(state: $0.0, count: Int($0.1)) }
        }
        var counts: [DeliveryState: Int] = [:]
        for row in rows {
            if let state = DeliveryState(rawValue: row.state) {
                counts[state, default: 0] += row.count
            } else if row.state == "queued", row.count > 0 {
                counts[.pending, default: 0] += row.count
            }
        }
        return counts
    }

    private struct StateCount: Sendable {
        let state: String
        let count: Int
    }
}
