/// Capped exponential backoff with full jitter, for reconnect attempts.
///
/// The n-th delay is a random duration in [base·2ⁿ / 2, base·2ⁿ], capped at `cap`: the
/// jitter spreads the reconnects of many workers after a broker restart.
public struct Backoff: Sendable {
    public var base: Duration
    public var cap: Duration
    public private(set) var attempt = 0

    public init(base: Duration = .milliseconds(100), cap: Duration = .seconds(10)) {
        self.base = base
        self.cap = cap
    }

    /// The delay before the next attempt; each call doubles the ceiling until `cap`.
    public mutating func nextDelay<G: RandomNumberGenerator>(using generator: inout G) -> Duration {
        let ceiling = Self.ceiling(base: base, cap: cap, attempt: attempt)
        attempt += 1
        let nanos = ceiling.nanoseconds
        guard nanos > 1 else { return ceiling }
        return .nanoseconds(Int64.random(in: (nanos / 2)...nanos, using: &generator))
    }

    public mutating func nextDelay() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return nextDelay(using: &generator)
    }

    public mutating func reset() { attempt = 0 }

    static func ceiling(base: Duration, cap: Duration, attempt: Int) -> Duration {
        guard attempt < 62 else { return cap }
        let (scaled, overflow) = base.nanoseconds.multipliedReportingOverflow(by: Int64(1) << attempt)
        if overflow || scaled > cap.nanoseconds { return cap }
        return .nanoseconds(scaled)
    }
}

extension Duration {
    /// The duration in whole nanoseconds (durations here are far below 292 years).
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    public var seconds: Double { Double(nanoseconds) / 1e9 }
    public var milliseconds: Int64 { nanoseconds / 1_000_000 }
}
