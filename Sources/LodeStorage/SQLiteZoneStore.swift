import Foundation
import GRDB
import LodeEvents
import LodeNotifications
import LodeProjections
import Synchronization

/// How a ``SQLiteZoneStore`` opens its database.
public struct SQLiteStoreConfiguration: Sendable {
    /// Which year a recruitment event's `time` falls in.
    public var calendar: ZoneCalendar
    /// How long a statement waits for another connection's lock before it
    /// fails with ``StorageError/Kind/unavailable``.
    public var busyTimeout: Duration
    /// The most memory SQLite's page cache of each connection may take, in
    /// KiB (`PRAGMA cache_size = -N`). Changed pages that do not fit are
    /// written to the WAL before the commit (a spill: correct, a little more
    /// I/O); clean pages save reads of the indexes, which the OS's cache
    /// holds anyway. 4 MiB applies the worker's batches (512 KiB of messages)
    /// as fast as 8 MiB did and keeps the worker under 64 MB resident
    /// (docs/benchmarks.md).
    public var pageCacheKiB: Int
    /// How much of the database file SQLite reads through a memory map
    /// (`PRAGMA mmap_size`), in bytes; 0 reads with `pread`. Mapped pages
    /// count in the process's resident memory while they are in use.
    public var memoryMapBytes: Int
    /// How many pages the WAL may hold before a commit copies them into the
    /// database file (`PRAGMA wal_autocheckpoint`). A page changed by many
    /// batches between two checkpoints is copied once, so a larger WAL
    /// writes less; SQLite's default is 1,000 pages (4 MiB). Durability
    /// does not depend on it: every commit is in the fsynced WAL.
    public var walAutocheckpointPages: Int
    /// The page size of a new database file, in bytes (`PRAGMA
    /// page_size`, a power of two from 512 to 65,536); a database keeps
    /// the page size it was created with. The inbox's and the recruitment
    /// tables' new rows land on random pages, and each page a batch changes
    /// is written whole to the WAL: smaller pages write less per event.
    public var pageSize: Int
    /// For tests only: narrows every inbox key (``InboxKey``) to these
    /// bits, so that different ids share keys and `inbox_collision` is
    /// exercised. A database must always be opened with the same mask.
    var inboxKeyMask: UInt64 = ~0
    /// How many new keys `inbox_recent` gathers before they move into
    /// `inbox` (see docs/storage.md). Internal: tests set it low to move
    /// keys often.
    var inboxMergeRows = 32_768
    /// Notification rules and targets: when set, each batch's transaction also records the
    /// notifications it causes in the outbox.
    public var notifications: NotificationPolicy?
    /// The worker's mode: a commit writes the WAL without waiting for its fsync
    /// (`synchronous=NORMAL`), and ``SQLiteZoneStore/syncCommits()`` fsyncs it, on another
    /// thread while the next batch is applied; nothing is acknowledged before that sync (see
    /// docs/storage.md). Off (`synchronous=FULL`: each commit returns durable) for every other use.
    public var defersSync = false

    public init(
        calendar: ZoneCalendar, busyTimeout: Duration = .seconds(5), pageCacheKiB: Int = 4_096, memoryMapBytes: Int = 0,
        walAutocheckpointPages: Int = 16_384, pageSize: Int = 4_096
    ) {
        self.pageSize = pageSize
        self.calendar = calendar
        self.busyTimeout = busyTimeout
        self.pageCacheKiB = pageCacheKiB
        self.memoryMapBytes = memoryMapBytes
        self.walAutocheckpointPages = walAutocheckpointPages
    }
}

/// The zone store in a SQLite file, through GRDB.
///
/// - WAL journal (`journal_mode=WAL`), so `lodectl report` reads while the
///   worker writes, and `synchronous=FULL`: a commit returns after the WAL
///   is fsynced, so a committed batch survives a power cut (see
///   docs/storage.md).
/// - Versioned migrations; a database written by a newer Lodestone is
///   refused (``StorageError/Kind/configuration``) rather than misread.
/// - A busy timeout (``SQLiteStoreConfiguration/busyTimeout``).
///
/// One writer connection, used by one call at a time; reads (``report(year:targets:)``)
/// use reader connections and do not wait for the writer.
public final class SQLiteZoneStore: ZoneDatabase {
    /// The database file.
    public let path: String
    public let calendar: ZoneCalendar
    let pool: DatabasePool
    private let tally = Mutex(StoreCounts())
    private let inboxKeyMask: UInt64
    private let inboxMergeRows: Int
    private let notifications: NotificationPolicy?
    public let defersSync: Bool
    /// The WAL file, open for ``syncCommits()``.
    private let walFile = Mutex(WALFile())

    deinit { walFile.withLock { $0.close() } }

    /// The rules that render event notifications when they are sent.
    var notificationRules: NotificationRules? { notifications?.rules }

    /// Opens (creating when absent) the store at `path` and brings its
    /// schema up to date.
    ///
    /// Throws ``StorageError/Kind/configuration`` naming the path when its
    /// directory does not exist or the file was written by a newer
    /// Lodestone, ``StorageError/Kind/damaged`` when it is not a database,
    /// ``StorageError/Kind/unavailable`` when it cannot be opened or
    /// written now.
    public init(path: String, configuration: SQLiteStoreConfiguration) throws(StorageError) {
        self.path = path
        self.calendar = configuration.calendar
        self.inboxKeyMask = configuration.inboxKeyMask
        self.inboxMergeRows = max(configuration.inboxMergeRows, 1)
        self.notifications = configuration.notifications
        self.defersSync = configuration.defersSync
        let directory = (path as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        let directoryToCheck = directory.isEmpty ? "." : directory
        guard FileManager.default.fileExists(atPath: directoryToCheck, isDirectory: &isDirectory) else {
            throw StorageError(
                kind: .configuration,
                message: "cannot open the database \(path): its directory \(directoryToCheck) does not exist; create it or choose another database path (--db / LODE_DB)",
                path: path)
        }
        guard isDirectory.boolValue else {
            throw StorageError(
                kind: .configuration,
                message: "cannot open the database \(path): \(directoryToCheck) is not a directory; choose another database path (--db / LODE_DB)",
                path: path)
        }

        var grdb = Configuration()
        let timeout = configuration.busyTimeout.components
        grdb.busyMode = .timeout(Double(timeout.seconds) + Double(timeout.attoseconds) / 1e18)
        grdb.label = "lode-store"
        let pageCacheKiB = max(configuration.pageCacheKiB, 64)
        let memoryMapBytes = max(configuration.memoryMapBytes, 0)
        let pageSize = configuration.pageSize
        grdb.prepareDatabase { db in
            // Before GRDB turns WAL on: only a new, empty file takes it.
            try db.execute(sql: "PRAGMA page_size = \(pageSize)")
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA cache_size = -\(pageCacheKiB)")
            try db.execute(sql: "PRAGMA mmap_size = \(memoryMapBytes)")
        }
        do {
            pool = try DatabasePool(path: path, configuration: grdb)
            // DatabasePool sets synchronous=NORMAL on its writer when it
            // turns WAL on, after prepareDatabase: set FULL again (or keep NORMAL when the
            // worker syncs the WAL itself, syncCommits()).
            let checkpointPages = max(configuration.walAutocheckpointPages, 1)
            let synchronous = configuration.defersSync ? "NORMAL" : "FULL"
            try pool.barrierWriteWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(checkpointPages)")
            }
        } catch {
            throw StorageError.lifting(error, doing: "opening the database", path: path)
        }
        try migrate()
    }

    private func migrate() throws(StorageError) {
        let migrator = SQLiteSchema.migrator(inboxKeyMask: inboxKeyMask)
        do {
            let superseded = try pool.read { db in try migrator.hasBeenSuperseded(db) }
            if superseded {
                let known = Set(migrator.migrations)
                let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }
                let unknown = applied.subtracting(known).sorted()
                throw StorageError(
                    kind: .configuration,
                    message: "the database was written by a newer Lodestone (schema migrations \(unknown.joined(separator: ", ")) are unknown to this one); run the newer version or another database",
                    path: path)
            }
            try migrator.migrate(pool)
        } catch {
            throw StorageError.lifting(error, doing: "bringing the schema up to date", path: path)
        }
    }

    // MARK: Apply

    public func apply(_ batch: [IncomingEvent]) throws(StorageError) -> BatchOutcome {
        guard !batch.isEmpty else { return BatchOutcome(outcomes: []) }
        let outcomes: [EventOutcome]
        do {
            outcomes = try pool.writeWithoutTransaction { db in
                var outcomes: [EventOutcome] = []
                outcomes.reserveCapacity(batch.count)
                // IMMEDIATE takes the write lock when the transaction begins,
                // so a busy database waits for the busy timeout instead of
                // failing when a read turns into a write.
                try db.inTransaction(.immediate) {
                    let step = try notifications.map { policy in
                        try NotificationStep(policy: policy, calendar: calendar, path: path, batch: batch, db: db)
                    }
                    var writer = try ProjectionWriter(db, calendar: calendar, path: path)
                    outcomes = try writer.record(batch, inboxKeyMask: inboxKeyMask, inboxMergeRows: inboxMergeRows)
                    try step?.record(batch, outcomes: outcomes, db: db)
                    return .commit
                }
                return outcomes
            }
        } catch {
            throw StorageError.lifting(error, doing: "applying a batch of \(batch.count) events", path: path)
        }
        let outcome = BatchOutcome(outcomes: outcomes)
        let applied = outcome.applied
        let duplicates = outcome.duplicates
        tally.withLock { counts in
            counts.eventsApplied += applied
            counts.duplicates += duplicates
            counts.conflictingDuplicates += outcomes.count - applied - duplicates
            counts.batchesCommitted += 1
        }
        return outcome
    }

    // MARK: Sync

    /// With ``defersSync``: fsyncs the WAL, so every commit written to it so far is durable. A
    /// commit writes its frames to the WAL before it returns, and the fsync of any descriptor
    /// of a file flushes all that was written to it before, so the sync covers every commit that
    /// returned before it began. The WAL stays the same file while the store is open (its writer
    /// keeps it); a WAL that is gone was checkpointed into the database file and synced there.
    public func syncCommits() throws(StorageError) {
        guard defersSync else { return }
        let walPath = path + "-wal"
        try walFile.withLock { (file: inout WALFile) throws(StorageError) in
            var status = stat()
            guard stat(walPath, &status) == 0 else {
                let code = errno
                file.close()
                if code == ENOENT { return }
                throw StorageError(kind: code == EIO ? .damaged : .unavailable,
                                   message: "syncing the WAL \(walPath): \(String(cString: strerror(code)))", path: path)
            }
            if file.descriptor < 0 || file.inode != status.st_ino || file.device != status.st_dev {
                file.close()
                let descriptor = open(walPath, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else {
                    let code = errno
                    if code == ENOENT { return }
                    throw StorageError(kind: .unavailable,
                                       message: "opening the WAL \(walPath) to sync it: \(String(cString: strerror(code)))", path: path)
                }
                file = WALFile(descriptor: descriptor, device: status.st_dev, inode: status.st_ino)
            }
            guard fdatasync(file.descriptor) == 0 else {
                let code = errno
                // A failed fsync may have dropped the written pages (Linux marks them clean):
                // what the WAL held since the last sync may be lost. Not retryable in place.
                throw StorageError(kind: .damaged,
                                   message: "fsync of the WAL \(walPath) failed: \(String(cString: strerror(code))); commits since the last sync may be lost",
                                   path: path)
            }
        }
    }

    // MARK: Rebuild

    @discardableResult
    public func rebuild(progress: (_ replayed: Int, _ total: Int) -> Void) throws(StorageError) -> RebuildSummary {
        do {
            return try pool.writeWithoutTransaction { db in
                var replayed = 0
                try db.inTransaction(.immediate) {
                    let total = try Int.fetchOne(db, sql: SQLiteStatements.loggedEventCount) ?? 0
                    progress(0, total)
                    for table in SQLiteSchema.projectionTables {
                        try db.execute(sql: "DELETE FROM \(table)")
                    }
                    var writer = try ProjectionWriter(db, calendar: calendar, path: path)
                    let rows = try Row.fetchCursor(db, sql: "SELECT seq, body FROM event_log ORDER BY seq")
                    func nextChunk() throws -> [LoggedBody] {
                        var chunk: [LoggedBody] = []
                        chunk.reserveCapacity(LoggedEventDecoder.chunkSize)
                        while chunk.count < LoggedEventDecoder.chunkSize, let row = try rows.next() {
                            chunk.append(LoggedBody(seq: row[0], body: row[1]))
                        }
                        return chunk
                    }
                    let decoder = LoggedEventDecoder()
                    var chunk = try nextChunk()
                    decoder.start(chunk)
                    while !chunk.isEmpty {
                        let next = try nextChunk()
                        let events = decoder.take()
                        if !next.isEmpty { decoder.start(next) }
                        for (logged, decoded) in zip(chunk, events) {
                            let event: Event
                            switch decoded {
                            case .success(let decodedEvent): event = decodedEvent
                            case .failure(let error):
                                let eventID = try String.fetchOne(db, sql: "SELECT event_id FROM event_log WHERE seq = ?", arguments: [logged.seq])
                                throw StorageError(
                                    kind: .damaged,
                                    message: "rebuilding the projections: event log row \(logged.seq) (event id '\(eventID ?? "?")') no longer decodes: \(error); nothing was changed",
                                    path: path)
                            }
                            _ = try writer.project(event)
                            replayed += 1
                            if replayed % Self.rebuildProgressEvery == 0 { progress(replayed, max(total, replayed)) }
                        }
                        chunk = next
                    }
                    try writer.flush()
                    progress(replayed, replayed)
                    return .commit
                }
                return RebuildSummary(eventsReplayed: replayed)
            }
        } catch {
            throw StorageError.lifting(error, doing: "rebuilding the projections from the event log", path: path)
        }
    }

    /// How many events a rebuild replays between two calls of its progress.
    static let rebuildProgressEvery = 5000

    // MARK: Counts

    public var counts: StoreCounts {
        tally.withLock { $0 }
    }

    public func loggedEventCount() throws(StorageError) -> Int {
        do {
            return try pool.read { db in try Int.fetchOne(db, sql: SQLiteStatements.loggedEventCount) ?? 0 }
        } catch {
            throw StorageError.lifting(error, doing: "counting the event log", path: path)
        }
    }

    // MARK: Report

    public func report(year: Int, targets: [ReportTarget]) throws(StorageError) -> ZoneReport {
        do {
            return try pool.read { db in try SQLiteReport.compute(db, year: year, targets: targets, path: path) }
        } catch {
            throw StorageError.lifting(error, doing: "computing the report of \(year)", path: path)
        }
    }

    /// Runs `body` on the writer connection, outside a transaction: for
    /// tests and tools that need to look at the schema or the pragmas.
    public func withWriterConnection<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.writeWithoutTransaction(body)
    }

    public var location: String { path }

    /// A SQLite file belongs to one worker: two workers on one queue would split the events
    /// between two files (see docs/scaling.md).
    public var allowsConcurrentWorkers: Bool { false }

    public func close() throws(StorageError) {
        walFile.withLock { $0.close() }
        do {
            try pool.close()
        } catch {
            throw StorageError.lifting(error, doing: "closing the database", path: path)
        }
    }
}

/// The apply path of one transaction: the statements taken once from the
/// connection's cache, then a few executions per event.
private struct ProjectionWriter {
    let db: Database
    let calendar: ZoneCalendar
    let path: String
    let nextSeq: BoundStatement
    let inboxSeq: BoundStatement
    let insertRecent: BoundStatement
    let recentSeq: BoundStatement
    let recentCount: BoundStatement
    let mergeRecent: BoundStatement
    let emptyRecent: BoundStatement
    let insertCollision: BoundStatement
    let collisionSeq: BoundStatement
    let logEvent: BoundStatement
    let loggedEvent: BoundStatement
    let upsertRegistration: BoundStatement
    let upsertStatus: BoundStatement
    let upsertInvestment: BoundStatement
    let insertContact: BoundStatement
    let addVisits: BoundStatement
    /// Visits of this batch not yet added to `recruitment_visit_count`.
    var pendingVisits: [VisitKey: Int64] = [:]
    let insertAgreement: BoundStatement
    let insertIntroduction: BoundStatement

    init(_ db: Database, calendar: ZoneCalendar, path: String) throws {
        self.db = db
        self.calendar = calendar
        self.path = path
        nextSeq = try BoundStatement(db, sql: SQLiteStatements.nextSeq)
        inboxSeq = try BoundStatement(db, sql: SQLiteStatements.inboxSeq)
        insertRecent = try BoundStatement(db, sql: SQLiteStatements.insertRecent)
        recentSeq = try BoundStatement(db, sql: SQLiteStatements.recentSeq)
        recentCount = try BoundStatement(db, sql: SQLiteStatements.recentCount)
        mergeRecent = try BoundStatement(db, sql: SQLiteStatements.mergeRecent)
        emptyRecent = try BoundStatement(db, sql: SQLiteStatements.emptyRecent)
        insertCollision = try BoundStatement(db, sql: SQLiteStatements.insertCollision)
        collisionSeq = try BoundStatement(db, sql: SQLiteStatements.collisionSeq)
        logEvent = try BoundStatement(db, sql: SQLiteStatements.logEvent)
        loggedEvent = try BoundStatement(db, sql: SQLiteStatements.loggedEvent)
        upsertRegistration = try BoundStatement(db, sql: SQLiteStatements.upsertRegistration)
        upsertStatus = try BoundStatement(db, sql: SQLiteStatements.upsertStatus)
        upsertInvestment = try BoundStatement(db, sql: SQLiteStatements.upsertInvestment)
        insertContact = try BoundStatement(db, sql: SQLiteStatements.insertContact)
        addVisits = try BoundStatement(db, sql: SQLiteStatements.addVisits)
        insertAgreement = try BoundStatement(db, sql: SQLiteStatements.insertAgreement)
        insertIntroduction = try BoundStatement(db, sql: SQLiteStatements.insertIntroduction)
    }

    /// Records a batch: the inbox in key order, then the event log and the
    /// projections of the new events in batch order.
    ///
    /// Event `i` of the batch gets `seq` = base + `i`, base being one past
    /// the log's last `seq`: its inbox row can point at its log row before
    /// the log row is written, and an inbox hit whose `seq` is at least
    /// base is an earlier event of this same batch.
    mutating func record(_ batch: [IncomingEvent], inboxKeyMask: UInt64, inboxMergeRows: Int) throws -> [EventOutcome] {
        guard try nextSeq.step() else {
            nextSeq.reset()
            throw StorageError(kind: .internal, message: "the next event_log seq could not be read", path: path)
        }
        let base = nextSeq.int64(at: 0)
        nextSeq.reset()

        // The inbox, in key order: lookups and inserts walk its b-tree once,
        // left to right. Equal keys stay in batch order, so the first of two
        // events with the same source and id is the one applied.
        var order = [(key: Int64, index: Int)]()
        order.reserveCapacity(batch.count)
        for index in batch.indices {
            order.append((InboxKey.of(source: batch[index].event.source, id: batch[index].event.id, mask: inboxKeyMask), index))
        }
        order.sort { $0.key != $1.key ? $0.key < $1.key : $0.index < $1.index }

        // A key is looked up in `inbox` (a read), then inserted into
        // `inbox_recent`; a key either holds is an event applied before or
        // earlier in this batch, or a collision.
        var outcomes = [EventOutcome?](repeating: nil, count: batch.count)
        for (key, index) in order {
            if let holder = try seq(of: key, in: inboxSeq) {
                outcomes[index] = try knownKeyOutcome(of: index, heldBy: holder, in: batch, base: base)
                continue
            }
            try insertRecent.bind(key, at: 1)
            try insertRecent.bind(base + Int64(index), at: 2)
            if try insertRecent.execute() > 0 { continue }
            guard let holder = try seq(of: key, in: recentSeq) else {
                throw StorageError(
                    kind: .internal, message: "inbox key \(key) of event \(EventKey(batch[index].event)) vanished", path: path)
            }
            outcomes[index] = try knownKeyOutcome(of: index, heldBy: holder, in: batch, base: base)
        }

        // The log and the projections, in batch order.
        var result: [EventOutcome] = []
        result.reserveCapacity(batch.count)
        for index in batch.indices {
            if let outcome = outcomes[index] {
                result.append(outcome)
                continue
            }
            try log(batch[index], seq: base + Int64(index))
            result.append(.applied(changedProjection: try project(batch[index].event)))
        }
        try flush()
        try mergeRecentKeys(over: inboxMergeRows)
        return result
    }

    private func log(_ incoming: borrowing IncomingEvent, seq: Int64) throws {
        let instant = incoming.event.time.instant
        try logEvent.bind(seq, at: 1)
        try logEvent.bind(incoming.event.id, at: 2)
        try logEvent.bind(incoming.event.type.rawValue, at: 3)
        try logEvent.bind(incoming.event.source, at: 4)
        try logEvent.bind(incoming.event.time.text, at: 5)
        try logEvent.bind(instant.secondsSinceEpoch, at: 6)
        try logEvent.bind(Int64(instant.nanoseconds), at: 7)
        _ = try logEvent.execute(bindingBlob: incoming.body, at: 8)
    }

    /// The `seq` a lookup by key (`inboxSeq`, `recentSeq`) finds.
    private func seq(of key: Int64, in lookup: BoundStatement) throws -> Int64? {
        try lookup.bind(key, at: 1)
        defer { lookup.reset() }
        return try lookup.step() ? lookup.int64(at: 0) : nil
    }

    /// Moves the keys of `inbox_recent` into `inbox` once there are
    /// `rows` of them, in the batch's transaction.
    private func mergeRecentKeys(over rows: Int) throws {
        guard try recentCount.step() else {
            recentCount.reset()
            return
        }
        let count = recentCount.int64(at: 0)
        recentCount.reset()
        guard count >= Int64(rows) else { return }
        _ = try mergeRecent.execute()
        _ = try emptyRecent.execute()
    }

    /// Event `index` has a key the inbox already holds, for the event
    /// logged as `holder`: the same source and id applied before (or earlier
    /// in this batch), or another event with the same key. Returns nil when
    /// the event is new after all (its source and id are then recorded in
    /// `inbox_collision`).
    private func knownKeyOutcome(of index: Int, heldBy holder: Int64, in batch: [IncomingEvent], base: Int64) throws -> EventOutcome? {
        let event = batch[index].event
        if let outcome = try outcomeIfSameEvent(batch[index], seq: holder, in: batch, base: base) { return outcome }

        // Another event holds the key: the full source and id decide.
        try insertCollision.bind(event.source, at: 1)
        try insertCollision.bind(event.id, at: 2)
        try insertCollision.bind(base + Int64(index), at: 3)
        if try insertCollision.execute() > 0 { return nil }
        try collisionSeq.bind(event.source, at: 1)
        try collisionSeq.bind(event.id, at: 2)
        guard try collisionSeq.step() else {
            collisionSeq.reset()
            throw StorageError(kind: .internal, message: "event \(EventKey(event)) vanished from inbox_collision", path: path)
        }
        let seq = collisionSeq.int64(at: 0)
        collisionSeq.reset()
        guard let outcome = try outcomeIfSameEvent(batch[index], seq: seq, in: batch, base: base) else {
            throw StorageError(
                kind: .internal, message: "inbox_collision row of \(EventKey(event)) points at another event (seq \(seq))",
                path: path)
        }
        return outcome
    }

    /// The outcome of `incoming` against the event applied as `seq`, when
    /// that event has the same source and id; nil when it is another event.
    private func outcomeIfSameEvent(_ incoming: borrowing IncomingEvent, seq: Int64, in batch: [IncomingEvent], base: Int64) throws -> EventOutcome? {
        let event = incoming.event
        if seq >= base {
            let earlier = Int(seq - base)
            guard EventKey(batch[earlier].event) == EventKey(event) else { return nil }
            if batch[earlier].body == incoming.body { return .duplicate }
            return compare(event, withApplied: batch[earlier].event)
        }
        try loggedEvent.bind(seq, at: 1)
        guard try loggedEvent.step() else {
            loggedEvent.reset()
            throw StorageError(
                kind: .internal, message: "event \(EventKey(event)) is in the inbox but its event_log row \(seq) is missing",
                path: path)
        }
        guard loggedEvent.text(at: 0, equals: event.id), loggedEvent.text(at: 1, equals: event.source) else {
            loggedEvent.reset()
            return nil
        }
        let body = loggedEvent.bytes(at: 2)
        loggedEvent.reset()
        // A redelivery usually has the very same bytes: no decoding then.
        if body == incoming.body { return .duplicate }
        let logged: Event
        do {
            logged = try Event.decode(body)
        } catch {
            throw StorageError(
                kind: .damaged, message: "the logged event '\(event.id)' no longer decodes: \(error)", path: path)
        }
        return compare(event, withApplied: logged)
    }

    /// Same content is a duplicate, other content a conflicting duplicate.
    private func compare(_ event: Event, withApplied applied: Event) -> EventOutcome {
        EventOutcome.comparing(event, withApplied: applied)
    }

    /// Writes what ``project(_:)`` gathered in memory: one row change per
    /// (year, campaign) of visits.
    mutating func flush() throws {
        for (key, visits) in pendingVisits {
            try addVisits.bind(Int64(key.year), at: 1)
            try addVisits.bind(key.campaign.text, at: 2)
            try addVisits.bind(visits, at: 3)
            _ = try addVisits.execute()
        }
        pendingVisits.removeAll(keepingCapacity: true)
    }

    /// Updates the projection tables (visits: in memory until ``flush()``);
    /// returns whether a figure changed.
    mutating func project(_ event: Event) throws -> Bool {
        let changed: Int
        switch ProjectionChange(event, calendar: calendar) {
        case .registration(let project, let stamp):
            changed = try upsertRegistration.run(
                .text(project.projectID), .text(project.name), .int(project.planYear),
                .text(ProjectionTable.categoriesText(project.categories)),
                .bool(project.newStart), .integer(project.totalInvestment), .integer(project.plannedInvestment),
                .bool(project.major), .optionalText(project.enterprise), .optionalText(project.park),
                .optionalText(project.capacity), .integer(stamp.instant.secondsSinceEpoch),
                .integer(Int64(stamp.instant.nanoseconds)), .text(stamp.eventID.text), .text(stamp.source.text))
        case .status(let projectID, let status, let stamp):
            changed = try upsertStatus.run(
                .text(projectID), .text(status.rawValue), .integer(stamp.instant.secondsSinceEpoch),
                .integer(Int64(stamp.instant.nanoseconds)), .text(stamp.eventID.text), .text(stamp.source.text))
        case .investment(let projectID, let period, let amount, let stamp):
            changed = try upsertInvestment.run(
                .text(projectID), .int(period.year), .int(period.month), .integer(amount),
                .integer(stamp.instant.secondsSinceEpoch), .integer(Int64(stamp.instant.nanoseconds)), .text(stamp.eventID.text),
                .text(stamp.source.text))
        case .contact(let year, let campaign, let enterprise):
            changed = try insertContact.run(.int(year), .text(campaign), .text(enterprise))
        case .visit(let year, let campaign, _):
            // The inbox lets each source and id through once: every visit counts.
            pendingVisits[VisitKey(year: year, campaign: ExactText(campaign)), default: 0] += 1
            changed = 1
        case .agreement(let year, let campaign, let enterprise):
            changed = try insertAgreement.run(.int(year), .text(campaign), .text(enterprise))
        case .introduction(let year, let industry, let projectID):
            changed = try insertIntroduction.run(.int(year), .text(industry.rawValue), .text(projectID))
        }
        return changed > 0
    }
}

/// The row of `recruitment_visit_count` a visit adds to.
struct VisitKey: Hashable {
    let year: Int
    let campaign: ExactText
}

/// The WAL file as ``SQLiteZoneStore/syncCommits()`` holds it open.
private struct WALFile {
    var descriptor: Int32 = -1
    var device: dev_t = 0
    var inode: ino_t = 0

    mutating func close() {
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
        descriptor = -1
    }
}
