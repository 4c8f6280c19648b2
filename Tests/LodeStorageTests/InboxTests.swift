import Foundation
import GRDB
import LodeEvents
import LodeProjections
import LodeStorage
import Testing

/// The inbox and the event log: each id applied once, conflicting content
/// refused, every applied event kept whole.
@Suite("Inbox and event log")
struct InboxTests {
    @Test func anIdAppliedTwiceIsADuplicateInTheSameBatchAndInALaterOne() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        let visit = incoming("v-1", at: "2024-03-01T10:00:00+08:00", visited("甲公司"))
        let first = try store.apply([visit, visit])
        #expect(first.outcomes == [.applied(changedProjection: true), .duplicate])
        let second = try store.apply([visit])
        #expect(second.outcomes == [.duplicate])
        #expect(try store.report(year: 2024, targets: []).recruitment.siteVisits == 1)
        #expect(store.counts.eventsApplied == 1)
        #expect(store.counts.duplicates == 2)
        #expect(store.counts.batchesCommitted == 2)
    }

    @Test func theSameContentWrittenDifferentlyIsADuplicate() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        let compact = Array(#"{"specversion":"1.0","id":"c-1","source":"s","type":"zone.recruitment.enterprise_contacted","time":"2024-03-01T10:00:00+08:00","data":{"enterprise":"甲","campaign":"c"}}"#.utf8)
        let spaced = Array(#"{ "data": {"campaign": "c", "enterprise": "甲"}, "type": "zone.recruitment.enterprise_contacted", "id": "c-1", "source": "s", "time": "2024-03-01T10:00:00+08:00", "specversion": "1.0", "traceparent": "00-ab" }"#.utf8)
        let outcome = try store.apply([try IncomingEvent(decoding: compact), try IncomingEvent(decoding: spaced)])
        #expect(outcome.outcomes == [.applied(changedProjection: true), .duplicate])
    }

    @Test func anIdWithOtherContentIsAConflictingDuplicateAndTheFirstStays() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        let first = incoming("s-1", at: "2024-03-01T10:00:00+08:00", status("P-1", .started))
        let other = incoming("s-1", at: "2024-03-01T10:00:00+08:00", status("P-1", .cancelled))
        let registration = incoming("r-1", at: "2024-01-01T10:00:00+08:00", registered("P-1"))
        _ = try store.apply([registration, first])

        let outcome = try store.apply([other, incoming("v-9", at: "2024-03-02T10:00:00+08:00", visited("乙"))])
        #expect(outcome.applied == 1)
        let conflicts = outcome.conflicts
        try #require(conflicts.count == 1)
        #expect(conflicts[0].index == 0)
        #expect(conflicts[0].conflict.eventID == "s-1")
        #expect(conflicts[0].conflict.appliedFingerprint == first.event.contentFingerprint)
        #expect(conflicts[0].conflict.refusedFingerprint == other.event.contentFingerprint)
        #expect(conflicts[0].conflict.description.contains("s-1"))
        #expect(store.counts.conflictingDuplicates == 1)

        let report = try store.report(year: 2024, targets: [])
        #expect(report.projects.major == 1)
        #expect(report.projects.byStatus[.started] == 1)
        let logged = try store.withWriterConnection { db in
            try Data.fetchOne(db, sql: "SELECT body FROM event_log WHERE event_id = 's-1'")
        }
        #expect(logged.map { [UInt8]($0) } == first.body)

        // Within one batch too: the first one applied stays.
        let inOneBatch = try store.apply([
            incoming("s-2", at: "2024-04-01T10:00:00+08:00", status("P-1", .completed)),
            incoming("s-2", at: "2024-04-01T10:00:00+08:00", status("P-1", .suspended)),
        ])
        guard case .conflictingDuplicate = inOneBatch.outcomes[1] else {
            Issue.record("expected a conflicting duplicate, got \(inOneBatch.outcomes)")
            return
        }
        #expect(try store.report(year: 2024, targets: []).projects.byStatus[.completed] == 1)
    }

    /// An event's identity is its source and id: another source's event under the same id is
    /// another event, applied; the same source and id with other content is refused, and its
    /// dead letter's error names the source.
    @Test func theSameIDFromAnotherSourceIsAnotherEventAndAConflictNamesItsSource() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        let other = incoming("s-1", at: "2024-03-01T10:00:00+08:00", status("P-9", .suspended), source: "invest/campaigns")
        let real = incoming("s-1", at: "2024-03-01T10:00:00+08:00", status("P-1", .started), source: "dev-reform")
        _ = try store.apply([other])
        #expect(try store.apply([real]).outcomes == [.applied(changedProjection: true)])

        let again = try store.apply([incoming("s-1", at: "2024-03-01T10:00:00+08:00", status("P-9", .completed),
                                              source: "invest/campaigns")]).conflicts
        try #require(again.count == 1)
        #expect(again[0].conflict.source == "invest/campaigns")
        #expect(again[0].conflict.description.contains("event id 's-1' from source 'invest/campaigns' was already applied"),
                "\(again[0].conflict)")
    }

    @Test func theEventLogKeepsEveryAppliedEventWhole() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        let body = Array(#"{"specversion":"1.0", "id":"k-1","source":"bt/investment","type":"zone.recruitment.site_visit","time":"2024-05-05T10:00:00.250+08:00","data":{"enterprise":"丙","campaign":"c","visitors":3},"xextension":"kept"}"#.utf8)
        _ = try store.apply([try IncomingEvent(decoding: body)])
        let row = try #require(try store.withWriterConnection { db in
            try Row.fetchOne(db, sql: "SELECT event_id, type, source, time, event_seconds, event_nanos, body FROM event_log")
        })
        #expect(row["event_id"] as String == "k-1")
        #expect(row["type"] as String == "zone.recruitment.site_visit")
        #expect(row["source"] as String == "bt/investment")
        #expect(row["time"] as String == "2024-05-05T10:00:00.250+08:00")
        #expect(row["event_seconds"] as Int64 == 1_714_874_400)
        #expect(row["event_nanos"] as Int64 == 250_000_000)
        #expect([UInt8](row["body"] as Data) == body)
    }

    @Test func latestByTimeBreaksTiesByTheGreaterIdInEitherOrder() throws {
        let a = incoming("id-a", at: "2024-03-01T10:00:00+08:00", status("P-1", .cancelled))
        let b = incoming("id-b", at: "2024-03-01T02:00:00Z", status("P-1", .started))
        let registration = incoming("r-1", at: "2024-01-01T10:00:00+08:00", registered("P-1"))
        for order in [[registration, a, b], [b, a, registration]] {
            let directory = try TemporaryDirectory()
            let store = try openStore(in: directory)
            for event in order { _ = try store.apply([event]) }
            let report = try store.report(year: 2024, targets: [])
            #expect(report.projects.byStatus[.started] == 1)
            #expect(report == expectedReport(order, year: 2024))
        }
    }

    @Test func anOlderEventAppliesButChangesNoFigure() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        _ = try store.apply([incoming("s-2", at: "2024-03-02T10:00:00+08:00", status("P-1", .started))])
        let older = try store.apply([incoming("s-1", at: "2024-03-01T10:00:00+08:00", status("P-1", .signed))])
        #expect(older.outcomes == [.applied(changedProjection: false)])
    }

    @Test func enterprisesAreDistinctByTheirExactBytesAsInTheProjection() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        let events = [
            incoming("c-1", at: "2024-03-01T10:00:00+08:00", contacted("Caf\u{E9}", "Caf\u{E9}")),
            incoming("c-2", at: "2024-03-01T11:00:00+08:00", contacted("Cafe\u{301}", "Cafe\u{301}")),
            incoming("c-3", at: "2023-12-31T16:30:00Z", contacted("乙")),
            incoming("c-4", at: "2023-12-31T15:59:59Z", contacted("丁")),
        ]
        _ = try store.apply(events)
        let report = try store.report(year: 2024, targets: [])
        #expect(report.recruitment.enterprisesContacted == 3)
        #expect(report.recruitment.byCampaign.count == 3)
        #expect(report == expectedReport(events, year: 2024))
        #expect(try store.report(year: 2023, targets: []) == expectedReport(events, year: 2023))
    }

    @Test func anUpdateBeforeItsRegistrationCountsOnceItArrives() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        _ = try store.apply([incoming("s-1", at: "2024-03-01T10:00:00+08:00", status("P-9", .cancelled))])
        _ = try store.apply([incoming("r-9", at: "2024-01-01T10:00:00+08:00", registered("P-9"))])
        #expect(try store.report(year: 2024, targets: []).projects.major == 0)
        _ = try store.apply([incoming("s-2", at: "2024-04-01T10:00:00+08:00", status("P-9", .resumed))])
        #expect(try store.report(year: 2024, targets: []).projects.byStatus[.resumed] == 1)
    }

    @Test func anEmptyBatchWritesNothing() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        #expect(try store.apply([]).outcomes.isEmpty)
        #expect(store.counts.batchesCommitted == 0)
    }
}
