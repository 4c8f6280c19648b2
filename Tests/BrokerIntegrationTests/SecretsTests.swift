import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LodeAMQP
import LodeJSON
import LodeTestSupport
import LodeWire
import Synchronization
import Testing

extension BrokerTests {
    /// Issue 13, item 6: known secrets given every way the programs take them (environment, files,
    /// config), through paths that succeed and paths that fail, are found nowhere a person or
    /// another process can read: logs, standard output and error, /proc/*/cmdline, the database,
    /// dead letters, /metrics, the status page.
    @Suite("Secrets never show")
    struct Secrets {
        @Test func brokerPasswordsWebhookSecretRobotTokenAndBearerTokensAppearNowhere() async throws {
            let world = try await DepartmentWorld.make("secrets")
            defer { world.remove() }
            let webhookSecret = "whsec-\(UUID().uuidString)"
            let robotToken = "robot-\(UUID().uuidString)"
            let metricsToken = "mtok-\(UUID().uuidString)"
            let pageToken = "ptok-\(UUID().uuidString)"
            let secrets = [
                world.passwords[world.worker]!, world.passwords[world.construction]!, world.passwords[world.ctl]!,
                world.passwords[world.invest]!, webhookSecret, robotToken, metricsToken, pageToken,
            ]

            // A webhook that fails twice before it takes deliveries (the retry path), a robot that takes them.
            let webhookCalls = Mutex(0)
            let webhook = WebhookReceiver { _ in
                let call = webhookCalls.withLock { count in count += 1; return count }
                return call <= 2 ? .init(status: 500, body: "busy") : .init()
            }
            let robot = WebhookReceiver()
            let webhookPort = try await webhook.start()
            let robotPort = try await robot.start()
            defer { Task { await webhook.stop(); await robot.stop() } }

            let dir = world.directory
            try webhookSecret.write(toFile: dir + "/webhook.secret", atomically: true, encoding: .utf8)
            try (world.passwords[world.worker]! + "\n").write(toFile: dir + "/worker.password", atomically: true, encoding: .utf8)
            try metricsToken.write(toFile: dir + "/metrics.token", atomically: true, encoding: .utf8)
            let workerConfig = dir + "/worker.yaml"
            try (world.configText() + """
                metrics:
                  token_file: \(dir)/metrics.token
                channels:
                  office:
                    kind: webhook
                    url: http://127.0.0.1:\(webhookPort)/hooks/lodestone
                    secret_file: \(dir)/webhook.secret
                  robot:
                    kind: dingtalk
                    url_env: LODE_TEST_ROBOT_URL
                notifications:
                  - name: started
                    event: zone.project.status_changed
                    status: [started]
                    channels: [office, robot]
                    message: "{project_id} 开工"

                """).write(toFile: workerConfig, atomically: true, encoding: .utf8)
            // lodectl's password in its config file.
            let ctlConfig = dir + "/ctl.yaml"
            try world.configText().replacingOccurrences(
                of: "  url: amqp://\(world.worker)@", with: "  password: \(world.passwords[world.ctl]!)\n  url: amqp://\(world.ctl)@"
            ).write(toFile: ctlConfig, atomically: true, encoding: .utf8)

            let db = dir + "/zone.sqlite"
            let worker = try ServiceProcess("lode-worker", [
                "--db", db, "--metrics-address", "127.0.0.1:0", "--status-address", "127.0.0.1:0",
            ], environment: [
                "LODE_CONFIG": workerConfig, "LODE_AMQP_PASSWORD_FILE": dir + "/worker.password",
                "LODE_STATUS_TOKEN": pageToken, "LODE_METRICS_TOKEN_FILE": dir + "/metrics.token",
                "LODE_TEST_ROBOT_URL": "http://127.0.0.1:\(robotPort)/robot/send?access_token=\(robotToken)",
            ])
            var outputs: [(String, String)] = []

            // Success: a department publishes (password in the environment), notifications go out.
            let construction = ["LODE_AMQP_URL": world.url(world.construction),
                                "LODE_AMQP_PASSWORD": world.passwords[world.construction]!]
            let published = try await PublishProcess.run([try world.demoPart("construction")], environment: construction)
            #expect(published.status == 0, "\(published.stderr)")
            outputs.append(("lode-publish", published.stdout + published.stderr))
            // Failure: a wrong password; a password in --url; an event the worker refuses.
            let wrong = try await PublishProcess.run([try world.demoPart("construction")], environment: [
                "LODE_AMQP_URL": world.url(world.construction), "LODE_AMQP_PASSWORD": world.passwords[world.invest]!,
            ])
            #expect(wrong.status != 0)
            outputs.append(("lode-publish, wrong password", wrong.stdout + wrong.stderr))
            let inURL = try await PublishProcess.run([
                "--url", "amqp://\(world.construction):\(world.passwords[world.construction]!)@127.0.0.1:\(world.port)/\(world.vhost)",
                try world.demoPart("construction"),
            ])
            #expect(inURL.status == 64)
            outputs.append(("lode-publish --url with a password", inURL.stdout + inURL.stderr))
            let foreign = try PublishProcess.file(String(decoding: Departments.event("secret-dlq", type: "zone.project.status_changed",
                source: DepartmentWorld.sources["reform"]!, data: #"{"project_id":"BT-1","status":"started"}"#), as: UTF8.self),
                extension: "ndjson")
            defer { unlink(foreign) }
            let refused = try await PublishProcess.run([foreign], environment: construction)
            #expect(refused.status == 0, "\(refused.stderr)")
            outputs.append(("lode-publish, refused event", refused.stdout + refused.stderr))

            let metricsBase = try await worker.metricsBase()
            var pageBase = ""
            #expect(await BrokerFixture.eventually {
                guard let line = worker.stderr.split(separator: "\n").first(where: { $0.contains("status page listening") }),
                      let port = line.firstMatch(of: /address=127\.0\.0\.1:(\d+)/).flatMap({ Int($0.1) }) else { return false }
                pageBase = "http://127.0.0.1:\(port)"
                return true
            }, "\(worker.stderr)")
            #expect(try await BrokerFixture.eventually(timeout: .seconds(120)) {
                webhook.requests.count >= 1 && robot.requests.count >= 1 && webhookCalls.withLock { $0 } >= 3
            }, "\(worker.stderr)")
            #expect(robot.requests.first?.query.contains(robotToken) == true, "the robot got its token: the test's secrets are live")

            // While it runs, every process's command line.
            var commandLines = ""
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {
                if let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") {
                    commandLines += String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self) + "\n"
                }
            }
            outputs.append(("/proc/*/cmdline", commandLines))

            // The page and /metrics: refused without their tokens, and shown with them.
            #expect(try await HTTPProbe.get("\(metricsBase)/metrics").status == 401)
            #expect(try await HTTPProbe.get("\(pageBase)/").status == 401)
            let scraped = try await HTTPProbe.get("\(metricsBase)/metrics", bearer: metricsToken)
            #expect(scraped.status == 200)
            let page = try await HTTPProbe.get("\(pageBase)/", bearer: pageToken)
            #expect(page.status == 200)
            outputs.append(("/metrics", scraped.body))
            outputs.append(("status page", page.body))
            outputs.append(("/healthz", try await HTTPProbe.get("\(metricsBase)/healthz").body))

            // lodectl with its password in the config: success and failure.
            let ctl = ["LODE_CONFIG": ctlConfig]
            for arguments in [["queues", "--json"], ["report", "--year", "2024", "--db", db], ["dlq", "list", "--sync", "--json", "--db", db],
                              ["queues", "--management-url", "http://127.0.0.1:\(unusedPort())"]] {
                let outcome = try await PublishProcess.run(arguments, environment: ctl, program: "lodectl")
                outputs.append(("lodectl \(arguments.joined(separator: " "))", outcome.stdout + outcome.stderr))
            }
            let badPassword = try await PublishProcess.run(["dlq", "list", "--sync", "--db", db], environment: [
                "LODE_CONFIG": ctlConfig, "LODE_AMQP_PASSWORD": world.passwords[world.invest]!,
            ], program: "lodectl")
            #expect(badPassword.status == 69, "\(badPassword.stderr)")
            outputs.append(("lodectl, wrong password", badPassword.stdout + badPassword.stderr))
            let listed = try await PublishProcess.run(["dlq", "list", "--json", "--db", db], environment: ctl, program: "lodectl")
            if case .array(let letters) = try JSONParser.parse(listed.stdout) {
                #expect(!letters.isEmpty, "a dead letter to look into")
                for case .string(let id)? in letters.map({ $0["id"] }) {
                    let shown = try await PublishProcess.run(["dlq", "show", id, "--db", db], environment: ctl, program: "lodectl")
                    outputs.append(("lodectl dlq show \(id) (its headers)", shown.stdout + shown.stderr))
                }
            }

            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")
            outputs.append(("lode-worker's log", worker.stdout + worker.stderr))
            for file in ["zone.sqlite", "zone.sqlite-wal", "zone.sqlite-shm", "definitions.json"] {
                if let data = FileManager.default.contents(atPath: dir + "/" + file) {
                    outputs.append((file, String(decoding: data, as: UTF8.self)))
                }
            }
            #expect(outputs.count >= 14)
            for (place, text) in outputs {
                for secret in secrets {
                    #expect(!text.contains(secret), "a secret (\(secret.prefix(6))…) shows in \(place)")
                }
            }
        }
    }
}
