import CRabbitMQ
import Foundation
import Glibc
import Synchronization

/// The state confined to an owner thread: a connection and what is built on it.
protocol OwnedDriver: AnyObject, SendableMetatype {
    /// Called when the mailbox is empty: wait for broker input or for `wakeFD`, keeping the
    /// connection alive. Must return soon after `wakeFD` becomes readable.
    func idle(wakeFD: Int32)
    /// Called once, on the owner thread, before it exits.
    func finish()
}

/// A dedicated thread that owns one driver (and so one librabbitmq connection) and runs jobs
/// against it, one at a time, in the order they were posted.
///
/// librabbitmq is blocking and not thread-safe, and does nothing between calls; so each
/// connection gets a thread of its own that keeps calling it, and async callers reach it
/// through this mailbox. An eventfd wakes the thread out of its `poll` when a job arrives.
final class OwnerThread<Driver: OwnedDriver>: Sendable {
    typealias Job = @Sendable (Driver) -> Void

    private struct Mailbox {
        var jobs: [Job] = []
        var stopping = false
    }

    private let mailbox = Mutex(Mailbox())
    private let wakeFD: Int32
    /// When the thread last went round its loop (monotonic ns): ran its jobs or came back from
    /// `idle`. A driver's `idle` returns at least every second or so, so an old value means the
    /// thread is stuck in one call.
    private let lastTurn = Atomic<UInt64>(MonotonicClock.now())
    private let exited = DispatchSemaphore(value: 0)

    /// Starts the thread; `makeDriver` runs on it, so the driver never crosses threads.
    init(name: String, makeDriver: @escaping @Sendable (_ wakeFD: Int32) -> Driver) {
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        let wakeFD = wakeFD
        let thread = Thread { [self] in
            let driver = makeDriver(wakeFD)
            self.run(driver)
        }
        thread.name = name
        thread.start()
    }

    deinit {
        close(wakeFD)
    }

    /// How long ago the thread last went round its loop (see ``Consumer/sinceLastTurn``).
    var sinceLastTurn: Duration {
        let now = MonotonicClock.now(), last = lastTurn.load(ordering: .relaxed)
        return .nanoseconds(Int64(clamping: now > last ? now - last : 0))
    }

    /// Queues `job`; returns false when the thread is stopping and will not run it.
    @discardableResult
    func post(_ job: @escaping Job) -> Bool {
        let accepted = mailbox.withLock { mailbox in
            guard !mailbox.stopping else { return false }
            mailbox.jobs.append(job)
            return true
        }
        if accepted { wake() }
        return accepted
    }

    /// Runs `body` on the owner thread and returns its result.
    func perform<T: Sendable>(
        _ operation: String, endpoint: String, _ body: @escaping @Sendable (Driver) throws(AMQPError) -> T
    ) async throws(AMQPError) -> T {
        let result: Result<T, AMQPError> = await withCheckedContinuation { continuation in
            let accepted = post { driver in
                do throws(AMQPError) {
                    continuation.resume(returning: .success(try body(driver)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            if !accepted {
                continuation.resume(returning: .failure(AMQPError(.closed, operation: operation, endpoint: endpoint)))
            }
        }
        return try result.get()
    }

    /// Asks the thread to run the jobs already posted, then `finish()`, then end; does not wait.
    /// Returns false when it was asked before.
    @discardableResult
    func requestStop() -> Bool {
        let first = mailbox.withLock { mailbox in
            defer { mailbox.stopping = true }
            return !mailbox.stopping
        }
        if first { wake() }
        return first
    }

    /// Runs the jobs already posted, then `finish()`, then ends the thread; waits for that.
    func stop() async {
        guard requestStop() else { return }
        let exited = exited
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                exited.wait()
                continuation.resume()
            }
        }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    private func run(_ driver: Driver) {
        while true {
            lastTurn.store(MonotonicClock.now(), ordering: .relaxed)
            let (jobs, stopping) = mailbox.withLock { mailbox in
                defer { mailbox.jobs.removeAll(keepingCapacity: true) }
                return (mailbox.jobs, mailbox.stopping)
            }
            for job in jobs { job(driver) }
            if jobs.isEmpty {
                if stopping { break }
                driver.idle(wakeFD: wakeFD)
            }
        }
        driver.finish()
        exited.signal()
    }
}

/// Blocks the calling (owner) thread until `deadline` or until `wakeFD` is readable.
/// Returns true when woken.
func waitForWakeup(_ wakeFD: Int32, until deadline: UInt64) -> Bool {
    let now = MonotonicClock.now()
    let millis = deadline == .max ? -1 : (deadline <= now ? 0 : Int32(min((deadline - now) / 1_000_000 + 1, 60_000)))
    var fd = pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)
    let ready = poll(&fd, 1, millis)
    guard ready > 0 else { return false }
    var counter: UInt64 = 0
    _ = read(wakeFD, &counter, 8)
    return true
}
