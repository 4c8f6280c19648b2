import Dispatch
import Foundation
import LodeEvents
import LodeProjections
import LodeQueues
import LodeStorage
import LodeWire
import LodeWorker

/// What the status page asks for: the report's year (`?year=`), or `nil` for the zone's
/// current year.
public struct StatusRequest: Sendable, Hashable {
    public var year: Int?

    public init(year: Int? = nil) {
        self.year = year
    }
}

/// Gathers a ``StatusSnapshot`` from a running worker: the queues (``QueueReader``), the worker's
/// health and totals, the year's report from its store with the config's targets, the failed
/// notifications of its outbox, and `lode.dead`.
///
/// Each request is cheap, however often the page is asked for: a snapshot is kept for
/// ``cacheLifetime`` (per year asked for, a few years at most), requests that come while one is
/// being gathered wait for it rather than gathering another, and the store is read on a thread of
/// Dispatch's, off the cooperative pool: its calls block (a SQLite read transaction, or a
/// PostgreSQL query waiting on the network).
public final class WorkerStatusSource: Sendable {
    private let worker: Worker
    private let store: any ZoneDatabase
    private let targets: [Int: [ReportTarget]]
    private let queues: QueueReader
    private let timeZone: TimeZone
    private let startedAt: Date
    private let language: ZoneLanguage
    /// How many failed notifications and dead letters the page lists at most.
    public let listLimit: Int
    /// How long a snapshot is shown before it is gathered again.
    public let cacheLifetime: Duration
    private let cache: SnapshotCache

    public init(worker: Worker, store: any ZoneDatabase, targets: [Int: [ReportTarget]], queues: QueueReader,
                timeZone: TimeZone, startedAt: Date = Date(), listLimit: Int = 20, language: ZoneLanguage = .default,
                cacheLifetime: Duration = .seconds(2)) {
        self.language = language
        self.worker = worker
        self.store = store
        self.targets = targets
        self.queues = queues
        self.timeZone = timeZone
        self.startedAt = startedAt
        self.listLimit = listLimit
        self.cacheLifetime = cacheLifetime
        cache = SnapshotCache(lifetime: cacheLifetime)
    }

    /// How many snapshots were gathered (not served from the cache) since the source was made.
    public var gathered: Int { get async { await cache.gathered } }

    /// The page's snapshot: the one gathered less than ``cacheLifetime`` ago for the same year,
    /// or a new one. Never throws: what cannot be read is a section's `problem`.
    public func snapshot(_ request: StatusRequest) async -> StatusSnapshot {
        await cache.snapshot(for: request) { [self] in await gather(request) }
    }

    /// The page's snapshot now.
    func gather(_ request: StatusRequest) async -> StatusSnapshot {
        let now = Date()
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let year = request.year ?? calendar.component(.year, from: now)

        let queueSection: StatusSnapshot.QueuesSection
        do {
            queueSection = .init(figures: try await queues.read(now: now))
        } catch {
            queueSection = .init(figures: [], problem: "\(error)")
        }

        let reportSection: StatusSnapshot.ReportSection
        do {
            let targets = targets[year] ?? []
            reportSection = .init(year: year, report: try await offTheCooperativePool { [store] in try store.report(year: year, targets: targets) })
        } catch {
            reportSection = .init(year: year, report: nil, problem: "cannot read the report: \(error)")
        }

        let notificationSection: StatusSnapshot.FailedNotificationsSection
        do {
            let listLimit = listLimit
            let entries = try await offTheCooperativePool { [store] in try store.outboxEntries(failedOnly: true, limit: listLimit) }
            let failed = entries.reversed().map {
                FailedNotification(id: $0.id, rule: $0.rule, channel: $0.channel, title: $0.title, attempts: $0.attempts,
                                   lastError: $0.lastError, createdAt: $0.createdAt)
            }
            notificationSection = .init(entries: failed)
        } catch {
            notificationSection = .init(entries: [], problem: "cannot read the outbox: \(error)")
        }

        let dead = queueSection.figures.first { $0.name == ZoneTopology.deadLetterQueue }
        var deadSection = StatusSnapshot.DeadLettersSection(count: dead?.ready, oldestAgeSeconds: dead?.oldestAgeSeconds)
        // The worker's index of dead letters (`lodectl dlq list` reads the same).
        let listLimit = listLimit
        if let recent = try? await offTheCooperativePool({ [store] in try store.recentDeadLetters(limit: listLimit).map(RecentDeadLetter.init) }) {
            deadSection.recent = recent.map { letter in
                DeadLetterSummary(id: letter.id, type: letter.type ?? "", reason: letter.reason,
                                  firstFailedAt: try? Date(letter.firstFailedAt, strategy: .iso8601))
            }
            deadSection.listAvailable = true
        }

        var snapshot = StatusSnapshot(
            generatedAt: now, timeZone: timeZone, queues: queueSection,
            worker: .init(health: worker.health, counts: worker.totals, startedAt: startedAt),
            report: reportSection, notifications: notificationSection, deadLetters: deadSection)
        snapshot.language = language
        return snapshot
    }
}

/// A dead letter of the index as the page lists it (the store's tuple, made `Sendable`).
private struct RecentDeadLetter: Sendable {
    let id: String
    let type: String?
    let reason: String
    let firstFailedAt: String

    init(_ row: (id: String, type: String?, reason: String, firstFailedAt: String)) {
        id = row.id
        type = row.type
        reason = row.reason
        firstFailedAt = row.firstFailedAt
    }
}


/// The status page's snapshots of the last ``lifetime``, by year asked for, with at most one
/// gathering per year at a time: requests that come during a gathering wait for its result.
actor SnapshotCache {
    private struct Entry {
        var snapshot: StatusSnapshot
        var at: ContinuousClock.Instant
    }

    let lifetime: Duration
    /// Years kept at most (`?year=` can ask for any): the oldest entry goes first.
    let capacity = 8
    private var entries: [Int?: Entry] = [:]
    private var inFlight: [Int?: Task<StatusSnapshot, Never>] = [:]
    private(set) var gathered = 0
    var entryCount: Int { entries.count }

    init(lifetime: Duration) {
        self.lifetime = lifetime
    }

    func snapshot(for request: StatusRequest, gather: @escaping @Sendable () async -> StatusSnapshot) async -> StatusSnapshot {
        let key = request.year
        let now = ContinuousClock.now
        if let entry = entries[key], now - entry.at < lifetime { return entry.snapshot }
        if let running = inFlight[key] { return await running.value }
        let task = Task { await gather() }
        inFlight[key] = task
        gathered += 1
        let snapshot = await task.value
        inFlight[key] = nil
        entries[key] = Entry(snapshot: snapshot, at: ContinuousClock.now)
        // The entry, not its key: the current year's key is nil, which `?.key` would read as "none".
        if entries.count > capacity, let oldest = entries.min(by: { $0.value.at < $1.value.at }) {
            entries[oldest.key] = nil
        }
        return snapshot
    }
}
