import CRabbitMQ
import Foundation
import LodeAMQP
import Synchronization
import Testing

extension BrokerTests {
    @Suite("Heartbeats and liveness")
    struct Liveness {
        @Test func idlePublisherAndConsumerStayConnectedPastThreeHeartbeatIntervals() async throws {
            let settings = try BrokerFixture.settings(heartbeat: 1)
            let queue = BrokerFixture.uniqueName("idle")
            let publisher = Publisher(settings: settings, topology: Topology(queues: [.classic(queue)]))
            let publisherLog = ConnectionEventLog.following(publisher.events)
            let consumer = Consumer(settings: settings, queue: queue)
            let inbox = ConsumerInbox.following(consumer)
            try await publisher.connect()
            try await consumer.start()
            #expect(await publisher.heartbeats()?.negotiated == 1)

            // The behaviour under test is surviving idleness: nothing but time passes here.
            try await Task.sleep(for: .seconds(3.5))

            #expect(await publisherLog.lostCount == 0)
            #expect(await !inbox.contains { if case .connection(.connectionLost) = $0 { true } else { false } })
            let report = try await publisher.publish([OutgoingMessage(exchange: "", routingKey: queue, body: body("still here"))])
            #expect(report.allConfirmed)
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) { await inbox.count == 1 })
            // Still the first connection of each: nothing was lost and re-established.
            #expect(await publisherLog.events.count { if case .connected = $0 { true } else { false } } == 1)
            #expect(await inbox.events.count { if case .connection(.connected) = $0 { true } else { false } } == 1)
            await consumer.close()
            try await publisher.deleteQueue(queue)
            await publisher.close()
        }

        /// A connection that only makes RPCs, more often than the heartbeat interval (the worker's
        /// queue poll and its claim check): the broker answers them and so sends no heartbeat, and
        /// the answers must count as hearing from it. Before, such a connection was declared dead
        /// ("no data from the broker for 2 s (heartbeat timeout)") every two intervals and a half.
        @Test func aConnectionThatOnlyPollsStaysConnectedPastThreeHeartbeatIntervals() async throws {
            let settings = try BrokerFixture.settings(heartbeat: 1)
            let queue = BrokerFixture.uniqueName("polled")
            let poller = Publisher(settings: settings, topology: Topology(queues: [.classic(queue)]))
            let log = ConnectionEventLog.following(poller.events)
            try await poller.connect()
            #expect(await poller.heartbeats()?.negotiated == 1)
            let start = ContinuousClock.now
            var polls = 0
            while ContinuousClock.now - start < .seconds(3.5) {
                #expect(try await poller.inspectQueue(queue)?.messageCount == 0)
                polls += 1
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(polls > 5)
            let events = await log.events
            #expect(await log.lostCount == 0, "\(events)")
            #expect(await log.events.count { if case .connected = $0 { true } else { false } } == 1)
            try await poller.deleteQueue(queue)
            await poller.close()
        }

        /// rabbitmq-c #780 (fixed in 0.14, present in Debian's 0.11): with heartbeats on, once the
        /// library's receive deadline has passed, `amqp_basic_publish` calls `amqp_try_recv`
        /// with an infinite timeout and hangs until the broker sends something. The test
        /// reproduces that hang with the library used directly (the control), and shows that
        /// our publisher, in the same situation, cannot reach it: the library's own heartbeat
        /// is off (so its receive deadline never passes) and our own heartbeat check reports the
        /// silent broker instead.
        @Test func thePublishHangOfLibrabbitmq011IsUnreachable() async throws {
            let settings = try BrokerFixture.settings(heartbeat: 1)
            let queue = BrokerFixture.uniqueName("hang")
            let publisher = Publisher(settings: settings, topology: Topology(queues: [.classic(queue)]))
            let log = ConnectionEventLog.following(publisher.events)
            try await publisher.connect()
            let heartbeats = try #require(await publisher.heartbeats())
            #expect(heartbeats.negotiated == 1, "the broker agreed to a 1 s heartbeat")
            #expect(heartbeats.library == 0, "librabbitmq's own heartbeat (and so its receive deadline) is off")

            let control = try RawLibraryPublisher(settings: settings, queue: queue)
            try BrokerFixture.script("freeze")
            defer { _ = try? BrokerFixture.script("thaw") }
            // From here the broker sends nothing. The control reads what is already there, so its
            // receive deadline (2 × heartbeat) will pass in 2 s with an empty socket.
            control.drain()
            let drained = ContinuousClock.now

            let started = ContinuousClock.now
            let big = OutgoingMessage(exchange: "", routingKey: queue, body: [UInt8](repeating: 7, count: 512 * 1024))
            let report = try await publisher.publish(Array(repeating: big, count: 64))
            let elapsed = ContinuousClock.now - started
            #expect(report.unconfirmedCount == 64)
            let interruption = try #require(report.interruption)
            switch interruption.kind {
            case .heartbeatTimeout, .stalled: break
            default: Issue.record("expected a heartbeat timeout or a stall, got \(interruption)")
            }
            // It gives up after 2 s of silence; the bound only tells that from a hang, with room
            // for a loaded machine.
            #expect(elapsed < .seconds(30), "our publish gave up after \(elapsed) instead of hanging")
            // The event reaches the log through the publisher's event stream, just after the
            // publish returns: awaited, then counted exactly.
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) { await log.lostCount >= 1 })
            #expect(await log.lostCount == 1)

            // The same situation through the library used directly: it hangs.
            let pastDeadline = drained + .milliseconds(2500)
            if ContinuousClock.now < pastDeadline { try await Task.sleep(until: pastDeadline) }
            control.publishInBackground()
            try await Task.sleep(for: .seconds(1))
            #expect(!control.returned, "control: amqp_basic_publish should hang on the frozen broker")

            try BrokerFixture.script("thaw")
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) { control.returned })
            control.close()

            // And ours works again once the broker is back.
            let after = try await publisher.publish([OutgoingMessage(exchange: "", routingKey: queue, body: body("back"))])
            #expect(after.allConfirmed)
            try await publisher.deleteQueue(queue)
            await publisher.close()
        }
    }
}

/// librabbitmq used the plain way (its own heartbeat on), for the #780 control.
final class RawLibraryPublisher: @unchecked Sendable {
    // Safe: `state` is used by one thread at a time: the test's thread until
    // `publishInBackground`, then only the background thread until `returned` is true.
    private let state: amqp_connection_state_t
    private let queue: String
    private let done = Atomic<Bool>(false)

    init(settings: ConnectionSettings, queue: String) throws {
        state = amqp_new_connection()
        self.queue = queue
        let socket = amqp_tcp_socket_new(state)
        guard amqp_socket_open(socket, settings.host, Int32(settings.port)) == 0 else {
            throw BrokerFixture.BrokerMissing()
        }
        let reply = lode_login_plain(state, settings.vhost, 0, 131_072, 1, nil, settings.user, settings.password)
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else { throw BrokerFixture.BrokerMissing() }
        amqp_channel_open(state, 1)
        guard amqp_get_rpc_reply(state).reply_type == AMQP_RESPONSE_NORMAL else { throw BrokerFixture.BrokerMissing() }
    }

    var returned: Bool { done.load(ordering: .acquiring) }

    /// Reads whatever the broker already sent, so that the socket is empty.
    func drain() {
        var frame = amqp_frame_t()
        var immediately = timeval(tv_sec: 0, tv_usec: 0)
        while amqp_simple_wait_frame_noblock(state, &frame, &immediately) == AMQP_STATUS_OK.rawValue {}
    }

    func publishInBackground() {
        let thread = Thread { [self] in
            var properties = amqp_basic_properties_t()
            let body = [UInt8](repeating: 1, count: 1024)
            body.withUnsafeBytes { raw in
                _ = amqp_basic_publish(state, 1, amqp_cstring_bytes(""), amqp_cstring_bytes(queue), 0, 0, &properties,
                                       amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress)))
            }
            done.store(true, ordering: .releasing)
        }
        thread.start()
    }

    func close() {
        amqp_destroy_connection(state)
    }
}
