import Foundation
import GRDB
import LodeEvents
import LodeNotifications
import LodeProjections

/// What the store needs to record notifications in a batch's transaction: the rules, and the
/// config's targets per year (for target milestones).
public struct NotificationPolicy: Sendable {
    public var rules: NotificationRules
    public var targets: [Int: [ReportTarget]]

    public init(rules: NotificationRules, targets: [Int: [ReportTarget]] = [:]) {
        self.rules = rules
        self.targets = targets
    }
}

/// The notification step of a batch's transaction: event rules for each newly applied event,
/// crossings for each year whose figures the batch may have changed (its report before and
/// after, in the same transaction), all written to the outbox before the commit.
struct NotificationStep {
    let policy: NotificationPolicy
    let calendar: ZoneCalendar
    let path: String
    /// The reports before the batch, of the years it may change.
    private var before: [Int: ZoneReport] = [:]
    /// The event log `seq` the batch's first event gets (event i gets `firstSeq + i`).
    private var firstSeq: Int64 = 0

    /// Reads what the crossings need before the batch changes anything.
    init(policy: NotificationPolicy, calendar: ZoneCalendar, path: String, batch: [IncomingEvent], db: Database) throws {
        self.policy = policy
        self.calendar = calendar
        self.path = path
        if policy.rules.hasEventRules {
            firstSeq = try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(MAX(seq), 0) + 1 FROM event_log")) ?? 1
        }
        guard policy.rules.hasCrossingRules else { return }
        for year in try years(of: batch, db: db) {
            before[year] = try SQLiteReport.compute(db, year: year, targets: [], path: path)
        }
    }

    /// After the batch is applied (same transaction): the notifications it causes, recorded in
    /// the outbox. Returns how many new ones.
    @discardableResult
    func record(_ batch: [IncomingEvent], outcomes: [EventOutcome], db: Database, now: Date = Date()) throws -> Int {
        var notifications: [ZoneNotification] = []
        var recorded = 0
        if policy.rules.hasEventRules {
            // Per rule (by its index), the log seqs of the events it matched, in log order.
            var seqsByRule = [[Int64]](repeating: [], count: policy.rules.rules.count)
            // Through the buffer: each event is read in place, not copied out of the array.
            try batch.withUnsafeBufferPointer { events in
                for index in events.indices {
                    guard case .applied = outcomes[index], policy.rules.hasEventRules(for: events[index].event.type) else { continue }
                    let facts = policy.rules.needsProjectFacts(for: events[index].event.type)
                        ? try Self.projectID(of: events[index].event).flatMap { try Self.facts(of: $0, db: db) } : nil
                    policy.rules.forEachMatchingRule(for: events[index].event, project: facts) { rule in
                        seqsByRule[rule].append(firstSeq + Int64(index))
                        recorded += 1
                    }
                }
            }
            let matches = zip(policy.rules.rules, seqsByRule).filter { !$0.1.isEmpty }.map { (rule: $0.0, seqs: $0.1) }
            try SQLiteOutboxSchema.queueEventNotifications(matches, now: now.timeIntervalSince1970, in: db)
        }
        if !before.isEmpty, outcomes.contains(where: { if case .applied = $0 { true } else { false } }) {
            // The years after the batch too: a registration may have moved a project to a year
            // that had no report before.
            var years = Set(before.keys)
            years.formUnion(try self.years(of: batch, db: db))
            for year in years.sorted() {
                let previous = try before[year] ?? SQLiteReport.compute(db, year: year, targets: [], path: path)
                let after = try SQLiteReport.compute(db, year: year, targets: [], path: path)
                notifications += policy.rules.crossings(year: year, before: previous, after: after,
                                                        targets: policy.targets[year] ?? [], now: now)
            }
        }
        guard !notifications.isEmpty else { return recorded }
        return recorded + (try SQLiteOutboxSchema.record(notifications, in: db))
    }

    /// The years whose report the batch may change: the plan years of the projects it touches
    /// (as the database has them now) and of its registrations, and the years of its recruitment
    /// events' `time`.
    private func years(of batch: [IncomingEvent], db: Database) throws -> Set<Int> {
        let scope = CrossingScope(batch, calendar: calendar)
        var years = scope.years
        let statement = try db.cachedStatement(sql: "SELECT plan_year FROM project_registration WHERE project_id = ?")
        for project in scope.projects {
            if let year = try Int.fetchOne(statement, arguments: [project]) { years.insert(year) }
        }
        return years
    }

    static func projectID(of event: Event) -> String? {
        CrossingScope.projectID(of: event)
    }

    /// The project as the projection knows it now, or `nil` when it is not registered.
    static func facts(of projectID: String, db: Database) throws -> ProjectFacts? {
        let statement = try db.cachedStatement(sql: """
            SELECT r.name, r.plan_year, r.categories, r.enterprise, r.park, s.status
            FROM project_registration r LEFT JOIN project_status s ON s.project_id = r.project_id
            WHERE r.project_id = ?
            """)
        guard let row = try Row.fetchOne(statement, arguments: [projectID]) else { return nil }
        let categories: String = row["categories"]
        let status: String? = row["status"]
        return ProjectFacts(
            projectID: projectID, name: row["name"], planYear: row["plan_year"],
            categories: (try? ProjectionTable.categories(categories).get()) ?? [],
            enterprise: row["enterprise"], park: row["park"], status: status.flatMap(ProjectStatus.init(rawValue:)))
    }
}
