import Foundation
import LodeAMQP
import LodeTestSupport
import LodeWire
import Synchronization
import Testing

extension BrokerTests {
    /// What operators rely on day to day: systemd's notify protocol, --version, JSON logs,
    /// backups of a running worker's store, `lodectl doctor`.
    @Suite("Running it as a service")
    struct RunningAsAService {
        static let demoFile = WorkerThroughTheBroker.demoFile

        @Test func underSystemdTheWorkerSendsReadyStatusWatchdogAndStopping() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-notify")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let listener = try NotifySocketListener()
            // WatchdogSec=2s: pings every half second.
            let worker = try ServiceProcess("lode-worker", ["--db", directory + "/zone.sqlite", "--metrics-address", "off"], environment: [
                "LODE_AMQP_URL": BrokerFixture.url, "NOTIFY_SOCKET": listener.name, "WATCHDOG_USEC": "2000000",
            ])
            let pings = { @Sendable (messages: [String]) in messages.filter { $0.split(separator: "\n").contains("WATCHDOG=1") }.count }
            let started = await listener.collect(for: .seconds(60)) { messages in
                guard let ready = messages.firstIndex(where: { $0.hasPrefix("READY=1\n") }) else { return false }
                return pings(Array(messages[ready...])) >= 2
            }
            let ready = try #require(started.firstIndex { $0.hasPrefix("READY=1\n") }, "no READY=1: \(started); stderr: \(worker.stderr)")
            #expect(started.first == "STATUS=starting: connecting to the broker")
            #expect(started[ready] == "READY=1\nSTATUS=consuming lode.work: 0 applied, 0 duplicates, 0 dead-lettered")
            #expect(pings(Array(started[..<ready])) == 0, "WATCHDOG=1 before READY=1: \(started)")
            #expect(pings(Array(started[ready...])) >= 2)

            // The status line follows what the worker does.
            let line = try PublishProcess.file(publishedEventLine(1) + "\n", extension: "ndjson")
            defer { unlink(line) }
            let published = try await PublishProcess.run([line], environment: ["LODE_AMQP_URL": BrokerFixture.url])
            #expect(published.status == 0, "\(published.stderr)")
            let applied = await listener.collect(for: .seconds(60)) { $0.contains { $0.contains("STATUS=consuming lode.work: 1 applied") } }
            #expect(applied.contains { $0.contains("STATUS=consuming lode.work: 1 applied, 0 duplicates, 0 dead-lettered") }, "\(applied)")

            worker.signal(SIGTERM)
            let stopping = await listener.collect(for: .seconds(60)) { $0.contains { $0.hasPrefix("STOPPING=1") } }
            #expect(stopping.contains("STOPPING=1\nSTATUS=stopping: finishing the batch in hand"), "\(stopping)")
            #expect(await worker.exitStatus() == 0, "stderr: \(worker.stderr)")
            let after = stopping.drop { !$0.hasPrefix("STOPPING=1") }
            #expect(pings(Array(after)) == 0, "WATCHDOG=1 after STOPPING=1: \(stopping)")
            await admin.close()
        }

        @Test func theConsumersThreadTurnsWhileIdleAndNotWhileAHandlerHangs() async throws {
            let settings = try BrokerFixture.settings()
            let queue = BrokerFixture.uniqueName("liveness")
            let admin = Publisher(settings: settings)
            try await admin.declare(Topology(queues: [QueueSpec(name: queue, durable: false, autoDelete: true)]))
            let gate = DispatchSemaphore(value: 0)
            let entered = Atomic<Bool>(false)
            let consumer = Consumer(settings: settings, queue: queue) { _, acknowledgements in
                entered.store(true, ordering: .relaxed)
                gate.wait()  // a handler stuck in one call: what the watchdog is for
            }
            try await consumer.start()
            // Idle, it comes round at least every second or so.
            try await Task.sleep(for: .seconds(2))
            #expect(consumer.sinceLastTurn < .seconds(3), "\(consumer.sinceLastTurn)")

            _ = try await admin.publish([OutgoingMessage(exchange: "", routingKey: queue, body: Array("x".utf8))])
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) { entered.load(ordering: .relaxed) })
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) { consumer.sinceLastTurn > .seconds(3) })
            gate.signal()
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) { consumer.sinceLastTurn < .seconds(2) })
            await consumer.close()
            _ = try? await admin.deleteQueue(queue)
            await admin.close()
        }

        @Test func everyExecutableNamesItsVersionAndCommit() async throws {
            let head = Self.gitHead()
            for program in ["lode-worker", "lode-publish", "lodectl"] {
                let outcome = try await PublishProcess.run(["--version"], program: program)
                #expect(outcome.status == 0)
                let line = outcome.stdout.trimmingCharacters(in: .newlines)
                let match = line.wholeMatch(of: /([a-z-]+) (\d+\.\d+\.\d+[^ ]*) \(commit ([0-9a-f]{12}(?:-dirty)?|unknown)\)/)
                #expect(match?.1 == Substring(program), "\(line)")
                if let head, let commit = match?.3 {
                    #expect(head.hasPrefix(commit.replacing("-dirty", with: "")), "built from \(commit), HEAD is \(head)")
                }
            }
        }

        /// HEAD of the checkout the tests run from, if it is one.
        static func gitHead() -> String? {
            let head = BrokerFixture.repositoryRoot.appendingPathComponent(".git/HEAD").path
            guard let text = try? String(contentsOfFile: head, encoding: .utf8) else { return nil }
            let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard line.hasPrefix("ref: ") else { return line }
            let ref = BrokerFixture.repositoryRoot.appendingPathComponent(".git/" + line.dropFirst(5)).path
            if let hash = try? String(contentsOfFile: ref, encoding: .utf8) { return hash.trimmingCharacters(in: .whitespacesAndNewlines) }
            let packed = (try? String(contentsOfFile: BrokerFixture.repositoryRoot.appendingPathComponent(".git/packed-refs").path, encoding: .utf8)) ?? ""
            return packed.split(separator: "\n").first { $0.hasSuffix(" " + line.dropFirst(5)) }.map { String($0.prefix(40)) }
        }

        @Test func jsonLogsAreOneObjectPerLineWithTheSameMetadataAndNoSecret() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-json-log")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            // A broker user of its own, so its password is one no other text contains.
            let user = "lode-json-log", password = "pw-\(UUID().uuidString.prefix(12))"
            try BrokerFixture.script("ctl", "add_user", user, password)
            defer { _ = try? BrokerFixture.script("ctl", "delete_user", user) }
            try BrokerFixture.script("ctl", "set_permissions", "-p", "/", user, ".*", ".*", ".*")
            let settings = try BrokerFixture.settings()
            let token = "token-\(UUID().uuidString.prefix(8))", secret = "secret-\(UUID().uuidString.prefix(8))"
            let config = directory + "/lodestone.yaml"
            // A webhook nobody listens at: its deliveries fail and are logged, and must not show its token or secret.
            try """
                log:
                  format: json
                channels:
                  office:
                    kind: webhook
                    url: http://127.0.0.1:9/hooks?access_token=\(token)
                    secret_env: LODE_TEST_WEBHOOK_SECRET
                notifications:
                  - name: project-started
                    event: zone.project.status_changed
                    status: [started]
                    channels: [office]
                    message: "{project_id} started"
                """.write(toFile: config, atomically: true, encoding: .utf8)
            let url = "amqp://\(user)@\(settings.host):\(settings.port)/%2F"
            let worker = try ServiceProcess("lode-worker", ["--config", config, "--db", directory + "/zone.sqlite",
                                                            "--metrics-address", "127.0.0.1:0", "--log-level", "debug"], environment: [
                "LODE_AMQP_URL": url, "LODE_AMQP_PASSWORD": password, "LODE_TEST_WEBHOOK_SECRET": secret,
            ])
            let line = try PublishProcess.file(publishedEventLine(7) + "\n", extension: "ndjson")
            defer { unlink(line) }
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) { worker.stderr.contains("\"message\":\"consuming\"") }, "\(worker.stderr)")
            let published = try await PublishProcess.run([line], environment: ["LODE_AMQP_URL": BrokerFixture.url])
            #expect(published.status == 0, "\(published.stderr)")
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) { worker.stderr.contains("notification not delivered, retrying") },
                    "no failed delivery logged: \(worker.stderr)")
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")

            let text = worker.stderr
            var messages: [String] = []
            for (number, line) in text.split(separator: "\n").enumerated() {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                guard let object else {
                    Issue.record("line \(number + 1) is not a JSON object: \(line)")
                    continue
                }
                #expect(object["time"] is String && object["level"] is String && object["logger"] is String, "\(line)")
                if let message = object["message"] as? String { messages.append(message) }
                if object["message"] as? String == "consuming" {
                    let metadata = object["metadata"] as? [String: Any]
                    #expect(metadata?["queue"] as? String == "lode.work", "\(line)")
                    #expect(metadata?["db"] as? String == directory + "/zone.sqlite", "\(line)")
                }
            }
            #expect(messages.contains("consuming") && messages.contains("stopped"), "\(messages)")
            for secretText in [password, token, secret] {
                #expect(!text.contains(secretText), "a secret reached the log")
            }
            await admin.close()
        }

        @Test func aBackupTakenWhileTheWorkerRunsReportsWhatTheLiveStoreReports() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-backup")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let live = directory + "/zone.sqlite", copy = directory + "/backup.sqlite"
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let worker = try ServiceProcess("lode-worker", ["--db", live, "--metrics-address", "off"], environment: environment)
            let published = try await PublishProcess.run([Self.demoFile], environment: environment)
            #expect(published.status == 0, "\(published.stderr)")
            let total = try String(contentsOfFile: Self.demoFile, encoding: .utf8).split(separator: "\n").count
            #expect(await BrokerFixture.eventually(timeout: .seconds(120)) {
                let report = try? await PublishProcess.run(["report", "--year", "2024", "--json", "--db", live], program: "lodectl")
                return report?.stdout.contains("\"major\":71") ?? false
            }, "\(worker.stderr)")

            // The worker still runs, its last commits in its -wal file: a copy of the main file alone would miss them.
            let backup = try await PublishProcess.run(["backup", copy, "--db", live], program: "lodectl")
            #expect(backup.status == 0, "\(backup.stderr)")
            #expect(backup.stdout.contains("backed up \(live) to \(copy): \(total) events"), "\(backup.stdout)")
            let again = try await PublishProcess.run(["backup", copy, "--db", live], program: "lodectl")
            #expect(again.status == 73, "a second backup over the first: \(again.stderr)")

            for year in ["2023", "2024"] {
                let fromLive = try await PublishProcess.run(["report", "--year", year, "--json", "--db", live], program: "lodectl")
                let fromCopy = try await PublishProcess.run(["report", "--year", year, "--json", "--db", copy], program: "lodectl")
                #expect(fromCopy.status == 0, "\(fromCopy.stderr)")
                #expect(fromCopy.stdout == fromLive.stdout)
                #expect(!fromCopy.stdout.isEmpty)
            }
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")
            await admin.close()
        }

        // MARK: lodectl doctor

        func doctor(_ arguments: [String], environment: [String: String] = [:], asNobody: Bool = false) async throws -> (PublishProcess.Outcome, [String: (verdict: String, detail: String)]) {
            var program = "lodectl", args = ["doctor", "--json", "--timeout", "5"] + arguments
            if asNobody {
                // As a user who cannot write root's files (root ignores permissions).
                args = ["--reuid=65534", "--regid=65534", "--clear-groups", PublishProcess.binary(named: "lodectl")] + args
                program = "/usr/bin/setpriv"
            }
            let outcome = try await PublishProcess.run(args, environment: environment, program: program)
            var checks: [String: (verdict: String, detail: String)] = [:]
            let object = try? JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any]
            for check in object?["checks"] as? [[String: Any]] ?? [] {
                if let name = check["name"] as? String {
                    checks[name] = (check["verdict"] as? String ?? "", check["detail"] as? String ?? "")
                }
            }
            #expect(object?["exit_code"] as? Int == Int(outcome.status), "\(outcome.stdout)")
            return (outcome, checks)
        }

        @Test func doctorPassesOnAHealthyInstallationAndShowsWhereEachSettingCameFrom() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-doctor-ok")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let settings = try BrokerFixture.settings()
            let config = directory + "/lodestone.yaml"
            try "amqp:\n  url: amqp://guest@\(settings.host):\(settings.port)/%2F\ndb: \(directory)/zone.sqlite\n"
                .write(toFile: config, atomically: true, encoding: .utf8)
            let (outcome, checks) = try await doctor(["--config", config], environment: ["LODE_AMQP_PASSWORD": "guest"])
            #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
            #expect(checks["broker"]?.verdict == "ok")
            #expect(checks["topology"]?.verdict == "ok")
            #expect(checks["store"]?.verdict == "warn", "no store yet: the worker makes it")
            #expect(checks["migrations"]?.verdict == "ok")
            #expect(outcome.stdout.contains("\"name\":\"url\",\"value\":\"amqp://guest@\(settings.host):\(settings.port)/%2F\",\"origin\":\"\(config):2: amqp.url\""), "\(outcome.stdout)")
            #expect(outcome.stdout.contains("\"name\":\"password\",\"value\":\"******** (set)\",\"origin\":\"LODE_AMQP_PASSWORD\""), "\(outcome.stdout)")
            #expect(!outcome.stdout.contains("guest\","), "the password shows")

            let table = try await PublishProcess.run(["doctor", "--config", config], environment: ["LODE_AMQP_PASSWORD": "guest"], program: "lodectl")
            #expect(table.status == 0)
            #expect(table.stdout.contains("verdict: ok"), "\(table.stdout)")
            await admin.close()
        }

        @Test func doctorFailsWithTheRightVerdictForAStoppedBroker() async throws {
            // A port nothing listens on: a broker that is not running.
            let (outcome, checks) = try await doctor(["--url", "amqp://guest@127.0.0.1:9/%2F", "--db", "/tmp/lode-doctor-none.sqlite"],
                                                     environment: ["LODE_AMQP_PASSWORD": "guest"])
            #expect(outcome.status == 69)
            #expect(checks["broker"]?.verdict == "fail", "\(outcome.stdout)")
            #expect(checks["broker"]?.detail.contains("127.0.0.1:9") == true, "\(outcome.stdout)")
            #expect(checks["topology"]?.verdict == "skip")
        }

        @Test func doctorFailsWithTheRightVerdictForAMissingQueue() async throws {
            let settings = try BrokerFixture.settings()
            // A vhost nobody ran `lodectl setup` on.
            let vhost = "lode-doctor-\(UUID().uuidString.prefix(6))"
            try BrokerFixture.script("ctl", "add_vhost", vhost)
            defer { _ = try? BrokerFixture.script("ctl", "delete_vhost", vhost) }
            try BrokerFixture.script("ctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
            let (outcome, checks) = try await doctor(["--url", "amqp://guest@\(settings.host):\(settings.port)/\(vhost)", "--db", "/tmp/lode-doctor-none.sqlite"],
                                                     environment: ["LODE_AMQP_PASSWORD": "guest"])
            #expect(outcome.status == 69)
            #expect(checks["broker"]?.verdict == "ok", "\(outcome.stdout)")
            #expect(checks["topology"]?.verdict == "fail")
            #expect(checks["topology"]?.detail.hasPrefix("queue lode.work and lode.dead missing: run `lodectl setup`") == true, "\(outcome.stdout)")
        }

        @Test func doctorFailsWithTheRightVerdictForAnUnwritableStore() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-doctor-store")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let db = directory + "/zone.sqlite"
            // A real store (the worker makes it), then out of this user's reach.
            let worker = try ServiceProcess("lode-worker", ["--db", db, "--metrics-address", "off"], environment: ["LODE_AMQP_URL": BrokerFixture.url])
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) { worker.stderr.contains("consuming") }, "\(worker.stderr)")
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0)
            let asNobody = getuid() == 0
            chmod(directory, 0o755)
            if !asNobody {
                chmod(db, 0o444)
                chmod(directory, 0o555)
            }
            defer { chmod(directory, 0o755) }
            let (outcome, checks) = try await doctor(["--url", "amqp://guest@127.0.0.1:9/%2F", "--db", db],
                                                     environment: ["LODE_AMQP_PASSWORD": "guest"], asNobody: asNobody)
            #expect(outcome.status == 69, "\(outcome.stdout)\(outcome.stderr)")
            #expect(checks["store"]?.verdict == "fail", "\(outcome.stdout)")
            #expect(checks["store"]?.detail.contains("not writable by uid") == true, "\(outcome.stdout)")
            await admin.close()
        }

        @Test func doctorFailsWithTheRightVerdictForAnUnreachableWebhookWithoutShowingItsToken() async throws {
            let directory = try BrokerFixture.temporaryDirectory("lode-doctor-webhook")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let config = directory + "/lodestone.yaml"
            try """
                channels:
                  planning:
                    kind: webhook
                    url: http://127.0.0.1:9/hooks/lodestone?access_token=doctor-token-123
                    secret: doctor-secret-456
                  audit:
                    kind: log
                """.write(toFile: config, atomically: true, encoding: .utf8)
            let (outcome, checks) = try await doctor(["--config", config, "--url", "amqp://guest@127.0.0.1:9/%2F", "--db", directory + "/zone.sqlite"],
                                                     environment: ["LODE_AMQP_PASSWORD": "guest"])
            #expect(outcome.status == 69)
            #expect(checks["channel planning"]?.verdict == "fail", "\(outcome.stdout)")
            #expect(checks["channel planning"]?.detail.contains("http://127.0.0.1:9 unreachable") == true, "\(outcome.stdout)")
            #expect(checks["channel audit"]?.verdict == "ok")
            #expect(!outcome.stdout.contains("doctor-token-123") && !outcome.stdout.contains("doctor-secret-456"))
            #expect(!outcome.stderr.contains("doctor-token-123") && !outcome.stderr.contains("doctor-secret-456"))
        }
    }
}
