import Crypto
import Foundation
import LodeAMQP
import LodeEvents
import LodeNotifications
import LodePostgresTestSupport
import LodeProjections
import LodeSettings
import LodeStorage
import LodeTestSupport
import LodeWire
import Testing

extension BrokerTests {
    /// Several `lode-worker` processes on one queue and one PostgreSQL database: one truth,
    /// whatever the interleaving, with a worker killed mid-batch; and no silent split.
    @Suite("Many workers on PostgreSQL")
    struct WorkersOnPostgres {
        static let secret = "zone-office-secret"

        static func config(directory: String, port: Int) throws -> String {
            let path = directory + "/lodestone.yaml"
            try """
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
                  - name: contacts
                    figure: recruitment.enterprises_contacted
                    threshold: [100, 500, 900]
                    channels: [office]
                    message: "{year}年走访企业达到 {value} 家"
                """.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// The demo set and a 50,000-event stream of the small colliding world (4 projects,
        /// 3 enterprises, 2 campaigns: every row is fought over), as NDJSON lines.
        static func stream() throws -> (events: [IncomingEvent], lines: [String]) {
            let demo = try String(contentsOfFile: WorkerThroughTheBroker.demoFile, encoding: .utf8).split(separator: "\n")
                .map { try IncomingEvent(decoding: Array($0.utf8)) }
            let world = (0..<50_000).map { ZoneWorld.event(from: 1_000_000 + $0) }
            let events = demo + world
            return (events, events.map { String(decoding: $0.body, as: UTF8.self) })
        }

        func workerEnvironment(_ database: PostgresTestDatabase) -> [String: String] {
            ["LODE_AMQP_URL": BrokerFixture.url, "LODE_DB_PASSWORD": database.password]
        }

        func startWorker(_ database: PostgresTestDatabase, config: String) throws -> ServiceProcess {
            // Small transactions, so that a kill lands in the middle of one.
            try ServiceProcess("lode-worker", [
                "--db", database.url, "--config", config, "--prefetch", "200", "--transaction-events", "150",
                "--metrics-address", "off",
            ], environment: workerEnvironment(database))
        }

        /// What a single store with the same rules records for the events applied in order.
        func expectedKeys(config: String, events: [IncomingEvent], directory: String) throws -> Set<String> {
            let file = try ConfigFile.load(path: config)
            let calendar = try ZoneCalendar()
            var configuration = SQLiteStoreConfiguration(calendar: calendar)
            configuration.notifications = NotificationPolicy(
                rules: NotificationRules(rules: try file.notificationSettings().rules, calendar: calendar), targets: [:])
            let store = try SQLiteZoneStore(path: directory + "/expected.sqlite", configuration: configuration)
            for start in stride(from: 0, to: events.count, by: 5_000) {
                _ = try store.apply(Array(events[start..<min(start + 5_000, events.count)]))
            }
            return try store.recordedNotificationKeys()
        }

        @Test func threeWorkersOneKilledMidBatchGiveOneWorkersReportAndEachNotificationOnce() async throws {
            let database = try PostgresTestDatabase()
            defer { database.drop() }
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-postgres-workers")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let receiver = WebhookReceiver()
            let config = try Self.config(directory: directory, port: try await receiver.start())
            let (events, lines) = try Self.stream()
            let expectedKeys = try expectedKeys(config: config, events: events, directory: directory)
            #expect(expectedKeys.contains { $0.hasPrefix("figure:contacts:2024:900") })

            // Shuffled, batched; then a third of it again, one event per message: duplicates.
            var rng = SeededGenerator(seed: 12)
            let shuffled = try PublishProcess.file(lines.shuffled(using: &rng).joined(separator: "\n") + "\n", extension: "ndjson")
            let again = try PublishProcess.file(
                lines.filter { _ in Int.random(in: 0..<3, using: &rng) == 0 }.shuffled(using: &rng).joined(separator: "\n") + "\n",
                extension: "ndjson")
            defer { unlink(shuffled); unlink(again) }
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            #expect(try await PublishProcess.run(["--batch-size", "100", shuffled], environment: environment).status == 0)
            #expect(try await PublishProcess.run(["--no-batch", again], environment: environment).status == 0)
            let published = try await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount ?? 0

            var workers = try (0..<3).map { _ in try startWorker(database, config: config) }
            // Kill one once a fair part is done; start it again.
            #expect(await BrokerFixture.eventually(timeout: .seconds(180), poll: .milliseconds(20)) {
                ((try? await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount) ?? published) < published * 2 / 3
            }, "\(workers.map(\.stderr))")
            workers[1].signal(SIGKILL)
            #expect(await workers[1].exitStatus() == 128 + SIGKILL)
            workers[1] = try startWorker(database, config: config)

            #expect(await BrokerFixture.eventually(timeout: .seconds(600), poll: .milliseconds(200)) {
                (try? await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount) == 0
                    && Set(receiver.requests.compactMap { $0.headers["x-lode-idempotency-key"] }).count >= expectedKeys.count
            }, "\(receiver.requests.count) of \(expectedKeys.count) notifications; \(workers.map(\.stderr))")
            // Nothing ready is not yet nothing held: the killed worker's redeliveries may still be
            // in a worker's hands, and SIGTERM would give them back.
            #expect(await BrokerFixture.eventually(timeout: .seconds(120), poll: .milliseconds(200)) {
                (try? BrokerFixture.messagesHeld(by: ZoneTopology.workQueue)) == 0
            }, "\(workers.map(\.stderr))")
            for worker in workers { worker.signal(SIGTERM) }
            for worker in workers { #expect(await worker.exitStatus() == 0, "\(worker.stderr)") }
            #expect(try await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount == 0)
            for worker in workers { #expect(!worker.stderr.contains("dead-lettered"), "\(worker.stderr)") }

            // One truth: the pure rules' report of the events, through lodectl.
            var projection = ZoneProjection(calendar: try ZoneCalendar())
            projection.apply(contentsOf: events.map(\.event))
            for year in [2023, 2024, 2025] {
                let report = try await PublishProcess.run(
                    ["report", "--year", "\(year)", "--json", "--db", database.url], environment: workerEnvironment(database),
                    program: "lodectl")
                #expect(report.status == 0, "\(report.stderr)")
                #expect(report.stdout == projection.report(year: year).jsonText() + "\n")
            }
            // Each cause at the receiver, once per idempotency key. A delivery the killed worker
            // had sent but not yet recorded goes out again when its claim lapses, with the same
            // key (at least once, docs/notifications.md): at most the 8 deliveries it can have in flight.
            let keys = receiver.requests.compactMap { $0.headers["x-lode-idempotency-key"] }
            #expect(Set(keys) == Set(expectedKeys.map { SHA256.hash(data: Array($0.utf8)).hex }))
            #expect(keys.count - Set(keys).count <= 8, "\(keys.count) requests for \(Set(keys).count) keys")
            await receiver.stop()
            await admin.close()
        }

        @Test func aSecondWorkerOnAnotherSQLiteFileIsRefusedAndSoIsAPostgresOne() async throws {
            let database = try PostgresTestDatabase()
            defer { database.drop() }
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-split")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let first = try ServiceProcess("lode-worker", ["--db", directory + "/a.sqlite", "--metrics-address", "off"],
                                           environment: environment)
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) { first.stderr.contains("consuming") }, "\(first.stderr)")

            let second = try ServiceProcess("lode-worker", ["--db", directory + "/b.sqlite", "--metrics-address", "off"],
                                            environment: environment)
            #expect(await Self.exitStatus(of: second) == 78, "\(second.stderr)")
            #expect(second.stderr.contains("SQLite"), "\(second.stderr)")
            #expect(second.stderr.contains("PostgreSQL"), "\(second.stderr)")
            #expect(!FileManager.default.fileExists(atPath: directory + "/b.sqlite-wal") || !second.stderr.contains("consuming"))

            let onPostgres = try ServiceProcess("lode-worker", ["--db", database.url, "--metrics-address", "off"],
                                                environment: workerEnvironment(database))
            #expect(await Self.exitStatus(of: onPostgres) == 78, "\(onPostgres.stderr)")
            #expect(onPostgres.stderr.contains("SQLite file consumes lode.work"), "\(onPostgres.stderr)")

            // The first one goes on alone.
            let line = publishedEventLine(1)
            let file = try PublishProcess.file(line + "\n", extension: "ndjson")
            defer { unlink(file) }
            #expect(try await PublishProcess.run([file], environment: environment).status == 0)
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) {
                (try? await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount) == 0
            })
            first.signal(SIGTERM)
            #expect(await first.exitStatus() == 0, "\(first.stderr)")

            // With it gone, a SQLite worker starts on the other file.
            let third = try ServiceProcess("lode-worker", ["--db", directory + "/b.sqlite", "--metrics-address", "off"],
                                           environment: environment)
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) { third.stderr.contains("consuming") }, "\(third.stderr)")
            third.signal(SIGTERM)
            #expect(await third.exitStatus() == 0, "\(third.stderr)")
            await admin.close()
        }

        /// Its exit status; killed (137) if it is still running after `limit`, so that a worker
        /// that fails to refuse fails the test instead of hanging it.
        static func exitStatus(of process: ServiceProcess, limit: Duration = .seconds(120)) async -> Int32 {
            let watchdog = Task {
                try await Task.sleep(for: limit)
                process.signal(SIGKILL)
            }
            defer { watchdog.cancel() }
            return await process.exitStatus()
        }

        @Test func aPasswordInTheDbFlagIsRefusedWithoutShowingIt() async throws {
            let outcome = try await PublishProcess.run(
                ["report", "--year", "2024", "--db", "postgres://lode:Hunter2-secret@127.0.0.1:5432/lode"], program: "lodectl")
            #expect(outcome.status == 64)
            #expect(outcome.stderr.contains("LODE_DB_PASSWORD"))
            #expect(!outcome.stderr.contains("Hunter2"))
        }

        @Test func lodectlAndTheStatusPageReadThePostgresStore() async throws {
            let database = try PostgresTestDatabase()
            defer { database.drop() }
            let admin = try await BrokerFixture.emptyZoneQueues()
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let invalid = #"{"specversion":"1.0","id":"bad-1","source":"tests","type":"zone.project.status_changed","time":"2024-05-05T10:00:00+08:00","data":{"project_id":"BT-1","status":"dreaming"}}"#
            #expect(try await PublishProcess.run([WorkerThroughTheBroker.demoFile], environment: environment).status == 0)
            // An invalid event straight to the exchange, as any producer may send it.
            _ = try await admin.publish([OutgoingMessage(
                exchange: ZoneTopology.exchange, routingKey: "zone.project.status_changed", body: Array(invalid.utf8),
                properties: MessageProperties(contentType: "application/cloudevents+json", deliveryMode: 2, messageID: "bad-1"),
                mandatory: true)])

            let worker = try ServiceProcess("lode-worker", ["--db", database.url, "--metrics-address", "127.0.0.1:0"],
                                            environment: workerEnvironment(database))
            let base = try await worker.metricsBase()
            #expect(await BrokerFixture.eventually(timeout: .seconds(120)) {
                let ready = try? await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount
                let dead = try? await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount
                return ready == 0 && dead == 1
            }, "\(worker.stderr)")

            let page = try await HTTPGet.fetch(base + "/?year=2024")
            #expect(page.status == 200)
            #expect(page.body.contains("573.84"), "the page shows the year's total investment")
            #expect(page.body.contains("904"))

            let db = ["--db", database.url]
            let lodectl = { (arguments: [String]) in
                try await PublishProcess.run(arguments + db, environment: workerEnvironment(database), program: "lodectl")
            }
            let report = try await lodectl(["report", "--year", "2024"])
            #expect(report.status == 0, "\(report.stderr)")
            #expect(report.stdout.contains("573.84"))
            let letters = try await lodectl(["dlq", "list", "--json"])
            #expect(letters.status == 0, "\(letters.stderr)")
            #expect(letters.stdout.contains("\"invalid_event\""), "\(letters.stdout)")
            let notifications = try await lodectl(["notifications", "list"])
            #expect(notifications.status == 0, "\(notifications.stderr)")
            #expect(notifications.stdout.contains("no notifications recorded"))
            let rebuilt = try await lodectl(["rebuild"])
            #expect(rebuilt.status == 0, "\(rebuilt.stderr)")
            #expect(try await lodectl(["report", "--year", "2024"]).stdout == report.stdout)

            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")
            try await admin.purgeQueue(ZoneTopology.deadLetterQueue)
            await admin.close()
        }
    }
}
