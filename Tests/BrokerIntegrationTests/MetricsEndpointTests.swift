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
            let settings = try BrokerFixture.settings()
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            #expect(try await PublishProcess.run(["setup"], environment: environment, program: "lodectl").status == 0)
            let admin = Publisher(settings: settings)
            try await admin.purgeQueue(ZoneTopology.workQueue)
            try await admin.purgeQueue(ZoneTopology.deadLetterQueue)

            let directory = NSTemporaryDirectory() + "lode-worker-metrics-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let worker = try WorkerProcess.start(
                ["--metrics-address", "127.0.0.1:0", "--db", directory + "/zone.sqlite"], environment: environment,
                logFile: directory + "/worker.log")
            defer { worker.kill() }

            // Port 0: the worker logs the port it got.
            var port: Int?
            #expect(await BrokerFixture.eventually {
                port = worker.log().split(separator: "\n").lazy.filter { $0.contains("metrics listening") }
                    .compactMap { line in line.firstMatch(of: /address=127\.0\.0\.1:(\d+)/).flatMap { Int($0.1) } }.first
                return port != nil
            }, "no 'metrics listening' line: \(worker.log())")
            let base = "http://127.0.0.1:\(try #require(port))"

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
            let status = await worker.terminate()
            #expect(status == 0, "\(worker.log())")
            #expect(worker.log().contains("stopped"))
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

/// The built `lode-worker` running as a process of its own, its stdout and stderr in one file.
///
/// posix_spawn and waitpid, as `PublishProcess` does (Foundation's `Process.waitUntilExit` was
/// seen to hang here).
final class WorkerProcess: Sendable {
    let pid: pid_t
    let logFile: String
    private let exitStatus = Mutex<Int32?>(nil)

    private init(pid: pid_t, logFile: String) {
        self.pid = pid
        self.logFile = logFile
    }

    static func start(_ arguments: [String], environment: [String: String], logFile: String) throws -> WorkerProcess {
        let executable = PublishProcess.binary(named: "lode-worker")
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            Issue.record("lode-worker is not built at \(executable); run `swift build` first")
            throw PublishProcess.Missing()
        }
        var env = ProcessInfo.processInfo.environment
        for key in ["LODE_AMQP_URL", "LODE_AMQP_PASSWORD", "LODE_AMQP_PASSWORD_FILE", "LODE_CONFIG", "LODE_DB",
                    "LODE_METRICS_ADDRESS"] { env[key] = nil }
        env.merge(environment) { $1 }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw PublishProcess.SpawnFailed(code: spawned) }
        return WorkerProcess(pid: pid, logFile: logFile)
    }

    /// What the worker has logged so far.
    func log() -> String {
        (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
    }

    /// Sends SIGTERM and returns the exit status (128 + N when a signal N ended it), waiting on a
    /// thread of its own.
    func terminate() async -> Int32 {
        Foundation.kill(pid, SIGTERM)
        let pid = pid
        let status: Int32 = await withCheckedContinuation { continuation in
            Thread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                continuation.resume(returning: (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f))
            }.start()
        }
        exitStatus.withLock { $0 = status }
        return status
    }

    /// Ends the process at once if it still runs (a test that failed half-way).
    func kill() {
        guard exitStatus.withLock({ $0 }) == nil else { return }
        Foundation.kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        exitStatus.withLock { $0 = status }
    }
}
