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

        struct BadMessage: Sendable {
            var label: String
            var routingKey = "zone.project.status_changed"
            var body: [UInt8]
            var reason: String
            var mentions: String
        }

        static func event(id: String? = "raw-1", type: String = "zone.project.status_changed",
                          time: String = "2024-05-05T10:00:00+08:00",
                          data: String = #"{"project_id":"BT-17","status":"started"}"#) -> String {
            let idField = id.map { #""id":"\#($0)","# } ?? ""
            return #"{"specversion":"1.0",\#(idField)"source":"third-party","type":"\#(type)","time":"\#(time)","data":\#(data)}"#
        }

        /// The issue's list of raw messages a plain AMQP client might publish.
        static var badMessages: [BadMessage] {
            var invalidUTF8 = Array(event(id: "raw-utf8").utf8)
            invalidUTF8.insert(contentsOf: [0xC3, 0x28], at: invalidUTF8.count - 10)
            let padding = String(repeating: "x", count: 2 << 20)
            return [
                BadMessage(label: "invalid JSON", body: body("not json"), reason: "invalid_json", mentions: "JSON"),
                BadMessage(label: "an array as a single event", body: body("[]"), reason: "invalid_event", mentions: "array"),
                BadMessage(label: "missing id", body: body(event(id: nil)), reason: "invalid_event", mentions: "id"),
                BadMessage(label: "unknown type on an unknown routing key", routingKey: "no.such.type",
                           body: body(event(id: "raw-unknown", type: "zone.unknown", data: "{}")), reason: "unknown_type",
                           mentions: "zone.unknown"),
                BadMessage(label: "negative amount", routingKey: "zone.project.investment_reported",
                           body: body(event(id: "raw-negative", type: "zone.project.investment_reported",
                                            data: #"{"project_id":"BT-17","period":"2024-04","completed_investment":-5}"#)),
                           reason: "invalid_event", mentions: "completed_investment"),
                BadMessage(label: "bad project_id", body: body(event(id: "raw-project", data: #"{"project_id":"bt 17!","status":"started"}"#)),
                           reason: "invalid_event", mentions: "project_id"),
                BadMessage(label: "invalid UTF-8", body: invalidUTF8, reason: "invalid_json", mentions: "UTF-8"),
                BadMessage(label: "time without offset", body: body(event(id: "raw-time", time: "2024-05-05T10:00:00")),
                           reason: "invalid_event", mentions: "time"),
                BadMessage(label: "a 2 MB body",
                           body: body(event(id: "raw-big", data: #"{"project_id":"BT-17","status":"started","note":"\#(padding)"}"#)),
                           reason: "too_large", mentions: "64 KiB"),
            ]
        }

        @Test func theDemoSetPublishedTwiceInBothShapesGivesTheSeedFiguresAndBadMessagesAreDeadLettered() async throws {
            let settings = try BrokerFixture.settings()
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let admin = try await BrokerFixture.emptyZoneQueues()

            let directory = try BrokerFixture.temporaryDirectory("lode-worker-test")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let calendar = try ZoneCalendar()
            let store = try SQLiteZoneStore(path: directory + "/zone.sqlite", configuration: SQLiteStoreConfiguration(calendar: calendar))
            let worker = Worker(settings: settings, store: store)
            try await worker.start()

            // The same events twice, each time in another random order: batched, then one per
            // message.
            let demoLines = try String(contentsOfFile: Self.demoFile, encoding: .utf8).split(separator: "\n")
            for extra in [[String](), ["--no-batch"]] {
                let shuffled = try PublishProcess.file(demoLines.shuffled().joined(separator: "\n") + "\n", extension: "ndjson")
                defer { unlink(shuffled) }
                let outcome = try await PublishProcess.run(extra + [shuffled], environment: environment)
                #expect(outcome.status == 0, "\(outcome.stderr)")
            }
            // And messages a third-party script might send, each with the reason it must be
            // dead-lettered for and a word its error text must hold.
            let badMessages = Self.badMessages
            let bad = badMessages.map { message in
                OutgoingMessage(exchange: ZoneTopology.exchange, routingKey: message.routingKey, body: message.body,
                                properties: MessageProperties(contentType: "application/cloudevents+json", deliveryMode: 2))
            }
            #expect(try await admin.publish(bad).allConfirmed)

            let lines = demoLines
            #expect(await BrokerFixture.eventually(timeout: .seconds(120)) {
                let totals = worker.totals
                return totals.applied == lines.count && totals.duplicates == lines.count && totals.deadLettered == badMessages.count
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
            #expect(await BrokerFixture.eventually { await inbox.count == badMessages.count })
            for message in badMessages {
                let letter = await inbox.deliveries.first { $0.body == message.body }
                let headers = letter?.properties.headers
                #expect(headers?["x-lode-reason"]?.stringValue == message.reason, "\(message.label)")
                let error = headers?["x-lode-error"]?.stringValue ?? ""
                #expect(error.contains(message.mentions), "\(message.label): \(error)")
                #expect(headers?["x-lode-first-failed-at"]?.stringValue != nil, "\(message.label)")
            }
            try await reader.ack(await inbox.deliveries.map(\.tag))
            await reader.close()
            await admin.close()
        }
    
        @Test func stoppingDuringABacklogLosesNothingAndCountsNothingTwice() async throws {
            let settings = try BrokerFixture.settings()
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let admin = try await BrokerFixture.emptyZoneQueues()
            let published = try await PublishProcess.run(["--no-batch", Self.demoFile], environment: environment)
            #expect(published.status == 0, "\(published.stderr)")
            let total = try String(contentsOfFile: Self.demoFile, encoding: .utf8).split(separator: "\n").count

            let directory = try BrokerFixture.temporaryDirectory("lode-worker-stop")
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
            // What it took is committed and acknowledged; the rest is back in the queue. (RabbitMQ
            // 3.10's quorum queues may also requeue a few messages acked just before the channel
            // closed: more than the rest is allowed, fewer would be a loss.)
            var ready = 0
            #expect(try await BrokerFixture.eventually {
                ready = try await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount ?? 0
                return ready >= total - appliedFirst
            }, "ready \(ready), applied \(appliedFirst) of \(total)")
            #expect(ready <= total - appliedFirst + Int(options.prefetch), "ready \(ready), applied \(appliedFirst) of \(total)")

            let second = Worker(settings: settings, store: store, options: options)
            try await second.start()
            #expect(await BrokerFixture.eventually(timeout: .seconds(120)) { second.totals.applied == total - appliedFirst })
            await second.stop()
            // Duplicates are allowed (an ack lost at the first worker's channel close makes one),
            // double counting is not: every event is in the log once.
            #expect(try store.loggedEventCount() == total)
            await admin.close()
        }
    }
}
