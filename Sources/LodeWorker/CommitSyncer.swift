import Foundation
import LodeAMQP
import LodeStorage
import Logging

/// Makes the pipeline's commits durable, then acknowledges their batches, on a thread of its own:
/// for a store that defers its syncs (``ZoneStore/defersSync``). The pipeline's thread applies
/// and commits the next batch while this one waits for the fsync, so the wait no longer adds to
/// every batch. A sync covers every commit that returned before it began: the batches that
/// arrive during one sync share the next.
///
/// Batches are acknowledged in the order they were committed, each only after a sync that began
/// after its commit returned; a duplicate is never acknowledged before the event it duplicates is
/// durable. A sync that fails may have lost what it was to make durable, so nothing waiting is
/// acknowledged and `lost` is called (the worker stops at once; the deliveries come back).
final class CommitSyncer: Sendable {
    private let thread = FedThread<BatchTicket>()
    private let store: any ZoneStore
    private let metrics: WorkerMetrics
    private let settle: @Sendable (BatchTicket, BatchSettlement) -> Void
    private let lost: @Sendable (StorageError) -> Void

    init(store: any ZoneStore, metrics: WorkerMetrics, settle: @escaping @Sendable (BatchTicket, BatchSettlement) -> Void,
         lost: @escaping @Sendable (StorageError) -> Void) {
        self.store = store
        self.metrics = metrics
        self.settle = settle
        self.lost = lost
    }

    /// Starts the thread (once).
    func start() {
        thread.start(name: "lode-worker-sync") { [self] in
            // Every batch committed since the last sync: one sync covers them all.
            while let tickets = thread.next(all: true) {
                let started = ContinuousClock.now
                do throws(StorageError) {
                    try store.syncCommits()
                } catch {
                    lost(error)
                    return
                }
                metrics.spent(ContinuousClock.now - started, in: .sync)
                for ticket in tickets { settle(ticket, .acknowledge) }
            }
        }
    }

    /// A batch whose transactions have all returned: acknowledged after the next sync.
    func committed(_ ticket: BatchTicket) {
        thread.submit(ticket)
    }

    /// Syncs and acknowledges what was committed, then ends the thread; returns once it ended.
    /// Call it after the pipeline's thread has ended, so nothing is committed after.
    func drain() async {
        await thread.drain()
    }
}
