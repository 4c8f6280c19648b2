import GRDB
import LodeProjections
import LodeStorage
import Testing

/// The one description of the projection tables (`ProjectionTable`) and SQLite's released
/// schema say the same: a change to one without the other fails here.
@Suite("Projection tables, described once")
struct ProjectionTableTests {
    @Test func everyTableOfANewSQLiteFileHasTheDescribedColumnsInOrder() throws {
        let directory = try TemporaryDirectory()
        let store = try openStore(in: directory)
        for table in ProjectionTable.all {
            let columns = try store.withWriterConnection { db in
                try Row.fetchAll(db, sql: "PRAGMA table_info(\(table.name))").map { $0["name"] as String }
            }
            #expect(columns == table.columns.map(\.name), "\(table.name)")
            let key = try store.withWriterConnection { db in
                try Row.fetchAll(db, sql: "PRAGMA table_info(\(table.name))")
                    .filter { ($0["pk"] as Int) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }.map { $0["name"] as String }
            }
            #expect(key == table.key.map(\.name), "\(table.name)")
        }
    }

    @Test func theMergeClauseIsTheSameForBothDialects() {
        for table in ProjectionTable.all {
            #expect(table.sqliteUpsert.hasSuffix(table.conflictClause))
            #expect(table.postgresUpsert.contains(table.conflictClause))
        }
        #expect(ProjectionTable.status.conflictClause.contains(
            "WHERE (excluded.event_seconds, excluded.event_nanos, excluded.event_id, excluded.event_source)"))
        #expect(ProjectionTable.visitCount.conflictClause
            == "ON CONFLICT (year, campaign) DO UPDATE SET visits = recruitment_visit_count.visits + excluded.visits")
        #expect(ProjectionTable.contact.conflictClause == "ON CONFLICT (year, campaign, enterprise) DO NOTHING")
    }
}
