import Foundation
import GRDB
import LodeAMQP
import LodeEvents
import LodeJSON
import LodeProjections
import LodeStorage
import LodeWire
import Testing

extension BrokerTests {
    /// The real `lode-worker` process when its store fails: a database locked by another process,
    /// a full volume, a damaged file. With `heartbeat=2` and each outage longer than ten heartbeat
    /// intervals: the worker pauses, keeps its connection, says why on `/healthz`, dead-letters
    /// nothing, gives nothing back, and applies everything exactly once when the store is back.
    @Suite("The worker process when its store fails")
    struct StoreOutage {
        /// Ten heartbeat intervals of `heartbeat=2`, and some.
        static let outage: TimeInterval = 24

        static var environment: [String: String] {
            ["LODE_AMQP_URL": BrokerFixture.url + (BrokerFixture.url.contains("?") ? "&" : "?") + "heartbeat=2"]
        }

        static var demoLines: [Substring] {
            get throws { try String(contentsOfFile: WorkerThroughTheBroker.demoFile, encoding: .utf8).split(separator: "\n") }
        }

        static func file(_ lines: some Sequence<Substring>) throws -> String {
            try PublishProcess.file(lines.joined(separator: "\n") + "\n", extension: "ndjson")
        }

        static func startWorker(_ database: String) async throws -> (ServiceProcess, String) {
            let worker = try ServiceProcess("lode-worker", ["--db", database, "--metrics-address", "127.0.0.1:0"],
                                            environment: environment)
            return (worker, try await worker.metricsBase())
        }

        static func scrape(_ base: String) async -> MetricsScrape? {
            guard let answer = try? await HTTPGet.fetch(base + "/metrics"), answer.status == 200 else { return nil }
            return MetricsScrape(text: answer.body)
        }

        static func health(_ base: String) async -> (status: Int, body: JSONValue)? {
            guard let answer = try? await HTTPGet.fetch(base + "/healthz"),
                  let body = try? JSONParser.parse(answer.body) else { return nil }
            return (answer.status, body)
        }

        static func healthText(_ base: String) async -> String {
            (try? await HTTPGet.fetch(base + "/healthz")).map { "\($0.status) \($0.body)" } ?? "no answer"
        }

        static func applied(_ base: String) async -> Int {
            Int(await scrape(base)?.applied ?? -1)
        }

        /// Waits until the worker has been paused for `seconds` by its own account (`/healthz`'s
        /// `store_failing_since`), checking meanwhile that it says why.
        static func pausedFor(_ seconds: TimeInterval, _ base: String, mentioning reason: String) async -> Bool {
            await BrokerFixture.eventually(timeout: .seconds(seconds + 90), poll: .milliseconds(500)) {
                guard let (status, body) = await health(base), status == 503,
                      case .string(let since)? = body["store_failing_since"],
                      let start = try? Date(since, strategy: .iso8601),
                      case .array(let problems)? = body["problems"],
                      problems.contains(where: { if case .string(let text) = $0 { text.contains(reason) } else { false } })
                else { return false }
                return Date().timeIntervalSince(start) >= seconds
            }
        }

        /// The report of `year` in the database at `path` (the worker stopped), as JSON text.
        static func report(_ path: String, year: Int = 2024) throws -> String {
            let store = try SQLiteZoneStore(path: path, configuration: SQLiteStoreConfiguration(calendar: try ZoneCalendar()))
            defer { try? store.close() }
            return try store.report(year: year, targets: []).jsonText()
        }

        /// The report the demo set gives when applied once, straight into a store.
        static func referenceReport() throws -> String {
            let directory = try BrokerFixture.temporaryDirectory("lode-reference")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let store = try SQLiteZoneStore(path: directory + "/zone.sqlite", configuration: SQLiteStoreConfiguration(calendar: try ZoneCalendar()))
            _ = try store.apply(try demoLines.map { try IncomingEvent(decoding: Array($0.utf8)) })
            defer { try? store.close() }
            return try store.report(year: 2024, targets: []).jsonText()
        }

        /// Another process holding the database's write lock (`BEGIN IMMEDIATE`), as a backup tool
        /// or a stuck script would, until ``release()``.
        final class LockHolder: Sendable {
            let process: ServiceProcess

            init(_ path: String) async throws {
                let script = """
                    import sqlite3, sys, time
                    c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
                    c.execute("BEGIN IMMEDIATE")
                    print("locked", flush=True)
                    time.sleep(3600)
                    """
                process = try ServiceProcess("/usr/bin/python3", ["-c", script, path])
                let process = process
                #expect(await BrokerFixture.eventually(timeout: .seconds(60)) { process.stdout.contains("locked") },
                        "the lock holder did not take the lock: \(process.stderr)")
            }

            /// Ends the holder: the lock goes with its process.
            func release() async {
                process.signal(SIGTERM)
                _ = await process.exitStatus()
            }
        }

        @Test(.timeLimit(.minutes(5)))
        func aDatabaseLockedByAnotherProcessPausesTheWorkerWithItsConnectionUpAndLosesNothing() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-outage-locked")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let database = directory + "/zone.sqlite"
            let lines = try Self.demoLines
            let first = try Self.file(lines[..<400]), second = try Self.file(lines[400...])
            defer { unlink(first); unlink(second) }

            let (worker, base) = try await Self.startWorker(database)
            var published = try await PublishProcess.run([first], environment: Self.environment)
            #expect(published.status == 0, "\(published.stderr)")
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) { await Self.applied(base) == 400 })

            let lock = try await LockHolder(database)
            published = try await PublishProcess.run([second], environment: Self.environment)
            #expect(published.status == 0, "\(published.stderr)")
            let paused = await Self.pausedFor(Self.outage, base, mentioning: "store failing")
            let shown = await Self.healthText(base)
            #expect(paused, "no pause of \(Self.outage) s on /healthz: \(shown)")
            let during = try #require(await Self.scrape(base))
            #expect(during.value("lode_worker_paused") == 1)
            #expect(during.connected, "the connection stayed up")
            #expect(during.value(#"lode_worker_reconnects_total{cause="connection_lost"}"#) == 0, "\(during.text)")
            #expect((during.value(#"lode_worker_store_failures_total{kind="unavailable"}"#) ?? 0) >= 2)
            #expect(during.applied == 400)
            #expect(try await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount == 0)

            await lock.release()
            #expect(await BrokerFixture.eventually(timeout: .seconds(90)) { await Self.applied(base) == lines.count })
            #expect(await BrokerFixture.eventually { await Self.health(base)?.status == 200 })
            let after = try #require(await Self.scrape(base))
            #expect(after.value("lode_worker_paused") == 0)
            #expect(after.value(#"lode_worker_reconnects_total{cause="connection_lost"}"#) == 0, "\(after.text)")
            #expect(worker.stderr.contains("paused"), "the log says why it paused")
            #expect(worker.stderr.contains("resumed"), "and when it went on")
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")
            #expect(try await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount == 0)
            #expect(try await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount == 0)
            #expect(try Self.report(database) == (try Self.referenceReport()))
            await admin.close()
        }

        @Test(.timeLimit(.minutes(5)))
        func sigtermDuringALockEndsTheWorkerAtOnceAndTheNextOneAppliesEverything() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-outage-sigterm")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let database = directory + "/zone.sqlite"
            let lines = try Self.demoLines

            let (worker, base) = try await Self.startWorker(database)
            let lock = try await LockHolder(database)
            let published = try await PublishProcess.run([WorkerThroughTheBroker.demoFile], environment: Self.environment)
            #expect(published.status == 0, "\(published.stderr)")
            #expect(await Self.pausedFor(1, base, mentioning: "store failing"))
            let signalled = Date()
            worker.signal(SIGTERM)
            let status = await worker.exitStatus()
            let took = Date().timeIntervalSince(signalled)
            #expect(status == 0, "\(worker.stderr)")
            #expect(took < 20, "SIGTERM took \(took) s to end the worker")
            #expect(worker.stderr.contains("given back to the queue"), "\(worker.stderr)")
            await lock.release()

            // Nothing was lost: the next worker applies every event, once.
            let (next, nextBase) = try await Self.startWorker(database)
            let appliedAll = await BrokerFixture.eventually(timeout: .seconds(90)) { await Self.applied(nextBase) == lines.count }
            let appliedCount = await Self.applied(nextBase)
            #expect(appliedAll, "applied \(appliedCount) of \(lines.count)")
            next.signal(SIGTERM)
            #expect(await next.exitStatus() == 0, "\(next.stderr)")
            #expect(try await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount == 0)
            #expect(try Self.report(database) == (try Self.referenceReport()))
            await admin.close()
        }

        @Test(.timeLimit(.minutes(5)))
        func aDamagedDatabaseHoldsTheEventsInTheQueueAndSaysSo() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-outage-damaged")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let database = directory + "/zone.sqlite"
            let lines = try Self.demoLines
            let first = try Self.file(lines[..<400]), second = try Self.file(lines[400...])
            defer { unlink(first); unlink(second) }

            // A healthy database with events in it, then the inbox's pages overwritten, as a bad
            // disk or a careless copy would leave it.
            let (worker, base) = try await Self.startWorker(database)
            #expect(try await PublishProcess.run([first], environment: Self.environment).status == 0)
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) { await Self.applied(base) == 400 })
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")
            try Self.damage(database, table: "inbox")

            let (damaged, damagedBase) = try await Self.startWorker(database)
            let published = try await PublishProcess.run([second], environment: Self.environment)
            #expect(published.status == 0, "\(published.stderr)")
            let paused = await Self.pausedFor(Self.outage, damagedBase, mentioning: "will not heal by itself")
            let shown = await Self.healthText(damagedBase)
            #expect(paused, "\(shown)")
            #expect(await Self.health(damagedBase)?.body["store"] == .string("damaged"))
            let scrape = try #require(await Self.scrape(damagedBase))
            #expect((scrape.value(#"lode_worker_store_failures_total{kind="damaged"}"#) ?? 0) >= 1, "\(scrape.text)")
            #expect(scrape.connected)
            #expect(try await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount == 0)
            #expect(damaged.stderr.contains("will not heal by itself"), "the log says so too")
            damaged.signal(SIGTERM)
            #expect(await damaged.exitStatus() == 0, "\(damaged.stderr)")
            // Every event of the second part is still in lode.work, none in lode.dead.
            let queued = try await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount ?? 0
            #expect(queued > 0, "the events stay in the queue")
            #expect(try await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount == 0)
            try await admin.purgeQueue(ZoneTopology.workQueue)
            await admin.close()
        }

        @Test(.timeLimit(.minutes(5)), .enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
        func aFullVolumePausesTheWorkerUntilThereIsSpaceAgain() async throws {
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-outage-full")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let mounted = try BrokerFixture.run("/usr/bin/mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", directory)
            try #require(mounted.status == 0, "mount failed: \(mounted.output)")
            defer { _ = try? BrokerFixture.run("/usr/bin/umount", "-l", directory) }
            let database = directory + "/zone.sqlite"
            let lines = try Self.demoLines

            let (worker, base) = try await Self.startWorker(database)
            // Fill what is left of the volume.
            let filler = directory + "/filler"
            try Self.fill(filler)
            let published = try await PublishProcess.run([WorkerThroughTheBroker.demoFile], environment: Self.environment)
            #expect(published.status == 0, "\(published.stderr)")
            let paused = await Self.pausedFor(Self.outage, base, mentioning: "store failing")
            let shown = await Self.healthText(base)
            #expect(paused, "\(shown)")
            let during = try #require(await Self.scrape(base))
            #expect(during.connected)
            #expect(during.value(#"lode_worker_reconnects_total{cause="connection_lost"}"#) == 0, "\(during.text)")
            #expect(try await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount == 0)

            unlink(filler)
            let appliedAll = await BrokerFixture.eventually(timeout: .seconds(90)) { await Self.applied(base) == lines.count }
            let appliedCount = await Self.applied(base)
            #expect(appliedAll, "applied \(appliedCount) of \(lines.count)")
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")
            #expect(try await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount == 0)
            #expect(try Self.report(database) == (try Self.referenceReport()))
            await admin.close()
        }

        /// Overwrites the pages of `table`'s b-tree root with garbage (the database closed).
        static func damage(_ path: String, table: String) throws {
            let (root, pageSize) = try DatabaseQueue(path: path).read { db in
                (try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = ?", arguments: [table]) ?? 0,
                 try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096)
            }
            try #require(root > 1, "no table \(table)")
            let handle = try #require(FileHandle(forUpdatingAtPath: path))
            defer { try? handle.close() }
            try handle.seek(toOffset: UInt64((root - 1) * pageSize))
            try handle.write(contentsOf: Data(repeating: 0xA5, count: pageSize))
        }

        /// Writes zeros to `path` until the volume is full.
        static func fill(_ path: String) throws {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            try #require(descriptor >= 0)
            defer { close(descriptor) }
            let block = [UInt8](repeating: 0, count: 64 * 1024)
            while block.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) > 0 {}
            var byte: UInt8 = 0
            while write(descriptor, &byte, 1) > 0 {}
        }
    }
}
