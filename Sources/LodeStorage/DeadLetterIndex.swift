import Foundation

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

    /// The newest dead letters still in `lode.dead` as far as the index knows, at most `limit`,
    /// newest first: id, type, reason and first failure only (no bodies), for the status page.
    func recentDeadLetters(limit: Int) throws(StorageError) -> [(id: String, type: String?, reason: String, firstFailedAt: String)]
}
