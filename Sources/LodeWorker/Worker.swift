import LodeDeadLetters
import Dispatch
import Foundation
import LodeAMQP
import LodeEvents
import LodeStorage
import LodeWire
import Logging
import Synchronization

/// Settings of a `Worker`.
public struct WorkerOptions: Sendable {
    /// Unacknowledged deliveries the broker may send ahead (basic.qos). The worker takes up to
    /// half of them per batch, so the other half is on its way while a batch commits.
    public var prefetch: UInt16 = 1000
    /// A transaction closes once it holds this many events (a batch with more is committed in
    /// several transactions before its deliveries are acknowledged).
    public var transactionEvents = 5000
    /// ... or this long after its first delivery arrived: no delivery waits longer than this
    /// for its transaction to start.
    public var transactionWindow: Duration = .milliseconds(50)
    /// Message bytes one batch holds at most: bounds the worker's memory whatever the
    /// message size (at least one message is always taken).
    public var batchBytes = 1 << 20
    /// A notification still failing this long after it was recorded is marked failed.
    public var notificationGiveUp: Duration = .seconds(24 * 3600)
    /// Waits between retries when the store is unavailable.
    public var backoff = Backoff(base: .milliseconds(100), cap: .seconds(5))
    /// The consumer watchdog reconnects a consumer that got nothing for this long while
    /// `lode.work` had ready messages at every poll (see ``Worker/watch()``).
    public var stallTimeout: Duration = .seconds(30)

    /// How often ``Worker/watch()`` polls the queues and the outbox: every 5 s, or a third of
    /// ``stallTimeout`` when that is shorter (at least every 0.5 s), so a stall is seen on time.
    public var pollInterval: Duration {
        min(.seconds(5), max(.milliseconds(500), stallTimeout / 3))
    }

    public init() {}

    /// What the worker asks of its consumer: prefetch, batch limits and window.
    public var consumerOptions: ConsumerOptions {
        var options = ConsumerOptions()
        options.prefetch = prefetch
        options.maxBatch = max(1, min(transactionEvents, Int(prefetch) / 2))
        options.maxBatchBytes = batchBytes
        options.batchWindow = transactionWindow
        return options
    }
}

/// Totals since the worker started.
public struct WorkerCounts: Sendable, Hashable {
    public var deliveries = 0
    public var applied = 0
    public var duplicates = 0
    public var deadLettered = 0
    public var retried = 0
}

/// Consumes `lode.work` and applies each event exactly once: for every batch of deliveries, the
/// store's inbox, event log and projection change in one transaction; what cannot be applied is
/// published to `lode.dead` with a confirm; and only then are the deliveries acknowledged.
///
/// Everything happens on the consumer's own thread (its batch handler): the store is
/// synchronous, and a failure that is not the events' fault (database locked, disk full) is
/// retried there with capped backoff, which holds further deliveries back (prefetch) until it
/// passes. A crash anywhere loses nothing: unacknowledged deliveries come back, and the inbox
/// skips what was already applied.
public final class Worker: Sendable {
    let consumer: Consumer
    private let deadLetters: Publisher
    let store: any ZoneStore
    let options: WorkerOptions
    let logger: Logger
    private let counts = SharedCounts()
    let metrics = WorkerMetrics()
    public let settings: ConnectionSettings

    public init(settings: ConnectionSettings, store: any ZoneStore, options: WorkerOptions = WorkerOptions(),
                logger: Logger = Logger(label: "lode.worker")) {
        self.settings = settings
        self.store = store
        self.options = options
        self.logger = logger
        let deadLetters = Publisher(settings: settings, topology: ZoneTopology.topology, logger: logger)
        self.deadLetters = deadLetters
        let counts = counts, metrics = metrics
        consumer = Consumer(settings: settings, queue: ZoneTopology.workQueue, topology: ZoneTopology.topology,
                            options: options.consumerOptions, logger: logger) { deliveries, acknowledgements in
            Worker.handle(deliveries, acknowledgements, store: store, deadLetters: deadLetters,
                          options: options, counts: counts, metrics: metrics, logger: logger)
        }
    }

    /// Connects, declares the topology and starts consuming.
    public func start() async throws(AMQPError) {
        try await deadLetters.connect()
        try await consumer.start()
    }

    /// What the consumer reports (connection events, cancellations).
    public var events: AsyncStream<ConsumerEvent> { consumer.events }

    public var totals: WorkerCounts { counts.value.withLock { $0 } }

    /// Stops taking deliveries, lets the batch in hand finish (commit, dead letters, acks), and
    /// closes the connections.
    public func stop() async {
        try? await consumer.cancel()
        await consumer.close()
        await deadLetters.close()
    }

    private static func handle(_ deliveries: [Delivery], _ acknowledgements: Acknowledgements, store: any ZoneStore,
                               deadLetters: Publisher, options: WorkerOptions, counts: SharedCounts,
                               metrics: WorkerMetrics, logger: Logger) {
        metrics.read(deliveries)
        var decoded = DecodedDeliveries(deliveries)
        metrics.received(decoded)
        var outcomes: [EventOutcome] = []
        outcomes.reserveCapacity(decoded.events.count)
        var start = 0
        while start < decoded.events.count {
            let end = min(start + max(1, options.transactionEvents), decoded.events.count)
            let events = Array(decoded.events[start..<end])
            guard let outcome = durably("a batch", options: options, logger: logger, onRetry: {
                counts.value.withLock { $0.retried += 1 }
                metrics.retrying(decoded)
            }, { () throws(StorageError) in try metrics.applying { () throws(StorageError) in try store.apply(events) } }) else {
                // The store refuses the batch as a whole (damaged database, a bug): give the
                // deliveries back; what was committed already is skipped as duplicates later.
                metrics.requeued(decoded)
                acknowledgements.nackAll(deliveries, requeue: true)
                return
            }
            outcomes += outcome.outcomes
            start = end
        }
        let outcome = BatchOutcome(outcomes: outcomes)
        for (index, conflict) in outcome.conflicts {
            decoded.rejected.append((decoded.eventDelivery[index], Rejected(
                body: decoded.events[index].body, reason: "conflicting_duplicate", error: conflict.description,
                eventID: conflict.eventID)))
        }
        if !decoded.rejected.isEmpty {
            let messages = decoded.rejected.map {
                DeadLetter.message(for: $0.rejected, of: deliveries[$0.delivery], publisherUser: deadLetters.settings.user)
            }
            // The index row first, then the publish: a crash between leaves a row whose message
            // is not in lode.dead yet, and the deliveries unacknowledged; they come back, are
            // dead-lettered again under the same id (derived from reason and body) and published.
            // The other order could leave a dead letter acknowledged and published but missing
            // from `lodectl dlq list` until a sweep meets it.
            if let index = store as? any DeadLetterIndex, durably("the dead-letter index", options: options, logger: logger, {
                () throws(StorageError) in
                try index.recordDeadLetters(messages.map { DeadLetterMessage(properties: $0.properties, body: $0.body).record })
            }) == nil {
                metrics.requeued(decoded)
                acknowledgements.nackAll(deliveries, requeue: true)
                return
            }
            guard let report = publishBlocking(messages, with: deadLetters), report.allConfirmed else {
                logger.error("dead letters not confirmed; deliveries requeued")
                metrics.requeued(decoded)
                acknowledgements.nackAll(deliveries, requeue: true)
                return
            }
            for rejected in decoded.rejected {
                logger.warning("dead-lettered", metadata: [
                    "reason": "\(rejected.rejected.reason)", "event_id": "\(rejected.rejected.eventID ?? "-")",
                    "error": "\(rejected.rejected.error)",
                ])
            }
        }
        acknowledgements.ackAll(deliveries)
        metrics.finished(decoded, outcome)
        counts.value.withLock {
            $0.deliveries += deliveries.count
            $0.applied += outcome.applied
            $0.duplicates += outcome.duplicates
            $0.deadLettered += decoded.rejected.count
        }
    }

    /// Runs `write` on the store (`what` it writes, for the log), retrying with capped backoff
    /// while the store is unavailable (not the events' fault; `onRetry` before each wait). `nil`
    /// when the store refuses it for good; it then waits one backoff step too, so a damaged
    /// database does not spin through redeliveries.
    private static func durably<T>(_ what: String, options: WorkerOptions, logger: Logger, onRetry: () -> Void = {},
                                   _ write: () throws(StorageError) -> T) -> T? {
        var backoff = options.backoff
        while true {
            do throws(StorageError) {
                return try write()
            } catch where error.isRetryable {
                let delay = backoff.nextDelay()
                onRetry()
                logger.warning("store unavailable, retrying", metadata: [
                    "writing": "\(what)", "error": "\(error)", "retry_in_ms": "\(delay.milliseconds)",
                ])
                Thread.sleep(forTimeInterval: delay.seconds)
            } catch {
                logger.error("store refused \(what); deliveries requeued", metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: backoff.nextDelay().seconds)
                return nil
            }
        }
    }

    /// Publishes from the consumer's thread and waits for the confirms. The handler is synchronous
    /// by design (no thread switch per batch); this is the one place it waits for async work.
    private static func publishBlocking(_ messages: [OutgoingMessage], with publisher: Publisher) -> PublishReport? {
        let result = Mutex<PublishReport?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let report = try? await publisher.publish(messages)
            result.withLock { $0 = report }
            done.signal()
        }
        done.wait()
        return result.withLock { $0 }
    }
}

/// The worker's totals, shared between the consumer's thread and readers.
final class SharedCounts: Sendable {
    let value = Mutex(WorkerCounts())
}
