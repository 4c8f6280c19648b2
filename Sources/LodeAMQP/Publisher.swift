import CRabbitMQ
import Logging

/// Settings of a `Publisher`.
public struct PublisherOptions: Sendable {
    /// Messages in flight (published, not yet confirmed) at most.
    public var window: Int = 1000
    /// Give up on a batch when no confirm arrives for this long.
    public var confirmTimeout: Duration = .seconds(30)
    /// Give up on a batch when the broker keeps the connection blocked this long.
    public var blockedTimeout: Duration = .seconds(30)
    /// How long `publish` keeps trying to (re)connect before it throws `.unavailable`;
    /// zero makes one attempt.
    public var reconnectTimeout: Duration = .seconds(30)
    public var backoff = Backoff()

    public init() {}
}

/// Publishes with publisher confirms over a connection of its own, and declares and inspects
/// topology.
///
/// Each `publish` call sends its messages with up to `window` in flight, and returns only when
/// each one is settled: confirmed, nacked, returned, or, when the connection fails or the
/// broker blocks it too long, reported `.unconfirmed`. A failed connection is re-established
/// (with capped, jittered backoff, topology re-declared and confirm mode re-enabled) by the
/// next call. Between calls the owner thread keeps the heartbeat and watches for
/// `connection.blocked`, so an idle publisher stays connected.
public final class Publisher: Sendable {
    private let owner: OwnerThread<PublisherDriver>
    public let settings: ConnectionSettings
    /// Connection events; buffered (newest 64) when nobody reads them.
    public let events: AsyncStream<ConnectionEvent>

    public init(settings: ConnectionSettings, topology: Topology = Topology(), options: PublisherOptions = PublisherOptions(),
                logger: Logger = Logger(label: "lode.amqp.publisher")) {
        self.settings = settings
        let (events, continuation) = AsyncStream<ConnectionEvent>.makeStream(bufferingPolicy: .bufferingNewest(64))
        self.events = events
        owner = OwnerThread(name: "lode-amqp-publisher") { wakeFD in
            PublisherDriver(settings: settings, topology: topology, options: options, logger: logger,
                            events: continuation, wakeFD: wakeFD)
        }
    }

    /// Connects now (publishing would connect anyway); throws when the broker can't be reached
    /// within `reconnectTimeout`.
    public func connect() async throws(AMQPError) {
        try await owner.perform("connecting", endpoint: settings.redactedURL) { driver throws(AMQPError) in
            _ = try driver.connected()
        }
    }

    /// Publishes `messages` and reports what became of each. Throws only when nothing was sent:
    /// the broker is unreachable, or a message breaks an AMQP limit (`.invalidMessage`); every
    /// later failure is in the report.
    public func publish(_ messages: [OutgoingMessage]) async throws(AMQPError) -> PublishReport {
        try await owner.perform("publishing", endpoint: settings.redactedURL) { driver throws(AMQPError) in
            try driver.publish(messages)
        }
    }

    /// Declares exchanges, queues and bindings (also re-declared after every reconnect if they
    /// were given at `init`).
    public func declare(_ topology: Topology) async throws(AMQPError) {
        try await owner.perform("declaring topology", endpoint: settings.redactedURL) { driver throws(AMQPError) in
            try driver.connected().declare(topology)
        }
    }

    /// The counts of a queue (passive declare), or `nil` when it does not exist.
    public func inspectQueue(_ name: String) async throws(AMQPError) -> QueueState? {
        try await owner.perform("inspecting a queue", endpoint: settings.redactedURL) { driver throws(AMQPError) in
            try driver.connected().inspectQueue(name)
        }
    }

    /// Deletes a queue and returns how many messages it held.
    @discardableResult
    public func deleteQueue(_ name: String) async throws(AMQPError) -> Int {
        try await owner.perform("deleting a queue", endpoint: settings.redactedURL) { driver throws(AMQPError) in
            try driver.connected().deleteQueue(name)
        }
    }

    /// Removes every ready message of a queue and returns how many.
    @discardableResult
    public func purgeQueue(_ name: String) async throws(AMQPError) -> Int {
        try await owner.perform("purging a queue", endpoint: settings.redactedURL) { driver throws(AMQPError) in
            try driver.connected().purgeQueue(name)
        }
    }

    /// The heartbeat negotiated with the broker, and the one librabbitmq itself runs (always 0:
    /// see `AMQPConnection`); `nil` when not connected.
    public func heartbeats() async -> (negotiated: Int, library: Int)? {
        try? await owner.perform("reading heartbeat", endpoint: settings.redactedURL) { driver in
            driver.connection.map { (negotiated: $0.heartbeat, library: Int(amqp_get_heartbeat($0.state))) }
        }
    }

    /// Drops the connection (nothing in flight is waited for); the next call opens a new one,
    /// starting with the next broker of the URL list. For a connection that lives but is refused
    /// everything (a channel whose quorum queue still points at a leader that has gone).
    public func reconnect() async {
        _ = try? await owner.perform("reconnecting", endpoint: settings.redactedURL) { driver in driver.drop() }
    }

    /// The broker of the live connection (of the URL list, the one that answered), as a URL
    /// without the password; `nil` when not connected.
    public func connectedBroker() async -> String? {
        try? await owner.perform("reading the broker", endpoint: settings.redactedURL) { driver in
            driver.connection.map(\.endpoint)
        }
    }

    /// Closes the connection and ends the owner thread.
    public func close() async {
        await owner.stop()
    }

    /// Without `close()`, the owner thread still closes the connection and ends, in the background.
    deinit {
        owner.requestStop()
    }
}

/// The publisher's state, confined to its owner thread.
final class PublisherDriver: OwnedDriver {
    let settings: ConnectionSettings
    let topology: Topology
    let options: PublisherOptions
    let logger: Logger
    let events: AsyncStream<ConnectionEvent>.Continuation
    let wakeFD: Int32
    let watchdog = StallWatchdog()
    private(set) var connection: AMQPConnection?
    /// The channel generation on which confirm mode was enabled.
    private var confirmedGeneration = -1
    private var nextSequence: UInt64 = 1
    private var blocked: (since: UInt64, reason: String)?
    /// Which broker of the list to connect to, and the backoff between rounds.
    private var dialer: BrokerDialer

    init(settings: ConnectionSettings, topology: Topology, options: PublisherOptions, logger: Logger,
         events: AsyncStream<ConnectionEvent>.Continuation, wakeFD: Int32) {
        self.settings = settings
        self.topology = topology
        self.options = options
        self.logger = logger
        self.events = events
        self.wakeFD = wakeFD
        dialer = BrokerDialer(settings: settings, backoff: options.backoff)
    }

    func idle(wakeFD: Int32) {
        guard let connection else {
            _ = waitForWakeup(wakeFD, until: .max)
            return
        }
        do throws(AMQPError) {
            while true {
                switch try connection.nextMethod(until: MonotonicClock.after(.seconds(1)), wakeFD: wakeFD) {
                case .method(let method): try handleUnsolicited(method)
                case .timeout, .woken: return
                }
                connection.releaseBuffers()
            }
        } catch {
            lose(error)
        }
    }

    func finish() {
        connection?.close()
        connection = nil
        watchdog.stop()
        events.finish()
    }

    /// The live connection, connecting first if needed.
    func connected() throws(AMQPError) -> AMQPConnection {
        if let connection, connection.failure == nil {
            if !connection.isChannelOpen { try connection.openChannel() }
            if connection.channelGeneration != confirmedGeneration {
                try connection.selectConfirms()
                confirmedGeneration = connection.channelGeneration
                nextSequence = 1
            }
            return connection
        }
        if connection != nil {
            connection = nil
            dialer.lost()
        }
        let fresh = try dialer.connect(until: MonotonicClock.after(options.reconnectTimeout), operation: "connecting",
                                       logger: logger) { [settings, watchdog, topology] broker throws(AMQPError) in
            let fresh = try AMQPConnection.open(settings, broker: broker, watchdog: watchdog)
            do throws(AMQPError) {
                try fresh.declare(topology)
                try fresh.selectConfirms()
            } catch {
                fresh.abort()
                throw error
            }
            return fresh
        }
        connection = fresh
        confirmedGeneration = fresh.channelGeneration
        nextSequence = 1
        blocked = nil
        logger.info("connected", metadata: ["broker": "\(fresh.endpoint)", "heartbeat": "\(fresh.heartbeat)"])
        events.yield(.connected(heartbeat: fresh.heartbeat))
        return fresh
    }

    func publish(_ messages: [OutgoingMessage]) throws(AMQPError) -> PublishReport {
        var batch = ConfirmBatch(messages: messages)
        guard !messages.isEmpty else { return batch.report }
        for (index, message) in messages.enumerated() {
            if let problem = message.shortStringViolation() {
                throw AMQPError(.invalidMessage(index: index, reason: problem), operation: "publishing",
                                endpoint: settings.redactedURL)
            }
        }
        let connection = try connected()
        batch.firstSequence = nextSequence
        let window = max(1, options.window)
        let confirmLimit = UInt64(options.confirmTimeout.nanoseconds)
        var lastProgress = MonotonicClock.now()
        do throws(AMQPError) {
            if blocked != nil { try waitWhileBlocked(connection) }
            var sinceCheck = 0
            while !batch.isSettled {
                try connection.corked { () throws(AMQPError) in
                    while batch.sent < messages.count && batch.inFlight < window && blocked == nil {
                        try send(messages[batch.sent], on: connection)
                        batch.sent += 1
                        nextSequence += 1
                        sinceCheck += 1
                        if sinceCheck == 256 { break }
                    }
                }
                // Wait when nothing more may be sent; otherwise (every 256 messages) only look at
                // what already arrived, to notice confirms, blocks and closes early.
                let mustWait = batch.sent == messages.count || batch.inFlight >= window || blocked != nil
                sinceCheck = 0
                let deadline: UInt64
                if !mustWait {
                    deadline = 0
                } else if let blocked {
                    deadline = blocked.since &+ UInt64(options.blockedTimeout.nanoseconds)
                } else {
                    deadline = lastProgress &+ confirmLimit
                }
                var arrival = try connection.nextMethod(until: deadline)
                while true {
                    if case .method(let method) = arrival {
                        if try handle(method, in: &batch, connection: connection) { lastProgress = MonotonicClock.now() }
                    }
                    guard connection.hasBufferedInput else { break }
                    arrival = try connection.nextMethod(until: 0)
                }
                connection.releaseBuffers()
                if mustWait, case .timeout = arrival {
                    let now = MonotonicClock.now()
                    if let blocked, now >= deadline {
                        throw AMQPError(.blocked(reason: blocked.reason), operation: "publishing", endpoint: settings.redactedURL)
                    }
                    if blocked == nil, now &- lastProgress >= confirmLimit {
                        throw AMQPError(.confirmTimeout(seconds: options.confirmTimeout.seconds),
                                        operation: "waiting for publisher confirms", endpoint: settings.redactedURL)
                    }
                }
            }
        } catch {
            // What was sent and not settled is unconfirmed; the connection is dropped so that
            // no late confirm can be mistaken for one of a later batch.
            batch.interruption = error
            lose(error)
        }
        return batch.report
    }

    private func send(_ message: OutgoingMessage, on connection: AMQPConnection) throws(AMQPError) {
        let arena = connection.arena
        defer { arena.reset() }
        var properties = message.properties.cProperties(in: arena)
        let exchange = arena.bytes(message.exchange)
        let routingKey = arena.bytes(message.routingKey)
        let sent = message.body.withUnsafeBytes { body in
            let bytes = amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress))
            return Result { () throws(AMQPError) in
                try connection.publish(exchange: exchange, routingKey: routingKey, mandatory: message.mandatory,
                                       properties: &properties, body: bytes)
            }
        }
        try sent.get()
    }

    /// Applies one incoming method to the batch; returns whether a confirm arrived.
    private func handle(_ method: IncomingMethod, in batch: inout ConfirmBatch, connection: AMQPConnection) throws(AMQPError) -> Bool {
        switch method {
        case .ack(let tag, let multiple):
            batch.settle(tag: tag, multiple: multiple, as: .confirmed)
            return true
        case .nack(let tag, let multiple):
            batch.settle(tag: tag, multiple: multiple, as: .nacked)
            return true
        case .returned(let code, let text, let exchange, let routingKey):
            let (properties, body) = try connection.readContent()
            if !batch.markReturned(exchange: exchange, routingKey: routingKey, body: body,
                                   messageID: properties.messageID, code: code, text: text) {
                logger.warning("returned message matches nothing in flight", metadata: [
                    "exchange": "\(exchange)", "routing_key": "\(routingKey)", "reply": "\(code) \(text)",
                ])
            }
            return false
        default:
            try handleUnsolicited(method)
            return false
        }
    }

    private func handleUnsolicited(_ method: IncomingMethod) throws(AMQPError) {
        switch method {
        case .blocked(let reason):
            blocked = (MonotonicClock.now(), reason)
            logger.warning("broker blocked the connection", metadata: ["reason": "\(reason)"])
            events.yield(.blocked(reason: reason))
        case .unblocked:
            blocked = nil
            logger.info("broker unblocked the connection")
            events.yield(.unblocked)
        case .returned:
            _ = try connection?.readContent()
        default:
            break
        }
    }

    private func waitWhileBlocked(_ connection: AMQPConnection) throws(AMQPError) {
        while let current = blocked {
            let deadline = current.since &+ UInt64(options.blockedTimeout.nanoseconds)
            if MonotonicClock.now() >= deadline {
                throw AMQPError(.blocked(reason: current.reason), operation: "publishing", endpoint: settings.redactedURL)
            }
            if case .method(let method) = try connection.nextMethod(until: deadline) { try handleUnsolicited(method) }
        }
    }

    /// Drops the live connection on purpose: ``Publisher/reconnect()``.
    func drop() {
        guard let connection else { return }
        logger.info("dropping the connection; the next publish reconnects", metadata: ["broker": "\(connection.endpoint)"])
        connection.abort()
        self.connection = nil
        dialer.lost()
        blocked = nil
    }

    private func lose(_ error: AMQPError) {
        logger.warning("connection lost", metadata: ["error": "\(error)"])
        connection?.abort()
        connection = nil
        dialer.lost()
        blocked = nil
        events.yield(.connectionLost(error))
    }
}

/// Bookkeeping of one publish call: which sequence numbers are settled, and how.
struct ConfirmBatch {
    let messages: [OutgoingMessage]
    var outcomes: [PublishOutcome]
    var settledFlags: [Bool]
    var firstSequence: UInt64 = 1
    var sent = 0
    var settledCount = 0
    /// Every index below this is settled.
    var lowestUnsettled = 0
    var interruption: AMQPError?

    init(messages: [OutgoingMessage]) {
        self.messages = messages
        outcomes = Array(repeating: .unconfirmed, count: messages.count)
        settledFlags = Array(repeating: false, count: messages.count)
    }

    var inFlight: Int { sent - settledCount }
    var isSettled: Bool { settledCount == messages.count }
    var report: PublishReport { PublishReport(outcomes: outcomes, interruption: interruption) }

    /// A broker ack or nack for `tag` (and, with `multiple`, everything before it).
    mutating func settle(tag: UInt64, multiple: Bool, as outcome: PublishOutcome) {
        guard tag >= firstSequence, let index = Int(exactly: tag - firstSequence), index < sent else { return }
        if multiple {
            var i = lowestUnsettled
            while i <= index {
                settleOne(i, outcome)
                i += 1
            }
        } else {
            settleOne(index, outcome)
        }
        while lowestUnsettled < sent && settledFlags[lowestUnsettled] { lowestUnsettled += 1 }
    }

    private mutating func settleOne(_ index: Int, _ outcome: PublishOutcome) {
        guard !settledFlags[index] else { return }
        settledFlags[index] = true
        settledCount += 1
        if case .returned = outcomes[index] { return }
        outcomes[index] = outcome
    }

    /// Matches a `basic.return` to the earliest unsettled message it can be: returns come in
    /// publish order and carry no sequence number, so exchange, key, message id and body decide.
    mutating func markReturned(exchange: String, routingKey: String, body: [UInt8], messageID: String?,
                               code: UInt16, text: String) -> Bool {
        for index in lowestUnsettled..<sent where !settledFlags[index] && outcomes[index] == .unconfirmed {
            let message = messages[index]
            if message.exchange == exchange, message.routingKey == routingKey,
               message.properties.messageID == messageID, message.body == body {
                outcomes[index] = .returned(replyCode: code, replyText: text)
                return true
            }
        }
        return false
    }
}
