import LodeAMQP
import Logging
import ServiceLifecycle

/// A ``Worker`` as a long-running `Service` of a `ServiceGroup`: it connects and consumes, and on
/// graceful shutdown (SIGTERM, SIGINT) stops taking deliveries, finishes, commits and acknowledges
/// the batch in hand (``Worker/stop()``), then returns.
///
/// While it runs, ``Worker/watch()`` polls the queues and the outbox for the gauges and runs the
/// consumer watchdog, and ``Worker/followConnection()`` follows the consumer's connection (and
/// resubscribes when the broker cancels the subscription).
///
/// Cancellation (another service of the group failed) stops it the same way: the batch in hand is
/// never cut short. A failure to start throws the `AMQPError`.
public struct WorkerService: Service {
    public let worker: Worker
    private let logger: Logger
    /// Called once consuming has started (for the executable's log line, systemd's `READY=1`).
    private let onConsuming: @Sendable () -> Void
    /// Called once when shutdown begins, before the batch in hand is finished (systemd's `STOPPING=1`).
    private let onStopping: @Sendable () -> Void

    public init(worker: Worker, logger: Logger, onConsuming: @escaping @Sendable () -> Void = {},
                onStopping: @escaping @Sendable () -> Void = {}) {
        self.worker = worker
        self.logger = logger
        self.onConsuming = onConsuming
        self.onStopping = onStopping
    }

    public func run() async throws {
        try await worker.start()
        onConsuming()
        await withDiscardingTaskGroup { group in
            let worker = worker
            // Ends when the consumer closes, in stop().
            group.addTask { await worker.followConnection() }
            // The queue poll, the gauges and the consumer watchdog; ends when cancelled below.
            group.addTask { await worker.watch() }
            // Returns on graceful shutdown, throws on cancellation: either way, stop cleanly.
            try? await gracefulShutdown()
            logger.info("stopping: finishing the batch in hand")
            onStopping()
            worker.metrics.recordStopping()
            await worker.stop()
            group.cancelAll()
        }
    }
}
