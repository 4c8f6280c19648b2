/// The worker's own settings as flags give them; `nil` when not given.
public struct WorkerFlags: Sendable, Equatable {
    public var prefetch: Int?
    public var transactionEvents: Int?
    public var transactionMilliseconds: Int?
    public var notificationGiveUpHours: Int?
    public var stallSeconds: Int?

    public init(prefetch: Int? = nil, transactionEvents: Int? = nil, transactionMilliseconds: Int? = nil,
                notificationGiveUpHours: Int? = nil, stallSeconds: Int? = nil) {
        self.stallSeconds = stallSeconds
        self.prefetch = prefetch
        self.transactionEvents = transactionEvents
        self.transactionMilliseconds = transactionMilliseconds
        self.notificationGiveUpHours = notificationGiveUpHours
    }
}

/// The worker's tuning as the flags and the config file's `worker:` section give it, flags first;
/// `nil` where neither does (the worker's defaults then hold). Plain values: the executable hands
/// them to the worker.
public struct WorkerTuning: Sendable, Equatable {
    public var prefetch: Int?
    public var transactionEvents: Int?
    public var transactionMilliseconds: Int?
    public var notificationGiveUpHours: Int?
    public var stallSeconds: Int?

    public init() {}

    /// The keys of the config file's `worker` section.
    public static let configKeys = ["prefetch", "transaction_events", "transaction_ms", "notification_give_up_hours", "stall_seconds"]
    static let prefetchRange = 1...65535
    static let transactionEventsRange = 1...100_000
    static let transactionMillisecondsRange = 0...60_000
    static let giveUpHoursRange = 1...24 * 365
    static let stallSecondsRange = 1...3600

    /// Flags over the config file's `worker` section. A flag out of range is a usage error (exit
    /// 64); a bad config value a config error with its line (exit 78).
    public static func resolve(flags: WorkerFlags, config: ConfigFile?) throws(SettingsError) -> WorkerTuning {
        var tuning = WorkerTuning()
        let file = try config?.scalars(of: "worker", keys: configKeys) ?? [:]
        func pick(_ flag: Int?, _ name: String, _ key: String, _ range: ClosedRange<Int>) throws(SettingsError) -> Int? {
            if let flag {
                guard range.contains(flag) else {
                    throw SettingsError(.usage, "--\(name) must be from \(range.lowerBound) to \(range.upperBound), got \(flag)")
                }
                return flag
            }
            guard let config, let entry = file[key] else { return nil }
            return try config.integer(entry, key: "worker.\(key)", in: range)
        }
        tuning.prefetch = try pick(flags.prefetch, "prefetch", "prefetch", prefetchRange)
        tuning.transactionEvents = try pick(flags.transactionEvents, "transaction-events", "transaction_events", transactionEventsRange)
        tuning.transactionMilliseconds = try pick(flags.transactionMilliseconds, "transaction-ms", "transaction_ms",
                                                  transactionMillisecondsRange)
        tuning.notificationGiveUpHours = try pick(flags.notificationGiveUpHours, "notification-give-up-hours",
                                                  "notification_give_up_hours", giveUpHoursRange)
        tuning.stallSeconds = try pick(flags.stallSeconds, "stall-seconds", "stall_seconds", stallSecondsRange)
        return tuning
    }
}
