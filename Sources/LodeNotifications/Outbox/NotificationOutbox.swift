import Foundation

/// One notification to send on one channel, as the outbox holds it.
public struct OutboxDelivery: Sendable, Hashable {
    /// The delivery's number in the outbox (`lodectl notifications retry ID`).
    public var id: Int64
    public var channel: String
    public var notification: ZoneNotification
    /// Attempts made so far.
    public var attempts: Int
    /// When it became pending: recorded, or sent again by an operator. Retries stop some time
    /// after this.
    public var pendingSince: Date

    public init(id: Int64, channel: String, notification: ZoneNotification, attempts: Int, pendingSince: Date) {
        self.id = id
        self.channel = channel
        self.notification = notification
        self.attempts = attempts
        self.pendingSince = pendingSince
    }
}

/// Where a delivery stands.
public enum DeliveryState: String, Sendable, Hashable, CaseIterable {
    /// Not sent yet, or to be tried again.
    case pending
    case delivered
    /// Given up (retried for too long, or refused by the channel): an operator looks at it and
    /// may send it again (`lodectl notifications retry ID`).
    case failed
}

/// The outbox as the dispatcher sees it. The worker's store writes notifications into it in the
/// same transaction as the change that caused them; the dispatcher takes them out.
///
/// Calls block on the database: make them off the cooperative pool.
public protocol NotificationOutbox: Sendable {
    /// For each (rule, channel), its oldest pending delivery, if its next attempt is due at
    /// `now`: a later notification of a rule waits until the one before it is delivered or
    /// given up, so each channel gets a rule's notifications in order.
    func dueDeliveries(now: Date, limit: Int) throws -> [OutboxDelivery]
    /// Whether `delivery` is still pending as it was read (same attempts): false when another
    /// attempt settled it in the meantime, so it is not sent twice.
    func isStillDue(_ delivery: OutboxDelivery) throws -> Bool
    func recordDelivered(_ id: Int64, at time: Date) throws
    /// An attempt failed; the next one is due at `nextAttemptAt`.
    func recordFailedAttempt(_ id: Int64, error: String, at time: Date, nextAttemptAt: Date) throws
    /// No more attempts: the delivery is `failed` until an operator retries it.
    func recordGivenUp(_ id: Int64, error: String, at time: Date) throws
    /// How many notifications are in each state (pending counts those still queued too): the
    /// worker's `lode_worker_outbox_notifications` gauges.
    func outboxCounts() throws -> [DeliveryState: Int]
}
