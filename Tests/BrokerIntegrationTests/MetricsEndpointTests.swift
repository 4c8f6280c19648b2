import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LodeAMQP
import LodeWire
import Synchronization
import Testing

extension BrokerTests {
    @Suite("lode-worker's /metrics and /healthz")
    struct MetricsEndpoint {
        @Test func theWorkerProcessCountsWhatItAppliesServesHealthAndExitsZeroOnSIGTERM() async throws {
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let admin = try await BrokerFixture.emptyZoneQueues()

            let directory = try BrokerFixture.temporaryDirectory("lode-worker-metrics")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let worker = try ServiceProcess(
                "lode-worker", ["--metrics-address", "127.0.0.1:0", "--db", directory + "/zone.sqlite"], environment: environment)

            let base = try await worker.metricsBase()

            // The demo set batched, then its first five events again one per message, and one bad message.
            let lines = try String(contentsOfFile: WorkerThroughTheBroker.demoFile, encoding: .utf8).split(separator: "\n")
            let published = try await PublishProcess.run([WorkerThroughTheBroker.demoFile], environment: environment)
            #expect(published.status == 0, "\(published.stderr)")
            let again = try PublishProcess.file(lines.prefix(5).joined(separator: "\n") + "\n", extension: "ndjson")
            defer { unlink(again) }
            let republished = try await PublishProcess.run(["--no-batch", again], environment: environment)
            #expect(republished.status == 0, "\(republished.stderr)")
            #expect(try await admin.publish([
                OutgoingMessage(exchange: ZoneTopology.exchange, routingKey: "zone.project.registered", body: body("not json"),
                                properties: MessageProperties(contentType: "application/cloudevents+json", deliveryMode: 2)),
            ]).allConfirmed)

            var scraped = ""
            let counted = try await BrokerFixture.eventually(timeout: .seconds(120), poll: .milliseconds(200)) {
                let answer = try await HTTPGet.fetch(base + "/metrics")
                scraped = answer.body
                return answer.status == 200
                    && Self.sum("lode_worker_events_applied_total", in: scraped) == Double(lines.count)
                    && Self.sum("lode_worker_events_duplicate_total", in: scraped) == 5
                    && Self.sum("lode_worker_events_dead_lettered_total", in: scraped) == 1
            }
            #expect(counted, "\(scraped)")
            #expect(scraped.contains(#"lode_worker_events_dead_lettered_total{type="unknown",reason="invalid_json"} 1"#))
            #expect(Self.sum("lode_worker_events_consumed_total", in: scraped) == Double(lines.count + 5 + 1))
            #expect(Self.sum("lode_worker_batch_events_count", in: scraped) ?? 0 >= 1)
            #expect(Self.sum("lode_worker_apply_seconds_count", in: scraped) ?? 0 >= 1)
            let lastApplied = try #require(Self.sum("lode_worker_last_applied_timestamp_seconds", in: scraped))
            #expect(abs(lastApplied - Date().timeIntervalSince1970) < 300)

            let health = try await HTTPGet.fetch(base + "/healthz")
            #expect(health.status == 200, "\(health.body)")
            #expect(health.body.contains(#""status":"ok""#))
            #expect(health.body.contains(#""broker":"connected""#))

            // SIGTERM: a graceful shutdown, exit 0.
            worker.signal(SIGTERM)
            let status = await worker.exitStatus()
            #expect(status == 0, "\(worker.stderr)")
            #expect(worker.stderr.contains("stopped"))
            await admin.close()
        }

        @Test func aBadMetricsAddressStopsTheWorkerWithItsExitCodeAndHelpNamesTheFlag() async throws {
            let bad = try await PublishProcess.run(["--metrics-address", "9464"], program: "lode-worker")
            #expect(bad.status == 64)
            #expect(bad.stderr.contains("--metrics-address must be HOST:PORT"), "\(bad.stderr)")
            let config = try PublishProcess.file("metrics:\n  address: 127.0.0.1:99999\n", extension: "yaml")
            defer { unlink(config) }
            let badConfig = try await PublishProcess.run(["--config", config], program: "lode-worker")
            #expect(badConfig.status == 78)
            #expect(badConfig.stderr.contains("\(config):2: 'metrics.address' the port must be a number"), "\(badConfig.stderr)")
            let help = try await PublishProcess.run(["--help"], program: "lode-worker")
            #expect(help.stdout.contains("--metrics-address"))
        }

        /// The sum of every series of `name` (all label sets), or nil when there is none.
        static func sum(_ name: String, in text: String) -> Double? {
            var total: Double?
            for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
                if let value = line.split(separator: " ").last.flatMap({ Double($0) }) { total = (total ?? 0) + value }
            }
            return total
        }
    }
}

/// GET over HTTP, for the worker's status endpoint.
enum HTTPGet {
    static func fetch(_ url: String) async throws -> (status: Int, body: String) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.connectionProxyDictionary = [:]
        configuration.timeoutIntervalForRequest = 10
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await session.data(from: URL(string: url)!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
