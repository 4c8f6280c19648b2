import Dispatch
import Foundation
import GRDB
import LodeAMQP
import LodeEvents
import LodeStorage
import LodeWire
import LodeWorker
import Testing

extension BrokerTests {
    @Suite("The worker when the database is unavailable")
    struct WorkerDatabaseUnavailable {
        @Test func aLockedDatabasePausesTheWorkerWhichRetriesAndDeadLettersNothing() async throws {
            let settings = try BrokerFixture.settings()
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let admin = try await BrokerFixture.emptyZoneQueues()

            let directory = try BrokerFixture.temporaryDirectory("lode-worker-locked")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let configuration = SQLiteStoreConfiguration(calendar: try ZoneCalendar(), busyTimeout: .milliseconds(100))
            let store = try SQLiteZoneStore(path: directory + "/zone.sqlite", configuration: configuration)

            // Another connection holds the write lock, as a backup tool or a stuck process would.
            let other = try SQLiteZoneStore(path: directory + "/zone.sqlite", configuration: configuration)
            let locked = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), released = DispatchSemaphore(value: 0)
            Thread {
                try? other.withWriterConnection { db in
                    try db.execute(sql: "BEGIN EXCLUSIVE")
                    locked.signal()
                    release.wait()
                    try db.execute(sql: "COMMIT")
                }
                released.signal()
            }.start()
            locked.wait()

            var options = WorkerOptions()
            options.backoff = Backoff(base: .milliseconds(20), cap: .milliseconds(200))
            let worker = Worker(settings: settings, store: store, options: options)
            try await worker.start()
            let published = try await PublishProcess.run([WorkerThroughTheBroker.demoFile], environment: environment)
            #expect(published.status == 0, "\(published.stderr)")
            #expect(await BrokerFixture.eventually { worker.totals.retried >= 3 })
            #expect(worker.totals.applied == 0)
            #expect(worker.totals.deadLettered == 0)

            release.signal()
            released.wait()
            let total = try String(contentsOfFile: WorkerThroughTheBroker.demoFile, encoding: .utf8).split(separator: "\n").count
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) { worker.totals.applied == total }, "\(worker.totals)")
            await worker.stop()
            #expect(worker.totals.deadLettered == 0)
            #expect(try await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount == 0)
            #expect(try store.loggedEventCount() == total)
            await admin.close()
        }
    }
}
