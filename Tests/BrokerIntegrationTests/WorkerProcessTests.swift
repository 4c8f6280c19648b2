import Foundation
import LodeAMQP
import LodeEvents
import LodeProjections
import LodeStorage
import LodeWire
import Testing

extension BrokerTests {
    /// `lode-worker` as a process, signalled the way a service manager (or a crash) does it.
    @Suite("The lode-worker process, killed and stopped")
    struct WorkerProcess {
        static var demoLines: [Substring] {
            get throws {
                try String(contentsOfFile: WorkerThroughTheBroker.demoFile, encoding: .utf8).split(separator: "\n")
            }
        }

        /// A fresh `lode.work` holding the demo set one event per message, and a directory for
        /// the worker's database.
        func backlog() async throws -> (admin: Publisher, directory: String, total: Int) {
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let admin = try await BrokerFixture.emptyZoneQueues()
            let published = try await PublishProcess.run(["--no-batch", WorkerThroughTheBroker.demoFile], environment: environment)
            #expect(published.status == 0, "\(published.stderr)")
            let directory = try BrokerFixture.temporaryDirectory("lode-worker-process")
            return (admin, directory, try Self.demoLines.count)
        }

        func startWorker(db: String) throws -> ServiceProcess {
            // Small batches and transactions, so a signal lands in the middle of one.
            try ServiceProcess("lode-worker", ["--db", db, "--prefetch", "40", "--transaction-events", "7", "--metrics-address", "127.0.0.1:0"],
                               environment: ["LODE_AMQP_URL": BrokerFixture.url])
        }

        /// Waits until the broker has seen acks for at least `count` messages of the backlog:
        /// with at most `prefetch` unacknowledged, fewer ready than total − prefetch − count.
        func awaitProgress(_ admin: Publisher, total: Int, count: Int) async -> Bool {
            await BrokerFixture.eventually(timeout: .seconds(60), poll: .milliseconds(5)) {
                (try? await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount).flatMap { $0 }.map { $0 <= total - 40 - count } ?? false
            }
        }

        @Test func killedMidBatchAndRestartedItLosesNothingAndCountsNothingTwice() async throws {
            let (admin, directory, total) = try await backlog()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let db = directory + "/zone.sqlite"

            let first = try startWorker(db: db)
            #expect(await awaitProgress(admin, total: total, count: 100), "stderr: \(first.stderr)")
            first.signal(SIGKILL)
            #expect(await first.exitStatus() == 128 + SIGKILL)

            let second = try startWorker(db: db)
            // Nothing ready is not yet nothing held: the worker may still hold redeliveries, or a
            // batch whose ack waits for its commit to be durable, and SIGTERM gives those back.
            #expect(await BrokerFixture.eventually(timeout: .seconds(120)) {
                (try? await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount) == 0
            }, "stderr: \(second.stderr)")
            #expect(await BrokerFixture.eventually(timeout: .seconds(60), poll: .milliseconds(200)) {
                (try? BrokerFixture.messagesHeld(by: ZoneTopology.workQueue)) == 0
            }, "stderr: \(second.stderr)")
            second.signal(SIGTERM)
            #expect(await second.exitStatus() == 0, "stderr: \(second.stderr)")
            #expect(try await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount == 0)

            // Every event once in the log, and the figures exactly the file's.
            let calendar = try ZoneCalendar()
            let store = try SQLiteZoneStore(path: db, configuration: SQLiteStoreConfiguration(calendar: calendar))
            #expect(try store.loggedEventCount() == total)
            var projection = ZoneProjection(calendar: calendar)
            for line in try Self.demoLines { projection.apply(try Event.decode(Array(line.utf8))) }
            for year in [2023, 2024] {
                #expect(try store.report(year: year, targets: []).jsonText() == projection.report(year: year).jsonText())
            }
            #expect(try await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount == 0)
            await admin.close()
        }

        @Test func sigtermDuringABacklogExitsZeroAndLeavesEveryUnappliedEventInTheQueue() async throws {
            let (admin, directory, total) = try await backlog()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let db = directory + "/zone.sqlite"

            let worker = try startWorker(db: db)
            #expect(await awaitProgress(admin, total: total, count: 100), "stderr: \(worker.stderr)")
            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "stderr: \(worker.stderr)")
            #expect(worker.stderr.contains("stopped"))

            let store = try SQLiteZoneStore(path: db, configuration: SQLiteStoreConfiguration(calendar: try ZoneCalendar()))
            let applied = try store.loggedEventCount()
            #expect(applied > 0 && applied < total, "stopped part way: \(applied) of \(total)")
            // What was applied was acknowledged; everything else is back in the queue (and, on
            // RabbitMQ 3.10's quorum queues, maybe a few acked just before the channel closed:
            // more is harmless, fewer would be a loss).
            var ready = 0
            #expect(await BrokerFixture.eventually {
                ready = (try? await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount) ?? 0
                return ready >= total - applied
            }, "ready \(ready), applied \(applied) of \(total)")
            #expect(ready <= total - applied + 40, "ready \(ready), applied \(applied) of \(total)")
            try await admin.purgeQueue(ZoneTopology.workQueue)
            await admin.close()
        }
    }
}
