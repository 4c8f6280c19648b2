import Crypto
import LodeJSON
import Foundation
import LodeAMQP
import LodeEvents
import LodeNotifications
import LodeSettings
import LodeStorage
import LodeTestSupport
import LodeWire
import Testing

extension BrokerTests {
    /// Notifications end to end: lode-worker with rules and a webhook channel in its config,
    /// events through the broker, a real HTTP receiver that verifies what it gets.
    @Suite("Notifications from the worker process")
    struct NotificationsFromTheWorker {
        static let secret = "zone-office-secret"

        static func config(directory: String, port: Int) throws -> String {
            let path = directory + "/lodestone.yaml"
            try """
                targets:
                  2024:
                    - name: 签约企业
                      figure: recruitment.agreements_signed
                      target: 20
                channels:
                  office:
                    kind: webhook
                    url: http://127.0.0.1:\(port)/hooks/lodestone
                    secret: \(secret)
                notifications:
                  - name: project-started
                    event: zone.project.status_changed
                    status: [started]
                    channels: [office]
                    message: "{project_name} 开工"
                  - name: signing-target
                    target: 签约企业
                    milestones: [50, 80]
                    channels: [office]
                    message: "{year}年「{target_name}」完成 {value}/{target}，达到 {milestone}%"
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// A fresh work queue, a directory, and the demo set's lines.
        func prepare() async throws -> (admin: Publisher, directory: String, lines: [Substring]) {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-notify")
            let lines = try String(contentsOfFile: WorkerThroughTheBroker.demoFile, encoding: .utf8).split(separator: "\n")
            return (admin, directory, lines)
        }

        /// The notification keys the demo set must give under `config`: what a store with the same
        /// rules records for the events applied in order.
        func expectedKeys(config: String, directory: String) throws -> Set<String> {
            let file = try ConfigFile.load(path: config)
            let calendar = try ZoneCalendar()
            var configuration = SQLiteStoreConfiguration(calendar: calendar)
            configuration.notifications = NotificationPolicy(
                rules: NotificationRules(rules: try file.notificationSettings().rules, calendar: calendar),
                targets: try file.reportTargets())
            let store = try SQLiteZoneStore(path: directory + "/expected.sqlite", configuration: configuration)
            let events = try String(contentsOfFile: WorkerThroughTheBroker.demoFile, encoding: .utf8).split(separator: "\n")
                .map { try IncomingEvent(decoding: Array($0.utf8)) }
            _ = try store.apply(events)
            return try store.recordedNotificationKeys()
        }

        @Test func shuffledAndRepeatedEventsNotifyEachCauseOnceAndARebuildNotifiesNothing() async throws {
            let (admin, directory, lines) = try await prepare()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let receiver = WebhookReceiver()
            let port = try await receiver.start()
            let config = try Self.config(directory: directory, port: port)
            let expected = try expectedKeys(config: config, directory: directory)
            #expect(expected.contains { $0.hasPrefix("target:signing-target:2024:80:") })
            #expect(expected.filter { $0.hasPrefix("event:project-started:") }.count > 10)

            let db = directory + "/zone.sqlite"
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let worker = try ServiceProcess("lode-worker", ["--db", db, "--config", config, "--metrics-address", "off"],
                                            environment: environment)
            for extra in [[String](), ["--no-batch"]] {
                let shuffled = try PublishProcess.file(lines.shuffled().joined(separator: "\n") + "\n", extension: "ndjson")
                defer { unlink(shuffled) }
                #expect(try await PublishProcess.run(extra + [shuffled], environment: environment).status == 0)
            }
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) {
                (try? await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount) == 0 && receiver.requests.count >= expected.count
            }, "\(receiver.requests.count) of \(expected.count) notifications; worker: \(worker.stderr)")
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")

            // Each cause once at the receiver, each signed as documented.
            let keys = receiver.requests.compactMap { $0.headers["x-lode-idempotency-key"] }
            #expect(keys.count == expected.count)
            #expect(Set(keys) == Set(expected.map { SHA256.hash(data: Array($0.utf8)).hex }))
            for request in receiver.requests {
                let timestamp = request.headers["x-lode-timestamp"] ?? ""
                let signature = "sha256=" + HMAC<SHA256>.authenticationCode(for: Array((timestamp + ".").utf8) + request.body, using: SymmetricKey(data: Array(Self.secret.utf8))).hex
                #expect(request.headers["x-lode-signature"] == signature)
            }

            // A rebuild records nothing new, so there is nothing more to send.
            let rebuilt = try await PublishProcess.run(["rebuild", "--db", db], program: "lodectl")
            #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
            let listed = try await PublishProcess.run(["notifications", "list", "--json", "--db", db], program: "lodectl")
            let entries = try JSONParser.parse(listed.stdout)
            guard case .array(let items) = entries else { Issue.record("not a JSON array: \(listed.stdout)"); return }
            #expect(items.count == expected.count)
            #expect(items.allSatisfy { $0["state"] == .string("delivered") })
            await receiver.stop()
            await admin.close()
        }

        @Test func whileTheWebhookHangsTheWorkerKeepsApplying() async throws {
            let (admin, directory, lines) = try await prepare()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let receiver = WebhookReceiver { _ in WebhookReceiver.Answer(delay: .seconds(60)) }
            let port = try await receiver.start()
            let config = try Self.config(directory: directory, port: port)
            let db = directory + "/zone.sqlite"
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let worker = try ServiceProcess("lode-worker", ["--db", db, "--config", config, "--metrics-address", "off"],
                                            environment: environment)
            #expect(try await PublishProcess.run(["--no-batch", WorkerThroughTheBroker.demoFile], environment: environment).status == 0)
            let store = try SQLiteZoneStore(path: db, configuration: SQLiteStoreConfiguration(calendar: try ZoneCalendar()))
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) {
                (try? store.loggedEventCount()) == lines.count
            }, "worker: \(worker.stderr)")
            // Every event applied, while no notification got an answer.
            #expect(receiver.requests.isEmpty)
            #expect(try store.outboxEntries(limit: 100_000).allSatisfy { $0.state == .pending })
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")
            await receiver.stop()
            await admin.close()
        }
    }
}
