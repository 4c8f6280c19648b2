import Dispatch
import Foundation
import LodeEvents
import LodeProjections
import LodeStorage
import LodeTestSupport
import Synchronization
import Testing

@testable import LodeAMQP
@testable import LodeWorker

/// The worker's sync thread for a store that defers its fsync: acknowledgements only after a
/// sync that began after the batch's commit, in commit order, none after a failed sync.
@Suite("Acknowledgements after the fsync")
struct CommitSyncerTests {
    /// A real SQLite store that defers its syncs, whose sync the test holds, releases or fails:
    /// the fsync's timing and failure are what a real disk does not produce on demand.
    final class HeldSyncStore: ZoneStore, Sendable {
        let inner: SQLiteZoneStore
        private let gate = DispatchSemaphore(value: 0)
        private let failNext = Mutex(false)
        /// How many syncs began, and how many returned.
        let started = Atomic<Int>(0)
        let finished = Atomic<Int>(0)

        init(directory: String) throws {
            var configuration = SQLiteStoreConfiguration(calendar: try ZoneCalendar())
            configuration.defersSync = true
            inner = try SQLiteZoneStore(path: directory + "/zone.sqlite", configuration: configuration)
        }

        /// Lets the sync that waits (or the next one) go on; `failing`: it throws.
        func release(failing: Bool = false) {
            failNext.withLock { $0 = failing }
            gate.signal()
        }

        var defersSync: Bool { true }

        func syncCommits() throws(StorageError) {
            started.add(1, ordering: .sequentiallyConsistent)
            gate.wait()
            if failNext.withLock({ $0 }) {
                throw StorageError(kind: .damaged, message: "fsync failed (the test's)", path: inner.path)
            }
            try inner.syncCommits()
            finished.add(1, ordering: .sequentiallyConsistent)
        }

        func apply(_ batch: [IncomingEvent]) throws(StorageError) -> BatchOutcome { try inner.apply(batch) }
        func report(year: Int, targets: [ReportTarget]) throws(StorageError) -> ZoneReport {
            try inner.report(year: year, targets: targets)
        }
        func rebuild(progress: (Int, Int) -> Void) throws(StorageError) -> RebuildSummary { try inner.rebuild(progress: progress) }
        var counts: StoreCounts { inner.counts }
        func loggedEventCount() throws(StorageError) -> Int { try inner.loggedEventCount() }
    }

    /// What the syncer settled and reported lost, in order.
    final class Outcomes: Sendable {
        let settled = Mutex<[BatchTicket]>([])
        let lost = Mutex<[StorageError]>([])
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lode-sync-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func ticket(_ n: UInt64) -> BatchTicket {
        BatchTicket(connection: 1, sequence: n, firstTag: n * 10, lastTag: n * 10 + 9)
    }

    static func event(_ n: Int) throws -> IncomingEvent {
        let body = #"{"specversion":"1.0","id":"sync-\#(n)","source":"bt-dept/projects","type":"zone.project.status_changed","time":"2024-05-05T10:00:00+08:00","data":{"project_id":"BT-\#(n)","status":"started"}}"#
        return try IncomingEvent(decoding: Array(body.utf8))
    }

    /// A running syncer over a store in `directory` whose first batch (event 1, ticket 1) is
    /// committed and whose first sync has begun and is held.
    static func firstSyncHeld(in directory: String) async throws -> (HeldSyncStore, Outcomes, CommitSyncer) {
        let store = try HeldSyncStore(directory: directory)
        let outcomes = Outcomes()
        let syncer = CommitSyncer(store: store, metrics: WorkerMetrics(), settle: { ticket, settlement in
            if settlement == .acknowledge { outcomes.settled.withLock { $0.append(ticket) } }
        }, lost: { error in outcomes.lost.withLock { $0.append(error) } })
        syncer.start()
        _ = try store.apply([try event(1)])
        syncer.committed(ticket(1))
        #expect(await eventually { store.started.load(ordering: .sequentiallyConsistent) == 1 })
        return (store, outcomes, syncer)
    }

    @Test func batchesCommittedDuringASyncWaitForTheNextOneAndAreAcknowledgedInOrder() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, outcomes, syncer) = try await Self.firstSyncHeld(in: directory)
        // The first sync is held: the next batches commit meanwhile, and nothing is acknowledged.
        _ = try store.apply([try Self.event(2)])
        syncer.committed(Self.ticket(2))
        _ = try store.apply([try Self.event(3)])
        syncer.committed(Self.ticket(3))
        #expect(outcomes.settled.withLock { $0 }.isEmpty)

        store.release()
        #expect(await eventually { store.started.load(ordering: .sequentiallyConsistent) == 2 })
        // Only the batch committed before the first sync began is acknowledged by it.
        #expect(outcomes.settled.withLock { $0 } == [Self.ticket(1)])

        // One more sync for the two that waited.
        store.release()
        #expect(await eventually { outcomes.settled.withLock { $0.count } == 3 })
        #expect(outcomes.settled.withLock { $0 } == [Self.ticket(1), Self.ticket(2), Self.ticket(3)])
        #expect(store.started.load(ordering: .sequentiallyConsistent) == 2)

        // Draining syncs what is left before it returns.
        _ = try store.apply([try Self.event(4)])
        syncer.committed(Self.ticket(4))
        store.release()
        await syncer.drain()
        #expect(outcomes.settled.withLock { $0 } == (1...4).map { Self.ticket($0) })
        #expect(outcomes.lost.withLock { $0 }.isEmpty)
        #expect(try store.loggedEventCount() == 4)
    }

    @Test func aFailedSyncAcknowledgesNothingThatWaitedAndReportsTheLoss() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, outcomes, syncer) = try await Self.firstSyncHeld(in: directory)
        syncer.committed(Self.ticket(2))
        store.release(failing: true)
        #expect(await eventually { outcomes.lost.withLock { $0.count } == 1 })
        #expect(outcomes.lost.withLock { $0.first?.kind } == .damaged)
        // The thread has ended: nothing more is synced or acknowledged, and draining returns.
        await syncer.drain()
        #expect(outcomes.settled.withLock { $0 }.isEmpty)
        #expect(store.started.load(ordering: .sequentiallyConsistent) == 1)
    }
}
