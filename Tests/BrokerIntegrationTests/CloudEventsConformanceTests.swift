import Foundation
import LodeAMQP
import LodeEvents
import LodeTestSupport
import LodeWire
import Testing

extension BrokerTests {
    /// What `lode-publish` puts on the wire is CloudEvents 1.0 by the judgement of code no one here
    /// wrote: the specification's JSON schema with format checks, and the official Python SDK
    /// (Tests/CloudEvents/conformance.py in the environment `scripts/cloudevents-venv` makes).
    @Suite("CloudEvents conformance of what lode-publish sends")
    struct CloudEventsConformance {
        static let python = BrokerFixture.repositoryRoot.appendingPathComponent(".build-python/cloudevents/bin/python").path
        static let script = BrokerFixture.repositoryRoot.appendingPathComponent("Tests/CloudEvents/conformance.py").path

        @Test func everyDemoEventPublishedBatchedAndOnePerMessageConformsAndTheForbiddenCasesDoNot() async throws {
            guard FileManager.default.isExecutableFile(atPath: Self.python) else {
                Issue.record("""
                    No Python with the CloudEvents SDK at \(Self.python): run scripts/cloudevents-venv \
                    (it installs cloudevents and jsonschema from PyPI; .ci/run does it before the tests).
                    """)
                return
            }
            let settings = try BrokerFixture.settings()
            let admin = try await BrokerFixture.emptyZoneQueues()
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let demo = WorkerThroughTheBroker.demoFile
            let demoCount = try String(contentsOfFile: demo, encoding: .utf8).split(separator: "\n").count
            for extra in [[String](), ["--no-batch"]] {
                let outcome = try await PublishProcess.run(extra + [demo], environment: environment)
                #expect(outcome.status == 0, "\(outcome.stderr)")
            }

            // Every message as the broker holds it, its events counted.
            var options = ConsumerOptions()
            options.prefetch = 4000  // every message of both runs unacknowledged at once
            let reader = Consumer(settings: settings, queue: ZoneTopology.workQueue, options: options)
            let inbox = ConsumerInbox.following(reader)
            try await reader.start()
            func eventCount(_ deliveries: [Delivery]) -> Int {
                deliveries.reduce(0) { total, delivery in
                    total + (MessageFormat(contentType: delivery.properties.contentType) == .batch
                        ? ((try? EventBatch.decode(delivery.body).elements.count) ?? 0) : 1)
                }
            }
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) { eventCount(await inbox.deliveries) >= 2 * demoCount })
            let deliveries = await inbox.deliveries
            #expect(deliveries.contains { MessageFormat(contentType: $0.properties.contentType) == .batch })
            #expect(deliveries.contains { MessageFormat(contentType: $0.properties.contentType) == .single })

            // What CloudEvents forbids and Lodestone now refuses too: the schema or the SDK must
            // refuse them as well.
            let corpus = try BadInputCorpus.load()
            let forbidden = corpus.cases.filter { ["source-chinese-with-space", "extension-name-uppercase"].contains($0.name) }
            #expect(forbidden.count == 2)

            var lines = deliveries.map { delivery in
                Self.line(contentType: delivery.properties.contentType, body: delivery.body, expect: "valid")
            }
            lines += forbidden.map { Self.line(contentType: MessageFormat.singleContentType, body: $0.body, expect: "invalid") }
            let file = NSTemporaryDirectory() + "lode-conformance-\(UUID().uuidString).jsonl"
            defer { unlink(file) }
            try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let checked = try await PublishProcess.run([Self.script, file], program: Self.python)
            #expect(checked.status == 0, "\(checked.stdout)\n\(checked.stderr)")
            #expect(checked.stdout.contains("\(deliveries.count + 2) messages, \(2 * demoCount + 2) events checked, 0 problems"),
                    "\(checked.stdout)")
            try await reader.ack(deliveries.map(\.tag))
            await reader.close()
            await admin.close()
        }

        static func line(contentType: String?, body: [UInt8], expect: String) -> String {
            var object: [String: String] = ["body_base64": Data(body).base64EncodedString(), "expect": expect]
            object["content_type"] = contentType
            let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            return String(decoding: data ?? Data(), as: UTF8.self)
        }
    }
}
