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
/// The store is read on a thread of Dispatch's, off the cooperative pool: its calls block (a
/// SQLite read transaction, or a PostgreSQL query waiting on the network).
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

    public init(worker: Worker, store: any ZoneDatabase, targets: [Int: [ReportTarget]], queues: QueueReader,
                timeZone: TimeZone, startedAt: Date = Date(), listLimit: Int = 20, language: ZoneLanguage = .default) {
        self.language = language
        self.worker = worker
        self.store = store
        self.targets = targets
        self.queues = queues
        self.timeZone = timeZone
        self.startedAt = startedAt
        self.listLimit = listLimit
    }

    /// The page's snapshot now. Never throws: what cannot be read is a section's `problem`.
    public func snapshot(_ request: StatusRequest) async -> StatusSnapshot {
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
            reportSection = .init(year: year, report: try await offPool { [store] in try store.report(year: year, targets: targets) })
        } catch {
            reportSection = .init(year: year, report: nil, problem: "cannot read the report: \(error)")
        }

        let notificationSection: StatusSnapshot.FailedNotificationsSection
        do {
            let listLimit = listLimit
            let entries = try await offPool { [store] in try store.outboxEntries(failedOnly: true, limit: listLimit) }
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
        if let recent = try? await offPool({ [store] in try store.recentDeadLetters(limit: listLimit).map(RecentDeadLetter.init) }) {
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

/// Runs a blocking store call on a thread of Dispatch's.
private func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
