import Foundation
import GRDB
import LodeEvents
import LodeProjections
import Synchronization

/// How a ``SQLiteZoneStore`` opens its database.
public struct SQLiteStoreConfiguration: Sendable {
    /// Which year a recruitment event's `time` falls in.
    public var calendar: ZoneCalendar
    /// How long a statement waits for another connection's lock before it
    /// fails with ``StorageError/Kind/unavailable``.
    public var busyTimeout: Duration

    public init(calendar: ZoneCalendar, busyTimeout: Duration = .seconds(5)) {
        self.calendar = calendar
        self.busyTimeout = busyTimeout
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
public final class SQLiteZoneStore: ZoneStore {
    /// The database file.
    public let path: String
    public let calendar: ZoneCalendar
    private let pool: DatabasePool
    private let tally = Mutex(StoreCounts())

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
        grdb.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: grdb)
            // DatabasePool sets synchronous=NORMAL on its writer when it
            // turns WAL on, after prepareDatabase: set FULL again.
            try pool.barrierWriteWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
        } catch {
            throw StorageError.lifting(error, doing: "opening the database", path: path)
        }
        try migrate()
    }

    private func migrate() throws(StorageError) {
        let migrator = SQLiteSchema.migrator
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
                    let writer = try ProjectionWriter(db, calendar: calendar, path: path)
                    for incoming in batch {
                        outcomes.append(try writer.record(incoming))
                    }
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

    // MARK: Rebuild

    @discardableResult
    public func rebuild() throws(StorageError) -> RebuildSummary {
        do {
            return try pool.writeWithoutTransaction { db in
                var replayed = 0
                try db.inTransaction(.immediate) {
                    for table in SQLiteSchema.projectionTables {
                        try db.execute(sql: "DELETE FROM \(table)")
                    }
                    let writer = try ProjectionWriter(db, calendar: calendar, path: path)
                    let rows = try Row.fetchCursor(db, sql: "SELECT seq, event_id, body FROM event_log ORDER BY seq")
                    while let row = try rows.next() {
                        let body: Data = row["body"]
                        let event: Event
                        do {
                            event = try Event.decode([UInt8](body))
                        } catch {
                            let seq: Int64 = row["seq"]
                            let eventID: String = row["event_id"]
                            throw StorageError(
                                kind: .damaged,
                                message: "rebuilding the projections: event log row \(seq) (event id '\(eventID)') no longer decodes: \(error); nothing was changed",
                                path: path)
                        }
                        _ = try writer.project(event)
                        replayed += 1
                    }
                    return .commit
                }
                return RebuildSummary(eventsReplayed: replayed)
            }
        } catch {
            throw StorageError.lifting(error, doing: "rebuilding the projections from the event log", path: path)
        }
    }

    // MARK: Counts

    public var counts: StoreCounts {
        tally.withLock { $0 }
    }

    public func loggedEventCount() throws(StorageError) -> Int {
        do {
            return try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM event_log") ?? 0 }
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

    /// Closes the database; later calls fail.
    public func close() throws(StorageError) {
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
    let logEvent: Statement
    let loggedBody: Statement
    let upsertRegistration: Statement
    let upsertStatus: Statement
    let upsertInvestment: Statement
    let insertContact: Statement
    let insertVisit: Statement
    let insertAgreement: Statement
    let insertIntroduction: Statement

    init(_ db: Database, calendar: ZoneCalendar, path: String) throws {
        self.db = db
        self.calendar = calendar
        self.path = path
        logEvent = try db.cachedStatement(sql: SQLiteStatements.logEvent)
        loggedBody = try db.cachedStatement(sql: SQLiteStatements.loggedBody)
        upsertRegistration = try db.cachedStatement(sql: SQLiteStatements.upsertRegistration)
        upsertStatus = try db.cachedStatement(sql: SQLiteStatements.upsertStatus)
        upsertInvestment = try db.cachedStatement(sql: SQLiteStatements.upsertInvestment)
        insertContact = try db.cachedStatement(sql: SQLiteStatements.insertContact)
        insertVisit = try db.cachedStatement(sql: SQLiteStatements.insertVisit)
        insertAgreement = try db.cachedStatement(sql: SQLiteStatements.insertAgreement)
        insertIntroduction = try db.cachedStatement(sql: SQLiteStatements.insertIntroduction)
    }

    /// The inbox, the event log, then the projection.
    func record(_ incoming: IncomingEvent) throws -> EventOutcome {
        let event = incoming.event
        let instant = event.time.instant
        logEvent.setUncheckedArguments([
            event.id, event.type.rawValue, event.source, event.time.text,
            instant.secondsSinceEpoch, Int64(instant.nanoseconds), Data(incoming.body),
        ])
        try logEvent.execute()
        guard db.changesCount > 0 else { return try duplicateOutcome(of: event) }
        return .applied(changedProjection: try project(event))
    }

    /// The id is already in the inbox: the same content is a duplicate,
    /// other content a conflicting duplicate. Rare, so it decodes the
    /// logged event rather than keeping a fingerprint of every event.
    private func duplicateOutcome(of event: Event) throws -> EventOutcome {
        loggedBody.setUncheckedArguments([event.id])
        guard let body = try Data.fetchOne(loggedBody) else {
            throw StorageError(
                kind: .internal, message: "event id '\(event.id)' is in the inbox but its body is missing", path: path)
        }
        let logged: Event
        do {
            logged = try Event.decode([UInt8](body))
        } catch {
            throw StorageError(
                kind: .damaged, message: "the logged event '\(event.id)' no longer decodes: \(error)", path: path)
        }
        let loggedContent = logged.canonicalContent
        let incomingContent = event.canonicalContent
        if loggedContent == incomingContent { return .duplicate }
        return .conflictingDuplicate(ConflictingDuplicate(
            eventID: event.id, appliedFingerprint: logged.contentFingerprint,
            refusedFingerprint: event.contentFingerprint))
    }

    /// Updates the projection tables; returns whether a row changed.
    func project(_ event: Event) throws -> Bool {
        let instant = event.time.instant
        let seconds = instant.secondsSinceEpoch
        let nanos = Int64(instant.nanoseconds)
        let statement: Statement
        switch event.data {
        case .projectRegistered(let project):
            statement = upsertRegistration
            statement.setUncheckedArguments([
                project.projectID, project.name, project.planYear,
                project.categories.map(\.rawValue).joined(separator: ","),
                project.newStart, project.totalInvestment, project.plannedInvestment, project.major,
                project.enterprise, project.park, project.capacity,
                seconds, nanos, event.id,
            ])
        case .projectStatusChanged(let change):
            statement = upsertStatus
            statement.setUncheckedArguments([change.projectID, change.status.rawValue, seconds, nanos, event.id])
        case .investmentReported(let report):
            statement = upsertInvestment
            statement.setUncheckedArguments([
                report.projectID, report.period.year, report.period.month, report.completedInvestment,
                seconds, nanos, event.id,
            ])
        case .enterpriseContacted(let contact):
            statement = insertContact
            statement.setUncheckedArguments([year(of: event), contact.campaign, contact.enterprise])
        case .siteVisit(let visit):
            statement = insertVisit
            statement.setUncheckedArguments([year(of: event), visit.campaign, event.id])
        case .agreementSigned(let agreement):
            statement = insertAgreement
            statement.setUncheckedArguments([year(of: event), agreement.campaign, agreement.enterprise])
        case .projectIntroduced(let introduction):
            statement = insertIntroduction
            statement.setUncheckedArguments([year(of: event), introduction.industry.rawValue, introduction.projectID])
        }
        try statement.execute()
        return db.changesCount > 0
    }

    private func year(of event: Event) -> Int {
        calendar.yearMonth(of: event.time).year
    }
}
