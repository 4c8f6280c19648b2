import CRabbitMQ
import Glibc

/// A frame the broker sent on its own: confirms, returns, deliveries, cancels, flow control.
/// Connection and channel closes are not frames here: `AMQPConnection` answers them and throws.
enum IncomingMethod {
    case ack(tag: UInt64, multiple: Bool)
    case nack(tag: UInt64, multiple: Bool)
    /// Followed by the returned message's content.
    case returned(replyCode: UInt16, replyText: String, exchange: String, routingKey: String)
    /// Followed by the delivered message's content.
    case deliver(consumerTag: String, deliveryTag: UInt64, redelivered: Bool, exchange: String, routingKey: String)
    case cancelled(consumerTag: String)
    case blocked(reason: String)
    case unblocked
    case other(methodID: UInt32)
}

/// What `AMQPConnection.nextMethod` found before its deadline.
enum Arrival {
    case method(IncomingMethod)
    case timeout
    /// The owner's wake-up descriptor fired: there is work in the mailbox.
    case woken
}

/// One AMQP connection with one channel (number 1), driven by exactly one thread.
///
/// librabbitmq does nothing in the background, and 0.11 has a bug (rabbitmq-c #780) where
/// `amqp_basic_publish` waits forever for input once the library's receive-heartbeat deadline
/// has passed. So the heartbeat is negotiated with the broker as usual, then switched off
/// inside the library (`amqp_tune_connection(..., 0)`): its receive deadline is then infinite
/// and that code path cannot be entered. This class keeps the heartbeat instead: it sends one
/// when nothing was sent for half the interval, and declares the connection dead when nothing
/// arrived for two intervals, watching the socket with its own `poll`. Every call that could
/// block is bounded by a `StallWatchdog`.
///
/// Not thread-safe and not Sendable: each instance lives inside one owner thread.
final class AMQPConnection {
    let settings: ConnectionSettings
    /// The broker of the list this connection reached.
    let broker: BrokerEndpoint
    let state: amqp_connection_state_t
    let channel: amqp_channel_t = 1
    /// The heartbeat agreed with the broker, in seconds (0: none).
    let heartbeat: Int
    let frameMax: Int
    let socketFD: Int32
    private let watchdog: StallWatchdog
    private let stallLimit: UInt64
    private var lastSend: UInt64
    private var lastReceive: UInt64
    private var framesSinceStamp: UInt32 = 0
    private(set) var isChannelOpen = false
    /// Counts channel openings: confirm mode and consumers must be set up again on a new channel.
    private(set) var channelGeneration = 0
    /// Set once the connection can no longer be used; it must then be discarded.
    private(set) var failure: AMQPError?
    let arena = CArena()
    private var strings = RepeatedStrings()

    /// The broker's URL without the password, for errors and logs.
    let endpoint: String

    /// Connects to `broker` (one of `settings.brokers`), logs in and opens channel 1.
    static func open(_ settings: ConnectionSettings, broker: BrokerEndpoint,
                     watchdog: StallWatchdog) throws(AMQPError) -> AMQPConnection {
        let endpoint = settings.redactedURL(of: broker)
        guard let state = amqp_new_connection() else {
            throw AMQPError(.library(status: AMQP_STATUS_NO_MEMORY.rawValue, message: "out of memory"),
                            operation: "creating a connection", endpoint: endpoint)
        }
        var keepState = false
        defer { if !keepState { amqp_destroy_connection(state) } }

        let socket: OpaquePointer
        if settings.useTLS {
            guard let tlsSocket = amqp_ssl_socket_new(state) else {
                throw AMQPError(.library(status: AMQP_STATUS_SSL_ERROR.rawValue, message: "cannot create a TLS socket"),
                                operation: "setting up TLS", endpoint: endpoint)
            }
            try configureTLS(tlsSocket, settings.tls, endpoint: endpoint)
            socket = tlsSocket
        } else {
            guard let tcpSocket = amqp_tcp_socket_new(state) else {
                throw AMQPError(.library(status: AMQP_STATUS_NO_MEMORY.rawValue, message: "cannot create a socket"),
                                operation: "creating a socket", endpoint: endpoint)
            }
            socket = tcpSocket
        }

        var connectTimeout = timeval(settings.connectionTimeout)
        let openStatus = amqp_socket_open_noblock(socket, broker.host, Int32(broker.port), &connectTimeout)
        guard openStatus == AMQP_STATUS_OK.rawValue else {
            throw libraryError(openStatus, operation: "connecting", endpoint: endpoint)
        }
        amqp_set_handshake_timeout(state, &connectTimeout)
        var rpcTimeout = timeval(settings.rpcTimeout)
        amqp_set_rpc_timeout(state, &rpcTimeout)

        let fd = amqp_get_sockfd(state)
        watchdog.attach(fd: fd)
        let handshakeLimit = UInt64(settings.connectionTimeout.nanoseconds) + 1_000_000_000
        let arena = CArena()
        let properties = clientProperties(settings, arena: arena)
        var propertiesTable = properties
        let reply = watchdog.guarding(MonotonicClock.now() &+ handshakeLimit) {
            lode_login_plain(state, settings.vhost, Int32(settings.channelMax), Int32(settings.frameMax),
                             Int32(settings.heartbeat), &propertiesTable, settings.user, settings.password)
        }
        if reply.reply_type != AMQP_RESPONSE_NORMAL {
            watchdog.detach()
            throw loginError(reply, endpoint: endpoint, stalled: watchdog.fired)
        }

        let negotiated = Int(amqp_get_heartbeat(state))
        // The library's own heartbeat handling is off from here on: see the type's comment.
        let tuneStatus = amqp_tune_connection(state, amqp_get_channel_max(state), amqp_get_frame_max(state), 0)
        guard tuneStatus == AMQP_STATUS_OK.rawValue else {
            watchdog.detach()
            throw libraryError(tuneStatus, operation: "tuning the connection", endpoint: endpoint)
        }
        let connection = AMQPConnection(
            settings: settings, broker: broker, state: state, heartbeat: negotiated,
            frameMax: Int(amqp_get_frame_max(state)), socketFD: fd, watchdog: watchdog)
        keepState = true
        do {
            try connection.openChannel()
        } catch {
            connection.abort()
            throw error
        }
        return connection
    }

    private init(settings: ConnectionSettings, broker: BrokerEndpoint, state: amqp_connection_state_t, heartbeat: Int,
                 frameMax: Int, socketFD: Int32, watchdog: StallWatchdog) {
        self.settings = settings
        self.broker = broker
        endpoint = settings.redactedURL(of: broker)
        self.state = state
        self.heartbeat = heartbeat
        self.frameMax = frameMax
        self.socketFD = socketFD
        self.watchdog = watchdog
        if let limit = settings.stallTimeout {
            stallLimit = UInt64(limit.nanoseconds)
        } else {
            stallLimit = UInt64(heartbeat > 0 ? 2 * heartbeat : 60) * 1_000_000_000
        }
        let now = MonotonicClock.now()
        lastSend = now
        lastReceive = now
    }

    deinit {
        watchdog.detach()
        amqp_destroy_connection(state)
    }

    // MARK: - Lifecycle

    func openChannel() throws(AMQPError) {
        _ = guarded { amqp_channel_open(state, channel) }
        try checkReply(amqp_get_rpc_reply(state), "opening channel \(channel)")
        isChannelOpen = true
        channelGeneration += 1
    }

    /// Closes the channel and the connection politely, bounded by the stall limit; on any
    /// trouble the socket is simply dropped.
    func close() {
        defer { abort() }
        guard failure == nil else { return }
        if isChannelOpen {
            _ = guarded { amqp_channel_close(state, channel, AMQP_REPLY_SUCCESS) }
            isChannelOpen = false
        }
        _ = guarded { amqp_connection_close(state, AMQP_REPLY_SUCCESS) }
    }

    /// Drops the socket without any handshake (the broker requeues unacked deliveries).
    func abort() {
        watchdog.detach()
        if failure == nil {
            failure = AMQPError(.closed, operation: "closing", endpoint: endpoint)
        }
        isChannelOpen = false
        if let socket = amqp_get_socket(state) {
            _ = Glibc.shutdown(amqp_socket_get_sockfd(socket), Int32(SHUT_RDWR))
        }
    }

    // MARK: - Topology

    func declare(_ exchange: ExchangeSpec) throws(AMQPError) {
        try ensureChannel()
        defer { arena.reset() }
        _ = guarded {
            amqp_exchange_declare(state, channel, arena.bytes(exchange.name), arena.bytes(exchange.kind), 0,
                                  exchange.durable ? 1 : 0, exchange.autoDelete ? 1 : 0, exchange.isInternal ? 1 : 0,
                                  exchange.arguments.cTable(in: arena))
        }
        try checkReply(amqp_get_rpc_reply(state), "declaring exchange '\(exchange.name)'")
    }

    @discardableResult
    func declare(_ queue: QueueSpec) throws(AMQPError) -> QueueState {
        try ensureChannel()
        defer { arena.reset() }
        let ok = guarded {
            amqp_queue_declare(state, channel, arena.bytes(queue.name), 0, queue.durable ? 1 : 0,
                               queue.exclusive ? 1 : 0, queue.autoDelete ? 1 : 0, queue.arguments.cTable(in: arena))
        }
        try checkReply(amqp_get_rpc_reply(state), "declaring queue '\(queue.name)'")
        guard let ok else { throw protocolError("declaring queue '\(queue.name)'", "no declare-ok") }
        return QueueState(name: ok.pointee.queue.string, messageCount: Int(ok.pointee.message_count),
                          consumerCount: Int(ok.pointee.consumer_count))
    }

    func declare(_ binding: BindingSpec) throws(AMQPError) {
        try ensureChannel()
        defer { arena.reset() }
        _ = guarded {
            amqp_queue_bind(state, channel, arena.bytes(binding.queue), arena.bytes(binding.exchange),
                            arena.bytes(binding.routingKey), binding.arguments.cTable(in: arena))
        }
        try checkReply(amqp_get_rpc_reply(state),
                       "binding queue '\(binding.queue)' to exchange '\(binding.exchange)' with key '\(binding.routingKey)'")
    }

    func declare(_ topology: Topology) throws(AMQPError) {
        for exchange in topology.exchanges { try declare(exchange) }
        for queue in topology.queues { try declare(queue) }
        for binding in topology.bindings { try declare(binding) }
    }

    /// Passive declare: the queue's counts, or `nil` when it does not exist (the 404 closes the
    /// channel, which is reopened).
    func inspectQueue(_ name: String) throws(AMQPError) -> QueueState? {
        try ensureChannel()
        defer { arena.reset() }
        let ok = guarded { amqp_queue_declare(state, channel, arena.bytes(name), 1, 0, 0, 0, lode_empty_table()) }
        do {
            try checkReply(amqp_get_rpc_reply(state), "inspecting queue '\(name)'")
        } catch where error.replyCode == 404 {
            return nil
        }
        guard let ok else { throw protocolError("inspecting queue '\(name)'", "no declare-ok") }
        return QueueState(name: name, messageCount: Int(ok.pointee.message_count),
                          consumerCount: Int(ok.pointee.consumer_count))
    }

    /// Deletes a queue; returns how many messages it held.
    func deleteQueue(_ name: String) throws(AMQPError) -> Int {
        try ensureChannel()
        defer { arena.reset() }
        let ok = guarded { amqp_queue_delete(state, channel, arena.bytes(name), 0, 0) }
        try checkReply(amqp_get_rpc_reply(state), "deleting queue '\(name)'")
        return Int(ok?.pointee.message_count ?? 0)
    }

    /// Removes every ready message of a queue; returns how many.
    func purgeQueue(_ name: String) throws(AMQPError) -> Int {
        try ensureChannel()
        defer { arena.reset() }
        let ok = guarded { amqp_queue_purge(state, channel, arena.bytes(name)) }
        try checkReply(amqp_get_rpc_reply(state), "purging queue '\(name)'")
        return Int(ok?.pointee.message_count ?? 0)
    }

    // MARK: - Publishing and consuming

    func selectConfirms() throws(AMQPError) {
        try ensureChannel()
        _ = guarded { amqp_confirm_select(state, channel) }
        try checkReply(amqp_get_rpc_reply(state), "enabling publisher confirms")
    }

    func setPrefetch(_ count: UInt16) throws(AMQPError) {
        try ensureChannel()
        _ = guarded { amqp_basic_qos(state, channel, 0, count, 0) }
        try checkReply(amqp_get_rpc_reply(state), "setting prefetch to \(count)")
    }

    /// Starts a consumer with manual acknowledgements; returns its tag.
    func consume(queue: String, tag: String, exclusive: Bool, arguments: FieldTable) throws(AMQPError) -> String {
        try ensureChannel()
        defer { arena.reset() }
        let ok = guarded {
            amqp_basic_consume(state, channel, arena.bytes(queue), arena.bytes(tag), 0, 0, exclusive ? 1 : 0,
                               arguments.cTable(in: arena))
        }
        try checkReply(amqp_get_rpc_reply(state), "consuming from queue '\(queue)'")
        return ok?.pointee.consumer_tag.string ?? tag
    }

    func cancel(consumerTag: String) throws(AMQPError) {
        defer { arena.reset() }
        _ = guarded { amqp_basic_cancel(state, channel, arena.bytes(consumerTag)) }
        try checkReply(amqp_get_rpc_reply(state), "cancelling consumer '\(consumerTag)'")
    }

    /// Sends one message; `properties` and `body` are only read during the call.
    @inline(__always)
    func publish(exchange: amqp_bytes_t, routingKey: amqp_bytes_t, mandatory: Bool,
                 properties: UnsafePointer<amqp_basic_properties_t>, body: amqp_bytes_t) throws(AMQPError) {
        let status = guarded {
            amqp_basic_publish(state, channel, exchange, routingKey, mandatory ? 1 : 0, 0, properties, body)
        }
        guard status == AMQP_STATUS_OK.rawValue else {
            throw fail(libraryFailure(status, "publishing"))
        }
    }

    func ack(_ tag: UInt64, multiple: Bool) throws(AMQPError) {
        let status = guarded { amqp_basic_ack(state, channel, tag, multiple ? 1 : 0) }
        guard status == AMQP_STATUS_OK.rawValue else {
            throw fail(libraryFailure(status, "acknowledging delivery \(tag)"))
        }
    }

    func nack(_ tag: UInt64, multiple: Bool, requeue: Bool) throws(AMQPError) {
        let status = guarded { amqp_basic_nack(state, channel, tag, multiple ? 1 : 0, requeue ? 1 : 0) }
        guard status == AMQP_STATUS_OK.rawValue else {
            throw fail(libraryFailure(status, "rejecting delivery \(tag)"))
        }
    }

    func reject(_ tag: UInt64, requeue: Bool) throws(AMQPError) {
        let status = guarded { amqp_basic_reject(state, channel, tag, requeue ? 1 : 0) }
        guard status == AMQP_STATUS_OK.rawValue else {
            throw fail(libraryFailure(status, "rejecting delivery \(tag)"))
        }
    }

    /// Runs `body` with the socket corked (TCP_CORK): the frames it sends leave in as few
    /// segments as possible when it ends, instead of one or more each. Used for bursts of
    /// publishes and acks; librabbitmq sends every frame with its own `send`.
    func corked<T>(_ body: () throws(AMQPError) -> T) throws(AMQPError) -> T {
        var on: Int32 = 1
        setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_CORK, &on, socklen_t(MemoryLayout<Int32>.size))
        defer {
            var off: Int32 = 0
            setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_CORK, &off, socklen_t(MemoryLayout<Int32>.size))
        }
        return try body()
    }

    // MARK: - Reading

    /// Waits until `deadline` (monotonic ns) for the next method frame the broker sends, keeping
    /// the heartbeat meanwhile. Returns `.woken` when `wakeFD` becomes readable.
    func nextMethod(until deadline: UInt64, wakeFD: Int32 = -1) throws(AMQPError) -> Arrival {
        while true {
            guard let frame = try nextFrame(until: deadline, wakeFD: wakeFD) else {
                return MonotonicClock.now() >= deadline ? .timeout : .woken
            }
            guard frame.frame_type == AMQP_FRAME_METHOD else {
                throw fail(protocolError("reading", "unexpected frame of type \(frame.frame_type) outside a message"))
            }
            if let method = try decodeMethod(frame.payload.method) { return .method(method) }
        }
    }

    /// The content (header and body frames) that follows a `basic.deliver` or `basic.return`.
    func readContent() throws(AMQPError) -> (MessageProperties, [UInt8]) {
        let deadline = MonotonicClock.now() &+ stallLimit
        let header = try nextContentFrame(AMQP_FRAME_HEADER, until: deadline)
        let size = Int(header.payload.properties.body_size)
        let decoded = header.payload.properties.decoded.assumingMemoryBound(to: amqp_basic_properties_t.self)
        let properties = MessageProperties(copying: decoded.pointee, strings: &strings)
        if size == 0 { return (properties, []) }
        let body = try [UInt8](unsafeUninitializedCapacity: size) { buffer, count throws(AMQPError) in
            while count < size {
                let frame = try nextContentFrame(AMQP_FRAME_BODY, until: deadline)
                let fragment = frame.payload.body_fragment
                guard fragment.len <= size - count else {
                    throw fail(protocolError("reading a message", "body larger than its header announced"))
                }
                if fragment.len > 0 {
                    (buffer.baseAddress! + count).withMemoryRebound(to: UInt8.self, capacity: fragment.len) { target in
                        UnsafeMutableRawPointer(target).copyMemory(from: fragment.bytes, byteCount: fragment.len)
                    }
                }
                count += fragment.len
            }
        }
        return (properties, body)
    }

    /// Lets librabbitmq reuse the memory of frames already handled; call once their data is copied.
    func releaseBuffers() {
        amqp_maybe_release_buffers(state)
    }

    /// Whether decoded frames or unread bytes are waiting in the library's buffers.
    var hasBufferedInput: Bool {
        amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0
    }

    /// Sends a heartbeat if nothing was sent for half the interval; fails when nothing arrived
    /// for two intervals.
    func keepAlive() throws(AMQPError) {
        guard heartbeat > 0 else { return }
        let now = MonotonicClock.now()
        let interval = UInt64(heartbeat) * 1_000_000_000
        if now &- lastReceive > 2 * interval {
            throw fail(AMQPError(.heartbeatTimeout(seconds: 2 * heartbeat), operation: "waiting for the broker",
                                 endpoint: endpoint))
        }
        if now &- lastSend >= interval / 2 {
            var frame = amqp_frame_t()
            frame.frame_type = UInt8(AMQP_FRAME_HEARTBEAT)
            frame.channel = 0
            let status = guarded { amqp_send_frame(state, &frame) }
            guard status == AMQP_STATUS_OK.rawValue else {
                throw fail(libraryFailure(status, "sending a heartbeat"))
            }
        }
    }

    /// Keeps the connection alive while its owner holds deliveries back on purpose (it does not
    /// read, so unread deliveries wait in the socket and at the broker): sends a heartbeat when one
    /// is due and counts the broker as heard from, since nothing is read by choice. Then waits up
    /// to `deadline` for `wakeFD`, returning early when the broker closed the connection
    /// (which fails it). Returns true when woken.
    func holdWithoutReading(until deadline: UInt64, wakeFD: Int32) throws(AMQPError) -> Bool {
        if let failure { throw failure }
        lastReceive = MonotonicClock.now()
        try keepAlive()
        let now = MonotonicClock.now()
        let until = min(deadline, heartbeat > 0 ? lastSend &+ UInt64(heartbeat) * 500_000_000 : deadline)
        let waitMillis = until <= now ? 0 : Int32(min((until - now + 999_999) / 1_000_000, 60_000))
        // POLLRDHUP (0x2000): the broker shut the connection down; POLLIN is not asked for, since
        // unread deliveries keep the socket readable all along.
        var fds = [pollfd(fd: socketFD, events: Int16(0x2000), revents: 0),
                   pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
        let ready = poll(&fds, wakeFD >= 0 ? 2 : 1, waitMillis)
        guard ready > 0 else { return false }
        if fds[0].revents != 0 {
            throw fail(AMQPError(.connectionClosed(replyCode: 0, replyText: "the broker closed the connection while deliveries were held"),
                                 operation: "holding deliveries", endpoint: endpoint))
        }
        if wakeFD >= 0 && fds[1].revents != 0 {
            var counter: UInt64 = 0
            _ = read(wakeFD, &counter, 8)
            return true
        }
        return false
    }

    /// When the heartbeat next needs attention (monotonic ns), or `UInt64.max` without heartbeats.
    var nextKeepAlive: UInt64 {
        guard heartbeat > 0 else { return .max }
        let interval = UInt64(heartbeat) * 1_000_000_000
        return min(lastSend &+ interval / 2, lastReceive &+ 2 * interval &+ 1)
    }

    // MARK: - Internals

    private func nextContentFrame(_ type: Int32, until deadline: UInt64) throws(AMQPError) -> amqp_frame_t {
        guard let frame = try nextFrame(until: deadline, wakeFD: -1) else {
            throw fail(AMQPError(.stalled(seconds: Double(stallLimit) / 1e9), operation: "reading message content",
                                 endpoint: endpoint))
        }
        guard frame.frame_type == UInt8(type) else {
            throw fail(protocolError("reading message content", "expected frame type \(type), got \(frame.frame_type)"))
        }
        return frame
    }

    /// The next frame, or `nil` at the deadline or when `wakeFD` fires.
    private func nextFrame(until deadline: UInt64, wakeFD: Int32) throws(AMQPError) -> amqp_frame_t? {
        if let failure { throw failure }
        while true {
            if hasBufferedInput, let frame = try readWithoutWaiting() { return frame }
            try keepAlive()
            let now = MonotonicClock.now()
            let until = min(deadline, nextKeepAlive)
            let waitMillis = until <= now ? 0 : Int32(min((until - now + 999_999) / 1_000_000, 60_000))
            var fds = [pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, wakeFD >= 0 ? 2 : 1, waitMillis)
            if ready < 0 {
                if errno == EINTR { continue }
                throw fail(AMQPError(.library(status: AMQP_STATUS_SOCKET_ERROR.rawValue, message: "poll failed: errno \(errno)"),
                                     operation: "waiting for the broker", endpoint: endpoint))
            }
            if fds[0].revents != 0 {
                lastReceive = MonotonicClock.now()
                if let frame = try readWithoutWaiting() { return frame }
                continue
            }
            if wakeFD >= 0 && fds[1].revents != 0 {
                var counter: UInt64 = 0
                _ = read(wakeFD, &counter, 8)
                return nil
            }
            if MonotonicClock.now() >= deadline { return nil }
        }
    }

    private func readWithoutWaiting() throws(AMQPError) -> amqp_frame_t? {
        var frame = amqp_frame_t()
        var immediately = timeval(tv_sec: 0, tv_usec: 0)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &immediately)
        if status == AMQP_STATUS_OK.rawValue {
            // The poll in `nextFrame` stamps `lastReceive` when bytes arrive; a busy stream can be
            // read without that poll, so stamp it here too, every 32 frames (the clock read
            // costs more than the frame).
            framesSinceStamp &+= 1
            if framesSinceStamp & 31 == 0 { lastReceive = MonotonicClock.now() }
            return frame
        }
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        throw fail(libraryFailure(status, "reading from the broker"))
    }

    private func decodeMethod(_ method: amqp_method_t) throws(AMQPError) -> IncomingMethod? {
        let decoded = method.decoded!
        switch Int(method.id) {
        case Int(LODE_BASIC_ACK):
            let ack = decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            return .ack(tag: ack.delivery_tag, multiple: ack.multiple != 0)
        case Int(LODE_BASIC_NACK):
            let nack = decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            return .nack(tag: nack.delivery_tag, multiple: nack.multiple != 0)
        case Int(LODE_BASIC_RETURN):
            let r = decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            return .returned(replyCode: r.reply_code, replyText: r.reply_text.string, exchange: r.exchange.string,
                             routingKey: r.routing_key.string)
        case Int(LODE_BASIC_DELIVER):
            let d = decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            return .deliver(consumerTag: strings.string(d.consumer_tag, .consumerTag), deliveryTag: d.delivery_tag,
                            redelivered: d.redelivered != 0, exchange: strings.string(d.exchange, .exchange),
                            routingKey: strings.string(d.routing_key, .routingKey))
        case Int(LODE_BASIC_CANCEL):
            let c = decoded.assumingMemoryBound(to: amqp_basic_cancel_t.self).pointee
            return .cancelled(consumerTag: c.consumer_tag.string)
        case Int(LODE_CONNECTION_BLOCKED):
            let b = decoded.assumingMemoryBound(to: amqp_connection_blocked_t.self).pointee
            return .blocked(reason: b.reason.string)
        case Int(LODE_CONNECTION_UNBLOCKED):
            return .unblocked
        case Int(LODE_CHANNEL_CLOSE):
            let close = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            throw channelClosedByBroker(close, operation: "working on channel \(channel)")
        case Int(LODE_CONNECTION_CLOSE):
            let close = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            throw connectionClosedByBroker(close, operation: "working on the connection")
        default:
            return .other(methodID: method.id)
        }
    }

    private func ensureChannel() throws(AMQPError) {
        if let failure { throw failure }
        if !isChannelOpen { try openChannel() }
    }

    @inline(__always)
    private func guarded<T>(_ body: () -> T) -> T {
        let now = MonotonicClock.now()
        lastSend = now
        return watchdog.guarding(now &+ stallLimit, body)
    }

    /// Records a connection-level failure: the connection is unusable from now on.
    private func fail(_ error: AMQPError) -> AMQPError {
        if error.isConnectionLost || failure == nil && error.kind != .closed {
            if case .channelClosed = error.kind {} else { failure = error }
        }
        return error
    }

    private func checkReply(_ reply: amqp_rpc_reply_t, _ operation: String) throws(AMQPError) {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            // The broker answered: it is alive. librabbitmq reads an RPC's reply (and any heartbeat
            // before it) itself, past `nextFrame`'s stamp; a connection that only makes RPCs (a
            // queue poll every few seconds) gets no heartbeat from a broker that is answering it,
            // so without this it would time out after two intervals.
            lastReceive = MonotonicClock.now()
            return
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw fail(libraryFailure(reply.library_error, operation))
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            lastReceive = MonotonicClock.now()
            switch Int(reply.reply.id) {
            case Int(LODE_CHANNEL_CLOSE):
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                throw channelClosedByBroker(close, operation: operation)
            case Int(LODE_CONNECTION_CLOSE):
                let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                throw connectionClosedByBroker(close, operation: operation)
            default:
                throw fail(protocolError(operation, "unexpected server reply \(reply.reply.id)"))
            }
        default:
            throw fail(protocolError(operation, "no reply"))
        }
    }

    /// A library status as an error; a stall when the watchdog is what broke the socket.
    private func libraryFailure(_ status: Int32, _ operation: String) -> AMQPError {
        Self.libraryError(status, operation: operation, endpoint: endpoint,
                          stalledAfter: watchdog.fired ? stallLimit : nil)
    }

    private func channelClosedByBroker(_ close: amqp_channel_close_t, operation: String) -> AMQPError {
        var closeOK = amqp_channel_close_ok_t(dummy: 0)
        _ = guarded { amqp_send_method(state, channel, amqp_method_number_t(LODE_CHANNEL_CLOSE_OK), &closeOK) }
        isChannelOpen = false
        return AMQPError(.channelClosed(replyCode: close.reply_code, replyText: close.reply_text.string),
                         operation: operation, endpoint: endpoint)
    }

    private func connectionClosedByBroker(_ close: amqp_connection_close_t, operation: String) -> AMQPError {
        var closeOK = amqp_connection_close_ok_t(dummy: 0)
        _ = guarded { amqp_send_method(state, 0, amqp_method_number_t(LODE_CONNECTION_CLOSE_OK), &closeOK) }
        isChannelOpen = false
        return fail(AMQPError(.connectionClosed(replyCode: close.reply_code, replyText: close.reply_text.string),
                              operation: operation, endpoint: endpoint))
    }

    private func protocolError(_ operation: String, _ message: String) -> AMQPError {
        AMQPError(.library(status: AMQP_STATUS_UNEXPECTED_STATE.rawValue, message: message),
                  operation: operation, endpoint: endpoint)
    }

    static func libraryError(_ status: Int32, operation: String, endpoint: String,
                             stalledAfter: UInt64? = nil) -> AMQPError {
        if let stalledAfter {
            return AMQPError(.stalled(seconds: Double(stalledAfter) / 1e9), operation: operation, endpoint: endpoint)
        }
        let message = String(cString: amqp_error_string2(status))
        return AMQPError(.library(status: status, message: message), operation: operation, endpoint: endpoint)
    }

    private static func loginError(_ reply: amqp_rpc_reply_t, endpoint: String, stalled: Bool) -> AMQPError {
        let operation = "logging in"
        switch reply.reply_type {
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            if stalled { return AMQPError(.stalled(seconds: 0), operation: operation, endpoint: endpoint) }
            if reply.library_error == AMQP_STATUS_CONNECTION_CLOSED.rawValue
                || reply.library_error == AMQP_STATUS_SOCKET_CLOSED.rawValue {
                // RabbitMQ drops the socket on a bad login unless told to send a close first.
                return AMQPError(.connectionClosed(replyCode: 403, replyText: "login refused (check user, password and vhost)"),
                                 operation: operation, endpoint: endpoint)
            }
            return libraryError(reply.library_error, operation: operation, endpoint: endpoint)
        case AMQP_RESPONSE_SERVER_EXCEPTION where Int(reply.reply.id) == Int(LODE_CONNECTION_CLOSE):
            let close = reply.reply.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            return AMQPError(.connectionClosed(replyCode: close.reply_code, replyText: close.reply_text.string),
                             operation: operation, endpoint: endpoint)
        default:
            return AMQPError(.library(status: AMQP_STATUS_UNEXPECTED_STATE.rawValue, message: "unexpected login reply"),
                             operation: operation, endpoint: endpoint)
        }
    }

    private static func configureTLS(_ socket: OpaquePointer, _ tls: TLSSettings, endpoint: String) throws(AMQPError) {
        // A file that cannot be loaded is a setting to fix, not a failure to retry.
        func check(_ status: Int32, _ what: String) throws(AMQPError) {
            guard status == AMQP_STATUS_OK.rawValue else {
                let message = String(cString: amqp_error_string2(status))
                throw AMQPError(.invalidSettings("\(what) failed: \(message)"), operation: "setting up TLS", endpoint: endpoint)
            }
        }
        let caFile = tls.caFile ?? TLSSettings.systemCABundle
        if tls.verifyPeer || tls.caFile != nil {
            try check(amqp_ssl_socket_set_cacert(socket, caFile), "loading the CA file '\(caFile)'")
        }
        switch (tls.certificateFile, tls.keyFile) {
        case let (certificate?, key?):
            try check(amqp_ssl_socket_set_key(socket, certificate, key),
                      "loading the client certificate '\(certificate)' and key '\(key)'")
        case (nil, nil):
            break
        default:
            throw AMQPError(.invalidSettings("a client certificate needs both certfile and keyfile"),
                            operation: "setting up TLS", endpoint: endpoint)
        }
        amqp_ssl_socket_set_verify_peer(socket, tls.verifyPeer ? 1 : 0)
        amqp_ssl_socket_set_verify_hostname(socket, tls.verifyHostname ? 1 : 0)
    }

    private static func clientProperties(_ settings: ConnectionSettings, arena: CArena) -> amqp_table_t {
        // librabbitmq merges these into its defaults; 0.11 advertises neither of the first two itself.
        let capabilities: FieldTable = [
            "connection.blocked": .bool(true),
            "consumer_cancel_notify": .bool(true),
            "publisher_confirms": .bool(true),
            "basic.nack": .bool(true),
            "authentication_failure_close": .bool(true),
        ]
        var table: FieldTable = [
            "product": .string("Lodestone"),
            "platform": .string("Swift over librabbitmq 0.11"),
            "capabilities": .table(capabilities),
        ]
        if let name = settings.connectionName { table["connection_name"] = .string(name) }
        return table.cTable(in: arena)
    }
}

extension timeval {
    init(_ duration: Duration) {
        let nanos = max(0, duration.nanoseconds)
        self.init(tv_sec: Int(nanos / 1_000_000_000), tv_usec: Int((nanos % 1_000_000_000) / 1000))
    }
}
