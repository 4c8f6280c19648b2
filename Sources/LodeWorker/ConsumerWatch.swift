import Dispatch
import Foundation
import LodeAMQP
import LodeNotifications
import LodeStorage
import LodeWire
import Logging

extension Worker {
    /// Watches the queues and the consumer until the task is cancelled: every
    /// ``WorkerOptions/pollInterval`` it polls `lode.work` and `lode.dead` (a passive declare on
    /// a connection of its own, so consuming is never disturbed) and the outbox, sets the gauges,
    /// and runs the consumer watchdog.
    ///
    /// The watchdog: when the consumer is connected and subscribed, holds no batch, and
    /// `lode.work` had ready messages at every poll for ``WorkerOptions/stallTimeout`` while
    /// nothing arrived, the subscription is dead though the connection lives (a "zombie"
    /// consumer: a broker-side channel that hangs, a lost `basic.consume`). The worker logs it,
    /// counts it (`lode_worker_consumer_stalls_total`, `lode_worker_reconnects_total{cause=
    /// "consumer_stalled"}`) and reconnects the consumer: a new connection, the topology declared
    /// again, subscribed again. Unacknowledged deliveries of the old connection go back to the
    /// queue; the inbox makes any redelivery harmless.
    public func watch() async {
        var options = PublisherOptions()
        options.reconnectTimeout = .zero  // one attempt per poll: a broker outage must not hold the loop
        var connection = settings
        connection.connectionName = settings.connectionName.map { "\($0) (queue poll)" } ?? "lode-worker (queue poll)"
        var pollLogger = logger
        pollLogger[metadataKey: "connection"] = "queue poll"
        let poller = Publisher(settings: connection, options: options, logger: pollLogger)
        while !Task.isCancelled {
            await poll(with: poller)
            try? await Task.sleep(for: self.options.pollInterval)
        }
        await poller.close()
    }

    /// One round of ``watch()``.
    func poll(with poller: Publisher) async {
        do throws(AMQPError) {
            for name in WorkerMetrics.polledQueues {
                let queue = try await poller.inspectQueue(name)
                metrics.recordQueue(name, queue, at: Date())
            }
        } catch {
            // The consumer reports the outage itself; the gauges keep their last values.
            logger.debug("queue poll failed", metadata: ["error": "\(error)"])
        }
        if let outbox = store as? any NotificationOutbox {
            do {
                metrics.recordOutbox(try await Self.offThePool { try outbox.outboxCounts() })
            } catch {
                logger.debug("outbox count failed", metadata: ["error": "\(error)"])
            }
        }
        metrics.acknowledgeCPU(total: consumer.acknowledgeCPU)
        let timeout = options.stallTimeout
        let (age, stalled) = metrics.updateProgress(stallTimeout: timeout, at: Date())
        guard stalled, health.broker != .stopping else { return }
        let reason = "no deliveries for \(Int(timeout.seconds)) s while \(ZoneTopology.workQueue) had ready messages"
        logger.warning("consumer stalled; reconnecting", metadata: [
            "queue": "\(ZoneTopology.workQueue)", "waited_s": "\(Int(age))", "stall_timeout_s": "\(Int(timeout.seconds))",
        ])
        metrics.recordStall(reason)
        do {
            try await consumer.reconnect()
        } catch {
            logger.error("reconnecting the stalled consumer failed", metadata: ["error": "\(error)"])
        }
    }

    /// After the broker cancelled the subscription (`basic.cancel`: `lode.work` was deleted, or
    /// its leader moved away for good): declares the topology again (which re-creates the queue
    /// and its binding) and subscribes again on the same connection; when that fails, reconnects,
    /// which declares and subscribes with backoff until the broker accepts. Not while stopping.
    func resubscribe(afterCancelOf consumerTag: String) async {
        guard health.broker != .stopping else { return }
        logger.warning("broker cancelled the subscription; declaring the topology again and resubscribing", metadata: [
            "queue": "\(ZoneTopology.workQueue)", "consumer_tag": "\(consumerTag)",
        ])
        do {
            try await consumer.resume()
            metrics.recordResubscribed()
            logger.info("consuming again after the broker's cancel", metadata: ["queue": "\(ZoneTopology.workQueue)"])
        } catch {
            logger.warning("resubscribing failed; reconnecting", metadata: ["error": "\(error)"])
            do {
                try await consumer.reconnect()
            } catch {
                logger.error("reconnecting after the broker's cancel failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Runs a blocking store read on a global queue, off the cooperative pool.
    private static func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}
