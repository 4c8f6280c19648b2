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
    /// Deliveries in hand at most (basic.qos); also the most handed to one store transaction.
    public var prefetch: UInt16 = 500
    public var backoff = Backoff(base: .milliseconds(100), cap: .seconds(5))

    public init() {}
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
    private let consumer: Consumer
    private let deadLetters: Publisher
    private let counts = SharedCounts()
    let metrics = WorkerMetrics()
    public let settings: ConnectionSettings

    public init(settings: ConnectionSettings, store: any ZoneStore, options: WorkerOptions = WorkerOptions(),
                logger: Logger = Logger(label: "lode.worker")) {
        self.settings = settings
        let deadLetters = Publisher(settings: settings, topology: ZoneTopology.topology, logger: logger)
        self.deadLetters = deadLetters
        var consumerOptions = ConsumerOptions()
        consumerOptions.prefetch = options.prefetch
        consumerOptions.maxBatch = Int(options.prefetch)
        let counts = counts, metrics = metrics
        consumer = Consumer(settings: settings, queue: ZoneTopology.workQueue, topology: ZoneTopology.topology,
                            options: consumerOptions, logger: logger) { deliveries, acknowledgements in
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
        var decoded = DecodedDeliveries(deliveries)
        metrics.received(decoded)
        var backoff = options.backoff
        var outcome: BatchOutcome?
        while outcome == nil {
            do throws(StorageError) {
                outcome = try metrics.applying { () throws(StorageError) in try store.apply(decoded.events) }
            } catch where error.isRetryable {
                // Not the events' fault: wait and try again; the deliveries stay in hand.
                let delay = backoff.nextDelay()
                counts.value.withLock { $0.retried += 1 }
                metrics.retrying(decoded)
                logger.warning("store unavailable, retrying", metadata: [
                    "error": "\(error)", "retry_in_ms": "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)",
                ])
                Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
            } catch {
                // The store refuses the batch as a whole (damaged database, a bug): give the
                // deliveries back and stop this batch; nothing is lost.
                logger.error("store refused a batch; deliveries requeued", metadata: ["error": "\(error)"])
                metrics.requeued(decoded)
                for delivery in deliveries { acknowledgements.nack(delivery.tag, requeue: true) }
                return
            }
        }
        for (index, conflict) in outcome!.conflicts {
            decoded.rejected.append((decoded.eventDelivery[index], Rejected(
                body: decoded.events[index].body, reason: "conflicting_duplicate", error: conflict.description,
                eventID: conflict.eventID)))
        }
        if !decoded.rejected.isEmpty {
            let messages = decoded.rejected.map { deadLetter($0.rejected, of: deliveries[$0.delivery]) }
            guard let report = publishBlocking(messages, with: deadLetters), report.allConfirmed else {
                logger.error("dead letters not confirmed; deliveries requeued")
                metrics.requeued(decoded)
                for delivery in deliveries { acknowledgements.nack(delivery.tag, requeue: true) }
                return
            }
            for rejected in decoded.rejected {
                logger.warning("dead-lettered", metadata: [
                    "reason": "\(rejected.rejected.reason)", "event_id": "\(rejected.rejected.eventID ?? "-")",
                    "error": "\(rejected.rejected.error)",
                ])
            }
        }
        for delivery in deliveries { acknowledgements.ack(delivery.tag) }
        metrics.finished(decoded, outcome!)
        counts.value.withLock {
            $0.deliveries += deliveries.count
            $0.applied += outcome!.applied
            $0.duplicates += outcome!.duplicates
            $0.deadLettered += decoded.rejected.count
        }
    }

    /// The dead letter of the contract: the original body (of the event, or of the whole message)
    /// and properties, with the `x-lode-*` headers.
    static func deadLetter(_ rejected: Rejected, of delivery: Delivery) -> OutgoingMessage {
        var properties = delivery.properties
        var headers = properties.headers ?? FieldTable()
        headers["x-lode-reason"] = .string(rejected.reason)
        headers["x-lode-error"] = .string(String(rejected.error.prefix(4000)))
        headers["x-lode-attempts"] = .int32(Int32(clamping: (headers["x-delivery-count"]?.integerValue ?? 0) + 1))
        headers["x-lode-first-failed-at"] = .string(Date().ISO8601Format())
        if let id = rejected.eventID { headers["x-lode-event-id"] = .string(String(id.prefix(255))) }
        properties.headers = headers
        properties.deliveryMode = 2
        if rejected.body != delivery.body {
            // One event out of a batch: it travels as a single event now.
            properties.contentType = MessageFormat.singleContentType
            properties.messageID = rejected.eventID.map { String($0.prefix(255)) } ?? properties.messageID
        }
        return OutgoingMessage(exchange: "", routingKey: ZoneTopology.deadLetterQueue, body: rejected.body,
                               properties: properties, mandatory: true)
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
