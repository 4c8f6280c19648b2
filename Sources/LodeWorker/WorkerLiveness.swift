import LodeAMQP
import LodeWire

extension Worker {
    /// How long ago the worker's consumer last showed it is not stuck: its owner thread went
    /// round its loop (``Consumer/sinceLastTurn``), which it does at least every second or so
    /// while idle, reading, waiting to reconnect, or holding deliveries while the store is paused.
    ///
    /// A paused store is no reason for a service manager to restart the worker (a restart cannot
    /// repair a full disk); a consumer thread stuck in one call is. `lode-worker` sends systemd's
    /// `WATCHDOG=1` only while this stays short.
    public var sinceLastTurn: Duration { consumer.sinceLastTurn }
}

extension Worker {
    /// One line on what the worker is doing, for systemd's `STATUS=` (`systemctl status lode-worker`):
    /// `consuming lode.work: 1200 applied, 3 duplicates, 1 dead-lettered`, or what keeps it from it.
    public var statusLine: String {
        let health = health
        if health.isHealthy { return consumingLine }
        return "\(health.problems.joined(separator: "; ")) (\(countsLine))"
    }

    /// `consuming lode.work: 1200 applied, 3 duplicates, 1 dead-lettered`: the status once
    /// ``start()`` returned (before the connection's first event reaches ``health``).
    public var consumingLine: String { "consuming \(ZoneTopology.workQueue): \(countsLine)" }

    private var countsLine: String {
        let totals = totals
        return "\(totals.applied) applied, \(totals.duplicates) duplicates, \(totals.deadLettered) dead-lettered"
    }
}
