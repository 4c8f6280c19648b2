import Testing
@testable import LodeAMQP

@Suite struct BackoffTests {
    /// The ceiling of attempt `n` (0-based) for `base` and `cap`, computed independently.
    func expectedCeiling(base: Duration, cap: Duration, attempt: Int) -> Duration {
        var ceiling = base
        for _ in 0..<attempt {
            if ceiling >= cap { break }
            ceiling *= 2
        }
        return min(ceiling, cap)
    }

    @Test func ceilingDoublesPerAttemptUntilTheCap() {
        let base = Duration.milliseconds(100)
        let cap = Duration.seconds(10)
        let ceilings = (0..<9).map { Backoff.ceiling(base: base, cap: cap, attempt: $0) }
        #expect(ceilings == [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800),
            .milliseconds(1600), .milliseconds(3200), .milliseconds(6400), .seconds(10), .seconds(10),
        ])
    }

    @Test func delaysLieWithinHalfTheCeilingAndTheCeiling() {
        var backoff = Backoff(base: .milliseconds(100), cap: .seconds(10))
        var generator = SplitMix64(seed: 42)
        for attempt in 0..<40 {
            #expect(backoff.attempt == attempt)
            let ceiling = expectedCeiling(base: backoff.base, cap: backoff.cap, attempt: attempt)
            let delay = backoff.nextDelay(using: &generator)
            #expect(delay >= ceiling / 2, "attempt \(attempt): \(delay) < \(ceiling) / 2")
            #expect(delay <= ceiling, "attempt \(attempt): \(delay) > \(ceiling)")
        }
        #expect(backoff.attempt == 40)
    }

    @Test func delaysAreCappedOnceTheCeilingPassesTheCap() {
        var backoff = Backoff(base: .milliseconds(100), cap: .seconds(2))
        var generator = SplitMix64(seed: 7)
        for _ in 0..<5 { _ = backoff.nextDelay(using: &generator) }  // 100, 200, 400, 800, 1600 ms
        for _ in 0..<50 {
            let delay = backoff.nextDelay(using: &generator)
            #expect(delay >= .seconds(1))
            #expect(delay <= .seconds(2))
        }
    }

    @Test func sameSeedGivesTheSameDelays() {
        func delays(seed: UInt64) -> [Duration] {
            var backoff = Backoff()
            var generator = SplitMix64(seed: seed)
            return (0..<20).map { _ in backoff.nextDelay(using: &generator) }
        }
        #expect(delays(seed: 1) == delays(seed: 1))
        #expect(delays(seed: 1) != delays(seed: 2))
    }

    @Test func jitterSpreadsDelaysAcrossTheWholeRange() {
        // Many workers at the cap should not all wait the same: the delays must cover most of
        // [cap/2, cap].
        var generator = SplitMix64(seed: 2024)
        var delays: [Duration] = []
        for _ in 0..<200 {
            var backoff = Backoff(base: .seconds(10), cap: .seconds(10))
            delays.append(backoff.nextDelay(using: &generator))
        }
        let lowest = delays.min()!
        let highest = delays.max()!
        #expect(lowest >= .seconds(5))
        #expect(lowest < .milliseconds(5500))
        #expect(highest <= .seconds(10))
        #expect(highest > .milliseconds(9500))
        #expect(Set(delays).count > 190)
    }

    @Test func resetStartsOverFromTheBase() {
        var backoff = Backoff(base: .milliseconds(100), cap: .seconds(10))
        var generator = SplitMix64(seed: 3)
        for _ in 0..<10 { _ = backoff.nextDelay(using: &generator) }
        #expect(backoff.attempt == 10)
        backoff.reset()
        #expect(backoff.attempt == 0)
        let first = backoff.nextDelay(using: &generator)
        #expect(first >= .milliseconds(50))
        #expect(first <= .milliseconds(100))
        let second = backoff.nextDelay(using: &generator)
        #expect(second >= .milliseconds(100))
        #expect(second <= .milliseconds(200))
    }

    @Test(arguments: [
        (Duration.milliseconds(100), Duration.seconds(10)),
        (Duration.seconds(10), Duration.seconds(3600)),
        (Duration.seconds(1_000_000), Duration.seconds(2_000_000)),
        (Duration.nanoseconds(1), Duration.nanoseconds(1000)),
    ])
    func noOverflowAfterAHundredAttempts(base: Duration, cap: Duration) {
        var backoff = Backoff(base: base, cap: cap)
        var generator = SplitMix64(seed: 99)
        var delays: [Duration] = []
        for _ in 0..<100 { delays.append(backoff.nextDelay(using: &generator)) }
        #expect(backoff.attempt == 100)
        #expect(delays.allSatisfy { $0 >= .zero && $0 <= cap })
        #expect(delays.suffix(50).allSatisfy { $0 >= cap / 2 })
        #expect(Backoff.ceiling(base: base, cap: cap, attempt: 100) == cap)
        #expect(Backoff.ceiling(base: base, cap: cap, attempt: Int.max) == cap)
    }

    @Test func baseAboveTheCapIsCappedFromTheFirstAttempt() {
        var backoff = Backoff(base: .seconds(30), cap: .seconds(10))
        var generator = SplitMix64(seed: 5)
        let delay = backoff.nextDelay(using: &generator)
        #expect(delay >= .seconds(5))
        #expect(delay <= .seconds(10))
    }

    @Test func zeroBaseGivesZeroDelays() {
        var backoff = Backoff(base: .zero, cap: .seconds(10))
        var generator = SplitMix64(seed: 5)
        for _ in 0..<5 { #expect(backoff.nextDelay(using: &generator) == .zero) }
    }

    @Test func defaultsAreHundredMillisecondsToTenSeconds() {
        let backoff = Backoff()
        #expect(backoff.base == .milliseconds(100))
        #expect(backoff.cap == .seconds(10))
        #expect(backoff.attempt == 0)
    }

    @Test func systemGeneratorDelayStaysInRange() {
        var backoff = Backoff(base: .milliseconds(100), cap: .seconds(10))
        let delay = backoff.nextDelay()
        #expect(delay >= .milliseconds(50))
        #expect(delay <= .milliseconds(100))
        #expect(backoff.attempt == 1)
    }

    /// The factor stops growing at 2^30, so a base below cap / 2^30 never reaches the cap.
    @Test
    func tinyBaseStillReachesTheCap() {
        #expect(Backoff.ceiling(base: .nanoseconds(1), cap: .seconds(10), attempt: 100) == .seconds(10))
    }

    @Test func durationNanosecondsConversion() {
        #expect(Duration.seconds(3).nanoseconds == 3_000_000_000)
        #expect(Duration.milliseconds(1500).nanoseconds == 1_500_000_000)
        #expect(Duration.nanoseconds(7).nanoseconds == 7)
        #expect(Duration.milliseconds(250).seconds == 0.25)
    }
}
