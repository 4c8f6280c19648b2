import LodeDeadLetters
import Dispatch
import Foundation
import LodeAMQP
import LodeEvents
import LodePermissions
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
    /// message size (at least one message is always taken). 512 KiB (about 1,500 events of
    /// 343 bytes) applies as fast as 1 MiB did, with 7 MB less resident (docs/benchmarks.md).
    public var batchBytes = 512 << 10
    /// A notification still failing this long after it was recorded is marked failed.
    public var notificationGiveUp: Duration = .seconds(24 * 3600)
    /// Waits between retries when the store is unavailable.
    public var backoff = Backoff(base: .milliseconds(100), cap: .seconds(5))
    /// The consumer watchdog reconnects a consumer that got nothing for this long while
    /// `lode.work` had ready messages at every poll (see ``Worker/watch()``).
    public var stallTimeout: Duration = .seconds(30)
    /// Who may publish what (config `departments:`, contract section 6): every event whose
    /// message's `user_id` is not a department's that may send its type and source is
    /// dead-lettered as `unauthorized`. `nil`: any producer is accepted (a single-user install).
    public var departments: Departments?
    /// Broker users whose `x-lode-*` headers the worker believes on the messages it consumes
    /// (`lodectl dlq replay`'s: a replayed dead letter's attempts, first failure time and original
    /// publisher): config `broker_users.operators`. The worker's own user is always one. Anyone
    /// else's `x-lode-*` headers are dropped from the dead letters it makes.
    public var replayUsers: [String] = []

    /// How often ``Worker/watch()`` polls the queues and the outbox: every 5 s, or a third of
    /// ``stallTimeout`` when that is shorter (at least every 0.5 s), so a stall is seen on time.
    public var pollInterval: Duration {
        min(.seconds(5), max(.milliseconds(500), stallTimeout / 3))
    }

    public init() {}

    /// What the worker asks of its consumer: prefetch, batch limits and window. Two batches in
    /// hand (one decoded while the other is applied), three with a store that defers its syncs
    /// (``ZoneStore/defersSync``: one more waits for its fsync); the prefetch is shared among them.
    public func consumerOptions(syncing: Bool = false) -> ConsumerOptions {
        var options = ConsumerOptions()
        options.prefetch = prefetch
        options.batchesInHand = syncing ? 3 : 2
        options.maxBatch = max(1, min(transactionEvents, Int(prefetch) / options.batchesInHand))
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
    /// Waits after a failure that was not the events' fault (each followed by a retry).
    public var retried = 0
}

/// Consumes `lode.work` and applies each event exactly once: for every batch of deliveries, the
/// store's inbox, event log and projection change in one transaction; what cannot be applied is
/// published to `lode.dead` with a confirm; and only then are the deliveries acknowledged.
///
/// Two threads share the work. The consumer's thread reads a batch, decodes and validates it,
/// and hands it to the ``BatchPipeline``'s thread, which applies it (``BatchStep`` decides every
/// step) while the consumer reads and decodes the next one. At most two batches are in hand; then
/// the consumer reads nothing more and only keeps the heartbeat. A failure that is not the
/// events' fault (database locked, full, read-only, damaged; dead letters not confirmed) pauses
/// the pipeline with capped backoff and holds the batches: nothing is given back or
/// dead-lettered for it, the connection stays up, `/healthz` says why. A crash anywhere loses
/// nothing: unacknowledged deliveries come back, and the inbox skips what was already applied.
public final class Worker: Sendable {
    let consumer: Consumer
    private let deadLetters: Publisher
    private let pipeline: BatchPipeline
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
        let metrics = metrics
        // The pipeline settles through the consumer, which is made after it.
        let settler = Settler()
        let pipeline = BatchPipeline(store: store, deadLetters: deadLetters, options: options, metrics: metrics,
                                     counts: counts, logger: logger, settle: { ticket, settlement in
            settler.consumer.withLock { $0 }?.settle(ticket, settlement)
        }, commitsLost: { error in
            // Like PostgreSQL's PANIC on a failed fsync: the written pages may be gone while
            // reads still see them, so carrying on could acknowledge events that are not on disk.
            // Stop with nothing acknowledged; the deliveries come back to whoever consumes next.
            logger.critical("the store could not make its commits durable: stopping at once, nothing unsynced acknowledged", metadata: [
                "error": "\(error)",
                "advice": "check the disk (dmesg); the unacknowledged deliveries stay in lode.work; after a disk error restore the database from a backup and rebuild",
            ])
            exit(74)
        })
        self.pipeline = pipeline
        consumer = Consumer(settings: settings, queue: ZoneTopology.workQueue, topology: ZoneTopology.topology,
                            options: options.consumerOptions(syncing: store.defersSync), logger: logger, receiver: { batch in
            metrics.read(batch.deliveries)
            let started = ThreadCPUClock.now()
            let decoded = DecodedDeliveries(batch.deliveries, departments: options.departments)
            metrics.spent(.nanoseconds(Int64(clamping: ThreadCPUClock.now() &- started)), in: .decode)
            metrics.spent(batch.receiveCPU, in: .receive)
            metrics.received(decoded)
            pipeline.submit(DecodedBatch(ticket: batch.ticket, deliveries: batch.deliveries, decoded: decoded))
        })
        settler.consumer.withLock { $0 = consumer }
    }

    /// Connects, declares the topology and starts consuming.
    public func start() async throws(AMQPError) {
        pipeline.start()
        try await deadLetters.connect()
        try await consumer.start()
    }

    /// What the consumer reports (connection events, cancellations).
    public var events: AsyncStream<ConsumerEvent> { consumer.events }

    public var totals: WorkerCounts { counts.value.withLock { $0 } }

    /// Stops taking deliveries; finishes, commits and acknowledges the batches in hand while the
    /// store takes them, or gives them back unacknowledged at once when it fails (they are
    /// delivered again after the connection closes); then closes the connections.
    public func stop() async {
        try? await consumer.cancel()
        await pipeline.drain()
        await consumer.close()
        await deadLetters.close()
    }
}

/// Lets the pipeline reach the consumer that feeds it (made after the pipeline).
private final class Settler: Sendable {
    let consumer = Mutex<Consumer?>(nil)
}

/// The worker's totals, shared between the consumer's thread and readers.
final class SharedCounts: Sendable {
    let value = Mutex(WorkerCounts())
}
