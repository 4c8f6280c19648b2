import Synchronization
import AsyncHTTPClient
import Dispatch
import Foundation
import LodeNotifications
import Logging

/// Settings of the ``NotificationDispatcher``.
public struct DispatcherOptions: Sendable {
    /// How long one HTTP request may take, connect to last byte.
    public var requestTimeout: Duration = .seconds(10)
    /// A delivery still failing this long after it became pending is given up
    /// (`failed`, visible to operators).
    public var giveUpAfter: Duration = .seconds(24 * 3600)
    /// The wait before the first retry; it doubles per attempt up to `retryCap`, with jitter.
    public var retryBase: Duration = .seconds(1)
    public var retryCap: Duration = .seconds(600)
    /// How often the outbox is looked at when nothing is happening; it is looked at again as
    /// soon as a delivery finishes.
    public var pollInterval: Duration = .milliseconds(250)
    /// Deliveries sent at once, each of a different (rule, channel).
    public var concurrency = 8

    public init() {}

    /// The wait before attempt `attempts + 1`: capped exponential, between half and all of it.
    func retryDelay(afterAttempts attempts: Int) -> Duration {
        let base = Double(retryBase.components.seconds) + Double(retryBase.components.attoseconds) / 1e18
        let cap = Double(retryCap.components.seconds) + Double(retryCap.components.attoseconds) / 1e18
        let ceiling = min(cap, base * pow(2, Double(max(0, attempts - 1))))
        return .milliseconds(Int64(ceiling * 1000 * Double.random(in: 0.5...1)))
    }
}

/// Sends what the outbox holds to its channels, apart from the consumer: a webhook that hangs
/// or fails costs the worker's consume rate nothing, only this dispatcher's time, bounded by
/// ``DispatcherOptions/requestTimeout`` per request.
///
/// Each (rule, channel) has at most one delivery in flight and gets the rule's notifications in
/// order (``NotificationOutbox/dueDeliveries(now:limit:)``). A failure is retried with capped,
/// jittered exponential backoff until ``DispatcherOptions/giveUpAfter``; a channel that refuses
/// a request as it is (a bad token, a bad signature) fails it at once, since the same request
/// cannot succeed later.
public struct NotificationDispatcher: Sendable {
    let outbox: any NotificationOutbox
    let channels: [String: ChannelConfiguration]
    let options: DispatcherOptions
    let logger: Logger
    let counts = DispatchCounts()

    public init(outbox: any NotificationOutbox, channels: [ChannelConfiguration], options: DispatcherOptions = DispatcherOptions(),
                logger: Logger = Logger(label: "lode.notifications")) {
        self.outbox = outbox
        self.channels = Dictionary(channels.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.options = options
        self.logger = logger
    }

    /// What it has done since it started.
    public var totals: DispatchTotals { counts.value.withLock { $0 } }

    /// Sends until the task is cancelled; what is in flight then finishes or times out.
    public func run() async {
        let inFlight = InFlight()
        let wakeup = DispatchWakeup()
        // Discarding: a plain task group keeps every finished child until it is awaited, and
        // this loop never awaits them (the soak measured 0.5 MB a second of growth).
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let free = options.concurrency - inFlight.count
                if free > 0 {
                    let due: [OutboxDelivery]
                    do {
                        due = try await blocking { try outbox.dueDeliveries(now: Date(), limit: options.concurrency * 2) }
                    } catch {
                        logger.error("cannot read the outbox; trying again", metadata: ["error": "\(error)"])
                        due = []
                    }
                    for delivery in due.filter({ inFlight.claim($0) }).prefix(free) {
                        group.addTask {
                            await deliver(delivery)
                            inFlight.release(delivery)
                            wakeup.signal()
                        }
                    }
                }
                await wakeup.wait(upTo: options.pollInterval)
            }
        }
    }

    /// One attempt at one delivery, and its outcome written to the outbox.
    func deliver(_ delivery: OutboxDelivery) async {
        let notification = delivery.notification
        let metadata: Logger.Metadata = [
            "delivery": "\(delivery.id)", "rule": "\(notification.rule)", "channel": "\(delivery.channel)",
            "attempt": "\(delivery.attempts + 1)",
        ]
        // The list was read before this delivery was claimed: an attempt that ended in between
        // may have settled it already.
        guard (try? await blocking({ try outbox.isStillDue(delivery) })) == true else { return }
        let outcome: DeliveryOutcome
        if let channel = channels[delivery.channel] {
            outcome = await send(notification, on: channel)
        } else {
            outcome = .rejected("channel '\(delivery.channel)' is not in the config file any more")
        }
        let now = Date()
        do {
            switch outcome {
            case .delivered:
                try await blocking { try outbox.recordDelivered(delivery.id, at: now) }
                counts.value.withLock { $0.delivered += 1 }
                logger.info("notification delivered", metadata: metadata)
            case .retry(let reason) where now.timeIntervalSince(delivery.pendingSince) >= Double(options.giveUpAfter.components.seconds):
                try await blocking { try outbox.recordGivenUp(delivery.id, error: "gave up after retrying: \(reason)", at: now) }
                counts.value.withLock { $0.failed += 1 }
                logger.error("notification failed: gave up retrying", metadata: metadata.merging(["error": "\(reason)"]) { $1 })
            case .retry(let reason):
                let delay = options.retryDelay(afterAttempts: delivery.attempts + 1)
                let next = now.addingTimeInterval(Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
                try await blocking { try outbox.recordFailedAttempt(delivery.id, error: reason, at: now, nextAttemptAt: next) }
                counts.value.withLock { $0.retried += 1 }
                logger.warning("notification not delivered, retrying", metadata: metadata.merging([
                    "error": "\(reason)", "retry_in_ms": "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)",
                ]) { $1 })
            case .rejected(let reason):
                try await blocking { try outbox.recordGivenUp(delivery.id, error: "refused: \(reason)", at: now) }
                counts.value.withLock { $0.failed += 1 }
                logger.error("notification failed: the channel refused it; fix the channel, then `lodectl notifications retry \(delivery.id)`",
                             metadata: metadata.merging(["error": "\(reason)"]) { $1 })
            }
        } catch {
            // The outcome is not recorded: the delivery stays due and is sent again, which its
            // idempotency key makes harmless for a receiver that deduplicates.
            logger.error("cannot record a delivery's outcome", metadata: metadata.merging(["error": "\(error)"]) { $1 })
        }
    }

    /// Sends one notification on one channel; never throws: every failure is an outcome.
    func send(_ notification: ZoneNotification, on channel: ChannelConfiguration) async -> DeliveryOutcome {
        switch channel.delivery(of: notification, timestamp: Date(), idempotencyKey: notification.idempotencyKey) {
        case .log(let line):
            logger.notice("\(line)")
            return .delivered
        case .http(let prepared):
            var request = HTTPClientRequest(url: prepared.url)
            request.method = .init(rawValue: prepared.method)
            for header in prepared.headers { request.headers.add(name: header.name, value: header.value) }
            request.body = .bytes(prepared.body)
            do {
                let seconds = options.requestTimeout.components.seconds
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(max(1, seconds)))
                let body = try await response.body.collect(upTo: 64 * 1024)
                return channel.outcome(status: Int(response.status.code), body: Array(body.readableBytesView))
            } catch {
                // Transport errors name no URL (it may hold a robot's token): only what failed.
                return .retry(Self.describe(error))
            }
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return "HTTP client: \(error.shortDescription)" }
        return "\(type(of: error))"
    }

    /// Runs a blocking outbox call on a thread of Dispatch's, off the cooperative pool.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }
}

/// The dispatcher's totals since it started.
public struct DispatchTotals: Sendable, Hashable {
    public var delivered = 0
    public var retried = 0
    public var failed = 0
}

final class DispatchCounts: Sendable {
    let value = Mutex(DispatchTotals())
}

/// The deliveries being sent now, one per (rule, channel).
final class InFlight: Sendable {
    private let keys = Mutex<Set<String>>([])

    var count: Int { keys.withLock { $0.count } }

    private func key(_ delivery: OutboxDelivery) -> String { "\(delivery.notification.rule)\u{0}\(delivery.channel)" }

    func claim(_ delivery: OutboxDelivery) -> Bool { keys.withLock { $0.insert(key(delivery)).inserted } }

    func release(_ delivery: OutboxDelivery) { _ = keys.withLock { $0.remove(key(delivery)) } }
}
