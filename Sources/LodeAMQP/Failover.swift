import Logging

/// The order in which a connection tries the brokers of a cluster: a pure value, told what
/// happened and asked what to try next (`BrokerDialer` drives it; the publisher and the
/// consumer each own one).
///
/// - The first connection tries the brokers in the order given: the first that answers is used.
/// - A lost connection makes the next round start at the broker after the one lost: the node
///   that just went away is tried last, and the others at once, without waiting.
/// - A round ends when each broker failed once; the caller then waits (its backoff) and
///   begins the next round, from the same place.
struct FailoverOrder: Sendable, Hashable {
    /// How many brokers there are (at least one).
    let count: Int
    /// The broker of the live connection, if any.
    private(set) var connected: Int?
    /// The broker a round begins with.
    private(set) var roundStart = 0
    /// Brokers tried in the current round.
    private(set) var triedInRound = 0

    init(brokers count: Int) {
        self.count = max(1, count)
    }

    /// The broker to try now, or `nil` when each one failed in this round (or a connection is
    /// live): wait, then ``beginRound()``.
    mutating func nextCandidate() -> Int? {
        guard connected == nil, triedInRound < count else { return nil }
        defer { triedInRound += 1 }
        return (roundStart + triedInRound) % count
    }

    /// Starts a new round of attempts, after the wait that followed a failed one.
    mutating func beginRound() {
        triedInRound = 0
    }

    /// `broker` answered: it is the live connection's.
    mutating func didConnect(to broker: Int) {
        connected = broker
        roundStart = broker
        triedInRound = 0
    }

    /// The live connection went away (or was dropped on purpose): the next round starts after
    /// its broker.
    mutating func didLose() {
        if let connected { roundStart = (connected + 1) % count }
        connected = nil
        triedInRound = 0
    }
}

/// Opens connections to the brokers of `settings` in ``FailoverOrder``, with capped backoff
/// between rounds: the connecting loop the publisher and the consumer share. Confined to its
/// owner thread, like the connections it opens.
struct BrokerDialer {
    let settings: ConnectionSettings
    private(set) var order: FailoverOrder
    var backoff: Backoff
    /// Connection attempts since the last success.
    private(set) var attempts = 0

    init(settings: ConnectionSettings, backoff: Backoff) {
        self.settings = settings
        order = FailoverOrder(brokers: settings.brokers.count)
        self.backoff = backoff
    }

    /// The broker of the live connection.
    var connectedBroker: BrokerEndpoint? { order.connected.map { settings.brokers[$0] } }

    /// One round: tries each broker the round has left until `open` succeeds on one. Returns its
    /// result, or the round's last failure. Throws at once an error that no other broker and no
    /// retry can fix (a refused login, a missing queue).
    mutating func round<T>(logger: Logger, _ open: (BrokerEndpoint) throws(AMQPError) -> T) throws(AMQPError) -> Result<T, AMQPError> {
        var last: AMQPError?
        while let index = order.nextCandidate() {
            attempts += 1
            let broker = settings.brokers[index]
            do throws(AMQPError) {
                let opened = try open(broker)
                order.didConnect(to: index)
                backoff.reset()
                attempts = 0
                return .success(opened)
            } catch where error.isRetryable {
                if settings.brokers.count > 1 {
                    logger.warning("broker did not answer; trying the next", metadata: [
                        "broker": "\(settings.redactedURL(of: broker))", "error": "\(error.reason)",
                    ])
                }
                last = error
            }
        }
        order.beginRound()
        return .failure(last ?? AMQPError(.unavailable(attempts: attempts, lastError: "no broker to try"),
                                          operation: "connecting", endpoint: settings.redactedURL))
    }

    /// Rounds, with backoff between them, until one connects; throws `.unavailable` once the
    /// next wait would pass `giveUpAt` (a `giveUpAt` already passed makes one round).
    mutating func connect<T>(until giveUpAt: UInt64, operation: String, logger: Logger,
                             _ open: (BrokerEndpoint) throws(AMQPError) -> T) throws(AMQPError) -> T {
        while true {
            let failure: AMQPError
            switch try round(logger: logger, open) {
            case .success(let opened): return opened
            case .failure(let error): failure = error
            }
            let delay = backoff.nextDelay()
            guard MonotonicClock.after(delay) < giveUpAt else {
                throw AMQPError(.unavailable(attempts: attempts, lastError: Self.summary(failure, brokers: settings.brokers.count)),
                                operation: operation, endpoint: settings.redactedURL)
            }
            logger.warning("connect failed, retrying", metadata: [
                "error": "\(failure)", "retry_in_ms": "\(delay.milliseconds)",
            ])
            _ = waitForWakeup(-1, until: MonotonicClock.after(delay))
        }
    }

    /// The connection to the broker in use went away: the next round starts after it.
    mutating func lost() {
        order.didLose()
    }

    /// What the last attempt met; with several brokers, on which one.
    static func summary(_ error: AMQPError, brokers: Int) -> String {
        brokers > 1 ? "\(error.operation) on \(error.endpoint): \(error.reason)" : "\(error.operation): \(error.reason)"
    }
}
