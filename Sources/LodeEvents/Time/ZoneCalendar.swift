import Foundation

/// The zone's calendar: which year and month an event counts in.
///
/// A year or a month is taken from an event's `time` in the zone's time zone
/// (config `timezone`, default `Asia/Shanghai`), except for an investment
/// report, whose year and month are its `period`: see ``reportingMonth(of:)``.
///
/// Offsets come from Foundation's `TimeZone`, read once at creation into a
/// table of offset changes for 1900–2200; looking up a time in that range
/// is a binary search and never calls Foundation. Times outside it ask
/// `TimeZone` directly.
public struct ZoneCalendar: Sendable {
    /// The zone's default time zone.
    public static let defaultTimeZoneIdentifier = "Asia/Shanghai"

    /// The IANA identifier the calendar was made from, e.g. `Asia/Shanghai`.
    public let timeZoneIdentifier: String
    private let timeZone: TimeZone
    /// The instants (seconds since the epoch) from which `offsets` apply,
    /// ascending; the first is the start of the table.
    private let changeInstants: [Int64]
    private let offsets: [Int32]
    private let tableEnd: Int64

    private static let tableStart: Int64 = -2_208_988_800  // 1900-01-01T00:00:00Z
    private static let tableLimit: Int64 = 7_258_118_400   // 2200-01-01T00:00:00Z

    /// Creates the calendar of an IANA time zone. Throws
    /// ``ZoneCalendarError`` when the identifier is not a known time zone.
    public init(timeZoneIdentifier: String = ZoneCalendar.defaultTimeZoneIdentifier) throws(ZoneCalendarError) {
        guard !timeZoneIdentifier.isEmpty, let timeZone = TimeZone(identifier: timeZoneIdentifier) else {
            throw ZoneCalendarError(timeZoneIdentifier: timeZoneIdentifier)
        }
        self.timeZoneIdentifier = timeZoneIdentifier
        self.timeZone = timeZone

        var instants = [Self.tableStart]
        var offsets = [Int32(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(Self.tableStart))))]
        var cursor = Date(timeIntervalSince1970: Double(Self.tableStart))
        var tableEnd = Self.tableLimit
        while let next = timeZone.nextDaylightSavingTimeTransition(after: cursor) {
            let seconds = Int64(next.timeIntervalSince1970.rounded(.down))
            if seconds >= Self.tableLimit { break }
            guard next > cursor, seconds > instants[instants.count - 1] else {
                // The transition list stopped making progress: trust the
                // table only up to here and ask TimeZone beyond it.
                tableEnd = instants[instants.count - 1]
                break
            }
            let offset = Int32(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))))
            if offset != offsets[offsets.count - 1] {
                instants.append(seconds)
                offsets.append(offset)
            }
            cursor = next
        }
        self.changeInstants = instants
        self.offsets = offsets
        self.tableEnd = tableEnd
    }

    /// The zone's UTC offset, in seconds, at `instant`.
    public func utcOffsetSeconds(at instant: EventInstant) -> Int {
        let seconds = instant.secondsSinceEpoch
        guard seconds >= Self.tableStart, seconds < tableEnd else {
            return timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds)))
        }
        // The last change at or before `seconds`.
        var low = 0
        var high = changeInstants.count
        while high - low > 1 {
            let middle = (low + high) / 2
            if changeInstants[middle] <= seconds { low = middle } else { high = middle }
        }
        return Int(offsets[low])
    }

    /// The year and month of `instant` on the zone's wall clock.
    public func yearMonth(of instant: EventInstant) -> YearMonth {
        let local = instant.secondsSinceEpoch + Int64(utcOffsetSeconds(at: instant))
        let date = CivilCalendar.date(daysSinceEpoch: CivilCalendar.days(containing: local))
        return YearMonth(uncheckedYear: date.year, month: date.month)
    }

    /// The year and month of an event time on the zone's wall clock,
    /// whatever offset the time was written with: `2023-12-31T16:30:00Z` is
    /// 2024-01 in Asia/Shanghai.
    public func yearMonth(of time: EventTime) -> YearMonth {
        yearMonth(of: time.instant)
    }

    /// The month an event counts in: an investment report's `period`; for
    /// every other event, the month of its `time` in the zone.
    public func reportingMonth(of event: Event) -> YearMonth {
        // Checking the type first avoids copying every other payload.
        if event.type == .investmentReported, case .investmentReported(let report) = event.data {
            return report.period
        }
        return yearMonth(of: event.time)
    }
}

/// A time zone identifier that is not a known IANA time zone.
public struct ZoneCalendarError: Error, Sendable, Hashable, CustomStringConvertible {
    public let timeZoneIdentifier: String

    public var description: String {
        "unknown time zone '\(timeZoneIdentifier)': expected an IANA time zone identifier such as Asia/Shanghai"
    }
}
