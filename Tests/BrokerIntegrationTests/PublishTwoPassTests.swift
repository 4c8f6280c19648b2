import Crypto
import Foundation
import LodeAMQP
import Testing

/// lode-publish reads an NDJSON file in two passes (docs/publishing.md): the same input from a
/// file and from stdin (spooled) arrives as the same messages, in the contract's batch format,
/// each event once.
extension BrokerTests.PublishCommandTests {
    /// 6,000 events of three types and two sources (about 1.4 MB: the first pass reads it in
    /// several chunks), with CRLF line ends, blank lines, repeated events and a last line
    /// without a line break.
    static func twoPassInput() -> (text: String, unique: Int) {
        var lines = mixedEvents(6_000, prefix: "tp").split(separator: "\n").map(String.init)
        lines.insert(lines[10], at: 3_000)
        lines.insert(lines[4_000], at: 4_500)
        lines.insert("", at: 20)
        return ("\u{FEFF}" + lines.joined(separator: "\r\n"), 6_000)
    }

    /// `batch:` and 32 hex digits of the SHA-256 of the ids, one per line (contract section 3).
    static func batchID(_ ids: [String]) -> String {
        var hash = SHA256()
        for id in ids { hash.update(data: Array((id + "\n").utf8)) }
        return "batch:" + hash.finalize().map { String(format: "%02x", $0) }.joined().prefix(32)
    }

    @Test func aFileAndTheSameInputOnStdinArriveAsTheSameBatches() async throws {
        let (text, unique) = Self.twoPassInput()
        let input = try PublishProcess.file(text, extension: "ndjson")
        defer { unlink(input) }
        var arrived: [[(id: String?, body: [UInt8], key: String)]] = []
        for stdin in [false, true] {
            let route = try await Route(stdin ? "two-pass-stdin" : "two-pass-file")
            let outcome = try await PublishProcess.run(["--exchange", route.exchange, "--json", stdin ? "-" : input],
                                                       environment: ["LODE_AMQP_URL": BrokerFixture.url], stdin: stdin ? input : nil)
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let summary = try #require(Self.json(outcome.stdout))
            #expect(summary["published"] as? Int == unique)
            let messages = try #require(summary["messages"] as? Int)
            var ids: [String] = []
            var seen: [(id: String?, body: [UInt8], key: String)] = []
            for delivery in try await route.drain(messages) {
                let events = try #require(try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [[String: Any]])
                let batchIDs = events.compactMap { $0["id"] as? String }
                #expect(delivery.properties.contentType == "application/cloudevents-batch+json")
                #expect(delivery.properties.messageID == Self.batchID(batchIDs))
                #expect(events.allSatisfy { $0["type"] as? String == delivery.routingKey && $0["source"] as? String == delivery.properties.appID })
                ids += batchIDs
                seen.append((delivery.properties.messageID, delivery.body, delivery.routingKey))
            }
            #expect(ids.count == unique)
            #expect(Set(ids).count == unique)
            #expect(try await route.messageCount == 0)
            await route.remove()
            arrived.append(seen)
        }
        #expect(arrived[0].map(\.id) == arrived[1].map(\.id))
        #expect(arrived[0].map(\.body) == arrived[1].map(\.body))
        #expect(arrived[0].map(\.key) == arrived[1].map(\.key))
    }

    @Test func stdinOneEventPerMessageArrivesInTheInputsOrder() async throws {
        let (text, unique) = Self.twoPassInput()
        let input = try PublishProcess.file(text, extension: "ndjson")
        defer { unlink(input) }
        let route = try await Route("two-pass-single")
        let outcome = try await PublishProcess.run(["--exchange", route.exchange, "--no-batch", "--json", "-"],
                                                   environment: ["LODE_AMQP_URL": BrokerFixture.url], stdin: input)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let deliveries = try await route.drain(unique)
        let expected = (0..<6_000).map { "tp-\($0)" }
        #expect(deliveries.map { $0.properties.messageID ?? "" } == expected)
        for delivery in deliveries {
            let event = try #require(try JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any])
            #expect(delivery.properties.messageID == event["id"] as? String)
            #expect(delivery.properties.contentType == "application/cloudevents+json")
        }
        await route.remove()
    }
}
