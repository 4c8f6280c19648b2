/// The limits of contract section 3, and the ones Lodestone adds where the
/// contract leaves a bound open.
public enum EventLimits {
    /// An event is at most 64 KiB of UTF-8 JSON.
    public static let maxEventBytes = 65_536
    /// A batch message body is at most 1 MiB.
    public static let maxBatchBytes = 1_048_576
    /// A batch holds at most 1,000 events.
    public static let maxBatchEvents = 1_000
    /// A string in `data` is at most 1,000 Unicode scalars.
    public static let maxDataStringScalars = 1_000
    /// `id` and `source` are at most 255 UTF-8 bytes: they travel as the
    /// AMQP `message_id` and `app_id`, which are AMQP short strings.
    public static let maxAttributeBytes = 255
    /// Money is an integer number of yuan, 0 ≤ amount ≤ 10^15.
    public static let moneyRange: ClosedRange<Int64> = 0...1_000_000_000_000_000
    /// The years a `plan_year` or a `period` may name.
    public static let yearRange: ClosedRange<Int64> = 1900...2200
    /// `visitors` is a whole number ≥ 0.
    public static let visitorRange: ClosedRange<Int64> = 0...Int64.max
    /// A `project_id` is 1–64 characters of `A-Za-z0-9._-`.
    public static let projectIDLengths: ClosedRange<Int> = 1...64
}
