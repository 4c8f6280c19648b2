import Foundation
import LodeAMQP
import Synchronization
import Testing

/// Every test that talks to the broker. Serialized as a whole: some of them restart, freeze or
/// block the broker, which would break any test running beside them. Each test uses its own
/// queue names.
@Suite("Client layer against the real broker", .serialized)
struct BrokerTests {}

func body(_ text: String) -> [UInt8] { Array(text.utf8) }

extension BrokerTests {
    @Suite("Publishing and consuming")
    struct PublishingAndConsuming {
        @Test func roundTripKeepsEveryPropertyAndNestedHeaders() async throws {
            let settings = try BrokerFixture.settings()
            let queue = BrokerFixture.uniqueName("roundtrip")
            let publisher = Publisher(settings: settings, topology: Topology(queues: [.classic(queue)]))
            let headers: FieldTable = [
                "x-string": .string("包头稀土高新区"),
                "x-int": .int32(-42),
                "x-long": .int64(1 << 40),
                "x-short": .int16(7),
                "x-byte": .int8(-3),
                "x-bool": .bool(true),
                "x-double": .double(2.5),
                "x-float": .float(1.25),
                "x-decimal": .decimal(scale: 2, value: 12345),
                "x-timestamp": .timestamp(1_700_000_000),
                "x-bytes": .bytes([0, 1, 2, 255]),
                "x-void": .void,
                "x-nested": .table([
                    "list": .array([.string("a"), .table(["deep": .int32(3)]), .array([.bool(false)])]),
                    "empty": .table([:]),
                ]),
            ]
            let properties = MessageProperties(
                contentType: "application/cloudevents+json", contentEncoding: "identity", headers: headers,
                deliveryMode: 2, priority: 5, correlationID: "corr-1", replyTo: "reply.queue", expiration: "600000",
                messageID: "msg-1", timestamp: 1_732_000_000, type: "zone.project.registered", userID: settings.user,
                appID: "bt-dept-1", clusterID: "cluster-a")
            let payload = body(#"{"name":"年产5万吨稀土永磁材料项目"}"#)
            let report = try await publisher.publish([
                OutgoingMessage(exchange: "", routingKey: queue, body: payload, properties: properties, mandatory: true)
            ])
            #expect(report.outcomes == [.confirmed])

            let consumer = Consumer(settings: settings, queue: queue)
            let inbox = ConsumerInbox.following(consumer)
            try await consumer.start()
            #expect(await BrokerFixture.eventually { await inbox.count == 1 })
            let delivery = try #require(await inbox.deliveries.first)
            #expect(delivery.body == payload)
            #expect(delivery.properties == properties)
            #expect(delivery.routingKey == queue)
            #expect(delivery.exchange == "")
            #expect(delivery.redelivered == false)
            try await consumer.ack(delivery.tag)
            await consumer.close()
            try await publisher.deleteQueue(queue)
            await publisher.close()
        }

        @Test func xDeathHeadersFromBrokerDeadLetteringArriveAsNestedValues() async throws {
            let settings = try BrokerFixture.settings()
            let expiring = BrokerFixture.uniqueName("expiring")
            let dead = BrokerFixture.uniqueName("dead")
            let publisher = Publisher(settings: settings, topology: Topology(queues: [
                .classic(dead),
                .classic(expiring, arguments: [
                    "x-message-ttl": .int32(0),
                    "x-dead-letter-exchange": .string(""),
                    "x-dead-letter-routing-key": .string(dead),
                ]),
            ]))
            let report = try await publisher.publish([OutgoingMessage(exchange: "", routingKey: expiring, body: body("late"))])
            #expect(report.allConfirmed)

            let consumer = Consumer(settings: settings, queue: dead)
            let inbox = ConsumerInbox.following(consumer)
            try await consumer.start()
            #expect(await BrokerFixture.eventually { await inbox.count == 1 })
            let delivery = try #require(await inbox.deliveries.first)
            guard case .array(let deaths)? = delivery.properties.headers?["x-death"],
                  case .table(let death)? = deaths.first
            else {
                Issue.record("x-death is not an array of tables: \(String(describing: delivery.properties.headers))")
                return
            }
            #expect(death["reason"] == .string("expired"))
            #expect(death["queue"] == .string(expiring))
            #expect(death["count"]?.integerValue == 1)
            #expect(death["routing-keys"] == .array([.string(expiring)]))
            if case .timestamp = death["time"] {} else { Issue.record("x-death time is not a timestamp") }
            try await consumer.ack(delivery.tag)
            await consumer.close()
            try await publisher.deleteQueue(expiring)
            try await publisher.deleteQueue(dead)
            await publisher.close()
        }

        @Test func hundredThousandPublishesAreConfirmedThroughTheWindow() async throws {
            let settings = try BrokerFixture.settings()
            let queue = BrokerFixture.uniqueName("window")
            var options = PublisherOptions()
            options.window = 500
            let publisher = Publisher(settings: settings, topology: Topology(queues: [.classic(queue)]), options: options)
            let message = OutgoingMessage(exchange: "", routingKey: queue, body: [UInt8](repeating: 0x2A, count: 100))
            var confirmed = 0
            for _ in 0..<5 {
                let report = try await publisher.publish(Array(repeating: message, count: 20_000))
                #expect(report.interruption == nil)
                confirmed += report.confirmedCount
            }
            #expect(confirmed == 100_000)
            let state = try await publisher.inspectQueue(queue)
            #expect(state?.messageCount == 100_000)
            try await publisher.deleteQueue(queue)
            await publisher.close()
        }

        @Test func aFullRejectPublishQueueNacksTheOverflow() async throws {
            let settings = try BrokerFixture.settings()
            let queue = BrokerFixture.uniqueName("full")
            let publisher = Publisher(settings: settings, topology: Topology(queues: [
                .classic(queue, arguments: ["x-max-length": .int32(5), "x-overflow": .string("reject-publish")])
            ]))
            let messages = (0..<8).map { OutgoingMessage(exchange: "", routingKey: queue, body: body("m\($0)")) }
            let report = try await publisher.publish(messages)
            #expect(report.outcomes == Array(repeating: .confirmed, count: 5) + Array(repeating: .nacked, count: 3))
            #expect(report.interruption == nil)
            try await publisher.deleteQueue(queue)
            await publisher.close()
        }

        @Test func anUnroutableMandatoryMessageIsReturnedAndTheOthersConfirmed() async throws {
            let settings = try BrokerFixture.settings()
            let queue = BrokerFixture.uniqueName("routed")
            let exchange = BrokerFixture.uniqueName("nowhere")
            let publisher = Publisher(settings: settings, topology: Topology(
                exchanges: [ExchangeSpec(name: exchange, kind: "topic", durable: false, autoDelete: true)],
                queues: [.classic(queue)]))
            let report = try await publisher.publish([
                OutgoingMessage(exchange: "", routingKey: queue, body: body("a"), mandatory: true),
                OutgoingMessage(exchange: exchange, routingKey: "no.binding", body: body("b"), mandatory: true),
                OutgoingMessage(exchange: exchange, routingKey: "no.binding", body: body("c"), mandatory: true),
                OutgoingMessage(exchange: "", routingKey: queue, body: body("d"), mandatory: true),
            ])
            #expect(report.outcomes == [
                .confirmed, .returned(replyCode: 312, replyText: "NO_ROUTE"),
                .returned(replyCode: 312, replyText: "NO_ROUTE"), .confirmed,
            ])
            #expect(report.returnedCount == 2)
            try await publisher.deleteQueue(queue)
            await publisher.close()
        }

        @Test func aTopicBindingRoutesByKeyIntoAQuorumQueue() async throws {
            let settings = try BrokerFixture.settings()
            let exchange = BrokerFixture.uniqueName("events")
            let queue = BrokerFixture.uniqueName("projects")
            let topology = Topology(
                exchanges: [ExchangeSpec(name: exchange, kind: "topic", durable: false, autoDelete: true)],
                queues: [.quorum(queue)],
                bindings: [BindingSpec(queue: queue, exchange: exchange, routingKey: "zone.project.*")])
            let publisher = Publisher(settings: settings, topology: topology)
            let report = try await publisher.publish([
                OutgoingMessage(exchange: exchange, routingKey: "zone.project.registered", body: body("p"), mandatory: true),
                OutgoingMessage(exchange: exchange, routingKey: "zone.recruitment.site_visit", body: body("r"), mandatory: true),
            ])
            #expect(report.outcomes == [.confirmed, .returned(replyCode: 312, replyText: "NO_ROUTE")])
            #expect(try await BrokerFixture.eventually { try await publisher.inspectQueue(queue)?.messageCount == 1 })

            let consumer = Consumer(settings: settings, queue: queue, topology: topology)
            let inbox = ConsumerInbox.following(consumer)
            try await consumer.start()
            #expect(await BrokerFixture.eventually { await inbox.count == 1 })
            let delivery = try #require(await inbox.deliveries.first)
            #expect(delivery.routingKey == "zone.project.registered")
            #expect(delivery.exchange == exchange)
            #expect(try await publisher.inspectQueue(queue)?.consumerCount == 1)
            try await consumer.ack(delivery.tag)
            await consumer.close()
            try await publisher.deleteQueue(queue)
            await publisher.close()
        }

        @Test func unackedDeliveriesAreRedeliveredAfterTheConsumerCloses() async throws {
            let settings = try BrokerFixture.settings()
            let queue = BrokerFixture.uniqueName("redeliver")
            let publisher = Publisher(settings: settings, topology: Topology(queues: [.classic(queue)]))
            let sent = (0..<3).map { OutgoingMessage(exchange: "", routingKey: queue, body: body("job \($0)")) }
            #expect(try await publisher.publish(sent).allConfirmed)

            let first = Consumer(settings: settings, queue: queue)
            let firstInbox = ConsumerInbox.following(first)
            try await first.start()
            #expect(await BrokerFixture.eventually { await firstInbox.count == 3 })
            #expect(await firstInbox.deliveries.allSatisfy { !$0.redelivered })
            await first.close()

            let second = Consumer(settings: settings, queue: queue)
            let secondInbox = ConsumerInbox.following(second)
            try await second.start()
            #expect(await BrokerFixture.eventually { await secondInbox.count == 3 })
            let again = await secondInbox.deliveries
            #expect(again.allSatisfy { $0.redelivered })
            #expect(again.map(\.body) == sent.map(\.body))
            // An ack for a delivery of the closed consumer's connection must not reach this one.
            let stale = await firstInbox.deliveries[0].tag
            await #expect(throws: AMQPError.self) { try await first.ack(stale) }
            second.acknowledge(again.map(\.tag))
            #expect(try await BrokerFixture.eventually {
                let state = try await publisher.inspectQueue(queue)
                return state?.messageCount == 0 && state?.consumerCount == 1
            })
            // Acknowledged, not merely in flight: closing the consumer puts nothing back.
            await second.close()
            #expect(try await publisher.inspectQueue(queue)?.messageCount == 0)
            try await publisher.deleteQueue(queue)
            await publisher.close()
        }

        @Test func aBatchHandlerAcknowledgesOnTheConsumersThread() async throws {
            let settings = try BrokerFixture.settings()
            let queue = BrokerFixture.uniqueName("handler")
            let publisher = Publisher(settings: settings, topology: Topology(queues: [.classic(queue)]))
            let sent = (0..<50).map { OutgoingMessage(exchange: "", routingKey: queue, body: body("n\($0)")) }
            #expect(try await publisher.publish(sent).allConfirmed)

            // Acknowledge everything but "n7", and reject "n8" without requeueing it.
            let seen = Mutex(0)
            let consumer = Consumer(settings: settings, queue: queue) { batch, acknowledgements in
                for delivery in batch {
                    if delivery.body == body("n8") {
                        acknowledgements.reject(delivery.tag, requeue: false)
                    } else if delivery.body != body("n7") {
                        acknowledgements.ack(delivery.tag)
                    }
                }
                seen.withLock { $0 += batch.count }
            }
            try await consumer.start()
            #expect(await BrokerFixture.eventually { seen.withLock { $0 } == 50 })
            #expect(try await BrokerFixture.eventually { try await publisher.inspectQueue(queue)?.messageCount == 0 })
            await consumer.close()
            // Only the unacknowledged "n7" went back to the queue.
            #expect(try await BrokerFixture.eventually { try await publisher.inspectQueue(queue)?.messageCount == 1 })
            try await publisher.deleteQueue(queue)
            await publisher.close()
        }

        @Test func channelErrorsCarryTheReplyCodeAndThePublisherCarriesOn() async throws {
            let settings = try BrokerFixture.settings()
            let queue = BrokerFixture.uniqueName("channel-error")
            let publisher = Publisher(settings: settings)
            #expect(try await publisher.inspectQueue(BrokerFixture.uniqueName("absent")) == nil)
            try await publisher.declare(Topology(queues: [.classic(queue)]))
            do {
                try await publisher.declare(Topology(queues: [.quorum(queue)]))
                Issue.record("re-declaring a classic queue as quorum must fail")
            } catch {
                #expect(error.replyCode == 406)
                #expect(error.description.contains("declaring queue '\(queue)'"))
                #expect(!error.isRetryable)
            }
            let report = try await publisher.publish([OutgoingMessage(exchange: "", routingKey: queue, body: body("x"))])
            #expect(report.allConfirmed)
            #expect(try await publisher.inspectQueue(queue)?.messageCount == 1)
            try await publisher.deleteQueue(queue)
            await publisher.close()
        }

        @Test func aRefusedLoginFailsAtOnceWithoutThePassword() async throws {
            var settings = try BrokerFixture.settings()
            settings.password = "wrong-S3CRET"
            var options = PublisherOptions()
            // Retrying would take the whole minute; the bound below leaves room for a loaded machine.
            options.reconnectTimeout = .seconds(60)
            let publisher = Publisher(settings: settings, options: options)
            let started = ContinuousClock.now
            do {
                try await publisher.connect()
                Issue.record("a wrong password must be refused")
            } catch {
                #expect(error.replyCode == 403)
                #expect(!error.description.contains("wrong-S3CRET"))
            }
            #expect(ContinuousClock.now - started < .seconds(30), "a refused login is not retried")
            await publisher.close()
        }

        @Test func anUnreachableBrokerIsReportedUnavailableAfterBackoff() async throws {
            _ = try BrokerFixture.settings()
            var settings = try ConnectionSettings(url: "amqp://guest:guest@127.0.0.1:1/%2F")
            settings.connectionTimeout = .milliseconds(500)
            var options = PublisherOptions()
            options.reconnectTimeout = .seconds(1)
            options.backoff = Backoff(base: .milliseconds(50), cap: .milliseconds(200))
            let publisher = Publisher(settings: settings, options: options)
            do {
                _ = try await publisher.publish([OutgoingMessage(exchange: "", routingKey: "q", body: [1])])
                Issue.record("nothing listens on port 1")
            } catch {
                guard case .unavailable(let attempts, _) = error.kind else {
                    Issue.record("expected .unavailable, got \(error)")
                    return
                }
                #expect(attempts > 1)
                #expect(error.isRetryable)
            }
            await publisher.close()
        }
    }
}
