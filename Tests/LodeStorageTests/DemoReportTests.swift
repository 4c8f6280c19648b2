import GRDB
import LodeEvents
import LodeProjections
@testable import LodeStorage
import LodeTestSupport
import Testing

/// The store's report equals the in-memory projection's for the demo data
/// set, in file order, shuffled and duplicated, and after a rebuild.
@Suite("Demo data set through the store")
struct DemoReportTests {
    @Test func inFileOrderTheReportEqualsTheProjections() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        let events = try Demo.incoming()
        var applied = 0
        for batch in batches(events, of: 500) {
            let outcome = try store.apply(batch)
            #expect(outcome.outcomes.count == batch.count)
            applied += outcome.applied
        }
        #expect(applied == 1_593)
        #expect(try store.loggedEventCount() == 1_593)
        let targets = try Demo.targets()
        for year in [2023, 2024, 2025] {
            #expect(try store.report(year: year, targets: targets) == expectedReport(events, year: year, targets: targets))
        }
        let report = try store.report(year: 2024, targets: targets)
        #expect(report.projects.major == 71)
        #expect(report.projects.totalInvestment == 57_384_000_000)
        #expect(report.projects.plannedInvestment == 31_830_000_000)
        #expect(report.projects.completedInvestment == 2_631_000_000)
        #expect(report.projects.strategicEmergingNewStart == Growth(count: 32, previous: 28))
        #expect(report.projects.rareEarthNewStartOver100m == Growth(count: 25, previous: 16))
        #expect(report.recruitment.enterprisesContacted == 904)
        #expect(report.recruitment.siteVisits == 276)
        #expect(report.recruitment.agreementsSigned == 17)
        #expect(report.jsonText() == expectedReport(events, year: 2024, targets: targets).jsonText())
    }

    @Test(arguments: [1, 7, 2024] as [UInt64])
    func shuffledAndDuplicatedTheReportIsTheSame(seed: UInt64) throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        let events = try Demo.incoming()
        var rng = SeededGenerator(seed: seed)
        var replayed: [IncomingEvent] = []
        for event in events {
            for _ in 0..<Int.random(in: 1...3, using: &rng) { replayed.append(event) }
        }
        replayed.shuffle(using: &rng)
        var applied = 0
        var duplicates = 0
        for batch in batches(replayed, of: 250) {
            let outcome = try store.apply(batch)
            applied += outcome.applied
            duplicates += outcome.duplicates
            #expect(outcome.conflicts.isEmpty)
        }
        #expect(applied == events.count)
        #expect(duplicates == replayed.count - events.count)
        #expect(store.counts.eventsApplied == events.count)
        #expect(store.counts.duplicates == replayed.count - events.count)
        let targets = try Demo.targets()
        for year in [2023, 2024] {
            #expect(try store.report(year: year, targets: targets) == expectedReport(events, year: year, targets: targets))
        }
    }

    @Test func rebuildRecomputesEveryProjectionTableFromTheLog() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        let events = try Demo.incoming()
        for batch in batches(events, of: 1_000) { _ = try store.apply(batch) }
        let targets = try Demo.targets()
        let before = try store.report(year: 2024, targets: targets)

        // Lose and spoil projection rows; the log still has every event.
        try store.withWriterConnection { db in
            try db.execute(sql: "DELETE FROM project_registration WHERE plan_year = 2023")
            try db.execute(sql: "DELETE FROM recruitment_contact")
            try db.execute(sql: "UPDATE project_status SET status = 'cancelled'")
        }
        #expect(try store.report(year: 2024, targets: targets) != before)

        let summary = try store.rebuild()
        #expect(summary.eventsReplayed == 1_593)
        #expect(try store.report(year: 2024, targets: targets) == before)
        #expect(before == expectedReport(events, year: 2024, targets: targets))
        // A rebuild of a rebuilt store changes nothing either.
        try store.rebuild()
        #expect(try store.report(year: 2024, targets: targets) == before)
    }

    @Test func aRebuildReportsItsProgressAgainstTheLoggedCount() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        for batch in batches(try Demo.incoming(), of: 1_000) { _ = try store.apply(batch) }
        var calls: [[Int]] = []
        let summary = try store.rebuild { replayed, total in calls.append([replayed, total]) }
        #expect(summary.eventsReplayed == 1_593)
        // The count first, then (with fewer than 5,000 events) only the end.
        #expect(calls == [[0, 1_593], [1_593, 1_593]])
    }

    /// The demo and 4,500 visits: more logged events than three of the rebuild's decoding chunks.
    private func manyEvents() throws -> [IncomingEvent] {
        let visits = (0..<4_500).map { index in
            let day = index % 28 + 1
            return incoming("visit-\(index)", at: "2024-05-\(day < 10 ? "0" : "")\(day)T09:00:00+08:00",
                     visited("企業\(index % 300)", index % 2 == 0 ? "百日攻堅" : "招商季"))
        }
        return try Demo.incoming() + visits
    }

    @Test func aRebuildOverManyChunksGivesTheAppliedFiguresAndItsProgress() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        let events = try manyEvents()
        #expect(events.count > 3 * LoggedEventDecoder.chunkSize)
        for batch in batches(events, of: 1_000) { _ = try store.apply(batch) }
        let before = try store.report(year: 2024, targets: [])
        #expect(before == expectedReport(events, year: 2024))
        try store.withWriterConnection { db in
            try db.execute(sql: "DELETE FROM recruitment_visit_count")
            try db.execute(sql: "DELETE FROM project_registration")
        }
        var calls: [[Int]] = []
        let summary = try store.rebuild { replayed, total in calls.append([replayed, total]) }
        #expect(summary.eventsReplayed == events.count)
        #expect(calls == [[0, events.count], [5_000, events.count], [events.count, events.count]])
        #expect(try store.report(year: 2024, targets: []) == before)
    }

    @Test func anUndecodableLogRowInALaterChunkStopsTheRebuildAndChangesNothing() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        for batch in batches(try manyEvents(), of: 1_000) { _ = try store.apply(batch) }
        let before = try store.report(year: 2024, targets: [])
        let seq = 2 * LoggedEventDecoder.chunkSize + 7
        let eventID = try store.withWriterConnection { db in
            try db.execute(sql: "UPDATE event_log SET body = X'7B7D' WHERE seq = ?", arguments: [seq])
            return try String.fetchOne(db, sql: "SELECT event_id FROM event_log WHERE seq = ?", arguments: [seq])
        }
        let error = try #require(throws: StorageError.self) { try store.rebuild() }
        #expect(error.kind == .damaged)
        #expect(error.message.contains("row \(seq) (event id '\(try #require(eventID))')"))
        #expect(try store.report(year: 2024, targets: []) == before)
    }

    @Test func aRebuildWithAnUndecodableLogRowChangesNothing() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        let events = try Demo.incoming()
        _ = try store.apply(Array(events.prefix(300)))
        let before = try store.report(year: 2024, targets: [])
        try store.withWriterConnection { db in
            try db.execute(sql: "UPDATE event_log SET body = X'7B7D' WHERE seq = 10")
        }
        let error = try #require(throws: StorageError.self) { try store.rebuild() }
        #expect(error.kind == .damaged)
        #expect(error.message.contains("row 10"))
        #expect(try store.report(year: 2024, targets: []) == before)
    }
}
