import Foundation
import GRDB
import LodeAMQP
import LodeEvents
import LodeStorage
import LodeTestSupport
import LodeWire
import Testing

extension BrokerTests {
    /// The bad-input corpus (`Tests/Corpus`, issue 11) through the real parts: `lode-publish`
    /// refuses each bad event with `FILE:LINE: …` and publishes nothing; published raw to
    /// `lode.events` with its hostile headers and properties, each case is applied or
    /// dead-lettered with its reason by the `lode-worker` process, which stays up.
    @Suite("The bad-input corpus through the publisher and the worker process")
    struct BadInputCorpusThroughTheBroker {
        static let corpus: BadInputCorpus = {
            do { return try BadInputCorpus.load() } catch { fatalError("Tests/Corpus cannot be read: \(error)") }
        }()

        @Test func thePublisherRefusesEachBadEventWithItsLineAndAcceptsEachGoodOne() async throws {
            let directory = try BrokerFixture.temporaryDirectory("lode-corpus-publish")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            for testCase in Self.corpus.cases {
                guard case .same(let outcome) = testCase.publisher else { continue }
                let file = directory + "/\(testCase.name).ndjson"
                try Data(testCase.body).write(to: URL(fileURLWithPath: file))
                let checked = try await PublishProcess.run(["--check", file])
                switch outcome {
                case .applied:
                    #expect(checked.status == 0, "\(testCase.name): \(checked.stderr)")
                case .rejected(_, let mentions):
                    #expect(checked.status == 65, "\(testCase.name): exit \(checked.status), \(checked.stderr)")
                    let line = checked.stderr.split(separator: "\n").first { $0.contains("\(file):1: ") } ?? ""
                    #expect(!line.isEmpty, "\(testCase.name): no '\(file):1: ' line in \(checked.stderr)")
                    for mention in mentions where !["JSON", "UTF-8"].contains(mention) {
                        #expect(checked.stderr.contains(mention), "\(testCase.name): no '\(mention)' in \(checked.stderr)")
                    }
                }
            }
        }

        @Test func thePublisherPublishesNothingFromAFileWithBadEvents() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            var lines = Self.corpus.cases.compactMap { testCase -> [UInt8]? in
                guard case .same(.rejected) = testCase.publisher, !testCase.body.contains(UInt8(ascii: "\n")),
                      !testCase.body.isEmpty else { return nil }
                return testCase.body
            }
            lines.insert(Array(publishedEventLine(1).utf8), at: 0)
            let file = NSTemporaryDirectory() + "lode-corpus-\(UUID().uuidString).ndjson"
            defer { unlink(file) }
            try Data(Array(lines.joined(separator: [UInt8(ascii: "\n")]))).write(to: URL(fileURLWithPath: file))
            let published = try await PublishProcess.run([file], environment: ["LODE_AMQP_URL": BrokerFixture.url])
            #expect(published.status == 65, "\(published.stderr)")
            #expect(published.stderr.split(separator: "\n").count { $0.contains("\(file):") } >= lines.count - 1, "\(published.stderr)")
            #expect(try await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount == 0)
            await admin.close()
        }

        @Test func theWorkerProcessAppliesOrDeadLettersEveryCaseAndStaysUp() async throws {
            let chosen = Self.corpus.cases
            let settings = try BrokerFixture.settings()
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-corpus-worker")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let db = directory + "/zone.sqlite"
            let worker = try ServiceProcess("lode-worker", ["--db", db, "--metrics-address", "127.0.0.1:0"],
                                            environment: ["LODE_AMQP_URL": BrokerFixture.url])
            let base = try await worker.metricsBase()

            // One message a publish: a message RabbitMQ refuses (it closes the channel) takes no
            // other with it.
            var refused: [String] = []
            for testCase in chosen {
                let message = OutgoingMessage(
                    exchange: ZoneTopology.exchange, routingKey: testCase.routingKey ?? "zone.project.status_changed",
                    body: testCase.body, properties: testCase.properties, mandatory: true)
                if !(try await admin.publish([message]).allConfirmed) { refused.append(testCase.name) }
            }
            #expect(refused == chosen.filter(\.brokerRefuses).map(\.name))
            let cases = chosen.filter { !refused.contains($0.name) }
            // Last, one good event: a worker that still consumes applies it.
            let sentinel = Array(publishedEventLine(900_001, source: "bt-hitech/corpus-sentinel").utf8)
            #expect(try await admin.publish([OutgoingMessage(
                exchange: ZoneTopology.exchange, routingKey: "zone.project.status_changed", body: sentinel,
                properties: MessageProperties(contentType: MessageFormat.singleContentType, deliveryMode: 2), mandatory: true)]).allConfirmed)

            let expectedDead = cases.reduce(0) { $0 + $1.deadLetterCount }
            var dead = 0
            let drained = await BrokerFixture.eventually(timeout: .seconds(180), poll: .milliseconds(200)) {
                dead = (try? await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount) ?? 0
                let ready = (try? await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount) ?? -1
                return ready == 0 && dead >= expectedDead && (try? Self.appliedIDs(db).contains("evt-900001")) == true
            }
            #expect(drained, "lode.dead holds \(dead) of \(expectedDead); worker stderr: \(worker.stderr.suffix(3000))")

            // Alive and well: /healthz answers ok, and the process has not exited.
            let health = try? await HTTPGet.fetch(base + "/healthz")
            #expect(health?.status == 200, "\(health?.body ?? "no answer"); stderr: \(worker.stderr.suffix(3000))")
            #expect(!worker.stderr.contains("Fatal error"), "\(worker.stderr.suffix(3000))")
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr.suffix(3000))")

            // Each applied event is in the store.
            let applied = try Self.appliedIDs(db)
            for testCase in cases {
                for id in Self.idsExpectedApplied(testCase) {
                    #expect(applied.contains(id), "\(testCase.name): event \(id.prefix(40)) not applied")
                }
            }

            // Each dead letter is its case's, with the expected reason and words.
            let reader = Consumer(settings: settings, queue: ZoneTopology.deadLetterQueue)
            let inbox = ConsumerInbox.following(reader)
            try await reader.start()
            #expect(await BrokerFixture.eventually { await inbox.count >= expectedDead })
            let letters = await inbox.deliveries
            for testCase in cases {
                let mine = letters.filter { $0.properties.correlationID == testCase.properties.correlationID }
                let expected: [BadInputCorpus.Outcome] = switch testCase.expectation {
                case .message(let outcome): [outcome]
                case .elements(let outcomes): outcomes
                }
                let rejections = expected.filter { $0 != .applied }
                #expect(mine.count == rejections.count, "\(testCase.name): \(mine.count) dead letters, expected \(rejections.count)")
                for (letter, outcome) in zip(mine, rejections) {
                    guard case .rejected(let reason, let mentions) = outcome else { continue }
                    let headers = letter.properties.headers
                    #expect(headers?["x-lode-reason"]?.stringValue == reason, "\(testCase.name)")
                    let error = headers?["x-lode-error"]?.stringValue ?? ""
                    for mention in mentions {
                        #expect(error.contains(mention), "\(testCase.name): no '\(mention)' in \(error)")
                    }
                    #expect(headers?["x-lode-attempts"]?.integerValue.map { $0 >= 1 } == true, "\(testCase.name)")
                    let forged = testCase.properties.headers?["x-lode-event-id"]?.stringValue
                    if let forged {
                        #expect(headers?["x-lode-event-id"]?.stringValue != forged, "\(testCase.name): the forged event id stayed")
                    }
                }
            }
            try await reader.ack(letters.map(\.tag))
            await reader.close()
            await admin.close()
        }

        /// The ids of the events of a case that must be applied.
        static func idsExpectedApplied(_ testCase: BadInputCorpus.Case) -> [String] {
            switch testCase.expectation {
            case .message(.applied):
                return (try? Event.decode(testCase.body)).map { [$0.id] } ?? []
            case .message(.rejected):
                return []
            case .elements(let outcomes):
                guard let batch = try? EventBatch.decode(testCase.body) else { return [] }
                return zip(batch.elements, outcomes).compactMap { element, outcome in outcome == .applied ? element.event?.id : nil }
            }
        }

        static func appliedIDs(_ path: String) throws -> Set<String> {
            guard FileManager.default.fileExists(atPath: path) else { return [] }
            let queue = try DatabaseQueue(path: path, configuration: { var c = Configuration(); c.readonly = true; return c }())
            return try queue.read { db in Set(try String.fetchAll(db, sql: "SELECT event_id FROM event_log")) }
        }
    }
}
