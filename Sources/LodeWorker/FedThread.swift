import Dispatch
import Foundation
import Synchronization

/// A thread of its own that works through what is queued for it, started once and drained: what
/// the pipeline's thread (batches) and the sync thread (committed tickets) share. Its body takes
/// items with ``next(all:)`` and returns when that gives `nil`.
final class FedThread<Item: Sendable>: Sendable {
    private struct State {
        var items: [Item] = []
        var draining = false
        var started = false
        var exited = false
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    /// Signalled when an item arrives or draining starts.
    private let wakeup = DispatchSemaphore(value: 0)

    /// Runs `body` on a new thread named `name`, once; later calls do nothing.
    func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let first = state.withLock { state in
            defer { state.started = true }
            return !state.started
        }
        guard first else { return }
        let thread = Thread { [self] in
            body()
            let waiters = state.withLock { state in
                state.exited = true
                defer { state.exitWaiters.removeAll() }
                return state.exitWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
        thread.name = name
        thread.start()
    }

    /// Queues `item`; false (and nothing queued) once draining, when `refusedWhileDraining`.
    @discardableResult
    func submit(_ item: Item, refusedWhileDraining: Bool = false) -> Bool {
        let accepted = state.withLock { state in
            guard !(refusedWhileDraining && state.draining) else { return false }
            state.items.append(item)
            return true
        }
        if accepted { wakeup.signal() }
        return accepted
    }

    /// The oldest queued item (or, with `all`, every queued item), waiting for one; `nil` once
    /// draining and nothing is queued.
    func next(all: Bool) -> [Item]? {
        while true {
            let (items, draining) = state.withLock { state in
                guard !state.items.isEmpty else { return ([Item](), state.draining) }
                if all {
                    defer { state.items.removeAll() }
                    return (state.items, state.draining)
                }
                return ([state.items.removeFirst()], state.draining)
            }
            if !items.isEmpty { return items }
            if draining { return nil }
            wakeup.wait()
        }
    }

    var isDraining: Bool { state.withLock { $0.draining } }

    /// Takes every queued item out.
    func removeAll() -> [Item] {
        state.withLock { state in
            defer { state.items.removeAll() }
            return state.items
        }
    }

    /// Waits until `deadline`, or less when an item arrives or draining starts; false when it
    /// ended early.
    func wait(until deadline: DispatchTime) -> Bool {
        wakeup.wait(timeout: deadline) == .timedOut
    }

    /// Starts draining (the body's ``next(all:)`` gives `nil` once the queue is empty) and
    /// returns once the body has returned, or at once when the thread never started.
    func drain() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ended = state.withLock { state in
                state.draining = true
                let ended = state.exited || !state.started
                if !ended { state.exitWaiters.append(continuation) }
                return ended
            }
            if ended { continuation.resume() } else { wakeup.signal() }
        }
    }
}
