import CoreMetrics
import Foundation
import LodeAMQP
import LodeEvents
import LodeNotifications
import LodeStorage
import LodeWire
import Metrics
import Synchronization

/// One metric the worker records: its Prometheus name, kind, help text and labels.
///
/// ``WorkerMetrics/descriptions`` lists every one; `docs/metrics.md` documents the same list, and
/// an exporter takes the help texts and histogram buckets from it (swift-metrics itself carries
/// neither).
public struct MetricDescription: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case counter, gauge, histogram
    }

    public let name: String
    public let kind: Kind
    public let help: String
    public let labels: [String]
    /// A histogram's bucket upper bounds, in the metric's unit (seconds for a duration).
    public let buckets: [Double]
    /// A histogram of durations (recorded as a swift-metrics `Timer`), rather than of plain values.
    public let isDuration: Bool

    init(_ name: String, _ kind: Kind, labels: [String] = [], buckets: [Double] = [], isDuration: Bool = false,
         help: String) {
        self.name = name
        self.kind = kind
        self.help = help
        self.labels = labels
        self.buckets = buckets
        self.isDuration = isDuration
    }
}

/// What the worker records through the swift-metrics API, and the health it reports on
/// `/healthz`.
///
/// The worker's batch handler calls it at a few points of each batch (``read(_:)``,
/// ``received(_:)``, ``applying(_:)``, ``retrying(_:)``, ``requeued(_:)``, ``finished(_:_:)``);
/// the consumer's connection events come in through ``record(_:)``, and the queue and outbox poll
/// of ``Worker/watch()`` through ``recordQueue(_:_:at:)``, ``recordOutbox(_:)`` and
/// ``updateProgress(stallTimeout:at:)``. Metrics go to whatever backend the executable
/// bootstrapped (`lode-worker` bootstraps swift-prometheus); without one they cost next to nothing.
///
/// The `type` label is one of the seven event types, or `unknown` for an event (or a whole
/// message) whose `type` is none of them: the label's values stay bounded whatever producers send.
public final class WorkerMetrics: Sendable {
    // MARK: The metrics

    public static let consumed = MetricDescription(
        "lode_worker_events_consumed_total", .counter, labels: ["type"],
        help: "Events taken from lode.work, valid or not (a message that cannot be split into events counts as one, type unknown); redeliveries count again.")
    public static let applied = MetricDescription(
        "lode_worker_events_applied_total", .counter, labels: ["type"],
        help: "Events applied: recorded in the inbox and the event log, figures updated, committed.")
    public static let duplicates = MetricDescription(
        "lode_worker_events_duplicate_total", .counter, labels: ["type"],
        help: "Events skipped because the same id with the same content was already applied.")
    public static let deadLettered = MetricDescription(
        "lode_worker_events_dead_lettered_total", .counter, labels: ["type", "reason"],
        help: "Events (or whole messages) moved to lode.dead, confirmed by the broker, by x-lode-reason.")
    public static let retried = MetricDescription(
        "lode_worker_events_retried_total", .counter, labels: ["type", "cause"],
        help: "Events whose transaction was tried again after a wait: cause store_unavailable (the store failed, not the events; the worker holds its deliveries meanwhile and gives nothing back).")
    public static let storeFailures = MetricDescription(
        "lode_worker_store_failures_total", .counter, labels: ["kind"],
        help: "Store operations that failed for a reason that is not the events' fault (kind unavailable: busy, locked, full, read-only, I/O; damaged: corrupt or not a database; configuration; internal), each followed by a wait and a retry. Consuming is paused meanwhile.")
    public static let paused = MetricDescription(
        "lode_worker_paused", .gauge,
        help: "1 while the worker holds its batch and takes no deliveries because the store (or the broker, for dead letters) fails; 0 otherwise.")
    public static let stageSeconds = MetricDescription(
        "lode_worker_stage_seconds_total", .counter, labels: ["stage"],
        help: "Seconds spent in each stage of the worker's path: receive (CPU of the consumer's thread reading and copying deliveries), decode (CPU decoding and validating them), apply (CPU of the store's transactions: inbox, event log, figures, outbox), commit_wait (the transactions' time off the CPU: mostly the commit's fsync), sync (the fsync of a SQLite worker's WAL on its sync thread, beside the next batch's apply), dead_letters (indexing and publishing dead letters until confirmed), acknowledge (CPU sending acknowledgements). Divided by the events consumed: what an event costs per stage.")
    public static let batchSize = MetricDescription(
        "lode_worker_batch_events", .histogram,
        buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000],
        help: "Events per batch the worker handles (the deliveries read together, up to the prefetch).")
    public static let applyLatency = MetricDescription(
        "lode_worker_apply_seconds", .histogram,
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], isDuration: true,
        help: "Seconds the store takes to apply and commit one batch (the attempt that succeeded).")
    public static let lastApplied = MetricDescription(
        "lode_worker_last_applied_timestamp_seconds", .gauge,
        help: "Unix time (seconds) of the commit of the last batch that applied at least one new event: the worker's clock at commit, not the events' own time.")

    public static let queueReady = MetricDescription(
        "lode_worker_queue_ready_messages", .gauge, labels: ["queue"],
        help: "Messages ready for delivery in lode.work and lode.dead (not delivered to a consumer yet), as the worker's last poll of the broker saw them; 0 while a queue does not exist.")
    public static let queueConsumers = MetricDescription(
        "lode_worker_queue_consumers", .gauge, labels: ["queue"],
        help: "Consumers subscribed to lode.work and lode.dead, as the worker's last poll of the broker saw them.")
    public static let oldestUnappliedAge = MetricDescription(
        "lode_worker_oldest_unapplied_age_seconds", .gauge,
        help: "Age of the oldest event not yet applied: of the batch in hand, from its AMQP timestamp; else, while lode.work keeps ready messages the worker does not get, since the first poll that saw them; 0 when idle.")
    public static let outbox = MetricDescription(
        "lode_worker_outbox_notifications", .gauge, labels: ["state"],
        help: "Notification deliveries in the outbox: pending (not sent yet, or to be retried) and failed (given up; lodectl notifications retry).")
    public static let brokerConnected = MetricDescription(
        "lode_worker_broker_connected", .gauge,
        help: "1 while the consumer's connection to the broker is open, 0 while starting, reconnecting or stopping.")
    public static let reconnects = MetricDescription(
        "lode_worker_reconnects_total", .counter, labels: ["cause"],
        help: "Times the consumer lost its subscription and set it up again: cause connection_lost (the connection failed), consumer_stalled (the watchdog saw no deliveries while lode.work had ready messages), consumer_cancelled (the broker cancelled the subscription, e.g. lode.work was deleted).")
    public static let stalls = MetricDescription(
        "lode_worker_consumer_stalls_total", .counter,
        help: "Times the consumer watchdog found the consumer connected and subscribed but getting nothing while lode.work had ready messages (a zombie consumer), and reconnected it.")

    /// Recorded by the PostgreSQL store itself (LodePostgres), not by the worker: not in
    /// ``descriptions``; ``storeDescriptions`` lists it for the exporter.
    public static let storeRetries = MetricDescription(
        "lode_store_transaction_retries_total", .counter,
        help: "Transactions the PostgreSQL store rolled back and ran again after a serialization failure or a deadlock with another worker; never an error, never a dead letter.")

    /// Every metric the worker records.
    public static let descriptions = [consumed, applied, duplicates, deadLettered, retried, storeFailures, paused, stageSeconds, batchSize,
                                      applyLatency, lastApplied,
                                      queueReady, queueConsumers, oldestUnappliedAge, outbox, brokerConnected, reconnects, stalls]

    /// The metrics a store records while the worker uses it.
    public static let storeDescriptions = [storeRetries]

    /// The queues whose depth and consumers the worker polls.
    public static let polledQueues = [ZoneTopology.workQueue, ZoneTopology.deadLetterQueue]

    /// The `type` label of an event type; `unknown` for anything else.
    public static func typeLabel(_ type: String?) -> String {
        type.flatMap(EventType.init(rawValue:))?.rawValue ?? "unknown"
    }

    static let typeLabels = EventType.allCases.map(\.rawValue) + ["unknown"]

    // MARK: State

    private let factory: any MetricsFactory
    private let consumedByType: [String: Counter]
    private let appliedByType: [String: Counter]
    private let duplicatesByType: [String: Counter]
    private let retriedInPlace: [String: Counter]
    private let storeFailuresByKind: [StorageError.Kind: Counter]
    private let pausedGauge: Gauge
    private let stageCounters: [WorkerStage: FloatingPointCounter]
    private let acknowledgeCPUSeen = Mutex<Duration>(.zero)
    private let batchEvents: Recorder
    private let applyTime: CoreMetrics.Timer
    private let lastAppliedTime: Gauge
    private let readyByQueue: [String: Gauge]
    private let consumersByQueue: [String: Gauge]
    private let oldestUnappliedAgeGauge: Gauge
    private let outboxByState: [DeliveryState: Gauge]
    private let brokerConnectedGauge: Gauge
    private let reconnectsByCause: [ReconnectCause: Counter]
    private let stallCount: Counter
    private let state = Mutex(WorkerHealth())
    private let progress = Mutex(ConsumerProgress())

    /// - Parameter factory: where the metrics go; the bootstrapped backend by default.
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        func counters(_ description: MetricDescription, _ extra: [(String, String)] = []) -> [String: Counter] {
            // Made up front, so every type shows (at zero) from the start.
            Dictionary(uniqueKeysWithValues: Self.typeLabels.map {
                ($0, Counter(label: description.name, dimensions: [("type", $0)] + extra, factory: factory))
            })
        }
        consumedByType = counters(Self.consumed)
        appliedByType = counters(Self.applied)
        duplicatesByType = counters(Self.duplicates)
        retriedInPlace = counters(Self.retried, [("cause", "store_unavailable")])
        storeFailuresByKind = Dictionary(uniqueKeysWithValues: StorageError.Kind.allCases.map {
            ($0, Counter(label: Self.storeFailures.name, dimensions: [("kind", $0.rawValue)], factory: factory))
        })
        pausedGauge = Gauge(label: Self.paused.name, dimensions: [], factory: factory)
        stageCounters = Dictionary(uniqueKeysWithValues: WorkerStage.allCases.map {
            ($0, FloatingPointCounter(label: Self.stageSeconds.name, dimensions: [("stage", $0.rawValue)], factory: factory))
        })
        pausedGauge.record(0)
        batchEvents = Recorder(label: Self.batchSize.name, dimensions: [], aggregate: true, factory: factory)
        applyTime = CoreMetrics.Timer(label: Self.applyLatency.name, dimensions: [], factory: factory)
        lastAppliedTime = Gauge(label: Self.lastApplied.name, dimensions: [], factory: factory)
        func gauges(_ description: MetricDescription, _ label: String, _ values: [String]) -> [String: Gauge] {
            Dictionary(uniqueKeysWithValues: values.map {
                ($0, Gauge(label: description.name, dimensions: [(label, $0)], factory: factory))
            })
        }
        readyByQueue = gauges(Self.queueReady, "queue", Self.polledQueues)
        consumersByQueue = gauges(Self.queueConsumers, "queue", Self.polledQueues)
        oldestUnappliedAgeGauge = Gauge(label: Self.oldestUnappliedAge.name, dimensions: [], factory: factory)
        outboxByState = Dictionary(uniqueKeysWithValues: [DeliveryState.pending, .failed].map {
            ($0, Gauge(label: Self.outbox.name, dimensions: [("state", $0.rawValue)], factory: factory))
        })
        brokerConnectedGauge = Gauge(label: Self.brokerConnected.name, dimensions: [], factory: factory)
        reconnectsByCause = Dictionary(uniqueKeysWithValues: ReconnectCause.allCases.map {
            ($0, Counter(label: Self.reconnects.name, dimensions: [("cause", $0.rawValue)], factory: factory))
        })
        stallCount = Counter(label: Self.stalls.name, dimensions: [], factory: factory)
        brokerConnectedGauge.record(0)
    }

    /// The worker's health now.
    public var health: WorkerHealth { state.withLock { $0 } }

    // MARK: Recording

    /// A batch of deliveries was read: it is in hand until ``finished(_:_:)`` or ``requeued(_:)``.
    func read(_ deliveries: [Delivery]) {
        let oldest = deliveries.compactMap(\.properties.timestamp).min()
        let now = Date()
        progress.withLock {
            $0.batchRead(oldestPublished: oldest.map { Date(amqpTimestamp: $0) }, at: now)
        }
    }

    /// A batch of deliveries was read and decoded.
    func received(_ decoded: DecodedDeliveries) {
        for incoming in decoded.events { consumedByType[incoming.event.type.rawValue]?.increment() }
        for (_, rejected) in decoded.rejected { consumedByType[Self.typeLabel(rejected.eventType)]?.increment() }
        batchEvents.record(decoded.events.count + decoded.rejected.count)
    }

    /// A transaction of the store committed, in `duration`, `cpu` of it on the CPU.
    func committed(in duration: Duration, cpu: Duration) {
        applyTime.record(duration: duration)
        spent(cpu, in: .apply)
        spent(max(.zero, duration - cpu), in: .commitWait)
    }

    /// Time spent in a stage of the worker's path (`lode_worker_stage_seconds_total`).
    func spent(_ duration: Duration, in stage: WorkerStage) {
        stageCounters[stage]?.increment(by: max(0, duration.seconds))
    }

    /// The consumer's total CPU for acknowledgements so far: what is new since the last call
    /// goes to the `acknowledge` stage.
    func acknowledgeCPU(total: Duration) {
        let added = acknowledgeCPUSeen.withLock { seen in
            defer { seen = max(seen, total) }
            return total - seen
        }
        if added > .zero { spent(added, in: .acknowledge) }
    }

    /// The batch's last action failed for a reason that is not the events' fault (`pause`); the
    /// worker waits and tries again, holding its deliveries. `events` are the events of the
    /// transaction that waits, when it is one.
    func paused(_ pause: BatchStep.Pause, events: ArraySlice<IncomingEvent>, at now: Date) {
        if let kind = pause.storageError?.kind { storeFailuresByKind[kind]?.increment() }
        if pause.storageError != nil {
            for incoming in events { retriedInPlace[incoming.event.type.rawValue]?.increment() }
        }
        pausedGauge.record(1)
        state.withLock { $0.paused(pause, at: now) }
    }

    /// The failure that paused the worker passed.
    func resumed() {
        pausedGauge.record(0)
        state.withLock { $0.resumed() }
    }

    /// The oldest batch in hand was given up (the worker stops while its store fails): its
    /// deliveries go back to the queue when the connection closes.
    func abandoned() {
        let now = Date()
        progress.withLock { $0.batchDone(at: now) }
    }

    /// The batch is committed, its dead letters confirmed, its deliveries acknowledged.
    func finished(_ step: BatchStep) {
        for (incoming, result) in zip(step.events, step.outcomes) {
            switch result {
            case .applied?: appliedByType[incoming.event.type.rawValue]?.increment()
            case .duplicate?: duplicatesByType[incoming.event.type.rawValue]?.increment()
            case .conflictingDuplicate?, nil: break  // counted below, as dead letters
            }
        }
        for cause in step.deadLetters {
            deadLetteredCounter(type: Self.typeLabel(cause.rejected.eventType), reason: cause.rejected.reason).increment()
        }
        let now = Date()
        progress.withLock { $0.batchDone(at: now) }
        if step.outcomes.contains(where: { if case .applied? = $0 { true } else { false } }) {
            lastAppliedTime.record(now.timeIntervalSince1970)
            state.withLock { $0.lastAppliedAt = now }
        }
    }

    private func deadLetteredCounter(type: String, reason: String) -> Counter {
        // Rare: made when needed (the backend returns the same series for the same labels).
        Counter(label: Self.deadLettered.name, dimensions: [("type", type), ("reason", reason)], factory: factory)
    }

    /// Something the consumer reported about its connection. A lost connection and a
    /// cancelled subscription each count one reconnect (the consumer reconnects by itself; the
    /// worker resubscribes after a cancel).
    public func record(_ event: ConsumerEvent) {
        switch event {
        case .connection(.connected):
            progress.withLock { $0.subscribed() }
            setBroker(.connected)
        case .connection(.connectionLost(let error)):
            reconnectsByCause[.connectionLost]?.increment()
            setBroker(.disconnected(reason: "\(error)"))
        case .connection(.blocked(let reason)): setBroker(.blocked(reason: reason))
        case .connection(.unblocked): setBroker(.connected)
        case .cancelledByBroker:
            reconnectsByCause[.consumerCancelled]?.increment()
            setBroker(.cancelledByBroker)
        case .deliveries: break
        }
    }

    /// The worker is shutting down (or has stopped): no longer taking deliveries.
    public func recordStopping() {
        setBroker(.stopping)
    }

    /// The subscription the broker cancelled is back (topology declared again, subscribed again).
    func recordResubscribed() {
        progress.withLock { $0.subscribed() }
        state.withLock { health in
            if health.broker == .cancelledByBroker { health.broker = .connected }
        }
    }

    /// The consumer watchdog found a zombie subscription; the worker reconnects.
    func recordStall(_ reason: String) {
        stallCount.increment()
        reconnectsByCause[.consumerStalled]?.increment()
        setBroker(.disconnected(reason: reason))
    }

    private func setBroker(_ broker: WorkerHealth.Broker) {
        state.withLock { $0.broker = broker }
        brokerConnectedGauge.record(broker.isConnected ? 1 : 0)
    }

    // MARK: The queue poll

    /// What a poll found in one of ``polledQueues``: `nil` when it does not exist.
    func recordQueue(_ name: String, _ queue: QueueState?, at now: Date) {
        readyByQueue[name]?.record(queue?.messageCount ?? 0)
        consumersByQueue[name]?.record(queue?.consumerCount ?? 0)
        if name == ZoneTopology.workQueue {
            progress.withLock { $0.polled(ready: queue?.messageCount ?? 0, at: now) }
        }
    }

    /// The outbox's deliveries by state.
    func recordOutbox(_ counts: [DeliveryState: Int]) {
        for (state, gauge) in outboxByState { gauge.record(counts[state] ?? 0) }
    }

    /// Sets the age gauge from what the worker holds and what the polls saw, and says whether the
    /// consumer looks stalled (see ``ConsumerProgress/isStalled(consuming:timeout:at:)``).
    func updateProgress(stallTimeout: Duration, at now: Date) -> (age: Double, stalled: Bool) {
        let consuming = health.broker.isConsuming
        let (age, stalled) = progress.withLock {
            ($0.oldestUnappliedAge(at: now), $0.isStalled(consuming: consuming, timeout: stallTimeout, at: now))
        }
        oldestUnappliedAgeGauge.record(age)
        return (age, stalled)
    }

    /// What the worker knows of its progress against the queue now.
    public var consumerProgress: ConsumerProgress { progress.withLock { $0 } }
}

/// The stages of the worker's path that `lode_worker_stage_seconds_total` accounts for.
public enum WorkerStage: String, Sendable, Hashable, CaseIterable {
    case receive, decode, apply
    case commitWait = "commit_wait"
    case sync
    case deadLetters = "dead_letters"
    case acknowledge
}

/// Why the consumer set its subscription up again (`lode_worker_reconnects_total{cause}`).
public enum ReconnectCause: String, Sendable, Hashable, CaseIterable {
    /// The connection failed (broker restarted, network, heartbeat missed).
    case connectionLost = "connection_lost"
    /// The watchdog saw no deliveries while the queue had ready messages.
    case consumerStalled = "consumer_stalled"
    /// The broker cancelled the subscription (`basic.cancel`, e.g. the queue was deleted).
    case consumerCancelled = "consumer_cancelled"
}

/// Whether the worker is doing its job, for `/healthz`: consuming from the broker, and the store
/// taking its batches.
///
/// The store's side is what the last transaction did: a worker with nothing to apply does not
/// touch the store, so a store that broke while idle shows when the next batch arrives.
public struct WorkerHealth: Sendable, Hashable {
    /// The consumer's connection to the broker.
    public enum Broker: Sendable, Hashable {
        /// Not connected yet.
        case starting
        case connected
        /// Connected, but the broker stopped reading from the connection (resource alarm):
        /// deliveries still arrive; dead letters wait.
        case blocked(reason: String)
        /// The connection failed; the consumer reconnects by itself.
        case disconnected(reason: String)
        /// The broker cancelled the subscription (e.g. `lode.work` was deleted).
        case cancelledByBroker
        /// Shutting down: no more deliveries are taken.
        case stopping

        /// `connected`, `blocked`, `disconnected`, ...
        public var name: String {
            switch self {
            case .starting: "starting"
            case .connected: "connected"
            case .blocked: "blocked"
            case .disconnected: "disconnected"
            case .cancelledByBroker: "cancelled_by_broker"
            case .stopping: "stopping"
            }
        }

        /// The consumer's connection is open (subscribed or not).
        public var isConnected: Bool {
            switch self {
            case .connected, .blocked, .cancelledByBroker: true
            case .starting, .disconnected, .stopping: false
            }
        }

        /// Deliveries can arrive.
        public var isConsuming: Bool {
            switch self {
            case .connected, .blocked: true
            case .starting, .disconnected, .cancelledByBroker, .stopping: false
            }
        }
    }

    public var broker: Broker = .starting
    /// While the worker is paused because its store fails: the store's error; `nil` otherwise.
    public var storeError: String?
    /// Whether that error says the database is damaged (corrupt, not a database): it will not
    /// heal by itself.
    public var storeDamaged = false
    /// Since when the worker has been paused (store or dead letters failing), with no success in between.
    public var storeFailingSince: Date?
    /// While the worker is paused because the broker does not confirm its dead letters: why.
    public var deadLetterError: String?
    /// When the last batch that applied at least one new event was committed.
    public var lastAppliedAt: Date?

    public init(broker: Broker = .starting, storeError: String? = nil, storeFailingSince: Date? = nil,
                lastAppliedAt: Date? = nil) {
        self.broker = broker
        self.storeError = storeError
        self.storeFailingSince = storeFailingSince
        self.lastAppliedAt = lastAppliedAt
    }

    /// Why the worker is not healthy; empty when it is.
    public var problems: [String] {
        var problems: [String] = []
        switch broker {
        case .connected, .blocked: break
        case .starting: problems.append("not connected to the broker yet")
        case .disconnected(let reason): problems.append("broker connection lost (reconnecting): \(reason)")
        case .cancelledByBroker: problems.append("the broker cancelled the subscription to lode.work")
        case .stopping: problems.append("shutting down")
        }
        let since = storeFailingSince.map { " since \($0.ISO8601Format())" } ?? ""
        if let storeError {
            problems.append("store failing\(since); consuming paused, retrying with backoff, nothing dead-lettered: \(storeError)")
            if storeDamaged {
                problems.append("the database is damaged and will not heal by itself: restore it from a backup or point --db at a healthy copy; the events stay in lode.work meanwhile")
            }
        }
        if let deadLetterError {
            problems.append("dead letters not confirmed by the broker\(since); consuming paused, retrying: \(deadLetterError)")
        }
        return problems
    }

    /// Consuming, and the store's last transaction succeeded.
    public var isHealthy: Bool { problems.isEmpty }

    mutating func paused(_ pause: BatchStep.Pause, at time: Date) {
        if let error = pause.storageError {
            storeError = "\(error)"
            storeDamaged = error.kind == .damaged
            deadLetterError = nil
        } else {
            deadLetterError = pause.description
            storeError = nil
            storeDamaged = false
        }
        if storeFailingSince == nil { storeFailingSince = time }
    }

    mutating func resumed() {
        storeError = nil
        storeDamaged = false
        deadLetterError = nil
        storeFailingSince = nil
    }
}

extension Worker {
    /// The worker's health now, for `/healthz`.
    public var health: WorkerHealth { metrics.health }

    /// Follows the consumer's connection events into ``health`` and the metrics until the
    /// consumer is closed (``stop()``), and resubscribes when the broker cancels the subscription
    /// (``resubscribe(afterCancelOf:)``). Reads ``events``: nothing else may read them while this runs.
    public func followConnection() async {
        for await event in events {
            metrics.record(event)
            if case .cancelledByBroker(let tag) = event { await resubscribe(afterCancelOf: tag) }
        }
    }
}
