import Foundation
import LodeAMQP

/// How the worker keeps up with `lode.work`: what it holds, and whether its queue has been
/// waiting on it. Pure state, fed by the batch handler and the queue poll; the age of the
/// oldest unapplied event and the zombie-consumer decision are read from it.
///
/// The broker cannot say how old the head of a queue is without taking the message (and a
/// `basic.get` would count a delivery against the queue's delivery limit), so the age is
/// measured from what the worker sees:
///
/// - while batches are in hand (read, not yet acknowledged or given back: one applying, the next
///   decoded behind it), the age of their oldest event: now − the oldest AMQP `timestamp` of
///   their deliveries (a delivery without one counts from when it was read). It grows while the
///   store is down and the worker holds its batches.
/// - otherwise, while polls keep seeing ready messages and nothing has arrived since the first
///   of them (``waitingSince``): now − that poll. A lower bound (the head was in the queue at
///   that poll at the latest), so a backlog the worker does not take (disconnected, a zombie
///   subscription) shows an age that grows, and a burst that arrives just before a poll shows
///   no false jump.
/// - otherwise 0: idle, or consuming as fast as events come.
public struct ConsumerProgress: Sendable, Hashable {
    /// The oldest publish time of each batch in hand, in the order they were read.
    public private(set) var batchesInHand: [Date] = []
    /// The oldest publish time of the batches in hand; `nil` when none is in hand.
    public var oldestInHand: Date? { batchesInHand.min() }
    /// The first poll that saw ready messages in the queue since the worker last read or
    /// finished a batch or (re)subscribed; `nil` when no such poll happened.
    public private(set) var waitingSince: Date?

    public init() {}

    /// A batch was read. `oldestPublished` is the oldest AMQP `timestamp` of its deliveries,
    /// `nil` when none has one.
    public mutating func batchRead(oldestPublished: Date?, at now: Date) {
        batchesInHand.append(min(oldestPublished ?? now, now))
        waitingSince = nil
    }

    /// The oldest batch in hand was acknowledged or given back. A batch that took long (a store
    /// that retried) does not count as time the queue waited on a consumer that gets nothing.
    public mutating func batchDone(at now: Date) {
        if !batchesInHand.isEmpty { batchesInHand.removeFirst() }
        waitingSince = nil
    }

    /// The consumer subscribed again (a new connection, a resumed subscription): the wait starts over.
    public mutating func subscribed() {
        waitingSince = nil
    }

    /// A poll of the queue found `ready` messages waiting.
    public mutating func polled(ready: Int, at now: Date) {
        if ready == 0 {
            waitingSince = nil
        } else if waitingSince == nil {
            waitingSince = now
        }
    }

    /// Seconds the oldest event not yet applied has waited, as described on the type; 0 when idle.
    public func oldestUnappliedAge(at now: Date) -> Double {
        if let oldestInHand { return max(0, now.timeIntervalSince(oldestInHand)) }
        if let waitingSince { return max(0, now.timeIntervalSince(waitingSince)) }
        return 0
    }

    /// Whether the subscription looks dead though the connection is up (a "zombie" consumer):
    /// the consumer is subscribed (`consuming`), holds no batch, and the queue has had ready
    /// messages at every poll for at least `timeout` while nothing arrived.
    public func isStalled(consuming: Bool, timeout: Duration, at now: Date) -> Bool {
        guard consuming, oldestInHand == nil, let waitingSince else { return false }
        return now.timeIntervalSince(waitingSince) >= timeout.seconds
    }
}

