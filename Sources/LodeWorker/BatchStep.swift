import LodeAMQP
import LodeDeadLetters
import LodeStorage

/// What the worker does with one batch of deliveries, decided from what has happened so far: a
/// value with no I/O, in the manner of postgres-nio's connection state machine. The worker's
/// driver (``BatchPipeline``) asks ``next()`` for an action, performs it against the store or the
/// broker, and tells the step what came of it; the step never waits or touches anything itself,
/// so every path (the store failing at each step, a dead letter not confirmed) is tested directly.
///
/// The order of a batch: apply its events in transactions of at most `transactionEvents`; then,
/// when anything must be dead-lettered (events that failed validation, conflicting duplicates,
/// an event the store refused), write the dead-letter index, publish the dead letters to
/// `lode.dead` and wait for their confirms; then acknowledge every delivery. So a crash at any
/// point loses nothing: unacknowledged deliveries come back and the inbox skips what was applied.
///
/// A failure that is not the events' fault never dead-letters them and never gives deliveries
/// back: the step asks to ``Action/wait(_:)`` (capped backoff), then asks for the same action
/// again, for as long as it takes; ``pause`` says why meanwhile. The one failure that is an
/// event's fault is the store refusing data (``StorageError/Kind/invalidData``): the step then
/// applies that transaction's events one by one, and dead-letters (reason `store_rejected`) the
/// ones the store still refuses, unless it refuses every one of several, which is the store's
/// fault again and waits like any other failure.
public struct BatchStep: Sendable {
    /// What the driver does next.
    public enum Action: Sendable, Hashable {
        /// Apply `events[range]` in one transaction; report with ``applied(_:)`` or ``applyFailed(_:)``.
        case apply(Range<Int>)
        /// Write the index row of every dead letter in ``deadLetters``, in one transaction; report
        /// with ``deadLettersRecorded()`` or ``recordingFailed(_:)``.
        case recordDeadLetters
        /// Publish these dead letters (indexes into ``deadLetters``) to `lode.dead` and wait for
        /// the broker's answer; report with ``published(_:)``.
        case publishDeadLetters([Int])
        /// Wait this long, then ask again: the store or the broker failed, not the events.
        case wait(Duration)
        /// Acknowledge every delivery of the batch; then the step is finished.
        case acknowledge
        /// Nothing more to do.
        case finished
    }

    /// Why a batch is waiting.
    public enum Pause: Sendable, Hashable, CustomStringConvertible {
        /// The store failed applying events (busy, locked, full, read-only, I/O, corrupt, ...).
        case store(StorageError)
        /// The store failed writing the dead-letter index.
        case deadLetterIndex(StorageError)
        /// The broker did not confirm some dead letters (nacked, returned, connection lost).
        case deadLetterPublish(String)

        public var description: String {
            switch self {
            case .store(let error): "the store failed: \(error)"
            case .deadLetterIndex(let error): "the store failed writing the dead-letter index: \(error)"
            case .deadLetterPublish(let reason): "dead letters not confirmed by the broker: \(reason)"
            }
        }

        /// The store's failure, when the store is what failed.
        public var storageError: StorageError? {
            switch self {
            case .store(let error), .deadLetterIndex(let error): error
            case .deadLetterPublish: nil
            }
        }
    }

    /// A dead letter of this batch: what went wrong, and the delivery it came in.
    public struct DeadLetterCause: Sendable, Hashable {
        public let delivery: Int
        public let rejected: Rejected
    }

    private enum Phase: Sendable, Hashable {
        /// Applying transactions; the next starts at `next`.
        case applying(next: Int)
        /// The transaction `chunk` was refused for its data: applying its events one by one, the
        /// next being `next`; `refused` holds those the store refused so far.
        case isolating(chunk: Range<Int>, next: Int, refused: [Int: StorageError])
        case recording
        /// Publishing; `pending` are the dead letters not confirmed yet.
        case publishing(pending: [Int])
        case acknowledging
        case finished
    }

    /// The events of the batch, in order, and the delivery each came in.
    public let events: [IncomingEvent]
    public let eventDelivery: [Int]
    /// What becomes of each event: `nil` until its transaction committed (and for an event the
    /// store refused, which is in ``deadLetters``).
    public private(set) var outcomes: [EventOutcome?]
    /// Everything the batch dead-letters, in the order found: validation failures first, then
    /// conflicting duplicates and refused events as the transactions find them.
    public private(set) var deadLetters: [DeadLetterCause]
    /// Why the batch is waiting, while it is; `nil` once the failure passed.
    public private(set) var pause: Pause?
    /// How many times an action failed for a reason that is not the events' fault.
    public private(set) var failures = 0

    private let transactionEvents: Int
    private var backoff: Backoff
    private var phase: Phase
    /// The action handed out and not yet reported.
    private var inFlight: Action?
    /// A wait is due before the action is handed out again.
    private var waitDue = false
    private var random: SplitMix

    /// - Parameters:
    ///   - events: the batch's valid events and the delivery each came in (`eventDelivery[i]` for
    ///     `events[i]`).
    ///   - rejected: what decoding already dead-letters (validation failures), by delivery.
    ///   - transactionEvents: the most events one transaction applies.
    ///   - backoff: the waits after failures; `seed` makes its jitter repeatable.
    public init(events: [IncomingEvent], eventDelivery: [Int], rejected: [(delivery: Int, rejected: Rejected)],
                transactionEvents: Int, backoff: Backoff, seed: UInt64 = 0x5EED) {
        self.events = events
        self.eventDelivery = eventDelivery
        self.transactionEvents = max(1, transactionEvents)
        self.backoff = backoff
        outcomes = Array(repeating: nil, count: events.count)
        deadLetters = rejected.map { DeadLetterCause(delivery: $0.delivery, rejected: $0.rejected) }
        phase = .applying(next: 0)
        random = SplitMix(seed: seed)
    }

    /// Whether the batch is done: acknowledged.
    public var isFinished: Bool { phase == .finished }

    /// The events of the transaction the step will try next, while it applies; empty otherwise
    /// (what a wait holds up, for the metrics).
    public var pendingTransaction: Range<Int> {
        switch phase {
        case .applying(let next) where next < events.count: next..<min(next + transactionEvents, events.count)
        case .isolating(_, let next, _): next..<(next + 1)
        default: 0..<0
        }
    }

    /// The next thing to do. Calling it again before reporting the outcome of the last action
    /// hands out the same action.
    public mutating func next() -> Action {
        if let inFlight { return inFlight }
        if waitDue {
            waitDue = false
            return .wait(backoff.nextDelay(using: &random))
        }
        let action: Action
        switch phase {
        case .applying(let next):
            if next < events.count {
                action = .apply(next..<min(next + transactionEvents, events.count))
            } else {
                phase = deadLetters.isEmpty ? .acknowledging : .recording
                return self.next()
            }
        case .isolating(_, let next, _):
            action = .apply(next..<(next + 1))
        case .recording:
            action = .recordDeadLetters
        case .publishing(let pending):
            action = .publishDeadLetters(pending)
        case .acknowledging:
            action = .acknowledge
        case .finished:
            return .finished
        }
        if action != .acknowledge { inFlight = action }
        if action == .acknowledge { phase = .finished }
        return action
    }

    /// The last ``Action/apply(_:)`` committed with `outcome` (one outcome per event of its range).
    public mutating func applied(_ outcome: BatchOutcome) {
        guard case .apply(let range)? = inFlight, outcome.outcomes.count == range.count else { return }
        inFlight = nil
        recovered()
        for (index, result) in zip(range, outcome.outcomes) {
            outcomes[index] = result
            if case .conflictingDuplicate(let conflict) = result {
                deadLetters.append(DeadLetterCause(delivery: eventDelivery[index], rejected: Rejected(
                    body: events[index].body, reason: "conflicting_duplicate", error: conflict.description,
                    eventID: conflict.eventID, eventType: events[index].event.type.rawValue)))
            }
        }
        switch phase {
        case .applying:
            phase = .applying(next: range.upperBound)
        case .isolating(let chunk, _, let refused):
            isolate(chunk, from: range.upperBound, refused: refused)
        default:
            break
        }
    }

    /// The last ``Action/apply(_:)`` failed; nothing of it was written.
    public mutating func applyFailed(_ error: StorageError) {
        guard case .apply(let range)? = inFlight else { return }
        inFlight = nil
        guard error.kind == .invalidData else {
            failed(.store(error))
            return
        }
        switch phase {
        case .applying:
            if range.count == 1 {
                refuse([range.lowerBound: error])
                phase = .applying(next: range.upperBound)
            } else {
                phase = .isolating(chunk: range, next: range.lowerBound, refused: [:])
            }
        case .isolating(let chunk, _, var refused):
            refused[range.lowerBound] = error
            isolate(chunk, from: range.upperBound, refused: refused)
        default:
            break
        }
    }

    /// The index rows of every dead letter are written.
    public mutating func deadLettersRecorded() {
        guard inFlight == .recordDeadLetters else { return }
        inFlight = nil
        recovered()
        phase = .publishing(pending: Array(deadLetters.indices))
    }

    /// Writing the dead-letter index failed; nothing of it was written.
    public mutating func recordingFailed(_ error: StorageError) {
        guard inFlight == .recordDeadLetters else { return }
        inFlight = nil
        failed(.deadLetterIndex(error))
    }

    /// What the broker answered for each dead letter of the last ``Action/publishDeadLetters(_:)``,
    /// in the same order; missing outcomes count as unconfirmed.
    public mutating func published(_ results: [PublishOutcome]) {
        guard case .publishDeadLetters(let asked)? = inFlight else { return }
        inFlight = nil
        var pending: [Int] = []
        var reasons: [String] = []
        for (position, index) in asked.enumerated() {
            let result = position < results.count ? results[position] : .unconfirmed
            guard result != .confirmed else { continue }
            pending.append(index)
            switch result {
            case .nacked: reasons.append("nacked")
            case .returned(let code, let text): reasons.append("returned (\(code) \(text))")
            default: reasons.append("unconfirmed")
            }
        }
        if pending.isEmpty {
            recovered()
            phase = .acknowledging
        } else {
            phase = .publishing(pending: pending)
            let counted = Dictionary(reasons.map { ($0, 1) }, uniquingKeysWith: +)
                .sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            failed(.deadLetterPublish("\(pending.count) of \(asked.count): \(counted)"))
        }
    }

    // MARK: Internals

    private mutating func isolate(_ chunk: Range<Int>, from next: Int, refused: [Int: StorageError]) {
        if next < chunk.upperBound {
            phase = .isolating(chunk: chunk, next: next, refused: refused)
        } else if refused.count == chunk.count, let error = refused.values.first {
            // The store refused every event of the transaction, one by one: no single event is
            // at fault; wait and try the whole transaction again.
            phase = .applying(next: chunk.lowerBound)
            failed(.store(error))
        } else {
            refuse(refused)
            phase = .applying(next: chunk.upperBound)
        }
    }

    private mutating func refuse(_ refused: [Int: StorageError]) {
        for (index, error) in refused.sorted(by: { $0.key < $1.key }) {
            deadLetters.append(DeadLetterCause(delivery: eventDelivery[index], rejected: Rejected(
                body: events[index].body, reason: "store_rejected",
                error: "the store refused this event: \(error.message)",
                eventID: events[index].event.id, eventType: events[index].event.type.rawValue)))
        }
    }

    private mutating func failed(_ reason: Pause) {
        pause = reason
        failures += 1
        waitDue = true
    }

    private mutating func recovered() {
        pause = nil
        backoff.reset()
    }
}

/// A small seeded generator for the backoff's jitter, so a step's waits are repeatable in tests.
struct SplitMix: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
