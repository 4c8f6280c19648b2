import Foundation
import LodeAMQP
import LodeStorage
import LodeWire
import Logging
import Synchronization

/// Which dead letters a sweep acts on.
public enum DeadLetterSelection: Sendable, Hashable {
    /// These ids (as `lodectl dlq list` shows them).
    case ids(Set<String>)
    /// Every message in `lode.dead` when the sweep starts.
    case all
    /// Those of one event type.
    case type(String)
    /// None: the sweep only indexes what it meets (`lodectl dlq list --sync`).
    case none

    var isIDs: Bool {
        if case .ids = self { true } else { false }
    }

    func contains(_ record: DeadLetterRecord) -> Bool {
        switch self {
        case .ids(let ids): ids.contains(record.id)
        case .all: true
        case .type(let type): record.type == type
        case .none: false
        }
    }
}

/// What a sweep does to the dead letters it selects.
public enum DeadLetterAction: String, Sendable, Hashable {
    /// Publish to `lode.events` (routing key = type) with a confirm, then remove from `lode.dead`.
    case replay
    /// Remove from `lode.dead`.
    case purge
}

/// How far a sweep has got.
public struct DeadLetterSweepProgress: Sendable, Hashable {
    /// Messages of `lode.dead` read so far, of `total` (its ready count when the sweep started).
    public var read = 0
    public var total = 0
    public var replayed = 0
    public var purged = 0
    /// Not selected: put back at the tail of `lode.dead`.
    public var kept = 0
    /// Ids asked for (`.ids`) that the sweep did not meet.
    public var notFound: [String] = []
    /// Rows the index listed as queued that this sweep, having read all of `lode.dead`, did not
    /// meet: marked `missing` (only by `.all` and `.none` sweeps).
    public var missing = 0
    /// The sweep ended before it read `total` messages: it met a message it had put back
    /// itself, or none came for `idleLimit` (the queue was purged or another consumer took
    /// messages meanwhile).
    public var endedEarly = false

    public init() {}
}

/// A sweep failed; what was confirmed before it stays done, the rest is still in `lode.dead`.
public struct DeadLetterSweepError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The broker or the database cannot be reached.
        case unavailable
        /// Interrupted half-way (a connection lost, a publish not confirmed): safe to re-run.
        case interrupted
        /// Something an operator has to change (the queue is missing, another sweep runs).
        case refused
    }

    public var kind: Kind
    public var message: String
    public var description: String { message }
}

/// Walks `lode.dead` once, from its head, and replays or purges the selected dead letters.
///
/// - Bounded: the consumer's prefetch (`batch`) is all it holds unacknowledged at any time, and
///   it reads at most the messages that were ready when it started (later arrivals wait for
///   the next sweep); it stops early when it meets a message it put back itself
///   (`x-lode-swept-by`), or after `idleLimit` without a delivery.
/// - Nothing is lost: a selected message is acknowledged (removed) only after its replay to
///   `lode.events` is confirmed (replay) or at once (purge); a message not selected is first
///   published again to the tail of `lode.dead` with a confirm, then acknowledged. A kill at any
///   point leaves each message in `lode.dead`, in `lode.events` as well (the worker's inbox
///   applies it once), or, for a message not selected, twice in `lode.dead`.
/// - The index follows: every message met is recorded (`queued`: this is how dead letters that
///   arrived without a row, e.g. moved by the broker's delivery limit, get one), and marked
///   `replayed` or `purged` before its acknowledgement; a kill between the two leaves a row
///   marked done whose message is still queued, and the next sweep that meets it queues the row
///   again.
/// - Order: kept messages move behind those that were not read; a sweep for a few ids stops
///   as soon as it met them all, so it moves only what lay before them.
/// - One sweep at a time: it refuses to go on when `lode.dead` has another consumer.
public struct DeadLetterSweep: Sendable {
    public var settings: ConnectionSettings
    public var index: any DeadLetterIndex
    /// Messages read and unacknowledged at most (the consumer's prefetch).
    public var batch: Int = 100
    /// How long the sweep waits for the next delivery before it ends with fewer messages read
    /// than `lode.dead` held when it started.
    public var idleLimit: Duration = .seconds(10)
    public var logger = Logger(label: "lode.dlq")

    public init(settings: ConnectionSettings, index: any DeadLetterIndex) {
        self.settings = settings
        self.index = index
    }

    /// Sweeps once; `progress` is called after each batch.
    public func run(_ selection: DeadLetterSelection, action: DeadLetterAction,
                    progress: @Sendable (DeadLetterSweepProgress) -> Void = { _ in }) async throws(DeadLetterSweepError)
        -> DeadLetterSweepProgress {
        var publisherOptions = PublisherOptions()
        publisherOptions.reconnectTimeout = .seconds(5)
        let publisher = Publisher(settings: settings, topology: ZoneTopology.topology, options: publisherOptions, logger: logger)
        var consumerOptions = ConsumerOptions()
        consumerOptions.prefetch = UInt16(clamping: max(1, batch))
        consumerOptions.maxBatch = max(1, batch)
        consumerOptions.exclusive = true
        consumerOptions.startTimeout = .seconds(5)
        let consumer = Consumer(settings: settings, queue: ZoneTopology.deadLetterQueue, topology: ZoneTopology.topology,
                                options: consumerOptions, logger: logger)
        let sweepID = String(UUID().uuidString.prefix(8)).lowercased()
        let outcome: Result<DeadLetterSweepProgress, DeadLetterSweepError>
        do {
            outcome = .success(try await sweep(selection, action: action, id: sweepID, publisher: publisher,
                                               consumer: consumer, progress: progress))
        } catch {
            outcome = .failure(error)
        }
        // basic.cancel is a round trip on the consumer's channel, after the last acks: the broker
        // has read them before the channel closes (RabbitMQ 3.10's quorum queues were seen to
        // redeliver messages acked just before a close; here every one would be a duplicate).
        // Whatever is still unacknowledged goes back to lode.dead when the consumer closes.
        try? await consumer.cancel()
        await consumer.close()
        await publisher.close()
        return try outcome.get()
    }

    private func sweep(_ selection: DeadLetterSelection, action: DeadLetterAction, id sweepID: String, publisher: Publisher,
                       consumer: Consumer, progress: @Sendable (DeadLetterSweepProgress) -> Void)
        async throws(DeadLetterSweepError) -> DeadLetterSweepProgress {
        var state = DeadLetterSweepProgress()
        let started = Date()
        var met: Set<String> = []
        var cameFullCircle = false
        let queue: QueueState?
        do {
            try await publisher.connect()
            queue = try await publisher.inspectQueue(ZoneTopology.deadLetterQueue)
        } catch {
            throw DeadLetterSweepError(kind: .unavailable, message: "\(error)")
        }
        guard let queue else {
            throw DeadLetterSweepError(kind: .refused, message: "the queue \(ZoneTopology.deadLetterQueue) does not exist; run `lodectl setup`")
        }
        state.total = Int(queue.messageCount)
        var wanted: Set<String> = if case .ids(let ids) = selection { ids } else { [] }
        guard state.total > 0, selection != .ids([]) else {
            state.notFound = wanted.sorted()
            if state.total == 0 { state.missing = try markMissing(selection, met: [], sweepStarted: started) }
            return state
        }
        do {
            try await consumer.start()
        } catch {
            if error.replyCode == 403 || error.replyCode == 405 {
                throw DeadLetterSweepError(kind: .refused, message: "another consumer holds \(ZoneTopology.deadLetterQueue) (a sweep already running?): \(error)")
            }
            throw DeadLetterSweepError(kind: .unavailable, message: "\(error)")
        }
        // Quorum queues ignore the exclusive flag: count the consumers instead. Two sweeps that
        // start together both refuse, which is safe (nothing was acknowledged yet).
        let consumers: Int?
        do {
            consumers = try await publisher.inspectQueue(ZoneTopology.deadLetterQueue)?.consumerCount
        } catch {
            throw DeadLetterSweepError(kind: .unavailable, message: "\(error)")
        }
        if let consumers, consumers > 1 {
            throw DeadLetterSweepError(kind: .refused, message: "another consumer is reading \(ZoneTopology.deadLetterQueue) (a `lodectl dlq` sweep?); nothing was changed: run the command again once it is done")
        }

        // Counted messages that never come (the queue was purged meanwhile, another consumer
        // holds them) would keep the sweep waiting: after `idleLimit` without a delivery it
        // closes the consumer, which ends the loop below with fewer read than counted.
        let activity = Mutex(SweepActivity(since: .now))
        let idleLimit = idleLimit
        let watchdog = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(250))
                if activity.withLock({ !$0.busy && ContinuousClock.now - $0.since > idleLimit }) {
                    await consumer.close()
                    return
                }
            }
        }
        defer { watchdog.cancel() }

        sweeping: for await event in consumer.events {
            switch event {
            case .deliveries(let deliveries):
                activity.withLock { $0 = SweepActivity(since: .now, busy: true) }
                // A message this sweep put back means it went round the whole queue: fewer
                // messages were there than counted. It and those after it stay unacknowledged.
                let counted = deliveries.prefix(state.total - state.read)
                let taken = Array(counted.prefix { $0.properties.headers?[DeadLetterMessage.sweepHeader]?.stringValue != sweepID })
                try await handle(taken, selection: selection, action: action, sweepID: sweepID, wanted: &wanted,
                                 met: &met, state: &state, publisher: publisher, consumer: consumer)
                activity.withLock { $0 = SweepActivity(since: .now, busy: false) }
                progress(state)
                if taken.count < counted.count { cameFullCircle = true }
                if state.read >= state.total || cameFullCircle { break sweeping }
                if case .ids = selection, wanted.isEmpty { break sweeping }
            case .connection(.connectionLost(let error)):
                throw DeadLetterSweepError(kind: .interrupted, message: "the connection to the broker was lost after \(state.read) of \(state.total) dead letters (\(error)); what was not confirmed is still in \(ZoneTopology.deadLetterQueue): run the command again")
            case .cancelledByBroker:
                throw DeadLetterSweepError(kind: .interrupted, message: "the broker cancelled the subscription to \(ZoneTopology.deadLetterQueue) (queue deleted?) after \(state.read) of \(state.total) dead letters")
            case .connection:
                continue
            }
        }
        state.notFound = wanted.sorted()
        if state.read < state.total, !(selection.isIDs && wanted.isEmpty), !cameFullCircle { state.endedEarly = true }
        if state.read >= state.total || cameFullCircle {
            state.missing = try markMissing(selection, met: met, sweepStarted: started)
        }
        return state
    }

    /// One batch: index what was met, publish the replays and the kept messages, wait for the
    /// confirms, mark the index, acknowledge.
    private func handle(_ deliveries: [Delivery], selection: DeadLetterSelection, action: DeadLetterAction,
                        sweepID: String, wanted: inout Set<String>, met: inout Set<String>, state: inout DeadLetterSweepProgress,
                        publisher: Publisher, consumer: Consumer) async throws(DeadLetterSweepError) {
        guard !deliveries.isEmpty else { return }
        let now = Date()
        let letters = deliveries.map { DeadLetterMessage(properties: $0.properties, body: $0.body, now: now) }
        try storing { () throws(StorageError) in try index.recordDeadLetters(letters.map(\.record)) }

        met.formUnion(letters.map(\.record.id))
        let selected = letters.map { selection.contains($0.record) }
        // What must be confirmed before each delivery may be acknowledged (nil: nothing).
        var outgoing: [OutgoingMessage] = []
        var publication: [Int?] = []
        for (letter, chosen) in zip(letters, selected) {
            let message: OutgoingMessage? = chosen ? (action == .replay ? letter.replay : nil) : letter.requeued(by: sweepID)
            publication.append(message.map { _ in outgoing.count })
            if let message { outgoing.append(message) }
        }
        var outcomes: [PublishOutcome] = []
        var interruption: AMQPError?
        if !outgoing.isEmpty {
            do {
                let report = try await publisher.publish(outgoing)
                outcomes = report.outcomes
                interruption = report.interruption
            } catch {
                throw DeadLetterSweepError(kind: .interrupted, message: "publishing failed after \(state.read) of \(state.total) dead letters: \(error); nothing of this batch was removed from \(ZoneTopology.deadLetterQueue): run the command again")
            }
        }
        var done: [Int] = []
        for index in letters.indices {
            if let position = publication[index], outcomes[position] != PublishOutcome.confirmed { continue }
            done.append(index)
        }
        let doneIDs = done.filter { selected[$0] }.map { letters[$0].record.id }
        let doneState = action == .replay ? DeadLetterState.replayed : .purged
        try storing { () throws(StorageError) in try index.markDeadLetters(doneIDs, as: doneState, at: now) }
        do {
            try await consumer.ack(done.map { deliveries[$0].tag })
        } catch {
            throw DeadLetterSweepError(kind: .interrupted, message: "acknowledging failed after \(state.read) of \(state.total) dead letters: \(error); the broker keeps the unacknowledged ones in \(ZoneTopology.deadLetterQueue) (a replayed one may be in both places; the worker applies it once): run the command again")
        }
        for index in done {
            if !selected[index] { state.kept += 1 } else if action == .replay { state.replayed += 1 } else { state.purged += 1 }
            wanted.remove(letters[index].record.id)
        }
        state.read += deliveries.count
        if done.count < letters.count {
            let failed = letters.indices.filter { !done.contains($0) }.compactMap { index in
                publication[index].map { position in outcomes[position] }
            }
            let why = interruption.map { "\($0)" } ?? failed.first.map { "\($0)" } ?? "not confirmed"
            let target = action == .replay ? ZoneTopology.exchange : ZoneTopology.deadLetterQueue
            throw DeadLetterSweepError(kind: .interrupted, message: "\(letters.count - done.count) dead letters were not confirmed by the broker on \(target) (\(why)); they are still in \(ZoneTopology.deadLetterQueue): run the command again")
        }
    }

    /// After a sweep of the whole queue (`.all`, `.none`): the index's queued rows it did not
    /// meet are not in lode.dead. A minute's margin for rows the worker wrote just before it
    /// publishes their messages.
    private func markMissing(_ selection: DeadLetterSelection, met: Set<String>, sweepStarted: Date)
        throws(DeadLetterSweepError) -> Int {
        guard selection == .all || selection == .none else { return 0 }
        var missing = 0
        try storing { () throws(StorageError) in
            missing = try index.markMissing(except: met, recordedBefore: sweepStarted.addingTimeInterval(-60), at: Date())
        }
        return missing
    }

    private func storing(_ body: () throws(StorageError) -> Void) throws(DeadLetterSweepError) {
        do {
            try body()
        } catch {
            throw DeadLetterSweepError(kind: error.isRetryable ? .unavailable : .refused, message: "the dead-letter index: \(error)")
        }
    }
}

/// When the sweep last made progress, and whether it is handling a batch now.
private struct SweepActivity: Sendable {
    var since: ContinuousClock.Instant
    var busy = false
}
