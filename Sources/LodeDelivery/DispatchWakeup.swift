import Synchronization

/// Lets the dispatcher's loop sleep until its poll interval has passed or a delivery has
/// finished, whichever comes first: a rule's next notification can go out as soon as the one
/// before it is settled, instead of at the next poll (a backlog of one rule drained at four a
/// second with a 250 ms poll).
final class DispatchWakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Ends the current wait, or the next one at once if nobody is waiting.
    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns after `interval`, at a ``signal()``, or when the task is cancelled.
    func wait(upTo interval: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let signalled = self.state.withLock { state -> Bool in
                            if state.pending {
                                state.pending = false
                                return true
                            }
                            state.waiter = continuation
                            return false
                        }
                        if signalled { continuation.resume() }
                    }
                } onCancel: {
                    self.signal()
                }
            }
            group.addTask {
                try? await Task.sleep(for: interval)
                // Cancelled: the wait ended already, or the cancellation handler ends it.
                if !Task.isCancelled { self.signal() }
            }
            await group.next()
            group.cancelAll()
        }
    }
}
