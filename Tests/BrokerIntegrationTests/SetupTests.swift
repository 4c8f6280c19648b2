import Foundation
import LodeAMQP
import LodeWire
import Testing

extension BrokerTests {
    @Suite("lodectl setup")
    struct Setup {
        @Test func setupIsIdempotentAndNothingPublishedToLodeEventsIsDropped() async throws {
            let settings = try BrokerFixture.settings()
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            for _ in 0..<2 {
                let outcome = try await PublishProcess.run(["setup"], environment: environment, program: "lodectl")
                #expect(outcome.status == 0, "\(outcome.stderr)")
                #expect(outcome.stdout.contains("queue     \(ZoneTopology.workQueue) (quorum)"))
            }
            let publisher = Publisher(settings: settings)
            #expect(try await publisher.inspectQueue(ZoneTopology.deadLetterQueue) != nil)
            try await publisher.purgeQueue(ZoneTopology.workQueue)
            // Any routing key, even one that names no event type, reaches the worker's queue.
            let report = try await publisher.publish([
                OutgoingMessage(exchange: ZoneTopology.exchange, routingKey: "zone.project.registered", body: body("{}"), mandatory: true),
                OutgoingMessage(exchange: ZoneTopology.exchange, routingKey: "no.such.type", body: body("{}"), mandatory: true),
            ])
            #expect(report.allConfirmed)
            #expect(try await BrokerFixture.eventually { try await publisher.inspectQueue(ZoneTopology.workQueue)?.messageCount == 2 })
            try await publisher.purgeQueue(ZoneTopology.workQueue)
            await publisher.close()
        }
    
        @Test func aMessageRedeliveredPastTheDeliveryLimitEndsInLodeDead() async throws {
            let settings = try BrokerFixture.settings()
            let setup = try await PublishProcess.run(["setup"], environment: ["LODE_AMQP_URL": BrokerFixture.url], program: "lodectl")
            #expect(setup.status == 0, "\(setup.stderr)")
            let publisher = Publisher(settings: settings)
            try await publisher.purgeQueue(ZoneTopology.workQueue)
            try await publisher.purgeQueue(ZoneTopology.deadLetterQueue)
            #expect(try await publisher.publish([
                OutgoingMessage(exchange: ZoneTopology.exchange, routingKey: "zone.project.registered", body: body("poison"))
            ]).allConfirmed)

            // A worker that fails on it every time: requeue, again and again.
            let consumer = Consumer(settings: settings, queue: ZoneTopology.workQueue) { batch, acknowledgements in
                for delivery in batch { acknowledgements.nack(delivery.tag, requeue: true) }
            }
            try await consumer.start()
            #expect(try await BrokerFixture.eventually { try await publisher.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount == 1 })
            await consumer.close()

            let reader = Consumer(settings: settings, queue: ZoneTopology.deadLetterQueue)
            let inbox = ConsumerInbox.following(reader)
            try await reader.start()
            #expect(await BrokerFixture.eventually { await inbox.count == 1 })
            let dead = try #require(await inbox.deliveries.first)
            #expect(dead.body == body("poison"))
            guard case .array(let deaths)? = dead.properties.headers?["x-death"], case .table(let death)? = deaths.first else {
                Issue.record("no x-death header on the dead letter")
                return
            }
            #expect(death["reason"] == .string("delivery_limit"))
            try await reader.ack(dead.tag)
            await reader.close()
            await publisher.close()
        }
    }
}
