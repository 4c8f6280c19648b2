import Foundation
import LodeAMQP
import LodeEvents
import LodeProjections
import LodeStorage
import LodeWire
import LodeWorker
import Testing

extension BrokerTests {
    @Suite("The worker through the broker")
    struct WorkerThroughTheBroker {
        static var demoFile: String {
            BrokerFixture.repositoryRoot.appendingPathComponent("demo/baotou-2024.ndjson").path
        }

        @Test func theDemoSetPublishedTwiceInBothShapesGivesTheSeedFiguresAndBadMessagesAreDeadLettered() async throws {
            let settings = try BrokerFixture.settings()
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            #expect(try await PublishProcess.run(["setup"], environment: environment, program: "lodectl").status == 0)
            let admin = Publisher(settings: settings)
            try await admin.purgeQueue(ZoneTopology.workQueue)
            try await admin.purgeQueue(ZoneTopology.deadLetterQueue)

            let directory = NSTemporaryDirectory() + "lode-worker-test-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let calendar = try ZoneCalendar()
            let store = try SQLiteZoneStore(path: directory + "/zone.sqlite", configuration: SQLiteStoreConfiguration(calendar: calendar))
            let worker = Worker(settings: settings, store: store)
            try await worker.start()

            // The same events twice: batched, then one per message.
            for extra in [[String](), ["--no-batch"]] {
                let outcome = try await PublishProcess.run(extra + [Self.demoFile], environment: environment)
                #expect(outcome.status == 0, "\(outcome.stderr)")
            }
            // And messages a third-party script might send: not JSON, an array as a single event,
            // an unknown type on an unknown routing key.
            let bad = [
                OutgoingMessage(exchange: ZoneTopology.exchange, routingKey: "zone.project.registered", body: body("not json"),
                                properties: MessageProperties(contentType: "application/cloudevents+json", deliveryMode: 2)),
                OutgoingMessage(exchange: ZoneTopology.exchange, routingKey: "zone.project.registered", body: body("[]"),
                                properties: MessageProperties(contentType: "application/cloudevents+json", deliveryMode: 2)),
                OutgoingMessage(exchange: ZoneTopology.exchange, routingKey: "no.such.type", body: body(
                    #"{"specversion":"1.0","id":"x-1","source":"s","type":"zone.unknown","time":"2024-01-01T00:00:00Z","data":{}}"#),
                    properties: MessageProperties(contentType: "application/cloudevents+json", deliveryMode: 2)),
            ]
            #expect(try await admin.publish(bad).allConfirmed)

            let lines = try String(contentsOfFile: Self.demoFile, encoding: .utf8).split(separator: "\n")
            #expect(await BrokerFixture.eventually(timeout: .seconds(120)) {
                let totals = worker.totals
                return totals.applied == lines.count && totals.duplicates == lines.count && totals.deadLettered == 3
            }, "worker totals: \(worker.totals)")

            // The figures are exactly the projection's over the file, which the seed's are.
            var projection = ZoneProjection(calendar: calendar)
            for line in lines { projection.apply(try Event.decode(Array(line.utf8))) }
            let report = try store.report(year: 2024, targets: [])
            #expect(report.jsonText() == projection.report(year: 2024).jsonText())
            #expect(report.projects.major == 71)
            #expect(report.projects.totalInvestment == 57_384_000_000)
            #expect(report.recruitment.enterprisesContacted == 904)

            // Each bad message is in lode.dead with its reason.
            await worker.stop()
            let reader = Consumer(settings: settings, queue: ZoneTopology.deadLetterQueue)
            let inbox = ConsumerInbox.following(reader)
            try await reader.start()
            #expect(await BrokerFixture.eventually { await inbox.count == 3 })
            let reasons = await inbox.deliveries.compactMap { $0.properties.headers?["x-lode-reason"]?.stringValue }
            #expect(reasons.sorted() == ["invalid_event", "invalid_json", "unknown_type"])
            try await reader.ack(await inbox.deliveries.map(\.tag))
            await reader.close()
            await admin.close()
        }
    
        @Test func stoppingDuringABacklogLosesNothingAndCountsNothingTwice() async throws {
            let settings = try BrokerFixture.settings()
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            #expect(try await PublishProcess.run(["setup"], environment: environment, program: "lodectl").status == 0)
            let admin = Publisher(settings: settings)
            try await admin.purgeQueue(ZoneTopology.workQueue)
            let published = try await PublishProcess.run(["--no-batch", Self.demoFile], environment: environment)
            #expect(published.status == 0, "\(published.stderr)")
            let total = try String(contentsOfFile: Self.demoFile, encoding: .utf8).split(separator: "\n").count

            let directory = NSTemporaryDirectory() + "lode-worker-stop-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let store = try SQLiteZoneStore(path: directory + "/zone.sqlite",
                                            configuration: SQLiteStoreConfiguration(calendar: try ZoneCalendar()))
            var options = WorkerOptions()
            options.prefetch = 50
            // Stop the first worker part way through the backlog, as SIGTERM does.
            let first = Worker(settings: settings, store: store, options: options)
            try await first.start()
            #expect(await BrokerFixture.eventually { first.totals.applied > 0 })
            await first.stop()
            let appliedFirst = first.totals.applied
            // What it took is committed and acknowledged; the rest is still in the queue.
            #expect(try await BrokerFixture.eventually {
                try await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount == total - appliedFirst
            })

            let second = Worker(settings: settings, store: store, options: options)
            try await second.start()
            #expect(await BrokerFixture.eventually(timeout: .seconds(120)) { second.totals.applied == total - appliedFirst })
            await second.stop()
            #expect(second.totals.duplicates == 0)
            #expect(try store.loggedEventCount() == total)
            await admin.close()
        }
    }
}
