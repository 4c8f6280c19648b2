import Foundation
import GRDB
import LodeEvents
import LodeProjections
import LodeTestSupport
import Testing
@testable import LodeStorage

/// The inbox keyed by a hash of the id, and batches: the same events give
/// the same report however they are split into batches, in any order, with
/// any duplicates, and whether or not ids share inbox keys.
@Suite("Batches and the hashed inbox")
struct BatchSplittingTests {
    /// The small world of ``ZoneWorld``, where events collide often; the
    /// PostgreSQL store's tests use the same one.
    static func event(from code: Int) -> IncomingEvent {
        ZoneWorld.event(from: code)
    }

    static func reports(_ store: SQLiteZoneStore) throws -> [ZoneReport] {
        try [2023, 2024].map { try store.report(year: $0, targets: []) }
    }

    /// Applies `events` split at random points into batches; returns the
    /// outcomes in order.
    static func apply(_ events: [IncomingEvent], to store: SQLiteZoneStore, using rng: inout SeededGenerator) throws -> [EventOutcome] {
        var outcomes: [EventOutcome] = []
        var start = 0
        while start < events.count {
            let end = min(events.count, start + Int.random(in: 1...max(1, events.count / 3), using: &rng))
            outcomes += try store.apply(Array(events[start..<end])).outcomes
            start = end
        }
        return outcomes
    }

    /// Full keys, four keys for everything (collisions everywhere), and
    /// the newest keys moved into `inbox` after almost every batch.
    @Test(arguments: zip([~0, 0b11, ~0, 0b11] as [UInt64], [32_768, 32_768, 1, 5]))
    func oneBatchOrManyInAnyOrderWithDuplicatesGiveTheSameReport(inboxKeyMask: UInt64, inboxMergeRows: Int) throws {
        for seed in 1...25 as ClosedRange<UInt64> {
            var rng = SeededGenerator(seed: seed)
            let codes = (0..<Int.random(in: 1...60, using: &rng)).map { _ in Int.random(in: 0...200, using: &rng) }
            let events = codes.map(Self.event(from:))
            let expected = [2023, 2024].map { expectedReport(events, year: $0) }
            let distinct = Set(codes).count

            let directory = try TemporaryDirectory()
            var configuration = SQLiteStoreConfiguration(calendar: shanghai)
            configuration.inboxKeyMask = inboxKeyMask
            configuration.inboxMergeRows = inboxMergeRows
            let whole = try SQLiteZoneStore(path: directory.file("whole.sqlite"), configuration: configuration)
            let inOneBatch = try whole.apply(events)
            #expect(inOneBatch.applied == distinct)
            #expect(inOneBatch.duplicates == events.count - distinct)
            #expect(try Self.reports(whole) == expected, "seed \(seed), one batch")

            var replayed = events
            for _ in 0..<Int.random(in: 0...2, using: &rng) {
                replayed += events.filter { _ in Bool.random(using: &rng) }
            }
            replayed.shuffle(using: &rng)
            let split = try SQLiteZoneStore(path: directory.file("split.sqlite"), configuration: configuration)
            let outcomes = try Self.apply(replayed, to: split, using: &rng)
            #expect(outcomes.count == replayed.count)
            #expect(outcomes.filter { if case .applied = $0 { true } else { false } }.count == distinct)
            #expect(outcomes.filter { $0 == .duplicate }.count == replayed.count - distinct)
            #expect(try split.loggedEventCount() == distinct)
            #expect(try Self.reports(split) == expected, "seed \(seed), \(replayed.count) events in batches")

            try split.rebuild()
            #expect(try Self.reports(split) == expected, "seed \(seed), after a rebuild")
        }
    }

    @Test(arguments: [32_768, 1])
    func idsSharingAnInboxKeyAreStillToldApartByTheirBytes(inboxMergeRows: Int) throws {
        let directory = try TemporaryDirectory()
        var configuration = SQLiteStoreConfiguration(calendar: shanghai)
        configuration.inboxKeyMask = 0  // every id has the same key
        configuration.inboxMergeRows = inboxMergeRows
        let store = try SQLiteZoneStore(path: directory.file("lode.sqlite"), configuration: configuration)
        let a = incoming("Caf\u{E9}", at: "2024-03-01T10:00:00+08:00", visited("甲"))
        let b = incoming("Cafe\u{301}", at: "2024-03-01T10:00:00+08:00", visited("乙"))
        let c = incoming("c", at: "2024-03-01T10:00:00+08:00", status("P-1", .started))
        let cOther = incoming("c", at: "2024-03-01T10:00:00+08:00", status("P-1", .cancelled))
        #expect(try store.apply([a, b, a]).outcomes == [.applied(changedProjection: true), .applied(changedProjection: true), .duplicate])
        let second = try store.apply([b, c, a, cOther, c])
        #expect(second.outcomes[0] == .duplicate)
        #expect(second.outcomes[1] == .applied(changedProjection: true))
        #expect(second.outcomes[2] == .duplicate)
        #expect(second.conflicts.map(\.index) == [3])
        #expect(second.outcomes[4] == .duplicate)
        let third = try store.apply([cOther, incoming("d", at: "2024-03-02T10:00:00+08:00", visited("丙"))])
        #expect(third.conflicts.map(\.index) == [0])
        #expect(third.applied == 1)
        #expect(try store.loggedEventCount() == 4)
        #expect(try store.report(year: 2024, targets: []).recruitment.siteVisits == 3)
        let collisions = try store.withWriterConnection { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox_collision") }
        #expect(collisions == 3)
    }

    /// The key is stored in every database: it must never change.
    @Test func theInboxKeyOfASourceAndIDNeverChanges() {
        #expect(InboxKey.of(source: "bt-dept/projects", id: "bt-demo-reg-0001") == 264_552_093_768_603_080)
        #expect(InboxKey.of(source: "https://zone.example/invest", id: "sha256:0123456789abcdef0123456789abcdef") == -1_425_000_079_656_821_747)
        #expect(InboxKey.of(source: "park/north", id: "3f2504e0-4f89-41d3-9a0c-0305e82c3301") == -7_870_975_926_674_108_698)
        #expect(InboxKey.of(source: "a", id: "a") != InboxKey.of(source: "a", id: "a\u{0}"))
        #expect(InboxKey.of(source: "a", id: "bc") != InboxKey.of(source: "ab", id: "c"), "the 0xFF byte keeps the parts apart")
        #expect(InboxKey.of(source: "", id: "x") != InboxKey.of(source: "x", id: ""))
    }

    @Test func aNewDatabaseTakesTheConfiguredPageSizeAndAnOldOneKeepsItsOwn() throws {
        let directory = try TemporaryDirectory()
        var configuration = SQLiteStoreConfiguration(calendar: shanghai)
        configuration.pageSize = 8_192
        do {
            let store = try SQLiteZoneStore(path: directory.file("lode.sqlite"), configuration: configuration)
            #expect(try store.withWriterConnection { db in try Int.fetchOne(db, sql: "PRAGMA page_size") } == 8_192)
            try store.close()
        }
        configuration.pageSize = 2_048
        let reopened = try SQLiteZoneStore(path: directory.file("lode.sqlite"), configuration: configuration)
        #expect(try reopened.withWriterConnection { db in try Int.fetchOne(db, sql: "PRAGMA page_size") } == 8_192)
    }
}

@Suite("The inbox's two levels")
struct InboxLevelsTests {
    @Test func newKeysMoveIntoTheInboxOnceThereAreEnoughAndStayKnown() throws {
        let directory = try TemporaryDirectory()
        var configuration = SQLiteStoreConfiguration(calendar: shanghai)
        configuration.inboxMergeRows = 10
        let store = try SQLiteZoneStore(path: directory.file("lode.sqlite"), configuration: configuration)
        let events = (0..<25).map { incoming("v-\($0)", at: "2024-03-01T10:00:00+08:00", visited("甲")) }
        func levels() throws -> [Int] {
            try store.withWriterConnection { db in
                [try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox") ?? -1,
                 try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inbox_recent") ?? -1]
            }
        }
        #expect(try store.apply(Array(events[0..<6])).applied == 6)
        #expect(try levels() == [0, 6])
        #expect(try store.apply(Array(events[6..<12])).applied == 6)
        #expect(try levels() == [12, 0])
        #expect(try store.apply(Array(events[10..<14])).outcomes == [.duplicate, .duplicate, .applied(changedProjection: true), .applied(changedProjection: true)])
        #expect(try levels() == [12, 2])
        #expect(try store.apply(events).applied == 11)
        #expect(try levels() == [25, 0])
        #expect(try store.apply(events).duplicates == 25)
        #expect(try store.loggedEventCount() == 25)
        #expect(try store.report(year: 2024, targets: []).recruitment.siteVisits == 25)
    }
}
