import Foundation
import CRabbitMQ
import Glibc
import Synchronization

/// Bounds every blocking call into librabbitmq.
///
/// librabbitmq 0.11 sends with an infinite deadline and waits for RPC replies and message
/// content with the library's own timers, so a silent peer (a frozen broker, a dropped
/// network path, a full TCP window) can block a call forever. The owner thread arms the
/// watchdog before each call; if the call has not returned by the deadline the watchdog shuts
/// the socket down, which makes the blocked `poll`/`send`/`recv` fail at once. The owner
/// then sees a socket error and reports `.stalled`.
final class StallWatchdog: Sendable {
    private struct Target {
        var fd: Int32 = -1
        var fired = false
    }

    /// Monotonic deadline of the call in progress, 0 when none.
    private let deadline = Atomic<UInt64>(0)
    private let target = Mutex(Target())
    private let stopped = Atomic<Bool>(false)
    private let wakeup = DispatchSemaphore(value: 0)
    private let tick: Duration

    init(tick: Duration = .milliseconds(100)) {
        self.tick = tick
        let thread = Thread { [self] in self.watch() }
        thread.name = "lode-amqp-watchdog"
        thread.stackSize = 128 * 1024
        thread.start()
    }

    /// The socket to shut down when a call overruns; -1 detaches it before the owner closes it.
    func attach(fd: Int32) {
        target.withLock { $0 = Target(fd: fd) }
    }

    func detach() {
        deadline.store(0, ordering: .relaxed)
        target.withLock { $0 = Target() }
    }

    /// Runs `body` with the watchdog armed until `deadline` (monotonic ns).
    @inline(__always)
    func guarding<T>(_ until: UInt64, _ body: () throws -> T) rethrows -> T {
        deadline.store(until, ordering: .relaxed)
        defer { deadline.store(0, ordering: .relaxed) }
        return try body()
    }

    /// Whether the watchdog shut the socket down since it was attached.
    var fired: Bool { target.withLock { $0.fired } }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        wakeup.signal()
    }

    private func watch() {
        while !stopped.load(ordering: .relaxed) {
            _ = wakeup.wait(timeout: .now() + .nanoseconds(Int(tick.nanoseconds)))
            let due = deadline.load(ordering: .relaxed)
            guard due != 0, MonotonicClock.now() > due else { continue }
            target.withLock { target in
                // Re-check under the lock: the owner detaches before it closes the descriptor.
                let stillDue = deadline.load(ordering: .relaxed)
                guard target.fd >= 0, stillDue != 0, MonotonicClock.now() > stillDue else { return }
                Glibc.shutdown(target.fd, Int32(SHUT_RDWR))
                target.fired = true
            }
        }
    }
}
