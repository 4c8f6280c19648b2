@testable import LodeDelivery
import Testing

/// The dispatcher loop's wait: its poll interval, cut short by a finished delivery or a stop.
/// Each wait here is an hour long, so a wait that is not cut short fails by the time limit.
@Suite("The dispatcher's wait between looks at the outbox", .timeLimit(.minutes(1)))
struct DispatchWakeupTests {
    @Test func aSignalEndsAWaitInProgress() async {
        let wakeup = DispatchWakeup()
        let waiting = Task { await wakeup.wait(upTo: .seconds(3600)) }
        // The signal may come before or after the wait begins: either way the wait ends.
        wakeup.signal()
        await waiting.value
    }

    @Test func aSignalWhileNobodyWaitsEndsTheNextWaitAndOnlyThatOne() async {
        let wakeup = DispatchWakeup()
        wakeup.signal()
        wakeup.signal()
        await wakeup.wait(upTo: .seconds(3600))
        // Two signals before it are one: the second wait runs until its (short) interval.
        let clock = ContinuousClock()
        let started = clock.now
        await wakeup.wait(upTo: .milliseconds(200))
        #expect(clock.now - started >= .milliseconds(200))
    }

    @Test func cancellingTheTaskEndsItsWait() async {
        let wakeup = DispatchWakeup()
        let waiting = Task { await wakeup.wait(upTo: .seconds(3600)) }
        waiting.cancel()
        await waiting.value
    }

    @Test func theIntervalEndsAWaitNobodySignals() async {
        let wakeup = DispatchWakeup()
        let clock = ContinuousClock()
        let started = clock.now
        await wakeup.wait(upTo: .milliseconds(50))
        #expect(clock.now - started >= .milliseconds(50))
    }
}
