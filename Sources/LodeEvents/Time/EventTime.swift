/// A point in time as seconds and nanoseconds since 1970-01-01T00:00:00Z.
///
/// Events are ordered by their instant ("latest by `time`"), whatever UTC
/// offset their text was written with.
public struct EventInstant: Sendable, Hashable, Comparable {
    public let secondsSinceEpoch: Int64
    /// 0..<1_000_000_000
    public let nanoseconds: Int32

    /// Creates an instant; `nanoseconds` beyond a second carry into the seconds.
    public init(secondsSinceEpoch: Int64, nanoseconds: Int32 = 0) {
        let carry = Int64(nanoseconds) / 1_000_000_000
        var seconds = secondsSinceEpoch + carry
        var nanos = nanoseconds % 1_000_000_000
        if nanos < 0 {
            nanos += 1_000_000_000
            seconds -= 1
        }
        self.secondsSinceEpoch = seconds
        self.nanoseconds = nanos
    }

    public static func < (lhs: EventInstant, rhs: EventInstant) -> Bool {
        (lhs.secondsSinceEpoch, lhs.nanoseconds) < (rhs.secondsSinceEpoch, rhs.nanoseconds)
    }
}

/// An event's `time`: an RFC 3339 timestamp with an explicit UTC offset,
/// kept as written (``text``) together with the instant it denotes.
///
/// Accepted: `YYYY-MM-DDTHH:MM:SS`, optional fractional seconds of any
/// length (instants keep nanoseconds; further digits are ignored for
/// ordering), then `Z` or `±hh:mm`. `T` and `Z` may be lower case, as
/// RFC 3339 allows. Second 60 (a leap second) is accepted and counts as the
/// first second of the next minute. A time without an offset is refused:
/// its instant would depend on the reader's time zone.
public struct EventTime: Sendable, Hashable, CustomStringConvertible {
    /// The longest time text accepted.
    public static let maxLength = 64

    /// The time exactly as written in the event.
    public let text: String
    /// The instant the text denotes.
    public let instant: EventInstant
    /// The offset the text was written with, in seconds east of UTC.
    public let utcOffsetSeconds: Int

    public var description: String { text }

    /// Parses an RFC 3339 time with an explicit offset.
    public init(parsing text: String) throws(EventTimeError) {
        var utf8 = text
        // String.withUTF8 only rethrows untyped errors, so carry the typed
        // one out in a Result.
        let parsed = try utf8.withUTF8 { buffer in
            Result { () throws(EventTimeError) in try RFC3339Parser(text: text, bytes: buffer).parse() }
        }.get()
        self.text = text
        self.instant = parsed.instant
        self.utcOffsetSeconds = parsed.utcOffsetSeconds
    }

    /// Writes `instant` as an RFC 3339 time at the given offset, e.g.
    /// `2024-05-05T10:00:00+08:00` (`Z` for offset 0), with the nanoseconds
    /// as a fraction when they are not zero. Throws when the offset is not
    /// within ±23:59 or the local year is outside 0000...9999.
    public init(instant: EventInstant, utcOffsetMinutes: Int = 0) throws(EventTimeError) {
        guard (-1439...1439).contains(utcOffsetMinutes) else {
            throw EventTimeError("UTC offset of \(utcOffsetMinutes) minutes is outside ±23:59")
        }
        let local = instant.secondsSinceEpoch + Int64(utcOffsetMinutes) * 60
        let days = CivilCalendar.days(containing: local)
        let date = CivilCalendar.date(daysSinceEpoch: days)
        guard (0...9999).contains(date.year) else {
            throw EventTimeError("year \(date.year) cannot be written in RFC 3339")
        }
        let secondOfDay = Int(local - days * CivilCalendar.secondsPerDay)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        var text = "\(pad(date.year, 4))-\(pad(date.month, 2))-\(pad(date.day, 2))T"
        text += "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
        if instant.nanoseconds != 0 {
            var fraction = pad(Int(instant.nanoseconds), 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        if utcOffsetMinutes == 0 {
            text += "Z"
        } else {
            let magnitude = abs(utcOffsetMinutes)
            text += (utcOffsetMinutes < 0 ? "-" : "+") + "\(pad(magnitude / 60, 2)):\(pad(magnitude % 60, 2))"
        }
        self.text = text
        self.instant = instant
        self.utcOffsetSeconds = utcOffsetMinutes * 60
    }
}

/// Why a text is not an RFC 3339 time with an offset. ``message`` is a
/// sentence fragment that names the text, ready to follow a field name
/// ("time: …").
public struct EventTimeError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String

    init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Reads `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)`.
private struct RFC3339Parser {
    let text: String
    let bytes: UnsafeBufferPointer<UInt8>

    func parse() throws(EventTimeError) -> (instant: EventInstant, utcOffsetSeconds: Int) {
        guard bytes.count <= EventTime.maxLength else {
            throw EventTimeError(
                "expected an RFC 3339 time such as 2024-05-05T10:00:00+08:00, found a text of \(bytes.count) bytes")
        }
        guard bytes.count >= 10, has("-", at: 4), has("-", at: 7),
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2)
        else { throw malformed() }
        if bytes.count == 10 {
            throw EventTimeError("expected an RFC 3339 time with a time of day and a UTC offset, found '\(text)', a date only")
        }
        if has(" ", at: 10) {
            throw EventTimeError("expected an RFC 3339 time, found '\(text)': write 'T' between the date and the time of day")
        }
        guard bytes.count >= 19, has("T", at: 10) || has("t", at: 10), has(":", at: 13), has(":", at: 16),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2)
        else { throw malformed() }

        var index = 19
        var nanoseconds: Int32 = 0
        if has(".", at: index) {
            index += 1
            let fractionStart = index
            while index < bytes.count, isDigit(bytes[index]) {
                if index - fractionStart < 9 {
                    nanoseconds = nanoseconds * 10 + Int32(bytes[index] - UInt8(ascii: "0"))
                }
                index += 1
            }
            guard index > fractionStart else { throw malformed() }
            for _ in min(9, index - fractionStart)..<9 { nanoseconds *= 10 }
        }

        let offsetSeconds: Int
        if index == bytes.count {
            throw EventTimeError(
                "expected an RFC 3339 time with a UTC offset (Z or ±hh:mm), found '\(text)', which has no offset")
        } else if has("Z", at: index) || has("z", at: index) {
            guard index + 1 == bytes.count else { throw malformed() }
            offsetSeconds = 0
        } else if has("+", at: index) || has("-", at: index) {
            guard bytes.count == index + 6, has(":", at: index + 3),
                  let offsetHour = number(index + 1, 2), let offsetMinute = number(index + 4, 2)
            else { throw malformed() }
            guard offsetHour <= 23, offsetMinute <= 59 else {
                throw EventTimeError("UTC offset out of range (hh 00–23, mm 00–59) in '\(text)'")
            }
            let magnitude = offsetHour * 3600 + offsetMinute * 60
            offsetSeconds = has("-", at: index) ? -magnitude : magnitude
        } else {
            throw malformed()
        }

        guard (1...12).contains(month) else {
            throw EventTimeError("month \(twoDigits(month)) is out of range (01–12) in '\(text)'")
        }
        let daysInMonth = CivilCalendar.daysInMonth(year: year, month: month)
        guard (1...daysInMonth).contains(day) else {
            throw EventTimeError(
                "day \(twoDigits(day)) does not exist in \(YearMonth(uncheckedYear: year, month: month)) (it has \(daysInMonth) days) in '\(text)'")
        }
        guard hour <= 23 else { throw EventTimeError("hour \(twoDigits(hour)) is out of range (00–23) in '\(text)'") }
        guard minute <= 59 else { throw EventTimeError("minute \(twoDigits(minute)) is out of range (00–59) in '\(text)'") }
        guard second <= 60 else { throw EventTimeError("second \(twoDigits(second)) is out of range (00–60) in '\(text)'") }

        let days = CivilCalendar.daysSinceEpoch(year: year, month: month, day: day)
        let localSeconds = days * CivilCalendar.secondsPerDay + Int64(hour * 3600 + minute * 60 + second)
        let instant = EventInstant(secondsSinceEpoch: localSeconds - Int64(offsetSeconds), nanoseconds: nanoseconds)
        return (instant, offsetSeconds)
    }

    private func malformed() -> EventTimeError {
        EventTimeError("expected an RFC 3339 time such as 2024-05-05T10:00:00+08:00, found '\(text)'")
    }

    private func has(_ character: Unicode.Scalar, at index: Int) -> Bool {
        index < bytes.count && bytes[index] == UInt8(ascii: character)
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private func number(_ start: Int, _ count: Int) -> Int? {
        guard start + count <= bytes.count else { return nil }
        return decimalValue(UnsafeBufferPointer(rebasing: bytes[start..<(start + count)]))
    }

    private func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : String(value)
    }
}
