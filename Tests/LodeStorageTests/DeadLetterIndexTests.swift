import Foundation
import GRDB
import LodeStorage
import Testing

@Suite("The dead-letter index")
struct DeadLetterIndexTests {
    static let start = Date(timeIntervalSince1970: 1_717_200_000)

    func record(_ id: String, type: String? = "zone.project.status_changed", reason: String = "invalid_event",
                attempts: Int = 1, error: String = "data.status: expected one of ..., found 'exploded'",
                at offset: Double = 0) -> DeadLetterRecord {
        DeadLetterRecord(id: id, type: type, reason: reason, error: error, attempts: attempts,
                         firstFailedAt: "2024-06-01T00:00:0\(Int(offset))Z", eventID: "evt-\(id)",
                         properties: Array(#"{"content_type":"application/cloudevents+json"}"#.utf8),
                         body: Array(#"{"id":"evt-\#(id)"}"#.utf8), changedAt: Self.start.addingTimeInterval(offset))
    }

    @Test func aRecordedDeadLetterIsListedQueuedWithEverythingShowNeeds() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        try store.recordDeadLetters([record("a1"), record("b2", type: nil, reason: "poison", at: 1)])
        let listed = try store.deadLetters(in: [.queued])
        #expect(listed.map(\.id) == ["a1", "b2"])
        #expect(listed[0] == record("a1"))
        #expect(listed[1].type == nil && listed[1].reason == "poison")
        #expect(try store.deadLetter(id: "a1")?.body == Array(#"{"id":"evt-a1"}"#.utf8))
        #expect(try store.deadLetter(id: "zz") == nil)
    }

    @Test func theSameDeadLetterTwiceIsOneRowKeepingItsFirstFailureAndTheGreaterAttempts() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        try store.recordDeadLetters([record("a1", attempts: 3)])
        var again = record("a1", attempts: 2, error: "newer text", at: 5)
        again.firstFailedAt = "2030-01-01T00:00:00Z"
        try store.recordDeadLetters([again])
        let rows = try store.deadLetters(in: Set(DeadLetterState.allCases))
        #expect(rows.count == 1)
        #expect(rows[0].attempts == 3)
        #expect(rows[0].firstFailedAt == "2024-06-01T00:00:00Z")
        #expect(rows[0].error == "newer text")
    }

    @Test func replayedAndPurgedRowsLeaveTheListAndComeBackWhenMetInTheQueueAgain() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        try store.recordDeadLetters([record("a1"), record("b2", at: 1), record("c3", at: 2)])
        let later = Self.start.addingTimeInterval(60)
        try store.markDeadLetters(["a1"], as: .replayed, at: later)
        try store.markDeadLetters(["b2"], as: .purged, at: later)
        #expect(try store.deadLetters(in: [.queued]).map(\.id) == ["c3"])
        #expect(try store.deadLetters(in: [.replayed, .purged]).map(\.id) == ["a1", "b2"])
        #expect(try store.deadLetter(id: "a1")?.changedAt == later)

        // A replay killed after marking, before its ack: the next sweep meets the message.
        try store.recordDeadLetters([record("a1", at: 3)])
        #expect(try store.deadLetter(id: "a1")?.state == .queued)
        #expect(try store.deadLetters(in: [.queued]).map(\.id) == ["a1", "c3"], "listed in the order first recorded")
    }

    @Test func afterAWholeSweepTheQueuedRowsItDidNotMeetAreMissingExceptTheNewest() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        try store.recordDeadLetters([record("a1"), record("b2", at: 1), record("c3", at: 2), record("d4", at: 100)])
        try store.markDeadLetters(["c3"], as: .replayed, at: Self.start.addingTimeInterval(3))
        let marked = try store.markMissing(except: ["a1"], recordedBefore: Self.start.addingTimeInterval(50),
                                           at: Self.start.addingTimeInterval(200))
        #expect(marked == 1)
        #expect(try store.deadLetter(id: "b2")?.state == .missing)
        #expect(try store.deadLetters(in: [.queued]).map(\.id) == ["a1", "d4"], "met, or recorded too recently to tell")
        #expect(try store.deadLetter(id: "c3")?.state == .replayed)
        try store.recordDeadLetters([record("b2", at: 300)])
        #expect(try store.deadLetter(id: "b2")?.state == .queued, "met again by a later sweep")
    }

    @Test func theIndexSurvivesReopeningAndIsTheLastMigration() throws {
        let directory = try TemporaryDirectory()
        do {
            let store = try openStore(in: directory)
            try store.recordDeadLetters([record("a1")])
        }
        let reopened = try openStore(in: directory)
        #expect(try reopened.deadLetters(in: [.queued]).map(\.id) == ["a1"])
        let queue = try DatabaseQueue(path: directory.file("lode.sqlite"))
        let last = try queue.read { db in
            try String.fetchOne(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY rowid DESC LIMIT 1")
        }
        #expect(last == SQLiteZoneStore.knownMigrations.last)
        #expect(SQLiteZoneStore.knownMigrations.contains("v4: dead letter index"))
    }
}
