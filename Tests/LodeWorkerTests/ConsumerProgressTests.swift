import Foundation
import LodeWorker
import Testing

@Suite("The consumer watchdog's decision and the age of the oldest unapplied event")
struct ConsumerProgressTests {
    let start = Date(timeIntervalSince1970: 1_700_000_000)
    func at(_ seconds: Double) -> Date { start.addingTimeInterval(seconds) }

    @Test func aQueueWithReadyMessagesAndNothingArrivingForTheTimeoutIsAStall() {
        var progress = ConsumerProgress()
        progress.polled(ready: 12, at: at(0))
        progress.polled(ready: 12, at: at(10))
        #expect(!progress.isStalled(consuming: true, timeout: .seconds(30), at: at(29)))
        progress.polled(ready: 15, at: at(30))
        #expect(progress.isStalled(consuming: true, timeout: .seconds(30), at: at(30)))
    }

    @Test func anEmptyQueueIsNeverAStallHoweverLongNothingArrives() {
        var progress = ConsumerProgress()
        for second in stride(from: 0.0, through: 600, by: 5) { progress.polled(ready: 0, at: at(second)) }
        #expect(!progress.isStalled(consuming: true, timeout: .seconds(30), at: at(600)))
        #expect(progress.oldestUnappliedAge(at: at(600)) == 0)
    }

    @Test func aDeliveryOrAnEmptyPollStartsTheWaitOver() {
        var progress = ConsumerProgress()
        progress.polled(ready: 3, at: at(0))
        progress.batchRead(oldestPublished: at(19), at: at(20))
        progress.batchDone(at: at(20.1))
        progress.polled(ready: 3, at: at(25))
        #expect(!progress.isStalled(consuming: true, timeout: .seconds(30), at: at(40)))
        progress.polled(ready: 0, at: at(45))
        progress.polled(ready: 2, at: at(50))
        #expect(!progress.isStalled(consuming: true, timeout: .seconds(30), at: at(70)))
        #expect(progress.isStalled(consuming: true, timeout: .seconds(30), at: at(80)))
    }

    @Test func aLongBatchInHandIsNotAStallEvenWithABacklog() {
        // The store retries a batch for minutes: the consumer's thread is busy, not dead.
        var progress = ConsumerProgress()
        progress.batchRead(oldestPublished: at(-1), at: at(0))
        for second in stride(from: 5.0, through: 300, by: 5) { progress.polled(ready: 500, at: at(second)) }
        #expect(!progress.isStalled(consuming: true, timeout: .seconds(30), at: at(300)))
        #expect(progress.oldestUnappliedAge(at: at(300)) == 301)
        // Once done, the wait starts from the next poll, not from the batch's start.
        progress.batchDone(at: at(301))
        progress.polled(ready: 500, at: at(305))
        #expect(!progress.isStalled(consuming: true, timeout: .seconds(30), at: at(305)))
    }

    @Test func aConsumerThatIsNotSubscribedIsLeftToItsReconnectLoop() {
        var progress = ConsumerProgress()
        progress.polled(ready: 9, at: at(0))
        #expect(!progress.isStalled(consuming: false, timeout: .seconds(30), at: at(100)))
        #expect(progress.isStalled(consuming: true, timeout: .seconds(30), at: at(100)))
        progress.subscribed()
        #expect(!progress.isStalled(consuming: true, timeout: .seconds(30), at: at(100)))
    }

    @Test func theAgeIsTheOldestTimestampInHandThenTheUnservedBacklogThenZero() {
        var progress = ConsumerProgress()
        #expect(progress.oldestUnappliedAge(at: at(0)) == 0)
        progress.batchRead(oldestPublished: at(-42), at: at(0))
        #expect(progress.oldestUnappliedAge(at: at(3)) == 45)
        progress.batchDone(at: at(3))
        #expect(progress.oldestUnappliedAge(at: at(3)) == 0)
        // A backlog the worker does not get: at least as old as the first poll that saw it.
        progress.polled(ready: 7, at: at(5))
        #expect(progress.oldestUnappliedAge(at: at(5)) == 0)
        #expect(progress.oldestUnappliedAge(at: at(65)) == 60)
        // A delivery without a timestamp counts from when it was read; a clock skewed into
        // the future counts as read now, never negative.
        progress.batchRead(oldestPublished: nil, at: at(70))
        #expect(progress.oldestUnappliedAge(at: at(72)) == 2)
        progress.batchDone(at: at(72))
        progress.batchRead(oldestPublished: at(500), at: at(80))
        #expect(progress.oldestUnappliedAge(at: at(80)) == 0)
    }

    @Test func withTwoBatchesInHandTheAgeIsTheOldestStillHeld() {
        var progress = ConsumerProgress()
        progress.batchRead(oldestPublished: at(-10), at: at(0))
        progress.batchRead(oldestPublished: at(-4), at: at(1))
        #expect(progress.oldestUnappliedAge(at: at(2)) == 12)
        progress.batchDone(at: at(2))
        #expect(progress.oldestUnappliedAge(at: at(2)) == 6, "the first batch is done: the second's oldest event")
        progress.batchDone(at: at(3))
        #expect(progress.oldestUnappliedAge(at: at(3)) == 0)
        #expect(!progress.isStalled(consuming: true, timeout: .seconds(1), at: at(3)))
    }

    @Test func thePollIntervalIsFiveSecondsOrAThirdOfAShortStallTimeout() {
        var options = WorkerOptions()
        #expect(options.stallTimeout == .seconds(30))
        #expect(options.pollInterval == .seconds(5))
        options.stallTimeout = .seconds(3)
        #expect(options.pollInterval == .seconds(1))
        options.stallTimeout = .seconds(1)
        #expect(options.pollInterval == .milliseconds(500))
    }
}
