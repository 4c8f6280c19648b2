import Glibc

/// Nanoseconds on the monotonic clock: cheap (vDSO) and immune to wall-clock changes.
enum MonotonicClock {
    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    static func after(_ duration: Duration) -> UInt64 {
        now() &+ UInt64(max(0, duration.nanoseconds))
    }
}
