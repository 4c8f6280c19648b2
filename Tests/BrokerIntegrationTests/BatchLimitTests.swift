import Foundation
import LodeAMQP
import Synchronization
import Testing

extension BrokerTests {
    @Suite("Batches a handler gets: bounded in count and bytes, gathered within a window")
    struct BatchLimits {
        /// Runs a consumer with `options` and a batch handler that acks everything, until
        /// `expected` deliveries arrived; returns each batch's body sizes, in delivery order.
        func batches(of queue: String, options: ConsumerOptions, expected: Int,
                     settings: ConnectionSettings) async throws -> [[Int]] {
            let seen = Mutex<[[Int]]>([])
            let consumer = Consumer(settings: settings, queue: queue, options: options) { deliveries, acknowledgements in
                seen.withLock { $0.append(deliveries.map(\.body.count)) }
                for delivery in deliveries { acknowledgements.ack(delivery.tag) }
            }
            try await consumer.start()
            #expect(await BrokerFixture.eventually { seen.withLock { $0.reduce(0) { $0 + $1.count } } == expected })
            await consumer.close()
            return seen.withLock { $0 }
        }

        @Test func aBatchStopsAtItsByteLimitButAlwaysTakesOneMessage() async throws {
            let settings = try BrokerFixture.settings()
            let queue = BrokerFixture.uniqueName("batch-bytes")
            let publisher = Publisher(settings: settings, topology: Topology(queues: [.classic(queue)]))
            let messages = (0..<40).map { index in
                // Every tenth message alone is bigger than the limit.
                OutgoingMessage(exchange: "", routingKey: queue, body: [UInt8](repeating: 7, count: index % 10 == 0 ? 5000 : 1000))
            }
            #expect(try await publisher.publish(messages).allConfirmed)
            var options = ConsumerOptions()
            options.maxBatchBytes = 2500
            let batches = try await batches(of: queue, options: options, expected: 40, settings: settings)
            for batch in batches {
                // A batch closes at the message that reaches the limit: below it before that message.
                // It may close earlier, when nothing more had arrived yet.
                #expect(!batch.isEmpty && batch.dropLast().reduce(0, +) < 2500, "\(batch)")
            }
            #expect(batches.contains { $0.count > 1 }, "small messages still share batches: \(batches)")
            #expect(batches.joined().sorted() == messages.map(\.body.count).sorted())
            try await publisher.deleteQueue(queue)
            await publisher.close()
        }

        @Test func aWindowGathersMessagesThatArriveShortlyAfterTheFirst() async throws {
            let settings = try BrokerFixture.settings()
            let queue = BrokerFixture.uniqueName("batch-window")
            let publisher = Publisher(settings: settings, topology: Topology(queues: [.classic(queue)]))
            try await publisher.connect()
            let seen = Mutex<[Int]>([])
            var options = ConsumerOptions()
            // The second publish needs this test's task to run again after the first confirm.
            // While other suites hold the cooperative pool's threads with CPU-bound work, that
            // took more than 10 s in CI (twice). The batch closes as soon as both are in, so
            // the test never waits the window out unless it is going to fail anyway.
            options.batchWindow = .seconds(120)
            options.maxBatch = 2
            let consumer = Consumer(settings: settings, queue: queue, options: options) { deliveries, acknowledgements in
                seen.withLock { $0.append(deliveries.count) }
                for delivery in deliveries { acknowledgements.ack(delivery.tag) }
            }
            try await consumer.start()
            // The second message is published only after the first was confirmed, so without the
            // window the first would be handed over alone.
            for index in 0..<2 {
                #expect(try await publisher.publish([OutgoingMessage(exchange: "", routingKey: queue, body: body("m\(index)"))]).allConfirmed)
            }
            #expect(await BrokerFixture.eventually(timeout: .seconds(180)) { seen.withLock { $0.reduce(0, +) } == 2 })
            #expect(seen.withLock { $0 } == [2])
            await consumer.close()
            try await publisher.deleteQueue(queue)
            await publisher.close()
        }
    }
}
