import Foundation
import LodeEvents
import LodeNotifications
import LodeProjections
import LodeStorage
import Logging
import Metrics
import PostgresNIO
import Synchronization

/// How a ``PostgresZoneStore`` opens its database.
public struct PostgresStoreConfiguration: Sendable {
    /// Which year a recruitment event's `time` falls in.
    public var calendar: ZoneCalendar
    /// Notification rules and targets: when set, each batch's transaction also records the
    /// notifications it causes in the outbox.
    public var notifications: NotificationPolicy?
    /// How long a dispatcher holds a delivery it is sending before another may take it (the
    /// dispatcher's request timeout is 10 s).
    public var deliveryClaim: Duration = .seconds(60)
    /// The connection's `application_name`, seen in `pg_stat_activity`.
    public var applicationName = "lodestone"
    /// For tests only: the last schema version to migrate to (a database as an older Lodestone
    /// left it).
    var lastSchemaVersion = Int.max

    public init(calendar: ZoneCalendar) {
        self.calendar = calendar
    }
}

/// The zone store in PostgreSQL, through postgres-nio: the same tables and the same guarantee
/// as the SQLite store (the inbox, the event log, the projection, the outbox and the dead
/// letters change in one transaction per batch; a commit returns after its WAL is flushed,
/// `synchronous_commit=on`), for any number of workers on one database.
///
/// A batch is a handful of set-based statements (postgres-nio runs one query at a time per
/// connection, so a statement per event would be a round trip per event): the new events'
/// log rows in one `INSERT … ON CONFLICT (source, event_id) DO NOTHING RETURNING` (the event
/// log's unique `(source, event_id)` is the inbox), the bodies of the events already logged in one `SELECT`, then
/// one upsert per projection table of the batch's changes merged in Swift by the shared rules
/// (``LodeProjections/ProjectionChange/Merged``). Keys are written in one order in every
/// transaction, so concurrent workers wait for each other rather than deadlock; a deadlock or
/// serialization failure that happens all the same is rolled back and tried again inside the
/// store (``StoreCounts/transactionRetries``, `lode_store_transaction_retries_total`).
///
/// Every call blocks the calling thread: call it from a thread of its own or Dispatch's, never
/// from Swift's cooperative pool.
public final class PostgresZoneStore: ZoneDatabase {
    public let location: String
    public let calendar: ZoneCalendar
    let batches: PostgresSession
    let service: PostgresSession
    let notifications: NotificationPolicy?
    let deliveryClaim: Duration
    /// Marks the deliveries this store's dispatcher is sending.
    let claimToken = UUID().uuidString
    private let tally = StoreTally()
    private let retries: Counter
    let logger: Logger

    /// Connects to the database at `location` (with `password`, if the server asks for one)
    /// and brings its schema up to date.
    ///
    /// Throws ``StorageError/Kind/configuration`` for a wrong user, password or database name
    /// and for a database of a newer Lodestone, ``StorageError/Kind/unavailable`` when the
    /// server cannot be reached now.
    public init(location: PostgresLocation, password: String?, configuration: PostgresStoreConfiguration,
                logger: Logger = Logger(label: "lode.store")) throws(StorageError) {
        self.location = location.redacted
        self.calendar = configuration.calendar
        self.notifications = configuration.notifications
        self.deliveryClaim = configuration.deliveryClaim
        self.logger = logger
        let retries = Counter(label: "lode_store_transaction_retries_total")
        self.retries = retries
        let tally = tally
        let counted = CountingCounter(counter: retries) { tally.counts.withLock { $0.transactionRetries += 1 } }
        batches = PostgresSession(location: location, password: password, name: configuration.applicationName,
                                  retries: counted, logger: logger)
        service = PostgresSession(location: location, password: password, name: configuration.applicationName,
                                  retries: counted, logger: logger)
        try PostgresSchema.migrate(service, upTo: configuration.lastSchemaVersion)
    }

    public var allowsConcurrentWorkers: Bool { true }

    public func close() throws(StorageError) {
        batches.close()
        service.close()
    }

    public var counts: StoreCounts { tally.counts.withLock { $0 } }

    // MARK: Apply

    public func apply(_ batch: [IncomingEvent]) throws(StorageError) -> BatchOutcome {
        guard !batch.isEmpty else { return BatchOutcome(outcomes: []) }
        let calendar = calendar
        let policy = notifications
        let outcomes = try batches.transaction("applying a batch of \(batch.count) events") { transaction in
            let crossings = try policy.flatMap { policy in
                policy.rules.hasCrossingRules ? try CrossingCheck(policy: policy, batch: batch, calendar: calendar, transaction) : nil
            }
            var step = BatchStep(batch: batch, calendar: calendar)
            try step.record(transaction)
            try step.project(transaction)
            if let policy, policy.rules.hasEventRules { try step.queueEventNotifications(policy, transaction) }
            try crossings?.record(after: step, transaction)
            return step.outcomes
        }
        let outcome = BatchOutcome(outcomes: outcomes)
        let applied = outcome.applied
        let duplicates = outcome.duplicates
        tally.counts.withLock { counts in
            counts.eventsApplied += applied
            counts.duplicates += duplicates
            counts.conflictingDuplicates += outcomes.count - applied - duplicates
            counts.batchesCommitted += 1
        }
        return outcome
    }

    // MARK: Report

    public func report(year: Int, targets: [ReportTarget]) throws(StorageError) -> ZoneReport {
        try service.withConnection("computing the report of \(year)") { transaction in
            try Self.report(year: year, targets: targets, transaction)
        }
    }

    static func report(year: Int, targets: [ReportTarget], _ transaction: Transaction) throws -> ZoneReport {
        ZoneReport(year: year, input: try reportInput(year: year, transaction), targets: targets)
    }

    static func reportInput(year: Int, _ transaction: Transaction) throws -> ReportInput {
        var binds = PostgresBindings()
        binds.append(Int64(year))
        let path = transaction.session.location.redacted
        var input = ReportInput()
        for row in try transaction.query(PostgresQuery(unsafeSQL: ReportQueries.projects, binds: binds)) {
            let (planYear, major, categories, newStart, total, planned, status, completed) =
                try row.decode((Int64, Bool, String, Bool, Int64, Int64, String?, Int64?).self)
            input.projects.append(ReportInput.Project(
                planYear: Int(planYear), major: major, categories: try ReportQueries.categories(categories, path: path),
                newStart: newStart, totalInvestment: total, plannedInvestment: planned,
                status: try status.map { status throws(StorageError) in try ReportQueries.status(status, path: path) },
                completedInvestment: Int128(completed ?? 0)))
        }
        var recruitment = ReportQueries.RecruitmentRows()
        for row in try transaction.query(PostgresQuery(unsafeSQL: ReportQueries.recruitment, binds: binds)) {
            let (figure, name, count) = try row.decode((Int32, String, Int64).self)
            try recruitment.add(figure: Int(figure), name: name, count: Int(clamping: count), path: path)
        }
        input.recruitment = recruitment.figures
        return input
    }

    // MARK: Project list

    public func projects(year: Int) throws(StorageError) -> [ReportedProject] {
        try service.withConnection("listing the projects of \(year)") { transaction in
            var binds = PostgresBindings()
            binds.append(Int64(year))
            let path = transaction.session.location.redacted
            var list: [ReportedProject] = []
            for row in try transaction.query(PostgresQuery(unsafeSQL: ReportQueries.projectList, binds: binds)) {
                let (id, name, enterprise, park, planYear, categories, newStart, total, planned, status, completed) =
                    try row.decode((String, String, String?, String?, Int64, String, Bool, Int64, Int64, String?, Int64?).self)
                list.append(ReportedProject(
                    projectID: id, name: name, enterprise: enterprise, park: park, planYear: Int(planYear),
                    categories: try ReportQueries.categories(categories, path: path), newStart: newStart,
                    totalInvestment: total, plannedInvestment: planned,
                    stage: try ReportQueries.stage(status, path: path), completedInvestment: completed ?? 0))
            }
            return list
        }
    }

    // MARK: Rebuild

    @discardableResult
    public func rebuild(progress: (_ replayed: Int, _ total: Int) -> Void) throws(StorageError) -> RebuildSummary {
        let calendar = calendar
        return try batches.transaction("rebuilding the projections from the event log") { transaction in
            // Workers' batches wait until the rebuild commits: the tables are never seen half built.
            try transaction.execute("LOCK TABLE event_log IN SHARE MODE")
            let total = Int(try transaction.query("SELECT COUNT(*) FROM event_log").first?.decode(Int64.self) ?? 0)
            progress(0, total)
            for table in PostgresSchema.projectionTables { try transaction.execute("DELETE FROM \(table)") }
            var replayed = 0
            var after: Int64 = 0
            while true {
                var binds = PostgresBindings()
                binds.append(after)
                let rows = try transaction.query(PostgresQuery(
                    unsafeSQL: "SELECT seq, event_id, body FROM event_log WHERE seq > $1 ORDER BY seq LIMIT 5000", binds: binds))
                if rows.isEmpty { break }
                var changes = ProjectionChange.Merged()
                for row in rows {
                    let (seq, eventID, body) = try row.decode((Int64, String, ByteBuffer).self)
                    let event: Event
                    do {
                        event = try Event.decode(Array(body.readableBytesView))
                    } catch {
                        throw StorageError(
                            kind: .damaged,
                            message: "rebuilding the projections: event log row \(seq) (event id '\(eventID)') no longer decodes: \(error); nothing was changed",
                            path: transaction.session.location.redacted)
                    }
                    changes.add(ProjectionChange(event, calendar: calendar), at: replayed)
                    replayed += 1
                    after = seq
                }
                _ = try ProjectionWrites(changes).write(transaction)
                progress(replayed, max(total, replayed))
            }
            progress(replayed, replayed)
            return RebuildSummary(eventsReplayed: replayed)
        }
    }

    public func loggedEventCount() throws(StorageError) -> Int {
        try service.withConnection("counting the event log") { transaction in
            let rows = try transaction.query("SELECT COUNT(*) FROM event_log")
            return Int(try rows.first?.decode(Int64.self) ?? 0)
        }
    }
}

/// What a store has done since it was opened, shared with its sessions' retry counters.
final class StoreTally: Sendable {
    let counts = Mutex(StoreCounts())
}

/// A counter that also counts in the store's own totals.
struct CountingCounter: Sendable {
    let counter: Counter
    let also: @Sendable () -> Void

    func increment() {
        counter.increment()
        also()
    }
}

/// One batch in its transaction: the inbox and the log, then the projection.
struct BatchStep {
    let batch: [IncomingEvent]
    let calendar: ZoneCalendar
    /// Per position: the outcome once known (`nil`: new, applied).
    private(set) var outcomes: [EventOutcome] = []
    /// The log `seq` of each applied event, by position.
    private(set) var seqs: [Int: Int64] = [:]
    /// The positions applied, in batch order.
    private(set) var applied: [Int] = []

    init(batch: [IncomingEvent], calendar: ZoneCalendar) {
        self.batch = batch
        self.calendar = calendar
    }

    /// The inbox and the event log: every event (source and id) not logged yet is logged, in
    /// ``EventKey`` order (two workers logging the same events take their locks in the same
    /// order); the others are compared with what is logged.
    mutating func record(_ transaction: Transaction) throws {
        var first: [EventKey: Int] = [:]
        var distinct: [Int] = []
        for index in batch.indices {
            let key = EventKey(batch[index].event)
            if first[key] == nil {
                first[key] = index
                distinct.append(index)
            }
        }
        distinct.sort { EventKey(batch[$0].event) < EventKey(batch[$1].event) }

        var ids: [String] = [], types: [String] = [], sources: [String] = [], times: [String] = []
        var seconds: [Int64] = [], nanos: [Int64] = [], bodies: [ByteBuffer] = []
        for index in distinct {
            let event = batch[index].event
            ids.append(event.id)
            types.append(event.type.rawValue)
            sources.append(event.source)
            times.append(event.time.text)
            seconds.append(event.time.instant.secondsSinceEpoch)
            nanos.append(Int64(event.time.instant.nanoseconds))
            bodies.append(ByteBuffer(bytes: batch[index].body))
        }
        var binds = PostgresBindings(capacity: 7)
        binds.append(ids)
        binds.append(types)
        binds.append(sources)
        binds.append(times)
        binds.append(seconds)
        binds.append(nanos)
        binds.append(bodies)
        var logged: [EventKey: Int64] = [:]
        for row in try transaction.query(PostgresQuery(unsafeSQL: """
            INSERT INTO event_log (event_id, type, source, time, event_seconds, event_nanos, body)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[], $7::bytea[])
            ON CONFLICT (source, event_id) DO NOTHING
            RETURNING source, event_id, seq
            """, binds: binds)) {
            let (source, id, seq) = try row.decode((String, String, Int64).self)
            logged[EventKey(source: source, id: id)] = seq
        }

        // The events logged before (by this worker or another): their bytes decide.
        var earlier: [EventKey: (body: [UInt8], event: Event?)] = [:]
        let known = distinct.map { EventKey(batch[$0].event) }.filter { logged[$0] == nil }
        if !known.isEmpty {
            var binds = PostgresBindings()
            binds.append(known.map(\.source.text))
            binds.append(known.map(\.id.text))
            for row in try transaction.query(PostgresQuery(unsafeSQL: """
                SELECT source, event_id, body FROM event_log
                WHERE (source, event_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                """, binds: binds)) {
                let (source, id, body) = try row.decode((String, String, ByteBuffer).self)
                earlier[EventKey(source: source, id: id)] = (Array(body.readableBytesView), nil)
            }
        }

        let path = transaction.session.location.redacted
        func loggedEvent(_ key: EventKey) throws -> Event {
            guard let entry = earlier[key] else {
                throw StorageError(kind: .internal, message: "event \(key) is logged but its row was not found", path: path)
            }
            if let event = entry.event { return event }
            do {
                let event = try Event.decode(entry.body)
                earlier[key] = (entry.body, event)
                return event
            } catch {
                throw StorageError(kind: .damaged, message: "the logged event \(key) no longer decodes: \(error)", path: path)
            }
        }

        outcomes = []
        outcomes.reserveCapacity(batch.count)
        for index in batch.indices {
            let incoming = batch[index]
            let key = EventKey(incoming.event)
            let firstIndex = first[key] ?? index
            if let seq = logged[key] {
                if firstIndex == index {
                    seqs[index] = seq
                    applied.append(index)
                    outcomes.append(.applied(changedProjection: false))
                } else if batch[firstIndex].body == incoming.body {
                    outcomes.append(.duplicate)
                } else {
                    outcomes.append(EventOutcome.comparing(incoming.event, withApplied: batch[firstIndex].event))
                }
            } else {
                // A redelivery usually has the very same bytes: no decoding then.
                if earlier[key]?.body == incoming.body {
                    outcomes.append(.duplicate)
                } else {
                    outcomes.append(EventOutcome.comparing(incoming.event, withApplied: try loggedEvent(key)))
                }
            }
        }
    }

    /// The projection: the applied events' changes merged by the shared rules, one upsert per
    /// table; an event changed a figure when its change won in the batch and its row was
    /// inserted or changed.
    mutating func project(_ transaction: Transaction) throws {
        guard !applied.isEmpty else { return }
        var changes = ProjectionChange.Merged()
        for index in applied { changes.add(ProjectionChange(batch[index].event, calendar: calendar), at: index) }
        let changed = try ProjectionWrites(changes).write(transaction)
        for index in changed { outcomes[index] = .applied(changedProjection: true) }
    }

    /// Event rules: a row per rule and channel of the log `seq`s of the events it matched.
    func queueEventNotifications(_ policy: NotificationPolicy, _ transaction: Transaction) throws {
        let rules = policy.rules
        var projectIDs: Set<String> = []
        for index in applied where rules.hasEventRules(for: batch[index].event.type) && rules.needsProjectFacts(for: batch[index].event.type) {
            if let id = CrossingScope.projectID(of: batch[index].event) { projectIDs.insert(id) }
        }
        let facts = try PostgresZoneStore.facts(of: Array(projectIDs), transaction)
        var seqsByRule = [[Int64]](repeating: [], count: rules.rules.count)
        for index in applied where rules.hasEventRules(for: batch[index].event.type) {
            let event = batch[index].event
            let project = rules.needsProjectFacts(for: event.type) ? CrossingScope.projectID(of: event).flatMap { facts[$0] } : nil
            rules.forEachMatchingRule(for: event, project: project) { rule in
                if let seq = seqs[index] { seqsByRule[rule].append(seq) }
            }
        }
        var names: [String] = [], channels: [String] = [], packed: [ByteBuffer] = [], created: [Double] = []
        let now = Date().timeIntervalSince1970
        for (rule, seqs) in zip(rules.rules, seqsByRule) where !seqs.isEmpty {
            // In log order, as SQLite's queue keeps them.
            let bytes = ByteBuffer(bytes: QueuedSeqs.pack(seqs.sorted()))
            for channel in rule.channels {
                names.append(rule.name)
                channels.append(channel)
                packed.append(bytes)
                created.append(now)
            }
        }
        guard !names.isEmpty else { return }
        var binds = PostgresBindings()
        binds.append(names)
        binds.append(channels)
        binds.append(packed)
        binds.append(created)
        try transaction.query(PostgresQuery(unsafeSQL: """
            INSERT INTO notification_queue (rule, channel, seqs, created_at)
            SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::float8[])
            """, binds: binds))
    }
}

/// The upserts of a batch's merged changes, table by table in ``ProjectionTable/all``'s order,
/// rows in key order.
struct ProjectionWrites {
    let changes: ProjectionChange.Merged

    init(_ changes: ProjectionChange.Merged) {
        self.changes = changes
    }

    /// Writes the rows; returns the positions of the changes that inserted or changed a row.
    func write(_ transaction: Transaction) throws -> [Int] {
        var changed: [Int] = []

        let registrations = changes.registrations.sorted { $0.key < $1.key }
        if !registrations.isEmpty {
            var columns = Columns(ProjectionTable.registration)
            for (key, entry) in registrations {
                let project = entry.change
                columns.text(key.text)
                columns.text(project.name)
                columns.integer(Int64(project.planYear))
                columns.text(ProjectionTable.categoriesText(project.categories))
                columns.bool(project.newStart)
                columns.integer(project.totalInvestment)
                columns.integer(project.plannedInvestment)
                columns.bool(project.major)
                columns.optionalText(project.enterprise)
                columns.optionalText(project.park)
                columns.optionalText(project.capacity)
                columns.stamp(entry.stamp)
            }
            let keys = Set(try columns.upsert(transaction).map { ExactText(try $0.decode(String.self)) })
            changed += registrations.filter { keys.contains($0.key) }.map(\.value.winner)
        }

        let statuses = changes.statuses.sorted { $0.key < $1.key }
        if !statuses.isEmpty {
            var columns = Columns(ProjectionTable.status)
            for (key, entry) in statuses {
                columns.text(key.text)
                columns.text(entry.status.rawValue)
                columns.stamp(entry.stamp)
            }
            let keys = Set(try columns.upsert(transaction).map { ExactText(try $0.decode(String.self)) })
            changed += statuses.filter { keys.contains($0.key) }.map(\.value.winner)
        }

        let investment = changes.investment.sorted {
            $0.key.projectID != $1.key.projectID ? $0.key.projectID < $1.key.projectID : $0.key.period < $1.key.period
        }
        if !investment.isEmpty {
            var columns = Columns(ProjectionTable.investment)
            for (key, entry) in investment {
                columns.text(key.projectID.text)
                columns.integer(Int64(key.period.year))
                columns.integer(Int64(key.period.month))
                columns.integer(entry.amount)
                columns.stamp(entry.stamp)
            }
            var keys: Set<InvestmentKey> = []
            for row in try columns.upsert(transaction) {
                let (projectID, year, month) = try row.decode((String, Int64, Int64).self)
                if let period = YearMonth(year: Int(year), month: Int(month)) { keys.insert(InvestmentKey(projectID: projectID, period: period)) }
            }
            changed += investment.filter { keys.contains($0.key) }.map(\.value.winner)
        }

        changed += try members(changes.contacts, ProjectionTable.contact, transaction)

        let visits = changes.visits.sorted { $0.key.year != $1.key.year ? $0.key.year < $1.key.year : $0.key.group < $1.key.group }
        if !visits.isEmpty {
            var columns = Columns(ProjectionTable.visitCount)
            for (key, positions) in visits {
                columns.integer(Int64(key.year))
                columns.text(key.group.text)
                columns.integer(Int64(positions.count))
            }
            try columns.upsert(transaction)
            changed += visits.flatMap(\.value)
        }

        changed += try members(changes.agreements, ProjectionTable.agreement, transaction)
        changed += try members(changes.introductions, ProjectionTable.introduction, transaction)
        return changed
    }

    /// A member table's new rows; returns the first position of each row inserted.
    private func members(_ rows: [MemberKey: Int], _ table: ProjectionTable, _ transaction: Transaction) throws -> [Int] {
        guard !rows.isEmpty else { return [] }
        let sorted = rows.sorted {
            if $0.key.year != $1.key.year { return $0.key.year < $1.key.year }
            if $0.key.group != $1.key.group { return $0.key.group < $1.key.group }
            return $0.key.member < $1.key.member
        }
        var columns = Columns(table)
        for (key, _) in sorted {
            columns.integer(Int64(key.year))
            columns.text(key.group.text)
            columns.text(key.member.text)
        }
        var inserted: Set<MemberKey> = []
        for row in try columns.upsert(transaction) {
            let (year, group, member) = try row.decode((Int64, String, String).self)
            inserted.insert(MemberKey(year: Int(year), group: group, member: member))
        }
        return sorted.filter { inserted.contains($0.key) }.map(\.value)
    }
}

/// The arrays of one ``ProjectionTable/postgresUpsert``, filled row by row in column order.
struct Columns {
    let table: ProjectionTable
    private var texts: [Int: [String]] = [:]
    private var present: [Int: [Bool]] = [:]
    private var integers: [Int: [Int64]] = [:]
    private var bools: [Int: [Bool]] = [:]
    private var column = 0

    init(_ table: ProjectionTable) {
        self.table = table
    }

    private mutating func next() -> Int {
        defer { column = (column + 1) % table.columns.count }
        return column
    }

    mutating func text(_ value: String) { texts[next(), default: []].append(value) }
    mutating func integer(_ value: Int64) { integers[next(), default: []].append(value) }
    mutating func bool(_ value: Bool) { bools[next(), default: []].append(value) }

    mutating func optionalText(_ value: String?) {
        let index = next()
        texts[index, default: []].append(value ?? "")
        present[index, default: []].append(value != nil)
    }

    mutating func stamp(_ stamp: EventStamp) {
        integer(stamp.instant.secondsSinceEpoch)
        integer(Int64(stamp.instant.nanoseconds))
        text(stamp.eventID.text)
        text(stamp.source.text)
    }

    /// Runs the upsert; returns the keys of the rows inserted or changed.
    @discardableResult
    func upsert(_ transaction: Transaction) throws -> [PostgresRow] {
        var binds = PostgresBindings()
        for (index, column) in table.columns.enumerated() {
            switch column.type {
            case .text: binds.append(texts[index] ?? [])
            case .integer: binds.append(integers[index] ?? [])
            case .bool: binds.append(bools[index] ?? [])
            case .optionalText:
                binds.append(texts[index] ?? [])
                binds.append(present[index] ?? [])
            }
        }
        return try transaction.query(PostgresQuery(unsafeSQL: table.postgresUpsert, binds: binds))
    }
}

extension PostgresZoneStore {
    /// The projects as the projection knows them now, by id (those registered).
    static func facts(of projectIDs: [String], _ transaction: Transaction) throws -> [String: ProjectFacts] {
        guard !projectIDs.isEmpty else { return [:] }
        var binds = PostgresBindings()
        binds.append(projectIDs)
        var facts: [String: ProjectFacts] = [:]
        for row in try transaction.query(PostgresQuery(unsafeSQL: """
            SELECT r.project_id, r.name, r.plan_year, r.categories, r.enterprise, r.park, s.status
            FROM project_registration r LEFT JOIN project_status s ON s.project_id = r.project_id
            WHERE r.project_id = ANY($1::text[])
            """, binds: binds)) {
            let (id, name, planYear, categories, enterprise, park, status) =
                try row.decode((String, String, Int64, String, String?, String?, String?).self)
            facts[id] = ProjectFacts(
                projectID: id, name: name, planYear: Int(planYear),
                categories: (try? ProjectionTable.categories(categories).get()) ?? [], enterprise: enterprise, park: park,
                status: status.flatMap(ProjectStatus.init(rawValue:)))
        }
        return facts
    }
}
