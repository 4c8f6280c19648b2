import Foundation
import LodeAMQP
import LodeEvents
import LodeProjections
import LodeStorage
import LodeWire
import Testing

extension BrokerTests {
    /// The worker's own recovery from a subscription that the broker cancels or that silently
    /// stops delivering, and the gauges of its queue and outbox poll, through the `lode-worker`
    /// process and its `/metrics`.
    @Suite("lode-worker watches its queues and recovers its subscription")
    struct ConsumerRecovery {
        @Test func aWorkerWhoseQueueIsDeletedDeclaresItAgainResumesAndAppliesWhatFollows() async throws {
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-worker-cancel")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let db = directory + "/zone.sqlite"
            let worker = try await MonitoredWorker.start(db: db)
            #expect(try await worker.await { $0.connected && $0.workConsumers == 1 }, "\(worker.process.stderr)")

            let lines = try BrokerTests.WorkerProcess.demoLines
            let firstHalf = lines.prefix(lines.count / 2), secondHalf = lines.dropFirst(lines.count / 2)
            try await Self.publish(firstHalf, environment: environment)
            #expect(try await worker.await { $0.applied == Double(firstHalf.count) }, "\(worker.process.stderr)")

            // The broker side deletes the worker's queue: the broker cancels the subscription
            // (basic.cancel), and the worker declares the topology again and resubscribes.
            try await admin.deleteQueue(ZoneTopology.workQueue)
            var scrape = MetricsScrape(text: "")
            #expect(try await worker.await {
                scrape = $0
                return $0.value(#"lode_worker_reconnects_total{cause="consumer_cancelled"}"#) == 1 && $0.workConsumers == 1
                    && $0.connected
            }, "\(scrape.text)\n\(worker.process.stderr)")
            // The broker's own view: the queue is back, with the worker subscribed to it.
            #expect(await BrokerFixture.eventually {
                (try? await admin.inspectQueue(ZoneTopology.workQueue))??.consumerCount == 1
            }, "\(worker.process.stderr)")
            // The operator re-creates it too: declaring it again changes nothing.
            let setup = try await PublishProcess.run(["setup"], environment: environment, program: "lodectl")
            #expect(setup.status == 0, "\(setup.stderr)")

            try await Self.publish(secondHalf, environment: environment)
            #expect(try await worker.await {
                scrape = $0
                return $0.applied == Double(lines.count) && $0.value(#"lode_worker_queue_ready_messages{queue="lode.work"}"#) == 0
            }, "\(scrape.text)\n\(worker.process.stderr)")
            #expect(scrape.value(#"lode_worker_reconnects_total{cause="connection_lost"}"#) == 0)
            #expect(scrape.value(#"lode_worker_reconnects_total{cause="consumer_stalled"}"#) == 0)
            #expect(scrape.value(#"lode_worker_queue_ready_messages{queue="lode.dead"}"#) == 0)
            #expect(scrape.value(#"lode_worker_outbox_notifications{state="failed"}"#) == 0)
            let health = try await HTTPGet.fetch(worker.base + "/healthz")
            #expect(health.status == 200, "\(health.body)")

            worker.process.signal(SIGTERM)
            #expect(await worker.process.exitStatus() == 0, "\(worker.process.stderr)")
            #expect(worker.process.stderr.contains("broker cancelled the subscription; declaring the topology again"))
            try Self.expectExactly(lines, in: db)
            #expect(try await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount == 0)
            await admin.close()
        }

        /// The zombie is real: the broker's process for the worker's consuming channel is
        /// suspended (`erlang:suspend_process`), so the connection lives (its reader and
        /// heartbeats are other processes) and the subscription stays registered, but nothing
        /// is delivered. No test double is involved.
        @Test func theWatchdogReconnectsAConsumerThatGetsNothingWhileLodeWorkHasReadyMessages() async throws {
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-worker-zombie")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let db = directory + "/zone.sqlite"
            // A prefetch of 2, so the broker hands the frozen channel two messages and keeps the rest ready.
            let worker = try await MonitoredWorker.start(db: db, arguments: ["--prefetch", "2", "--stall-seconds", "3"])
            #expect(try await worker.await { $0.connected && $0.workConsumers == 1 }, "\(worker.process.stderr)")

            let frozen = try BrokerChannelFreezer.freezeConsumersOf(ZoneTopology.workQueue)
            defer { BrokerChannelFreezer.thaw() }
            #expect(frozen == 1, "one consuming channel frozen")

            let lines = (0..<20).map { publishedEventLine(9000 + $0) }
            try await Self.publish(lines[...], environment: environment, batched: false)
            var scrape = MetricsScrape(text: "")
            #expect(try await worker.await(timeout: .seconds(60)) {
                scrape = $0
                return $0.value("lode_worker_consumer_stalls_total") ?? 0 >= 1
                    && $0.value(#"lode_worker_reconnects_total{cause="consumer_stalled"}"#) ?? 0 >= 1
            }, "\(scrape.text)\n\(worker.process.stderr)")
            #expect(worker.process.stderr.contains("consumer stalled; reconnecting"))

            // The new connection gets what was ready; the two messages the frozen channel held
            // come back once the broker lets that channel go.
            BrokerChannelFreezer.thaw()
            #expect(try await worker.await(timeout: .seconds(60)) {
                scrape = $0
                return $0.applied == Double(lines.count) && $0.value(#"lode_worker_queue_ready_messages{queue="lode.work"}"#) == 0
                    && $0.value("lode_worker_oldest_unapplied_age_seconds") == 0 && $0.connected
            }, "\(scrape.text)\n\(worker.process.stderr)")
            let health = try await HTTPGet.fetch(worker.base + "/healthz")
            #expect(health.status == 200 && health.body.contains(#""broker":"connected""#), "\(health.body)")

            worker.process.signal(SIGTERM)
            #expect(await worker.process.exitStatus() == 0, "\(worker.process.stderr)")
            let store = try SQLiteZoneStore(path: db, configuration: SQLiteStoreConfiguration(calendar: try ZoneCalendar()))
            #expect(try store.loggedEventCount() == lines.count)
            await admin.close()
        }

        @Test func theOutboxGaugesCountNotificationsThatCannotBeSentYet() async throws {
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-worker-outbox")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            // A webhook nobody listens on: every notification stays pending, retried with backoff.
            let config = directory + "/lodestone.yaml"
            try """
                channels:
                  office:
                    kind: webhook
                    url: http://127.0.0.1:9/hooks/lodestone
                    secret: s3cret
                notifications:
                  - name: project-started
                    event: zone.project.status_changed
                    status: [started]
                    channels: [office]
                    message: "{project_id} started"
                """.write(toFile: config, atomically: true, encoding: .utf8)
            let worker = try await MonitoredWorker.start(db: directory + "/zone.sqlite", arguments: ["--config", config])
            // The demo set starts more than ten projects.
            let lines = try BrokerTests.WorkerProcess.demoLines
            try await Self.publish(lines, environment: environment)
            var scrape = MetricsScrape(text: "")
            #expect(try await worker.await {
                scrape = $0
                return $0.applied == Double(lines.count)
                    && $0.value(#"lode_worker_outbox_notifications{state="pending"}"#) ?? 0 > 10
                    && $0.value(#"lode_worker_queue_ready_messages{queue="lode.work"}"#) == 0 && $0.workConsumers == 1
            }, "\(scrape.text)\n\(worker.process.stderr)")
            #expect(scrape.value(#"lode_worker_outbox_notifications{state="failed"}"#) == 0)
            #expect(scrape.value("lode_worker_oldest_unapplied_age_seconds") == 0)
            worker.process.signal(SIGTERM)
            #expect(await worker.process.exitStatus() == 0, "\(worker.process.stderr)")
            await admin.close()
        }

        static func publish<Lines: Collection>(_ lines: Lines, environment: [String: String], batched: Bool = true) async throws
        where Lines.Element: StringProtocol {
            let file = try PublishProcess.file(lines.joined(separator: "\n") + "\n", extension: "ndjson")
            defer { unlink(file) }
            let published = try await PublishProcess.run((batched ? [] : ["--no-batch"]) + [file], environment: environment)
            #expect(published.status == 0, "\(published.stderr)")
        }

        /// The store holds each of `lines` once, and the figures they give.
        static func expectExactly(_ lines: [Substring], in db: String) throws {
            let calendar = try ZoneCalendar()
            let store = try SQLiteZoneStore(path: db, configuration: SQLiteStoreConfiguration(calendar: calendar))
            #expect(try store.loggedEventCount() == lines.count)
            var projection = ZoneProjection(calendar: calendar)
            for line in lines { projection.apply(try Event.decode(Array(line.utf8))) }
            for year in [2023, 2024] {
                #expect(try store.report(year: year, targets: []).jsonText() == projection.report(year: year).jsonText())
            }
        }
    }
}

/// A `lode-worker` process with its `/metrics` on a port of its own.
struct MonitoredWorker {
    let process: ServiceProcess
    let base: String

    /// Starts the worker and waits until it listens (port 0: it logs the port it got).
    static func start(db: String, arguments: [String] = []) async throws -> MonitoredWorker {
        let process = try ServiceProcess("lode-worker", ["--db", db, "--metrics-address", "127.0.0.1:0"] + arguments,
                                         environment: ["LODE_AMQP_URL": BrokerFixture.url])
        return MonitoredWorker(process: process, base: try await process.metricsBase())
    }

    /// Scrapes `/metrics` until `condition` holds of it.
    func await(timeout: Duration = .seconds(45), _ condition: (MetricsScrape) -> Bool) async throws -> Bool {
        try await BrokerFixture.eventually(timeout: timeout, poll: .milliseconds(200)) {
            guard let answer = try? await HTTPGet.fetch(base + "/metrics"), answer.status == 200 else { return false }
            return condition(MetricsScrape(text: answer.body))
        }
    }
}

/// One answer of `/metrics`.
struct MetricsScrape {
    let text: String

    /// The value of one series, written as in the text (`name{label="value"}`), or nil.
    func value(_ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }
            .flatMap { $0.split(separator: " ").last.flatMap { Double($0) } }
    }

    var applied: Double? { BrokerTests.MetricsEndpoint.sum("lode_worker_events_applied_total", in: text) }
    var connected: Bool { value("lode_worker_broker_connected") == 1 }
    var workConsumers: Double? { value(#"lode_worker_queue_consumers{queue="lode.work"}"#) }
}

/// Freezes, inside the broker, the channel processes that consume a queue: the AMQP
/// connection stays up (heartbeats flow) but nothing is delivered, a zombie consumer made on
/// demand. A process on the broker's node holds the suspension (a suspension ends with the
/// process that made it) until ``thaw()``, or for two minutes at most.
enum BrokerChannelFreezer {
    /// Returns how many channels it froze.
    static func freezeConsumersOf(_ queue: String) throws -> Int {
        let output = try BrokerFixture.script("ctl", "eval", """
            Pids = lists:usort([proplists:get_value(channel_pid, C) || C <- rabbit_amqqueue:consumers_all(<<"/">>), \
            element(4, proplists:get_value(queue_name, C)) =:= <<"\(queue)">>]), \
            Caller = self(), \
            Holder = spawn(fun() -> [erlang:suspend_process(P) || P <- Pids], Caller ! frozen, \
            receive thaw -> ok after 120000 -> ok end end), \
            register(lode_test_channel_freezer, Holder), \
            receive frozen -> length(Pids) after 10000 -> timeout end.
            """)
        return Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    static func thaw() {
        _ = try? BrokerFixture.script("ctl", "eval", """
            case whereis(lode_test_channel_freezer) of undefined -> ok; Pid -> Pid ! thaw, ok end.
            """)
    }
}
