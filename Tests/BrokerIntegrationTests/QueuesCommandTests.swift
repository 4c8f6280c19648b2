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
    }
}
