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

/// The CPU time the calling thread has used, in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`): what a
/// stage of work costs, without the time it spent waiting (for the network, a lock, an fsync).
public enum ThreadCPUClock {
    public static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
