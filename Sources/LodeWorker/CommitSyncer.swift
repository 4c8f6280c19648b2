import Dispatch
import Foundation
import LodeAMQP
import LodeStorage
import Logging
import Synchronization

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
    private struct State {
        var committed: [BatchTicket] = []
        var draining = false
        var started = false
        var exited = false
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    /// Signalled when a batch is committed or draining starts.
    private let wakeup = DispatchSemaphore(value: 0)
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
        let first = state.withLock { state in
            defer { state.started = true }
            return !state.started
        }
        guard first else { return }
        let thread = Thread { [self] in
            while let tickets = nextCommitted() {
                let started = ContinuousClock.now
                do throws(StorageError) {
                    try store.syncCommits()
                } catch {
                    lost(error)
                    break
                }
                metrics.spent(ContinuousClock.now - started, in: .sync)
                for ticket in tickets { settle(ticket, .acknowledge) }
            }
            let waiters = state.withLock { state in
                state.exited = true
                defer { state.exitWaiters.removeAll() }
                return state.exitWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
        thread.name = "lode-worker-sync"
        thread.start()
    }

    /// A batch whose transactions have all returned: acknowledged after the next sync.
    func committed(_ ticket: BatchTicket) {
        state.withLock { $0.committed.append(ticket) }
        wakeup.signal()
    }

    /// Syncs and acknowledges what was committed, then ends the thread; returns once it ended.
    /// Call it after the pipeline's thread has ended, so nothing is committed after.
    func drain() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let exited = state.withLock { state in
                state.draining = true
                let ended = state.exited || !state.started
                if !ended { state.exitWaiters.append(continuation) }
                return ended
            }
            if exited { continuation.resume() } else { wakeup.signal() }
        }
    }

    /// Every batch committed since the last call, waiting for one; `nil` once draining and none is.
    private func nextCommitted() -> [BatchTicket]? {
        while true {
            let (tickets, draining) = state.withLock { state in
                defer { state.committed.removeAll() }
                return (state.committed, state.draining)
            }
            if !tickets.isEmpty { return tickets }
            if draining { return nil }
            wakeup.wait()
        }
    }
}
