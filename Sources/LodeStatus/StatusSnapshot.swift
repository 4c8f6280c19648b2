import Foundation
import LodeEvents
import LodeProjections
import LodeQueues
import LodeWorker

/// Everything the status page shows, gathered at one moment: a plain value, so the page is a
/// pure function of it (``StatusPage/html(_:)``) and can be tested without a broker or a store.
///
/// Each section carries what it could read, or why it could not (`problem`): one part that fails
/// (the broker is down, the store is locked) leaves the others on the page.
public struct StatusSnapshot: Sendable {
    public var generatedAt: Date
    /// The zone's time zone: times on the page are shown in it.
    public var timeZone: TimeZone
    /// Seconds between the page's own refreshes (`<meta http-equiv="refresh">`).
    public var refreshSeconds: Int
    public var queues: QueuesSection
    public var worker: WorkerSection
    public var report: ReportSection
    public var notifications: FailedNotificationsSection
    public var deadLetters: DeadLettersSection
    /// The language of the page (`--lang`, `LODE_LANG`, config `language`).
    public var language: ZoneLanguage = .default

    public init(generatedAt: Date, timeZone: TimeZone, refreshSeconds: Int = 5, queues: QueuesSection,
                worker: WorkerSection, report: ReportSection, notifications: FailedNotificationsSection,
                deadLetters: DeadLettersSection) {
        self.generatedAt = generatedAt
        self.timeZone = timeZone
        self.refreshSeconds = refreshSeconds
        self.queues = queues
        self.worker = worker
        self.report = report
        self.notifications = notifications
        self.deadLetters = deadLetters
    }

    /// `lode.work` and `lode.dead` as ``QueueReader`` reads them.
    public struct QueuesSection: Sendable {
        public var figures: [QueueFigures]
        public var problem: String?

        public init(figures: [QueueFigures], problem: String? = nil) {
            self.figures = figures
            self.problem = problem
        }
    }

    /// What `/healthz` knows, and the worker's totals since it started.
    public struct WorkerSection: Sendable {
        public var health: WorkerHealth
        public var counts: WorkerCounts
        public var startedAt: Date

        public init(health: WorkerHealth, counts: WorkerCounts, startedAt: Date) {
            self.health = health
            self.counts = counts
            self.startedAt = startedAt
        }
    }

    /// The year's report with the config's targets (`lodectl report --year`).
    public struct ReportSection: Sendable {
        public var year: Int
        public var report: ZoneReport?
        public var problem: String?

        public init(year: Int, report: ZoneReport?, problem: String? = nil) {
            self.year = year
            self.report = report
            self.problem = problem
        }
    }

    /// Notifications whose delivery was given up (`lodectl notifications list --failed`).
    public struct FailedNotificationsSection: Sendable {
        public var entries: [FailedNotification]
        public var problem: String?

        public init(entries: [FailedNotification], problem: String? = nil) {
            self.entries = entries
            self.problem = problem
        }
    }

    /// `lode.dead`: how many, how old the oldest, and the most recent ones when a list of them is
    /// available (an index of dead letters; empty when there is none).
    public struct DeadLettersSection: Sendable {
        public var count: Int?
        public var oldestAgeSeconds: Double?
        public var recent: [DeadLetterSummary]
        /// Whether `recent` comes from a list of dead letters at all: without one the page says
        /// so instead of showing an empty list that would look like "none".
        public var listAvailable: Bool

        public init(count: Int?, oldestAgeSeconds: Double?, recent: [DeadLetterSummary] = [], listAvailable: Bool = false) {
            self.count = count
            self.oldestAgeSeconds = oldestAgeSeconds
            self.recent = recent
            self.listAvailable = listAvailable
        }
    }
}

/// One failed notification, as the page shows it.
public struct FailedNotification: Sendable, Hashable {
    public var id: Int64
    public var rule: String
    public var channel: String
    public var title: String
    public var attempts: Int
    public var lastError: String?
    public var createdAt: Date

    public init(id: Int64, rule: String, channel: String, title: String, attempts: Int, lastError: String?, createdAt: Date) {
        self.id = id
        self.rule = rule
        self.channel = channel
        self.title = title
        self.attempts = attempts
        self.lastError = lastError
        self.createdAt = createdAt
    }
}

/// One dead letter, as the page lists it (the contract's `lodectl dlq list` keys).
public struct DeadLetterSummary: Sendable, Hashable {
    public var id: String
    public var type: String
    public var reason: String
    public var firstFailedAt: Date?

    public init(id: String, type: String, reason: String, firstFailedAt: Date?) {
        self.id = id
        self.type = type
        self.reason = reason
        self.firstFailedAt = firstFailedAt
    }
}
