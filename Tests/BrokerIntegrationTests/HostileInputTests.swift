import Foundation
import LodeAMQP
import LodeDeadLetters
import LodeJSON
import LodeWire
import Testing

extension BrokerTests {
    /// What stopped `lode-worker` before, sent to the real process: its answer is a dead letter or
    /// an HTTP error, and it stays up.
    @Suite("The worker process against hostile input")
    struct HostileInput {
        static var environment: [String: String] { ["LODE_AMQP_URL": BrokerFixture.url] }

        @Test func aBrokenMessageClaimingInt64MaxAttemptsIsDeadLetteredAndTheWorkerStaysUp() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-hostile-attempts")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let worker = try ServiceProcess("lode-worker", ["--db", directory + "/zone.sqlite", "--metrics-address", "127.0.0.1:0"],
                                            environment: Self.environment)
            let base = try await worker.metricsBase()

            var headers = FieldTable()
            headers["x-lode-attempts"] = .int64(Int64.max)
            headers["x-delivery-count"] = .int64(Int64.max)
            headers["x-lode-first-failed-at"] = .string(String(repeating: "\u{7}", count: 5000))
            headers["x-death"] = .array([.table(["count": .int64(Int64.min), "time": .timestamp(UInt64.max), "reason": .int8(3)])])
            let message = OutgoingMessage(
                exchange: ZoneTopology.exchange, routingKey: "zone.project.status_changed", body: Array("{not json".utf8),
                properties: MessageProperties(contentType: "application/cloudevents+json", headers: headers, deliveryMode: 2,
                                              expiration: "60000", messageID: "m-1", timestamp: UInt64.max),
                mandatory: true)
            #expect(try await admin.publish([message]).allConfirmed)
            #expect(try await BrokerFixture.eventually {
                try await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount == 1
            }, "\(worker.stderr)")

            let dead = try #require(try await Self.takeDeadLetter(admin))
            let deadHeaders = dead.properties.headers ?? FieldTable()
            #expect(deadHeaders["x-lode-reason"] == .string("invalid_json"))
            #expect(deadHeaders["x-lode-attempts"] == .int32(Int32.max), "clamped, not trapped")
            #expect(deadHeaders["x-lode-first-failed-at"]?.stringValue?.hasPrefix("20") == true, "a first failure that is no time is replaced")
            #expect(dead.properties.expiration == nil, "a dead letter never expires from lode.dead")
            #expect(dead.body == Array("{not json".utf8))

            // Still alive and consuming.
            let health = try await HTTPGet.fetch(base + "/healthz")
            #expect(health.status == 200, "\(health.body)")
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")
            await admin.close()
        }

        @Test func anAbsurdOrMalformedYearOnTheStatusPageGets400() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-hostile-year")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let worker = try ServiceProcess("lode-worker", ["--db", directory + "/zone.sqlite", "--metrics-address", "127.0.0.1:0"],
                                            environment: Self.environment)
            let base = try await worker.metricsBase()
            for year in ["9223372036854775807", "-9223372036854775808", "0", "10000", "abc", "2024x", "%00", "", "+2024", "1e3"] {
                let answer = try await HTTPGet.fetch(base + "/?year=" + year)
                #expect(answer.status == 400, "?year=\(year): \(answer.status)")
                #expect(answer.body.contains("not a year") && answer.body.contains("1 to 9999"), "\(answer.body)")
            }
            #expect(try await HTTPGet.fetch(base + "/?year=2024").status == 200)
            #expect(try await HTTPGet.fetch(base + "/?year=1").status == 200, "the first year has no link to year 0")
            #expect(try await HTTPGet.fetch(base + "/healthz").status == 200)
            let report = try await PublishProcess.run(["report", "--year", "9223372036854775807", "--db", directory + "/zone.sqlite"],
                                                      environment: Self.environment, program: "lodectl")
            #expect(report.status == 64, "\(report.stderr)")
            #expect(report.stderr.contains("1 to 9999"), "\(report.stderr)")
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")
            await admin.close()
        }

        @Test(.timeLimit(.minutes(5)))
        func sumsPast2To63AreExactInTheReportThePageAndAFigureRule() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-hostile-sums")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let database = directory + "/zone.sqlite"
            let config = try PublishProcess.file("""
                channels:
                  audit:
                    kind: log
                notifications:
                  - name: past-int64
                    figure: projects.total_investment
                    threshold: 9000000000000000000
                    channels: [audit]
                    message: "{year} total {value} yuan"
                """, extension: "yaml")
            defer { unlink(config) }
            // 9,300 registrations of 10^15 yuan (the contract's maximum) in one plan year.
            let count = 9300
            let lines = (0..<count).map { n in
                #"{"specversion":"1.0","id":"huge-\#(n)","source":"bt-dept/projects","type":"zone.project.registered","time":"2024-03-01T10:00:00+08:00","data":{"project_id":"HUGE-\#(n)","name":"p","plan_year":2024,"categories":["industrial"],"new_start":true,"total_investment":1000000000000000,"planned_investment":1000000000000000}}"#
            }
            let file = try PublishProcess.file(lines.joined(separator: "\n") + "\n", extension: "ndjson")
            defer { unlink(file) }
            let worker = try ServiceProcess("lode-worker", ["--db", database, "--config", config, "--metrics-address", "127.0.0.1:0"],
                                            environment: Self.environment)
            let base = try await worker.metricsBase()
            let published = try await PublishProcess.run([file], environment: Self.environment)
            #expect(published.status == 0, "\(published.stderr)")
            #expect(await BrokerFixture.eventually(timeout: .seconds(120)) {
                guard let answer = try? await HTTPGet.fetch(base + "/metrics") else { return false }
                return MetricsScrape(text: answer.body).applied == Double(count)
            })
            let page = try await HTTPGet.fetch(base + "/?year=2024")
            #expect(page.status == 200)
            #expect(page.body.contains("93000000000.00"), "9.3 × 10^18 yuan (past 2^63) in 亿元")
            #expect(await BrokerFixture.eventually { worker.stderr.contains("9300000000000000000 yuan") },
                    "the figure rule notified with the exact sum")

            let report = try await PublishProcess.run(["report", "--year", "2024", "--json", "--db", database],
                                                      environment: Self.environment, program: "lodectl")
            #expect(report.status == 0, "\(report.stderr)")
            #expect(report.stdout.contains(#""total_investment":9300000000000000000"#), "\(report.stdout.prefix(300))")
            #expect(report.stdout.contains(#""planned_investment":9300000000000000000"#))
            let table = try await PublishProcess.run(["report", "--year", "2024", "--db", database],
                                                     environment: Self.environment, program: "lodectl")
            #expect(table.status == 0, "\(table.stderr)")
            #expect(table.stdout.contains("93000000000.00"), "\(table.stdout)")
            #expect(try await HTTPGet.fetch(base + "/healthz").status == 200)
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")
            await admin.close()
        }

        /// Takes the one message of lode.dead (acknowledged: the test owns the queue).
        static func takeDeadLetter(_ admin: Publisher) async throws -> Delivery? {
            var options = ConsumerOptions()
            options.prefetch = 1
            options.maxBatch = 1
            let consumer = Consumer(settings: try BrokerFixture.settings(), queue: ZoneTopology.deadLetterQueue,
                                    topology: ZoneTopology.topology, options: options)
            try await consumer.start()
            defer { Task { await consumer.close() } }
            for await event in consumer.events {
                if case .deliveries(let deliveries) = event, let first = deliveries.first {
                    try await consumer.ack(first.tag)
                    return first
                }
            }
            return nil
        }
    }
}
