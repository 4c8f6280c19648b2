import LodeJSON
import Foundation
import LodeAMQP
import LodeEvents
import LodeWire
import Testing

extension BrokerTests {
    @Suite("lodectl queues")
    struct QueuesCommand {
        static var managementURL: String {
            "http://127.0.0.1:\(ProcessInfo.processInfo.environment["LODE_BROKER_MGMT_PORT"] ?? "15672")"
        }

        /// `lodectl queues --json` parsed: name → the queue's object.
        func queues(_ extra: [String]) async throws -> [String: JSONValue] {
            let outcome = try await PublishProcess.run(["queues", "--json"] + extra, environment: ["LODE_AMQP_URL": BrokerFixture.url],
                                                       program: "lodectl")
            #expect(outcome.status == 0, "\(outcome.stderr)")
            guard case .array(let items)? = try JSONParser.parse(outcome.stdout)["queues"] else {
                Issue.record("not the contract's JSON: \(outcome.stdout)")
                return [:]
            }
            var byName: [String: JSONValue] = [:]
            for item in items { if case .string(let name)? = item["name"] { byName[name] = item } }
            return byName
        }

        @Test func theCountsAreWhatWasPublishedWithTheWorkerStoppedFromEitherSource() async throws {
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let admin = try await BrokerFixture.emptyZoneQueues()
            let lines = (1...37).map { publishedEventLine($0) }.joined(separator: "\n") + "\n"
            let input = try PublishProcess.file(lines, extension: "ndjson")
            defer { unlink(input) }
            #expect(try await PublishProcess.run(["--no-batch", input], environment: environment).status == 0)

            // Over AMQP (passive declares): exact at once; unacked unknown.
            let passive = try await queues(["--management-url", "off"])
            #expect(Set(passive.keys) == [ZoneTopology.workQueue, ZoneTopology.deadLetterQueue])
            #expect(passive[ZoneTopology.workQueue]?["ready"] == .integer(37))
            #expect(passive[ZoneTopology.workQueue]?["unacked"] == .null)
            #expect(passive[ZoneTopology.workQueue]?["consumers"] == .integer(0))
            #expect(passive[ZoneTopology.deadLetterQueue]?["ready"] == .integer(0))
            #expect(passive[ZoneTopology.workQueue]?["source"] == .string("passive"))

            // From the management API: the same, once the quorum queue's figures are refreshed.
            var management: [String: JSONValue] = [:]
            #expect(try await BrokerFixture.eventually(timeout: .seconds(30), poll: .milliseconds(500)) {
                management = try await queues(["--management-url", Self.managementURL])
                return management[ZoneTopology.workQueue]?["ready"] == .integer(37)
            }, "\(management)")
            #expect(management[ZoneTopology.workQueue]?["unacked"] == .integer(0))
            #expect(management[ZoneTopology.workQueue]?["source"] == .string("management"))
            try await admin.purgeQueue(ZoneTopology.workQueue)
            await admin.close()
        }

        @Test func theOldestDeadLettersAgeIsReadWithoutTakingItFromTheQueue() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            // Empty: no age.
            let empty = try await queues(["--management-url", "off"])
            #expect(empty[ZoneTopology.deadLetterQueue]?["oldest_age_seconds"] == .null)
            #expect(empty[ZoneTopology.workQueue]?["oldest_age_seconds"] == .null)

            // Two dead letters, the head one failed 90 s ago, the other one now.
            let failedAt = Date().addingTimeInterval(-90)
            func deadLetter(_ id: String, failedAt: Date) -> OutgoingMessage {
                var headers = FieldTable()
                headers["x-lode-reason"] = .string("invalid_json")
                headers["x-lode-first-failed-at"] = .string(failedAt.ISO8601Format())
                return OutgoingMessage(exchange: "", routingKey: ZoneTopology.deadLetterQueue, body: Array(id.utf8),
                                       properties: MessageProperties(contentType: "application/json", headers: headers,
                                                                     deliveryMode: 2, messageID: id))
            }
            #expect(try await admin.publish([deadLetter("first", failedAt: failedAt), deadLetter("second", failedAt: Date())]).allConfirmed)

            func age(_ answer: [String: JSONValue]) -> Double? {
                if case .number(let number)? = answer[ZoneTopology.deadLetterQueue]?["oldest_age_seconds"] { number.doubleValue } else { nil }
            }
            let passive = try await queues(["--management-url", "off"])
            let passiveAge = try #require(age(passive), "\(passive)")
            #expect(passiveAge >= 89 && passiveAge < 150, "\(passiveAge)")
            var management: [String: JSONValue] = [:]
            #expect(try await BrokerFixture.eventually(timeout: .seconds(30), poll: .milliseconds(500)) {
                management = try await queues(["--management-url", Self.managementURL])
                return management[ZoneTopology.deadLetterQueue]?["ready"] == .integer(2)
            }, "\(management)")
            #expect((age(management) ?? 0) >= 89, "\(management)")

            // The table has the column.
            let table = try await PublishProcess.run(["queues", "--management-url", "off"], environment: ["LODE_AMQP_URL": BrokerFixture.url],
                                                     program: "lodectl")
            #expect(table.stdout.contains("oldest"), "\(table.stdout)")
            #expect(table.stdout.split(separator: "\n").contains { $0.hasPrefix("lode.dead") && $0.contains("1m") }, "\(table.stdout)")

            // Still both there, in their order: the read gave the head back.
            #expect(try await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount == 2)
            let consumer = Consumer(settings: try BrokerFixture.settings(), queue: ZoneTopology.deadLetterQueue)
            let inbox = ConsumerInbox.following(consumer)
            try await consumer.start()
            #expect(await BrokerFixture.eventually { await inbox.count == 2 })
            #expect(await inbox.deliveries.map { String(decoding: $0.body, as: UTF8.self) } == ["first", "second"])
            await consumer.close()
            try await admin.purgeQueue(ZoneTopology.deadLetterQueue)
            await admin.close()
        }
    }
}
