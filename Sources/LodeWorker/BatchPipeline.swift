import Dispatch
import Foundation
import LodeAMQP
import LodeDeadLetters
import LodeStorage
import Logging
import Synchronization

/// One batch as the pipeline holds it: its deliveries, what decoding made of them, and the
/// consumer's ticket to settle it with.
struct DecodedBatch: Sendable {
    let ticket: BatchTicket
    let deliveries: [Delivery]
    let decoded: DecodedDeliveries
}

/// Applies the worker's batches, one after the other, on a thread of its own: the thin driver of
/// ``BatchStep``. It performs what the step asks (a transaction, the dead-letter index, a publish
/// to `lode.dead`, a wait, the acknowledgement) and tells the step what came of it.
///
/// The consumer's thread reads and decodes the next batch meanwhile (two cores: decoding overlaps
/// the commit), and keeps the connection's heartbeat while this thread waits on a failing store:
/// a store outage holds the batches in hand (the consumer reads nothing more) and never gives a
/// delivery back, so no delivery limit is spent on it.
final class BatchPipeline: Sendable {
    /// The pipeline's thread and its queue of decoded batches; draining: finish what is in hand
    /// while the store works, give up at the first wait.
    private let batches = FedThread<DecodedBatch>()
    private let store: any ZoneStore
    private let deadLetters: Publisher
    private let options: WorkerOptions
    private let metrics: WorkerMetrics
    private let counts: SharedCounts
    private let logger: Logger
    private let settle: @Sendable (BatchTicket, BatchSettlement) -> Void
    /// Whose `x-lode-*` headers a dead letter keeps: the worker's own user and the replay users.
    private let replayTrust: DeadLetterTrust
    /// For a store that defers its syncs: acknowledges each batch after the fsync that makes it
    /// durable, while this thread goes on with the next batch.
    private let syncer: CommitSyncer?

    /// `commitsLost`: a store that defers its syncs failed to sync (see ``CommitSyncer``).
    init(store: any ZoneStore, deadLetters: Publisher, options: WorkerOptions, metrics: WorkerMetrics,
         counts: SharedCounts, logger: Logger, settle: @escaping @Sendable (BatchTicket, BatchSettlement) -> Void,
         commitsLost: @escaping @Sendable (StorageError) -> Void) {
        syncer = store.defersSync ? CommitSyncer(store: store, metrics: metrics, settle: settle, lost: commitsLost) : nil
        self.store = store
        self.deadLetters = deadLetters
        self.options = options
        self.metrics = metrics
        self.counts = counts
        self.logger = logger
        self.settle = settle
        replayTrust = DeadLetterTrust(users: options.replayUsers + [deadLetters.settings.user])
    }

    /// Starts the pipeline's thread (once).
    func start() {
        syncer?.start()
        batches.start(name: "lode-worker-batches") { [self] in
            while let batch = batches.next(all: false)?.first { process(batch) }
        }
    }

    /// Queues a decoded batch (from the consumer's thread; the consumer hands over at most
    /// ``ConsumerOptions/batchesInHand`` unsettled batches, so the queue stays that short).
    func submit(_ batch: DecodedBatch) {
        if !batches.submit(batch, refusedWhileDraining: true) { settle(batch.ticket, .abandon) }
    }

    /// Finishes the batches in hand while the store takes them, gives up the rest at the first
    /// failure (their deliveries go back to the queue when the consumer's connection closes), and
    /// returns once the pipeline's thread has ended and what it committed is synced and
    /// acknowledged. A transaction already running is let finish.
    func drain() async {
        await batches.drain()
        await syncer?.drain()
    }

    // MARK: One batch

    private func process(_ batch: DecodedBatch) {
        var step = BatchStep(
            events: batch.decoded.events, eventDelivery: batch.decoded.eventDelivery, rejected: batch.decoded.rejected,
            transactionEvents: options.transactionEvents, backoff: options.backoff, seed: UInt64.random(in: 0...UInt64.max))
        var deadLetterMessages: [OutgoingMessage] = []
        var pause: PauseLog?
        while true {
            switch step.next() {
            case .apply(let range):
                let started = ContinuousClock.now, cpuStarted = ThreadCPUClock.now()
                do throws(StorageError) {
                    let outcome = try store.apply(Array(step.events[range]))
                    metrics.committed(in: ContinuousClock.now - started,
                                      cpu: .nanoseconds(Int64(clamping: ThreadCPUClock.now() &- cpuStarted)))
                    step.applied(outcome)
                } catch {
                    step.applyFailed(error)
                }
            case .recordDeadLetters:
                let started = ContinuousClock.now
                defer { metrics.spent(ContinuousClock.now - started, in: .deadLetters) }
                let user = deadLetters.settings.user
                let ownTrust = DeadLetterTrust(users: [user])
                deadLetterMessages = step.deadLetters.map { cause in
                    let delivery = batch.deliveries[cause.delivery]
                    return DeadLetter.message(for: cause.rejected, of: delivery, publisherUser: user,
                                              trustsHeaders: replayTrust.trusts(delivery.properties))
                }
                // The index row first, then the publish: a crash between leaves a row whose
                // message is not in lode.dead yet, and the deliveries unacknowledged; they come
                // back and are dead-lettered again under the same id (derived from reason and
                // body). The other order could leave a dead letter published and acknowledged
                // but missing from `lodectl dlq list` until a sweep meets it.
                if let index = store as? any DeadLetterIndex {
                    do throws(StorageError) {
                        try index.recordDeadLetters(deadLetterMessages.map {
                            DeadLetterMessage(properties: $0.properties, body: $0.body, trust: ownTrust).record
                        })
                        step.deadLettersRecorded()
                    } catch {
                        step.recordingFailed(error)
                    }
                } else {
                    step.deadLettersRecorded()
                }
            case .publishDeadLetters(let indexes):
                let started = ContinuousClock.now
                defer { metrics.spent(ContinuousClock.now - started, in: .deadLetters) }
                let report = Self.publishBlocking(indexes.map { deadLetterMessages[$0] }, with: deadLetters)
                step.published(report?.outcomes ?? [])
            case .wait(let delay):
                counts.value.withLock { $0.retried += 1 }
                if let reason = step.pause {
                    metrics.paused(reason, events: step.events[step.pendingTransaction], at: Date())
                    pause = PauseLog.note(reason, delay: delay, since: pause, logger: logger)
                }
                guard !batches.isDraining, sleep(delay) else {
                    abandon(batch, step: step)
                    return
                }
            case .acknowledge:
                if let syncer { syncer.committed(batch.ticket) } else { settle(batch.ticket, .acknowledge) }
                if let pause {
                    metrics.resumed()
                    pause.ended(logger: logger)
                }
                for cause in step.deadLetters {
                    logger.warning("dead-lettered", metadata: [
                        "reason": "\(cause.rejected.reason)", "event_id": "\(cause.rejected.eventID ?? "-")",
                        "error": "\(cause.rejected.error)",
                    ])
                }
                metrics.finished(step)
                let applied = step.outcomes.count { if case .applied? = $0 { true } else { false } }
                let duplicates = step.outcomes.count { $0 == .duplicate }
                counts.value.withLock {
                    $0.deliveries += batch.deliveries.count
                    $0.applied += applied
                    $0.duplicates += duplicates
                    $0.deadLettered += step.deadLetters.count
                }
            case .finished:
                return
            }
        }
    }

    /// Gives a batch up while stopping with the store (or the broker) failing: nothing is
    /// acknowledged, so the broker delivers its deliveries again once the connection closes; the
    /// batches queued behind it go the same way.
    private func abandon(_ batch: DecodedBatch, step: BatchStep) {
        let rest = batches.removeAll()
        for held in [batch] + rest {
            settle(held.ticket, .abandon)
            metrics.abandoned()
        }
        logger.warning("stopping while the store fails: batches given back to the queue unacknowledged", metadata: [
            "batches": "\(rest.count + 1)", "reason": "\(step.pause?.description ?? "stopping")",
        ])
    }

    /// Waits `delay` unless draining starts; returns false when it did.
    private func sleep(_ delay: Duration) -> Bool {
        let deadline = DispatchTime.now() + .nanoseconds(Int(clamping: delay.nanoseconds))
        while true {
            if batches.isDraining { return false }
            if batches.wait(until: deadline) { return !batches.isDraining }
            // Woken by a new batch or by draining: a new batch waits its turn; look again.
        }
    }

    /// Publishes from this thread and waits for the confirms; `nil` when the publisher failed
    /// outright (not connected within its timeout).
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

/// What the log says about a pause: the first failure at once (error), then a reminder at most
/// once a minute while it lasts, and how long it lasted when it ends.
private struct PauseLog {
    let started: ContinuousClock.Instant
    var lastLogged: ContinuousClock.Instant
    var attempts: Int

    static func note(_ reason: BatchStep.Pause, delay: Duration, since earlier: PauseLog?, logger: Logger) -> PauseLog {
        let now = ContinuousClock.now
        var metadata: Logger.Metadata = ["reason": "\(reason)", "retry_in_ms": "\(delay.milliseconds)"]
        guard var log = earlier else {
            if reason.storageError?.kind == .damaged {
                metadata["advice"] = "the database is damaged and will not heal by itself: restore it from a backup or point --db at a healthy copy; events stay in lode.work"
            }
            logger.error("paused: not taking deliveries until this passes; nothing is dead-lettered for it", metadata: metadata)
            return PauseLog(started: now, lastLogged: now, attempts: 1)
        }
        log.attempts += 1
        if now - log.lastLogged >= .seconds(60) {
            metadata["paused_s"] = "\(Int((now - log.started).seconds))"
            metadata["attempts"] = "\(log.attempts)"
            logger.warning("still paused", metadata: metadata)
            log.lastLogged = now
        }
        return log
    }

    func ended(logger: Logger) {
        logger.notice("resumed: the failure passed", metadata: [
            "paused_s": "\(String(format: "%.1f", (ContinuousClock.now - started).seconds))", "attempts": "\(attempts)",
        ])
    }
}
