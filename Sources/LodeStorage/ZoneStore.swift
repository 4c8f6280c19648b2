import Foundation
import LodeEvents
import LodeNotifications
import LodeProjections

/// The worker's store: the inbox, the event log and the projection tables,
/// changed together in one transaction per batch.
///
/// SQLite (``SQLiteZoneStore``) or PostgreSQL (LodePostgres); the worker, `lodectl
/// report` and `lodectl rebuild` see only this protocol. Every call blocks
/// the calling thread on database I/O: call it from a thread of its own (or
/// NIO's thread pool), never from the cooperative pool.
///
/// Every method throws only ``StorageError``; its ``StorageError/kind``
/// tells the worker whether to retry (``StorageError/Kind/unavailable``)
/// or not.
public protocol ZoneStore: Sendable {
    /// Applies a batch in one transaction. For each event, in order:
    ///
    /// - it is new (its identity, `source` and `id`, was never applied): it
    ///   is recorded in the inbox and the event log
    ///   (its exact bytes), and the projection tables are updated;
    ///   ``EventOutcome/applied(changedProjection:)``.
    /// - its `source` and `id` were applied before (or earlier in this batch) with the same
    ///   content: ``EventOutcome/duplicate``, nothing written.
    /// - its `source` and `id` were applied before with other content:
    ///   ``EventOutcome/conflictingDuplicate(_:)``, nothing written; the
    ///   worker dead-letters it as `conflicting_duplicate`.
    ///
    /// Returns after the commit, so the worker may ack the batch's messages
    /// then, unless the store ``defersSync``: then only once ``syncCommits()`` has returned
    /// after it. When it throws, nothing of the batch was written.
    func apply(_ batch: [IncomingEvent]) throws(StorageError) -> BatchOutcome

    /// Whether ``apply(_:)`` returns once its commit is written but before it is durable (a
    /// SQLite store opened with ``SQLiteStoreConfiguration/defersSync``). The worker then calls
    /// ``syncCommits()`` on a thread of its own while it applies the next batch, and acknowledges
    /// a batch only after a sync that began after its commit returned.
    var defersSync: Bool { get }

    /// Makes every commit that ``apply(_:)`` has returned from durable (the WAL's fsync);
    /// returns at once for a store whose every commit is durable. May run on another thread
    /// than ``apply(_:)``, at the same time. Throws ``StorageError/Kind/damaged`` when the
    /// system reports the write lost: what was committed and not synced may be gone.
    func syncCommits() throws(StorageError)

    /// The report of `year` (contract section 4), with the progress of
    /// `targets`: the same figures as ``ZoneProjection/report(year:targets:)``
    /// for the same events.
    func report(year: Int, targets: [ReportTarget]) throws(StorageError) -> ZoneReport

    /// Recomputes every projection table from the event log, in one
    /// transaction: the report after is the one the logged events give.
    /// Needed after a change to the rules or to the zone's time zone. `progress` is called
    /// with (events replayed, events in the log) every few thousand events and at the end, on
    /// the calling thread.
    @discardableResult
    func rebuild(progress: (_ replayed: Int, _ total: Int) -> Void) throws(StorageError) -> RebuildSummary

    /// What this store has done since it was opened, for `/metrics`.
    var counts: StoreCounts { get }

    /// How many events the event log holds (every event ever applied).
    func loggedEventCount() throws(StorageError) -> Int
}

/// One event to apply: the validated event and the exact bytes it was
/// decoded from.
///
/// `body` is what the event log keeps and what ``ZoneStore/rebuild()``
/// decodes again, so it must be the event's own JSON: a single-event
/// message's body, or the element's bytes of a batch
/// (``EventBatch/Element/bytes``).
public struct IncomingEvent: Sendable, Hashable {
    public let event: Event
    /// The event's JSON, exactly as received.
    public let body: [UInt8]

    public init(event: Event, body: [UInt8]) {
        self.event = event
        self.body = body
    }

    /// An event with ``Event/encoded()`` as its bytes, for events built in
    /// code rather than received.
    public init(_ event: Event) {
        self.init(event: event, body: event.encoded())
    }

    /// Decodes and validates one event's JSON (see ``Event/decode(_:)-([UInt8])``)
    /// and keeps its bytes.
    public init(decoding body: [UInt8]) throws(EventRejection) {
        self.init(event: try Event.decode(body), body: body)
    }
}

/// What became of each event of a batch, in the batch's order.
public enum EventOutcome: Sendable, Hashable {
    /// Recorded in the inbox and the event log. `changedProjection` is
    /// false when the event changed no figure: older than the row it would
    /// replace, or a contact with an enterprise already counted.
    case applied(changedProjection: Bool)
    /// The same `source`, `id` and content were already applied: skipped.
    case duplicate
    /// The same `source` and `id` were already applied with different content: skipped,
    /// to be dead-lettered as `conflicting_duplicate`.
    case conflictingDuplicate(ConflictingDuplicate)
}

/// An event whose identity, `source` and `id`, was already applied with different content.
public struct ConflictingDuplicate: Sendable, Hashable, CustomStringConvertible {
    public let eventID: String
    /// The event's `source`: with its `id`, its identity (another source's event under the same
    /// id is another event, never a conflict).
    public let source: String
    /// ``Event/contentFingerprint`` of the event applied first, which stays.
    public let appliedFingerprint: String
    /// ``Event/contentFingerprint`` of the refused one.
    public let refusedFingerprint: String

    public init(eventID: String, source: String, appliedFingerprint: String, refusedFingerprint: String) {
        self.eventID = eventID
        self.source = source
        self.appliedFingerprint = appliedFingerprint
        self.refusedFingerprint = refusedFingerprint
    }

    /// The text for the dead letter's `x-lode-error`.
    public var description: String {
        "event id '\(eventID)' from source '\(String(source.prefix(255)))' was already applied with different content (applied \(appliedFingerprint), this one \(refusedFingerprint)); the first one applied stays"
    }
}

/// The outcome of ``ZoneStore/apply(_:)``: one ``EventOutcome`` per event.
public struct BatchOutcome: Sendable, Hashable {
    /// In the batch's order.
    public let outcomes: [EventOutcome]

    public init(outcomes: [EventOutcome]) {
        self.outcomes = outcomes
    }

    /// Events recorded by this batch.
    public var applied: Int {
        outcomes.reduce(0) { if case .applied = $1 { $0 + 1 } else { $0 } }
    }

    /// Events skipped as already applied with the same content.
    public var duplicates: Int {
        outcomes.reduce(0) { $1 == .duplicate ? $0 + 1 : $0 }
    }

    /// The events to dead-letter as conflicting duplicates, with their
    /// positions in the batch.
    public var conflicts: [(index: Int, conflict: ConflictingDuplicate)] {
        outcomes.enumerated().compactMap { index, outcome in
            if case .conflictingDuplicate(let conflict) = outcome { (index, conflict) } else { nil }
        }
    }
}

/// Totals since the store was opened, for the worker's metrics.
public struct StoreCounts: Sendable, Hashable {
    /// Events recorded in the inbox and the event log.
    public var eventsApplied = 0
    /// Events skipped as already applied with the same content.
    public var duplicates = 0
    /// Events refused as conflicting duplicates.
    public var conflictingDuplicates = 0
    /// Batches committed.
    public var batchesCommitted = 0
    /// Transactions rolled back and run again after a serialization failure or a deadlock
    /// with another worker (PostgreSQL; never an error, never a dead letter).
    public var transactionRetries = 0

    public init() {}
}

/// What ``ZoneStore/rebuild()`` did.
extension ZoneStore {
    /// ``rebuild(progress:)`` without progress.
    @discardableResult
    public func rebuild() throws(StorageError) -> RebuildSummary {
        try rebuild(progress: { _, _ in })
    }
}

public struct RebuildSummary: Sendable, Hashable {
    /// Events read from the event log and applied again.
    public var eventsReplayed: Int

    public init(eventsReplayed: Int) {
        self.eventsReplayed = eventsReplayed
    }
}

/// The outbox as operators and tools see it: `lodectl notifications`, the status page.
public protocol NotificationOutboxAdministration: Sendable {
    /// Puts notifications in the outbox in a transaction of their own; a key already there is
    /// skipped. Returns how many were new. (Notifications caused by events are written by
    /// ``ZoneStore/apply(_:)`` in the batch's transaction instead; this is for notifications made
    /// by hand, such as a test message to a channel.)
    @discardableResult
    func enqueue(_ notifications: [ZoneNotification]) throws(StorageError) -> Int
    /// The outbox's deliveries, newest last, at most `limit`; only the failed ones when
    /// `failedOnly`. Event notifications still queued are not among them yet.
    func outboxEntries(failedOnly: Bool, limit: Int) throws(StorageError) -> [OutboxEntry]
    /// Event notifications still queued behind the deliveries, per rule and channel.
    func queuedNotificationCounts() throws(StorageError) -> [(rule: String, channel: String, count: Int)]
    /// Makes a failed delivery pending again, due now; `false` when there is no failed delivery
    /// with that id.
    func retryDelivery(_ id: Int64, now: Date) throws(StorageError) -> Bool
    /// The key of every notification recorded, whether sent, being sent or still queued.
    func recordedNotificationKeys() throws(StorageError) -> Set<String>
}

extension NotificationOutboxAdministration {
    public func outboxEntries(failedOnly: Bool = false) throws(StorageError) -> [OutboxEntry] {
        try outboxEntries(failedOnly: failedOnly, limit: 1000)
    }

    public func retryDelivery(_ id: Int64) throws(StorageError) -> Bool {
        try retryDelivery(id, now: Date())
    }
}

extension ZoneStore {
    public var defersSync: Bool { false }
    public func syncCommits() throws(StorageError) {}
}

/// Everything the worker's database does, whichever database it is: the batches (``ZoneStore``),
/// the outbox for the dispatcher (``NotificationOutbox``) and for operators
/// (``NotificationOutboxAdministration``), and the dead-letter index (``DeadLetterIndex``).
/// What `StoreFactory.open` returns; nothing outside the storage targets names a store's type.
public protocol ZoneDatabase: ZoneStore, ProjectListReader, NotificationOutbox, NotificationOutboxAdministration, DeadLetterIndex {
    /// What the store is opened on, for logs: a file's path, or a URL without its password.
    var location: String { get }
    /// Whether several workers may apply batches to this one database at the same time
    /// (PostgreSQL); a SQLite file belongs to one worker (see docs/scaling.md).
    var allowsConcurrentWorkers: Bool { get }
    /// Closes the database; later calls fail.
    func close() throws(StorageError)
}

extension EventOutcome {
    /// The outcome of `event` whose source and id were applied before as `applied`: the same canonical
    /// content is a duplicate; other content a conflicting duplicate, the first one staying.
    public static func comparing(_ event: Event, withApplied applied: Event) -> EventOutcome {
        if applied.canonicalContent == event.canonicalContent { return .duplicate }
        return .conflictingDuplicate(ConflictingDuplicate(
            eventID: event.id, source: event.source, appliedFingerprint: applied.contentFingerprint,
            refusedFingerprint: event.contentFingerprint))
    }
}
