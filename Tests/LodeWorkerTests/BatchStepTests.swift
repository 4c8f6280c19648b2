import LodeAMQP
import LodeDeadLetters
import LodeEvents
import LodeStorage
import Testing

@testable import LodeWorker

/// The worker's batch step as a pure value: every outcome of the store and of the dead-letter
/// publish, and what the step asks for next.
@Suite("The batch step")
struct BatchStepTests {
    static func event(_ n: Int) -> IncomingEvent {
        let body = #"{"specversion":"1.0","id":"e-\#(n)","source":"bt-dept/projects","type":"zone.project.status_changed","time":"2024-05-05T10:00:00+08:00","data":{"project_id":"BT-\#(n)","status":"started"}}"#
        return try! IncomingEvent(decoding: Array(body.utf8))
    }

    static let invalid = Rejected(body: Array("{not json".utf8), reason: "invalid_json", error: "not JSON")

    /// A step over `count` events, each in its own delivery, with `rejected` dead letters from decoding.
    static func step(events count: Int, rejected: [(delivery: Int, rejected: Rejected)] = [],
                     transactionEvents: Int = 5000) -> BatchStep {
        BatchStep(events: (0..<count).map(event), eventDelivery: Array(0..<count), rejected: rejected,
                  transactionEvents: transactionEvents, backoff: Backoff(base: .milliseconds(100), cap: .seconds(5)))
    }

    static func applied(_ count: Int) -> BatchOutcome {
        BatchOutcome(outcomes: Array(repeating: .applied(changedProjection: true), count: count))
    }

    static func storeError(_ kind: StorageError.Kind) -> StorageError {
        StorageError(kind: kind, message: "\(kind) for the test", path: "test.sqlite")
    }

    static func isWait(_ action: BatchStep.Action) -> Bool {
        if case .wait = action { true } else { false }
    }

    @Test func aCleanBatchIsAppliedInTransactionsThenAcknowledged() {
        var step = Self.step(events: 7, transactionEvents: 3)
        #expect(step.next() == .apply(0..<3))
        #expect(step.next() == .apply(0..<3), "asking again before reporting hands out the same action")
        step.applied(Self.applied(3))
        #expect(step.next() == .apply(3..<6))
        step.applied(Self.applied(3))
        #expect(step.next() == .apply(6..<7))
        step.applied(Self.applied(1))
        #expect(step.next() == .acknowledge)
        #expect(step.next() == .finished)
        #expect(step.isFinished)
        #expect(step.deadLetters.isEmpty)
        #expect(step.outcomes.allSatisfy { $0 == .applied(changedProjection: true) })
        #expect(step.failures == 0)
    }

    @Test func aBatchOfOnlyInvalidMessagesRecordsAndPublishesItsDeadLettersBeforeTheAck() {
        var step = Self.step(events: 0, rejected: [(0, Self.invalid), (1, Self.invalid)])
        #expect(step.next() == .recordDeadLetters)
        step.deadLettersRecorded()
        #expect(step.next() == .publishDeadLetters([0, 1]))
        step.published([.confirmed, .confirmed])
        #expect(step.next() == .acknowledge)
        #expect(step.deadLetters.map(\.delivery) == [0, 1])
    }

    @Test(arguments: [StorageError.Kind.unavailable, .damaged, .configuration, .internal])
    func aStoreFailureThatIsNotTheEventsFaultWaitsAndRetriesTheSameTransaction(kind: StorageError.Kind) {
        var step = Self.step(events: 4, transactionEvents: 2)
        #expect(step.next() == .apply(0..<2))
        step.applied(Self.applied(2))
        #expect(step.next() == .apply(2..<4))
        for attempt in 1...20 {
            step.applyFailed(Self.storeError(kind))
            #expect(step.pause == .store(Self.storeError(kind)))
            #expect(Self.isWait(step.next()))
            #expect(step.pendingTransaction == 2..<4)
            #expect(step.next() == .apply(2..<4), "attempt \(attempt): the same transaction again, never a dead letter")
            #expect(step.deadLetters.isEmpty)
        }
        step.applied(Self.applied(2))
        #expect(step.pause == nil)
        #expect(step.next() == .acknowledge)
        #expect(step.failures == 20)
    }

    @Test func theWaitsGrowUpToTheCap() {
        var step = Self.step(events: 1)
        var waits: [Duration] = []
        for _ in 0..<12 {
            #expect(step.next() == .apply(0..<1))
            step.applyFailed(Self.storeError(.unavailable))
            if case .wait(let delay) = step.next() { waits.append(delay) }
        }
        #expect(waits.count == 12)
        #expect(waits.allSatisfy { $0 <= .seconds(5) })
        #expect(waits.first! <= .milliseconds(100))
        #expect(waits.last! >= .milliseconds(2500), "capped at 5 s with jitter of at most half")
    }

    @Test func aTransactionRefusedForItsDataIsAppliedEventByEventAndOnlyTheRefusedEventIsDeadLettered() {
        var step = Self.step(events: 3)
        #expect(step.next() == .apply(0..<3))
        step.applyFailed(Self.storeError(.invalidData))
        #expect(step.pause == nil, "the events' fault: no pause")
        #expect(step.next() == .apply(0..<1))
        step.applied(Self.applied(1))
        #expect(step.next() == .apply(1..<2))
        step.applyFailed(Self.storeError(.invalidData))
        #expect(step.next() == .apply(2..<3))
        step.applied(Self.applied(1))
        #expect(step.next() == .recordDeadLetters)
        #expect(step.deadLetters.count == 1)
        #expect(step.deadLetters.first?.delivery == 1)
        #expect(step.deadLetters.first?.rejected.reason == "store_rejected")
        #expect(step.deadLetters.first?.rejected.eventID == "e-1")
        #expect(step.deadLetters.first?.rejected.error.contains("invalid_data for the test") == true)
        #expect(step.outcomes[0] != nil && step.outcomes[1] == nil && step.outcomes[2] != nil)
    }

    @Test func aSingleEventTransactionRefusedForItsDataIsDeadLetteredAtOnce() {
        var step = Self.step(events: 2, transactionEvents: 1)
        #expect(step.next() == .apply(0..<1))
        step.applyFailed(Self.storeError(.invalidData))
        #expect(step.next() == .apply(1..<2))
        step.applied(Self.applied(1))
        #expect(step.next() == .recordDeadLetters)
        #expect(step.deadLetters.map(\.rejected.reason) == ["store_rejected"])
    }

    @Test func whenTheStoreRefusesEveryEventOfATransactionNoneIsToBlameAndTheStepWaits() {
        var step = Self.step(events: 3)
        #expect(step.next() == .apply(0..<3))
        step.applyFailed(Self.storeError(.invalidData))
        for index in 0..<3 {
            #expect(step.next() == .apply(index..<(index + 1)))
            step.applyFailed(Self.storeError(.invalidData))
        }
        #expect(step.pause != nil)
        #expect(Self.isWait(step.next()))
        #expect(step.next() == .apply(0..<3), "the whole transaction again after the wait")
        #expect(step.deadLetters.isEmpty)
        step.applied(Self.applied(3))
        #expect(step.next() == .acknowledge)
    }

    @Test func aStoreOutageWhileIsolatingWaitsForThatEvent() {
        var step = Self.step(events: 2)
        _ = step.next()
        step.applyFailed(Self.storeError(.invalidData))
        #expect(step.next() == .apply(0..<1))
        step.applyFailed(Self.storeError(.unavailable))
        #expect(Self.isWait(step.next()))
        #expect(step.next() == .apply(0..<1))
        step.applied(Self.applied(1))
        #expect(step.next() == .apply(1..<2))
    }

    @Test func conflictingDuplicatesFoundByTheStoreAreDeadLettered() {
        var step = Self.step(events: 2)
        #expect(step.next() == .apply(0..<2))
        let conflict = ConflictingDuplicate(eventID: "e-1", source: "bt/test", appliedFingerprint: "sha256:a", refusedFingerprint: "sha256:b")
        step.applied(BatchOutcome(outcomes: [.applied(changedProjection: true), .conflictingDuplicate(conflict)]))
        #expect(step.next() == .recordDeadLetters)
        #expect(step.deadLetters.map(\.rejected.reason) == ["conflicting_duplicate"])
        #expect(step.deadLetters.first?.delivery == 1)
        #expect(step.deadLetters.first?.rejected.body == Self.event(1).body)
    }

    @Test func theDeadLetterIndexFailingWaitsAndWritesItAgain() {
        var step = Self.step(events: 1, rejected: [(1, Self.invalid)])
        _ = step.next()
        step.applied(Self.applied(1))
        #expect(step.next() == .recordDeadLetters)
        step.recordingFailed(Self.storeError(.unavailable))
        #expect(step.pause == .deadLetterIndex(Self.storeError(.unavailable)))
        #expect(Self.isWait(step.next()))
        #expect(step.next() == .recordDeadLetters)
        step.deadLettersRecorded()
        #expect(step.pause == nil)
        #expect(step.next() == .publishDeadLetters([0]))
    }

    @Test func deadLettersTheBrokerDidNotConfirmArePublishedAgainAfterAWaitAndNothingIsAcknowledgedBefore() {
        var step = Self.step(events: 0, rejected: [(0, Self.invalid), (1, Self.invalid), (2, Self.invalid)])
        _ = step.next()
        step.deadLettersRecorded()
        #expect(step.next() == .publishDeadLetters([0, 1, 2]))
        step.published([.confirmed, .nacked, .returned(replyCode: 312, replyText: "NO_ROUTE")])
        guard case .deadLetterPublish(let reason)? = step.pause else {
            Issue.record("expected a pause for the dead letters, got \(String(describing: step.pause))")
            return
        }
        #expect(reason.contains("2 of 3"))
        #expect(reason.contains("nacked") && reason.contains("NO_ROUTE"))
        #expect(Self.isWait(step.next()))
        #expect(step.next() == .publishDeadLetters([1, 2]), "only those not confirmed")
        step.published([.confirmed])
        #expect(Self.isWait(step.next()), "a missing outcome counts as unconfirmed")
        #expect(step.next() == .publishDeadLetters([2]))
        step.published([.confirmed])
        #expect(step.next() == .acknowledge)
    }

    @Test func reportsThatDoNotAnswerTheActionInHandChangeNothing() {
        var step = Self.step(events: 2)
        step.applied(Self.applied(2))  // nothing asked yet
        step.deadLettersRecorded()
        step.published([.confirmed])
        #expect(step.next() == .apply(0..<2))
        step.applied(Self.applied(1))  // wrong count for the range
        #expect(step.next() == .apply(0..<2))
        step.applied(Self.applied(2))
        #expect(step.next() == .acknowledge)
    }

    @Test func anEmptyBatchIsAcknowledgedAtOnce() {
        var step = Self.step(events: 0)
        #expect(step.next() == .acknowledge)
        #expect(step.next() == .finished)
    }
}
