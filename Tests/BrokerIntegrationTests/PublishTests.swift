import Foundation
import LodeAMQP
import Testing

/// lode-publish against the real broker. In the serialized `BrokerTests` suite: one of these
/// restarts the broker, and the others must not run while other tests restart it.
///
/// Each test publishes to an exchange of its own (the hidden `--exchange` flag; a durable topic
/// exchange like `lode.events`, deleted with its last binding), so that nothing reaches the
/// queues of a `lode.events` that other work on this broker may have set up.
extension BrokerTests {
    @Suite("lode-publish against the broker")
    struct PublishCommandTests {
        /// A topic exchange and a queue bound to it with `#`.
        struct Route {
            let exchange: String
            let queue: String
            let settings: ConnectionSettings
            let admin: Publisher

            init(_ name: String, bind: Bool = true) async throws {
                settings = try BrokerFixture.settings(name: name)
                exchange = BrokerFixture.uniqueName("\(name).events")
                queue = BrokerFixture.uniqueName(name)
                admin = Publisher(settings: settings)
                try await admin.declare(Topology(
                    exchanges: [ExchangeSpec(name: exchange, kind: "topic", durable: true, autoDelete: true)],
                    queues: [.classic(queue)],
                    bindings: bind ? [BindingSpec(queue: queue, exchange: exchange, routingKey: "#")] : []))
            }

            var messageCount: Int {
                get async throws { try await admin.inspectQueue(queue)?.messageCount ?? -1 }
            }

            /// Reads and acks `count` messages (waiting up to a minute for them).
            func drain(_ count: Int) async throws -> [Delivery] {
                let consumer = Consumer(settings: settings, queue: queue)
                try await consumer.start()
                var deliveries: [Delivery] = []
                let reader = Task {
                    var read: [Delivery] = []
                    for await event in consumer.events {
                        guard case .deliveries(let batch) = event else { continue }
                        read += batch
                        try await consumer.ack(batch.map(\.tag))
                        if read.count >= count { break }
                    }
                    return read
                }
                let timeout = Task {
                    try await Task.sleep(for: .seconds(60))
                    await consumer.close()
                }
                deliveries = try await reader.value
                timeout.cancel()
                await consumer.close()
                return deliveries
            }

            func remove() async {
                _ = try? await admin.deleteQueue(queue)
                await admin.close()
            }
        }

        /// `count` events of three types from two sources, as NDJSON.
        static func mixedEvents(_ count: Int, prefix: String) -> String {
            (0..<count).map { n -> String in
                let source = n % 2 == 0 ? "bt-dept/projects" : "bt-dept/recruitment"
                let head = #"{"specversion":"1.0","id":"\#(prefix)-\#(n)","source":"\#(source)","time":"2024-05-05T10:00:00+08:00","#
                switch n % 3 {
                case 0: return head + #""type":"zone.project.status_changed","data":{"project_id":"BT-\#(n)","status":"started"}}"#
                case 1: return head + #""type":"zone.project.investment_reported","data":{"project_id":"BT-\#(n)","period":"2024-04","completed_investment":\#(n * 1000)}}"#
                default: return head + #""type":"zone.recruitment.site_visit","data":{"enterprise":"企业\#(n)","campaign":"百日攻坚","visitors":3}}"#
                }
            }.joined(separator: "\n") + "\n"
        }

        static func json(_ text: String) -> [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
        }

        @Test func tenThousandEventsLandInBatchesWithTheirPropertiesAndRoutingKeys() async throws {
            let route = try await Route("publish-batched")
            let input = try PublishProcess.file(Self.mixedEvents(10_000, prefix: "b"), extension: "ndjson")
            defer { unlink(input) }
            let outcome = try await PublishProcess.run(["--exchange", route.exchange, "--json", input],
                                                       environment: ["LODE_AMQP_URL": BrokerFixture.url])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let summary = try #require(Self.json(outcome.stdout))
            #expect(summary["published"] as? Int == 10_000)
            let messages = try #require(summary["messages"] as? Int)
            #expect(messages < 10_000 / 10)

            var ids: Set<String> = []
            for delivery in try await route.drain(messages) {
                let properties = delivery.properties
                #expect(properties.contentType == "application/cloudevents-batch+json")
                #expect(properties.deliveryMode == 2)
                #expect(properties.timestamp != nil)
                #expect(properties.messageID?.hasPrefix("batch:") == true)
                #expect(delivery.routingKey == properties.type)
                let events = try #require(try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [[String: Any]])
                #expect(events.count <= 500)
                for event in events {
                    #expect(event["type"] as? String == delivery.routingKey)
                    #expect(event["source"] as? String == properties.appID)
                    if let id = event["id"] as? String { ids.insert(id) }
                }
            }
            #expect(ids.count == 10_000)
            #expect(try await route.messageCount == 0)
            await route.remove()
        }

        @Test func tenThousandEventsLandOnePerMessageWithNoBatch() async throws {
            let route = try await Route("publish-single")
            let input = try PublishProcess.file(Self.mixedEvents(10_000, prefix: "s"), extension: "ndjson")
            defer { unlink(input) }
            let outcome = try await PublishProcess.run(["--exchange", route.exchange, "--no-batch", "--json", input],
                                                       environment: ["LODE_AMQP_URL": BrokerFixture.url])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(Self.json(outcome.stdout)?["published"] as? Int == 10_000)

            var ids: Set<String> = []
            var keys: Set<String> = []
            for delivery in try await route.drain(10_000) {
                let properties = delivery.properties
                let event = try #require(try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any])
                #expect(properties.contentType == "application/cloudevents+json")
                #expect(properties.deliveryMode == 2)
                #expect(properties.timestamp != nil)
                #expect(properties.messageID == event["id"] as? String)
                #expect(properties.type == event["type"] as? String)
                #expect(properties.appID == event["source"] as? String)
                #expect(delivery.routingKey == event["type"] as? String)
                keys.insert(delivery.routingKey)
                if let id = properties.messageID { ids.insert(id) }
            }
            #expect(ids.count == 10_000)
            #expect(keys == ["zone.project.status_changed", "zone.project.investment_reported", "zone.recruitment.site_visit"])
            await route.remove()
        }

        @Test func oneInvalidLineInTheMiddlePublishesNothing() async throws {
            let route = try await Route("publish-invalid")
            var lines = Self.mixedEvents(1_000, prefix: "i").split(separator: "\n").map(String.init)
            lines[499] = lines[499].replacingOccurrences(of: "\"started\"", with: "\"begun\"")
                .replacingOccurrences(of: "\"period\":\"2024-04\"", with: "\"period\":\"2024-13\"")
                .replacingOccurrences(of: "\"visitors\":3", with: "\"visitors\":-3")
            let input = try PublishProcess.file(lines.joined(separator: "\n"), extension: "ndjson")
            defer { unlink(input) }
            let outcome = try await PublishProcess.run(["--exchange", route.exchange, input],
                                                       environment: ["LODE_AMQP_URL": BrokerFixture.url])
            #expect(outcome.status == 65)
            #expect(outcome.stderr.contains("\(input):500: data."))
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await route.messageCount == 0)
            await route.remove()
        }

        @Test func anUnroutedEventIsAFailureThatSaysToRunSetup() async throws {
            let route = try await Route("publish-unrouted", bind: false)
            let outcome = try await PublishProcess.run(
                ["project-status", "--project", "BT-17", "--status", "started", "--exchange", route.exchange],
                environment: ["LODE_AMQP_URL": BrokerFixture.url])
            #expect(outcome.status == 69)
            #expect(outcome.stderr.contains("lodectl setup"))
            await route.remove()
        }

        @Test func oneEventFromFlagsIsPublished() async throws {
            let route = try await Route("publish-flags")
            let outcome = try await PublishProcess.run(
                ["site-visit", "--enterprise", "北方稀土", "--campaign", "百日攻坚", "--visitors", "6",
                 "--source", "bt-dept/recruitment", "--exchange", route.exchange],
                environment: ["LODE_AMQP_URL": BrokerFixture.url])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let deliveries = try await route.drain(1)
            let delivery = try #require(deliveries.first)
            #expect(delivery.routingKey == "zone.recruitment.site_visit")
            #expect(delivery.properties.appID == "bt-dept/recruitment")
            let events = try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [[String: Any]]
            let data = events?.first?["data"] as? [String: Any]
            #expect(data?["enterprise"] as? String == "北方稀土")
            #expect(data?["visitors"] as? Int == 6)
            await route.remove()
        }

        @Test func aBrokerRestartMidFileExits75AndARerunCompletes() async throws {
            let route = try await Route("publish-restart")
            let total = 100_000
            let input = try PublishProcess.file(Self.mixedEvents(total, prefix: "r"), extension: "ndjson")
            defer { unlink(input) }
            let arguments = ["--exchange", route.exchange, "--no-batch", "--json", input]
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let watcher = Publisher(settings: route.settings)
            let restart = Task {
                _ = await BrokerFixture.eventually(timeout: .seconds(60)) {
                    (try? await watcher.inspectQueue(route.queue)?.messageCount ?? 0) ?? 0 >= 2_000
                }
                try BrokerFixture.script("restart")
            }
            let interrupted = try await PublishProcess.run(arguments, environment: environment)
            try await restart.value
            await watcher.close()
            #expect(interrupted.status == 75, "\(interrupted.stderr)")
            #expect(interrupted.stderr.contains("safe"))
            let confirmedBefore = Self.json(interrupted.stdout)?["published"] as? Int ?? 0
            #expect(confirmedBefore < total)

            let rerun = try await PublishProcess.run(arguments, environment: environment)
            #expect(rerun.status == 0, "\(rerun.stderr)")
            #expect(Self.json(rerun.stdout)?["published"] as? Int == total)

            // Every event is in the queue at least once (the first run's confirmed ones twice).
            let admin = Publisher(settings: route.settings)
            let depth = try #require(try await admin.inspectQueue(route.queue)?.messageCount)
            await admin.close()
            #expect(depth >= total)
            let ids = Set(try await route.drain(depth).compactMap(\.properties.messageID))
            #expect(ids.count == total)
            let reconnected = Publisher(settings: route.settings)
            _ = try? await reconnected.deleteQueue(route.queue)
            await reconnected.close()
            await route.remove()
        }
    }
}
