import CRabbitMQ
import Synchronization
import Logging

/// Settings of a `Consumer`.
public struct ConsumerOptions: Sendable {
    /// Unacknowledged deliveries the broker may send ahead (`basic.qos`).
    public var prefetch: UInt16 = 500
    /// Deliveries handed over at most in one batch.
    public var maxBatch: Int = 500
    /// Body bytes handed over at most in one batch (a batch closes once it reaches this, so at
    /// least one delivery is always handed over). Bounds the memory a batch holds: unread
    /// deliveries wait in the socket, not in the process.
    public var maxBatchBytes: Int = 8 << 20
    /// How long a batch may wait for more deliveries after its first one arrived. Zero hands
    /// over what is already buffered at once; a few milliseconds make bigger batches when
    /// deliveries trickle in, at that much added latency.
    public var batchWindow: Duration = .zero
    /// How long `start` keeps trying to connect the first time before it throws.
    public var startTimeout: Duration = .seconds(30)
    public var backoff = Backoff()
    public var consumerTag: String = ""
    /// With a batch receiver (``Consumer/init(settings:queue:topology:options:logger:receiver:)``):
    /// how many batches it may hold unsettled. Once it holds that many, the consumer stops reading
    /// deliveries (they wait in the socket and at the broker) and only keeps the heartbeat, until
    /// a batch is settled.
    public var batchesInHand = 2
    public var exclusive = false
    public var arguments: FieldTable = [:]

    public init() {}
}

/// A batch of deliveries handed to a consumer's batch receiver, to be settled later, from any
/// thread, with ``Consumer/settle(_:_:)``.
public struct ReceivedBatch: Sendable {
    public let deliveries: [Delivery]
    public let ticket: BatchTicket
    /// The CPU time the consumer's thread spent reading the batch off the socket and copying it
    /// out of librabbitmq's buffers (waiting for the broker not included).
    public let receiveCPU: Duration
}

/// Names one batch handed to a batch receiver: the connection it came on and its delivery tags
/// (the deliveries of a batch are consecutive on their channel).
public struct BatchTicket: Sendable, Hashable {
    let connection: UInt64
    let sequence: UInt64
    let firstTag: UInt64
    let lastTag: UInt64
}

/// What becomes of a batch handed to a batch receiver.
public enum BatchSettlement: Sendable, Hashable {
    /// Acknowledge every delivery of the batch.
    case acknowledge
    /// Send nothing: the deliveries go back to the queue when the connection closes. Frees the
    /// batch's place, so that the consumer reads again.
    case abandon
}

/// What a consumer reports: deliveries, and what happens to its connection and subscription.
public enum ConsumerEvent: Sendable {
    /// Deliveries in broker order; acknowledge each (or in ranges) when done with it.
    case deliveries([Delivery])
    case connection(ConnectionEvent)
    /// The broker cancelled the subscription (`basic.cancel`, e.g. the queue was deleted).
    /// No more deliveries come until `resume()`.
    case cancelledByBroker(consumerTag: String)
}

/// Consumes one queue with manual acknowledgements over a connection of its own.
///
/// The owner thread reads deliveries, copies each (properties, nested headers and body) out of
/// librabbitmq's buffers and hands them over in batches through `events`. It keeps the
/// heartbeat while the consumer is idle, and when the connection fails it reconnects by itself
/// (capped, jittered backoff), re-declares the topology, the prefetch and the subscription.
/// Deliveries of a lost connection are redelivered by the broker; acknowledging them afterwards
/// throws `.staleDelivery`.
public final class Consumer: Sendable {
    private let owner: OwnerThread<ConsumerDriver>
    public let settings: ConnectionSettings
    public let queue: String
    /// Everything the consumer reports; read it from one task.
    public let events: AsyncStream<ConsumerEvent>

    /// - Parameter handler: when given, each batch of deliveries is handed to it on the
    ///   consumer's own thread, as soon as it is read, instead of going through `events`; it
    ///   acknowledges through the `Acknowledgements` it is given, which are sent when it returns.
    ///   No thread switch happens per batch: the fastest way to consume, for handlers that do
    ///   bounded, synchronous work (they hold up the heartbeat while they run).
    public init(settings: ConnectionSettings, queue: String, topology: Topology = Topology(),
                options: ConsumerOptions = ConsumerOptions(), logger: Logger = Logger(label: "lode.amqp.consumer"),
                handler: (@Sendable ([Delivery], Acknowledgements) -> Void)? = nil) {
        self.settings = settings
        self.queue = queue
        let (events, continuation) = AsyncStream<ConsumerEvent>.makeStream()
        self.events = events
        owner = OwnerThread(name: "lode-amqp-consumer") { _ in
            ConsumerDriver(settings: settings, queue: queue, topology: topology, options: options,
                           logger: logger, events: continuation, handler: handler, receiver: nil)
        }
    }

    /// A consumer that hands each batch to `receiver` on its own thread as soon as it is read, and
    /// lets the receiver settle it later from any thread (``settle(_:_:)``): the batches of a
    /// pipeline, where the next batch is read and decoded while the last one is applied
    /// elsewhere. At most ``ConsumerOptions/batchesInHand`` batches are unsettled at a time;
    /// then the consumer reads nothing more (deliveries wait in the socket and at the broker,
    /// which keeps the memory bounded) and only keeps the heartbeat going, as long as it takes.
    /// `receiver` must return quickly. Batches of a lost connection are settled as usual; their
    /// acknowledgements are dropped (the broker redelivers those deliveries).
    public init(settings: ConnectionSettings, queue: String, topology: Topology = Topology(),
                options: ConsumerOptions = ConsumerOptions(), logger: Logger = Logger(label: "lode.amqp.consumer"),
                receiver: @escaping @Sendable (ReceivedBatch) -> Void) {
        self.settings = settings
        self.queue = queue
        let (events, continuation) = AsyncStream<ConsumerEvent>.makeStream()
        self.events = events
        owner = OwnerThread(name: "lode-amqp-consumer") { _ in
            ConsumerDriver(settings: settings, queue: queue, topology: topology, options: options,
                           logger: logger, events: continuation, handler: nil, receiver: receiver)
        }
    }

    /// Settles a batch handed to the batch receiver: its acknowledgements go out from the
    /// consumer's thread as soon as it turns to them. Callable from any thread.
    public func settle(_ ticket: BatchTicket, _ settlement: BatchSettlement) {
        owner.post { [self] driver in
            let started = ThreadCPUClock.now()
            driver.settle(ticket, settlement)
            settleCPU.add(ThreadCPUClock.now() &- started, ordering: .relaxed)
        }
    }

    /// CPU time the consumer's thread has spent sending acknowledgements of settled batches.
    public var acknowledgeCPU: Duration { .nanoseconds(Int64(clamping: settleCPU.load(ordering: .relaxed))) }
    private let settleCPU = Atomic<UInt64>(0)

    /// Connects, declares and subscribes; throws when that fails for `startTimeout`, or at once
    /// for an error that retrying cannot fix (a missing queue, a refused login).
    public func start() async throws(AMQPError) {
        try await perform("starting the consumer") { driver throws(AMQPError) in try driver.start() }
    }

    /// Acknowledges one delivery, or with `multiple` every delivery up to it.
    public func ack(_ tag: DeliveryTag, multiple: Bool = false) async throws(AMQPError) {
        try await perform("acknowledging") { driver throws(AMQPError) in
            try driver.live(tag).ack(tag.value, multiple: multiple)
        }
    }

    /// Acknowledges each of `tags`, in one round trip to the owner thread.
    public func ack(_ tags: [DeliveryTag]) async throws(AMQPError) {
        try await perform("acknowledging") { driver throws(AMQPError) in
            guard let first = tags.first else { return }
            let connection = try driver.live(first)
            try connection.corked { () throws(AMQPError) in
                for tag in tags { try driver.live(tag).ack(tag.value, multiple: false) }
            }
        }
    }

    /// Acknowledges each of `tags` without waiting for the owner thread to send them: the
    /// cheapest way to acknowledge a stream of deliveries. If the connection is lost before they
    /// go out, the broker redelivers those deliveries (`redelivered` set), as it would anyway.
    public func acknowledge(_ tags: [DeliveryTag]) {
        owner.post { driver in
            guard let first = tags.first, let connection = try? driver.live(first) else { return }
            try? connection.corked { () throws(AMQPError) in
                for tag in tags { try driver.live(tag).ack(tag.value, multiple: false) }
            }
        }
    }

    /// Negatively acknowledges: requeued for another delivery, or dropped (dead-lettered by the
    /// queue's own policy, if any) when `requeue` is false.
    public func nack(_ tag: DeliveryTag, multiple: Bool = false, requeue: Bool) async throws(AMQPError) {
        try await perform("rejecting") { driver throws(AMQPError) in
            try driver.live(tag).nack(tag.value, multiple: multiple, requeue: requeue)
        }
    }

    public func reject(_ tag: DeliveryTag, requeue: Bool) async throws(AMQPError) {
        try await perform("rejecting") { driver throws(AMQPError) in
            try driver.live(tag).reject(tag.value, requeue: requeue)
        }
    }

    /// Stops deliveries (`basic.cancel`); deliveries in hand can still be acknowledged.
    public func cancel() async throws(AMQPError) {
        try await perform("cancelling the consumer") { driver throws(AMQPError) in try driver.cancel() }
    }

    /// Declares the topology again and subscribes again, e.g. after `.cancelledByBroker`.
    public func resume() async throws(AMQPError) {
        try await perform("resuming the consumer") { driver throws(AMQPError) in try driver.resume() }
    }

    /// Drops the connection and lets the consumer open a new one at once, which declares the
    /// topology, the prefetch and the subscription again, as after a lost connection (and with
    /// its backoff when the broker refuses). For a subscription that is open but gets nothing
    /// (a "zombie" consumer), or one that `resume()` could not restore. Unacknowledged
    /// deliveries go back to the queue. Reports no `.connectionLost` (the caller chose this);
    /// `.connected` follows once the new connection consumes.
    public func reconnect() async throws(AMQPError) {
        try await perform("reconnecting the consumer") { driver in driver.reconnect() }
    }

    /// How long ago the consumer's owner thread last went round its loop. The thread comes round
    /// at least every second or so, whether deliveries arrive, the connection is down and being
    /// retried, or the subscription is paused; a batch handler (``init(settings:queue:topology:options:logger:handler:)``)
    /// holds it for as long as the handler runs. A value that keeps growing means the thread is
    /// stuck in one call: what a service manager's watchdog wants to know.
    public var sinceLastTurn: Duration { owner.sinceLastTurn }

    /// The heartbeat negotiated with the broker, and the one librabbitmq itself runs (always 0).
    public func heartbeats() async -> (negotiated: Int, library: Int)? {
        try? await perform("reading heartbeat") { driver in
            driver.connection.map { (negotiated: $0.heartbeat, library: Int(amqp_get_heartbeat($0.state))) }
        }
    }

    /// Closes the connection (unacknowledged deliveries go back to the queue), ends the thread
    /// and finishes `events`.
    public func close() async {
        await owner.stop()
    }

    /// Without `close()`, the owner thread still closes the connection and ends, in the background.
    deinit {
        owner.requestStop()
    }

    private func perform<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (ConsumerDriver) throws(AMQPError) -> T
    ) async throws(AMQPError) -> T {
        try await owner.perform(operation, endpoint: settings.redactedURL, body)
    }
}

/// The consumer's state, confined to its owner thread.
final class ConsumerDriver: OwnedDriver {
    let settings: ConnectionSettings
    let queue: String
    let topology: Topology
    let options: ConsumerOptions
    let logger: Logger
    let events: AsyncStream<ConsumerEvent>.Continuation
    let handler: (@Sendable ([Delivery], Acknowledgements) -> Void)?
    let receiver: (@Sendable (ReceivedBatch) -> Void)?
    /// The batches handed to `receiver` and not settled yet, oldest first.
    private var unsettled: [BatchTicket] = []
    private var batchSequence: UInt64 = 0
    /// Every delivery tag up to this one, on the current connection, is acknowledged.
    private var acknowledgedThrough: UInt64 = 0
    let watchdog = StallWatchdog()
    private(set) var connection: AMQPConnection?
    /// Numbers the connections, so a delivery tag is only ever acked on its own connection.
    private var connectionNumber: UInt64 = 0
    private var consumerTag: String?
    /// Whether the owner wants deliveries (started and not cancelled).
    private var wanted = false
    private var nextAttempt: UInt64 = 0
    /// Which broker of the list to connect to, and the backoff between rounds.
    private var dialer: BrokerDialer

    init(settings: ConnectionSettings, queue: String, topology: Topology, options: ConsumerOptions, logger: Logger,
         events: AsyncStream<ConsumerEvent>.Continuation, handler: (@Sendable ([Delivery], Acknowledgements) -> Void)?,
         receiver: (@Sendable (ReceivedBatch) -> Void)?) {
        self.handler = handler
        self.receiver = receiver
        self.settings = settings
        self.queue = queue
        self.topology = topology
        self.options = options
        self.logger = logger
        self.events = events
        dialer = BrokerDialer(settings: settings, backoff: options.backoff)
    }

    func start() throws(AMQPError) {
        wanted = true
        guard connection == nil else { return }
        do throws(AMQPError) {
            let fresh = try dialer.connect(until: MonotonicClock.after(options.startTimeout), operation: "starting the consumer",
                                           logger: logger) { broker throws(AMQPError) in try connectAndSubscribe(broker) }
            didConnect(fresh)
        } catch {
            wanted = false
            throw error
        }
    }

    func live(_ tag: DeliveryTag) throws(AMQPError) -> AMQPConnection {
        guard let connection, tag.connection == connectionNumber, connection.failure == nil else {
            throw AMQPError(.staleDelivery, operation: "acknowledging delivery \(tag.value)", endpoint: settings.redactedURL)
        }
        return connection
    }

    func cancel() throws(AMQPError) {
        wanted = false
        guard let connection, let tag = consumerTag else { return }
        consumerTag = nil
        do throws(AMQPError) {
            try connection.cancel(consumerTag: tag)
        } catch {
            lose(error)
            throw error
        }
    }

    func resume() throws(AMQPError) {
        wanted = true
        guard let connection else { return }  // the reconnect loop subscribes
        do throws(AMQPError) {
            try connection.declare(topology)
            try subscribe(connection)
        } catch where error.isConnectionLost {
            lose(error)
        }
    }

    func reconnect() {
        wanted = true
        // Not connected: the reconnect loop is at it already, with its backoff.
        guard let connection else { return }
        logger.info("consumer reconnecting", metadata: ["queue": "\(queue)"])
        // Dropped, not closed: a polite close waits for the broker's channel, and a channel
        // that hangs on the broker's side is what a reconnect is usually for.
        connection.abort()
        self.connection = nil
        dialer.lost()
        consumerTag = nil
        nextAttempt = 0
    }

    func idle(wakeFD: Int32) {
        guard let connection else {
            if wanted && MonotonicClock.now() >= nextAttempt {
                // One round over the brokers; the next after a backoff step.
                let failure: AMQPError
                do throws(AMQPError) {
                    switch try dialer.round(logger: logger, { broker throws(AMQPError) in try connectAndSubscribe(broker) }) {
                    case .success(let fresh):
                        didConnect(fresh)
                        return
                    case .failure(let error): failure = error
                    }
                } catch {
                    failure = error
                }
                let delay = dialer.backoff.nextDelay()
                nextAttempt = MonotonicClock.after(delay)
                logger.warning("reconnect failed", metadata: [
                    "error": "\(failure)", "retry_in_ms": "\(delay.milliseconds)",
                ])
            } else {
                // At most a second at a time, so the owner thread's loop keeps turning
                // (``Consumer/sinceLastTurn``) while it waits to reconnect or for a resume.
                _ = waitForWakeup(wakeFD, until: min(wanted ? nextAttempt : .max, MonotonicClock.after(.seconds(1))))
            }
            return
        }
        do throws(AMQPError) {
            if receiver != nil, unsettled.count >= max(1, options.batchesInHand) {
                _ = try connection.holdWithoutReading(until: MonotonicClock.after(.seconds(1)), wakeFD: wakeFD)
                return
            }
            _ = try readBatch(from: connection, until: MonotonicClock.after(.seconds(1)), wakeFD: wakeFD)
        } catch {
            lose(error)
        }
    }

    /// Settles a batch of the receiver (see ``Consumer/settle(_:_:)``). A whole batch is
    /// acknowledged with one `basic.ack` (`multiple` on its last tag) when every earlier delivery
    /// of its connection is acknowledged, else delivery by delivery (an earlier batch is still
    /// unsettled, or was abandoned).
    func settle(_ ticket: BatchTicket, _ settlement: BatchSettlement) {
        guard let position = unsettled.firstIndex(of: ticket) else { return }
        unsettled.remove(at: position)
        guard settlement == .acknowledge, let connection, ticket.connection == connectionNumber,
              connection.failure == nil else { return }
        let contiguous = acknowledgedThrough &+ 1 == ticket.firstTag
        do throws(AMQPError) {
            try connection.corked { () throws(AMQPError) in
                if contiguous {
                    try connection.ack(ticket.lastTag, multiple: true)
                } else {
                    for tag in ticket.firstTag...ticket.lastTag { try connection.ack(tag, multiple: false) }
                }
            }
            if contiguous { acknowledgedThrough = ticket.lastTag }
        } catch {
            lose(error)
        }
    }

    /// Reads what arrives until `deadline`, then what follows within `batchWindow` (up to
    /// `maxBatch` deliveries and `maxBatchBytes`), and hands it over; returns how many
    /// deliveries it handed over.
    private func readBatch(from connection: AMQPConnection, until deadline: UInt64, wakeFD: Int32,
                           lingering: Bool = true) throws(AMQPError) -> Int {
        let cpuStarted = ThreadCPUClock.now()
        var batch: [Delivery] = []
        var bytes = 0
        var closesAt: UInt64 = 0
        var arrival = try connection.nextMethod(until: deadline, wakeFD: wakeFD)
        while case .method(let method) = arrival {
            let before = batch.count
            try handle(method, on: connection, into: &batch)
            if batch.count > before {
                bytes += batch[before...].reduce(0) { $0 + $1.body.count }
                if before == 0, lingering, options.batchWindow > .zero { closesAt = MonotonicClock.after(options.batchWindow) }
            }
            guard batch.count < options.maxBatch, bytes < options.maxBatchBytes else { break }
            arrival = try connection.nextMethod(until: closesAt, wakeFD: closesAt == 0 ? -1 : wakeFD)
        }
        connection.releaseBuffers()
        if !batch.isEmpty { try hand(batch, on: connection, readCPU: ThreadCPUClock.now() &- cpuStarted) }
        return batch.count
    }

    /// Gives a batch to the handler on this thread and sends its acknowledgements, or passes the
    /// batch on through `events`.
    private func hand(_ batch: [Delivery], on connection: AMQPConnection, readCPU: UInt64 = 0) throws(AMQPError) {
        if let receiver, let first = batch.first?.tag.value, let last = batch.last?.tag.value {
            batchSequence += 1
            let ticket = BatchTicket(connection: connectionNumber, sequence: batchSequence, firstTag: first, lastTag: last)
            unsettled.append(ticket)
            receiver(ReceivedBatch(deliveries: batch, ticket: ticket, receiveCPU: .nanoseconds(Int64(clamping: readCPU))))
            return
        }
        guard let handler else {
            events.yield(.deliveries(batch))
            return
        }
        let acknowledgements = Acknowledgements(connection: connectionNumber)
        handler(batch, acknowledgements)
        let decisions = acknowledgements.close()
        guard !decisions.isEmpty else { return }
        try connection.corked { () throws(AMQPError) in
            for decision in decisions {
                switch decision {
                case .ack(let tag, let multiple): try connection.ack(tag, multiple: multiple)
                case .nack(let tag, let multiple, let requeue): try connection.nack(tag, multiple: multiple, requeue: requeue)
                case .reject(let tag, let requeue): try connection.reject(tag, requeue: requeue)
                }
            }
        }
    }

    func finish() {
        // Deliveries that arrived before the broker confirmed a cancel wait in the library's
        // buffers: a handler still gets them (and acknowledges them) before the connection closes.
        if let connection, handler != nil, !wanted {
            while connection.hasBufferedInput,
                  (try? readBatch(from: connection, until: 0, wakeFD: -1, lingering: false)) ?? 0 > 0 {}
            // One round trip before the close, so the broker has read the last acks off the
            // channel before it sees the channel go (RabbitMQ 3.10's quorum queues were seen to
            // redeliver a few messages acked just before a close).
            try? connection.setPrefetch(options.prefetch)
        }
        connection?.close()
        connection = nil
        watchdog.stop()
        events.finish()
    }

    private func handle(_ method: IncomingMethod, on connection: AMQPConnection, into batch: inout [Delivery]) throws(AMQPError) {
        switch method {
        case .deliver(let consumerTag, let deliveryTag, let redelivered, let exchange, let routingKey):
            let (properties, body) = try connection.readContent()
            batch.append(Delivery(
                tag: DeliveryTag(value: deliveryTag, connection: connectionNumber), redelivered: redelivered,
                exchange: exchange, routingKey: routingKey, consumerTag: consumerTag,
                properties: properties, body: body))
        case .cancelled(let tag):
            if !batch.isEmpty {
                try hand(batch, on: connection)
                batch.removeAll()
            }
            if tag == consumerTag { consumerTag = nil }
            wanted = false
            logger.warning("broker cancelled the consumer", metadata: ["consumer_tag": "\(tag)", "queue": "\(queue)"])
            events.yield(.cancelledByBroker(consumerTag: tag))
        case .blocked(let reason):
            events.yield(.connection(.blocked(reason: reason)))
        case .unblocked:
            events.yield(.connection(.unblocked))
        case .returned:
            _ = try connection.readContent()
        case .ack, .nack, .other:
            break
        }
    }

    /// Opens a connection to `broker`, declares the topology, sets the prefetch and subscribes.
    private func connectAndSubscribe(_ broker: BrokerEndpoint) throws(AMQPError) -> AMQPConnection {
        let fresh = try AMQPConnection.open(settings, broker: broker, watchdog: watchdog)
        do throws(AMQPError) {
            try fresh.declare(topology)
            try fresh.setPrefetch(options.prefetch)
            connectionNumber += 1
            acknowledgedThrough = 0
            connection = fresh
            try subscribe(fresh)
        } catch {
            connection = nil
            fresh.abort()
            throw error
        }
        return fresh
    }

    private func didConnect(_ fresh: AMQPConnection) {
        logger.info("consumer connected", metadata: [
            "broker": "\(fresh.endpoint)", "queue": "\(queue)", "heartbeat": "\(fresh.heartbeat)",
        ])
        events.yield(.connection(.connected(heartbeat: fresh.heartbeat)))
    }

    private func subscribe(_ connection: AMQPConnection) throws(AMQPError) {
        guard wanted, consumerTag == nil else { return }
        consumerTag = try connection.consume(queue: queue, tag: options.consumerTag, exclusive: options.exclusive,
                                             arguments: options.arguments)
    }

    private func lose(_ error: AMQPError) {
        logger.warning("consumer connection lost", metadata: ["error": "\(error)", "queue": "\(queue)"])
        connection?.abort()
        connection = nil
        dialer.lost()
        consumerTag = nil
        nextAttempt = MonotonicClock.after(dialer.backoff.nextDelay())
        events.yield(.connection(.connectionLost(error)))
    }
}

/// The acknowledgements a batch handler gives, sent in order once it returns.
///
/// Valid only during the handler's call: decisions made afterwards are ignored (the broker then
/// redelivers those deliveries on the next connection).
public final class Acknowledgements {
    enum Decision {
        case ack(UInt64, multiple: Bool)
        case nack(UInt64, multiple: Bool, requeue: Bool)
        case reject(UInt64, requeue: Bool)
    }

    private let connection: UInt64
    private var decisions: [Decision] = []
    private var open = true

    init(connection: UInt64) {
        self.connection = connection
    }

    public func ack(_ tag: DeliveryTag, multiple: Bool = false) {
        record(tag, .ack(tag.value, multiple: multiple))
    }

    public func nack(_ tag: DeliveryTag, multiple: Bool = false, requeue: Bool) {
        record(tag, .nack(tag.value, multiple: multiple, requeue: requeue))
    }

    public func reject(_ tag: DeliveryTag, requeue: Bool) {
        record(tag, .reject(tag.value, requeue: requeue))
    }

    /// Acknowledges a whole batch with one `basic.ack` (`multiple` on its last tag). Every
    /// earlier delivery of the connection was settled in an earlier batch, since batches are
    /// handed over one at a time and in order, so `multiple` covers exactly this batch.
    public func ackAll(_ batch: [Delivery]) {
        if let last = batch.map(\.tag).max() { ack(last, multiple: true) }
    }

    /// Gives a whole batch back (or drops it) with one `basic.nack`, as ``ackAll(_:)`` does.
    public func nackAll(_ batch: [Delivery], requeue: Bool) {
        if let last = batch.map(\.tag).max() { nack(last, multiple: true, requeue: requeue) }
    }

    private func record(_ tag: DeliveryTag, _ decision: Decision) {
        guard open, tag.connection == connection else { return }
        decisions.append(decision)
    }

    func close() -> [Decision] {
        open = false
        return decisions
    }
}
