/// Excel's serial dates: a day number and a fraction of a day, counted from the workbook's epoch.
///
/// - The 1900 system (Windows Excel, LibreOffice): day 1 is 1900-01-01, and day 60 is the
///   1900-02-29 that never was (Lotus 1-2-3's leap-year bug, kept for compatibility); from day
///   61 on, day N is 1899-12-30 + N days.
/// - The 1904 system (`<workbookPr date1904="1"/>`, old Mac Excel): day 0 is 1904-01-01.
///
/// The fraction is the time of day, rounded to the nearest second (a file stores it as a binary
/// fraction: 9:30 is 0.39583333333333331).
public struct ExcelDate: Sendable, Hashable {
    public var year: Int
    public var month: Int
    public var day: Int
    /// Seconds since midnight, 0..<86400.
    public var secondOfDay: Int

    public init(year: Int, month: Int, day: Int, secondOfDay: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.secondOfDay = secondOfDay
    }

    /// The date a serial stands for, or nil when it is not a number, negative, or beyond 9999.
    public init?(serial text: String, uses1904Dates: Bool) {
        guard let serial = Double(text), serial.isFinite, serial >= 0, serial < 2_958_466 else { return nil }
        // Whole seconds, rounded: the day and time come from the same rounded count.
        let totalSeconds = Int64((serial * 86_400).rounded())
        var days = totalSeconds / 86_400
        let secondOfDay = Int(totalSeconds % 86_400)
        // Days since 1970-01-01 of the serial's day.
        let epochOffset: Int64
        if uses1904Dates {
            epochOffset = -24_107  // 1904-01-01
        } else {
            if days == 60 { return nil }  // 1900-02-29 does not exist
            if days < 60 { days += 1 }     // before the phantom day, one day later than the formula says
            epochOffset = -25_569  // 1899-12-30
        }
        let (year, month, day) = Self.civil(daysSince1970: days + epochOffset)
        self.init(year: year, month: month, day: day, secondOfDay: secondOfDay)
    }

    /// The serial of this date and time in the 1900 system (`45356.395833…`), as a number Excel
    /// and LibreOffice show with a date format.
    public var serial1900: Double {
        var days = Self.daysSince1970(year: year, month: month, day: day) + 25_569
        if days <= 60 { days -= 1 }
        return Double(days) + Double(secondOfDay) / 86_400
    }

    /// Seconds since 1970-01-01T00:00:00 of this wall-clock time, as if it were UTC.
    public var secondsSince1970: Int64 {
        Self.daysSince1970(year: year, month: month, day: day) * 86_400 + Int64(secondOfDay)
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
    static func civil(daysSince1970 z0: Int64) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
    }

    static func daysSince1970(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

/// Which number formats show a number as a date or a time.
public enum NumberFormat {
    /// What a built-in format id shows, when it is a date or time: 14–22 and 45–47 in every
    /// locale, 27–36 and 50–58 the East Asian built-ins (`yyyy"年"m"月"`, ...).
    public static func builtInDateKind(_ id: Int) -> DateFormatKind? {
        switch id {
        case 14, 15, 16, 17: .date
        case 18, 19, 20, 21, 45, 46, 47: .time
        case 22: .dateTime
        case 27...31, 34...36, 50...58: .date
        case 32, 33: .time
        default: nil
        }
    }

    /// What a format code shows, when it is a date or time: its date and time letters
    /// (`y m d h s`, and `e`/`g` of East Asian eras) outside quoted text, escapes and `[...]`
    /// colour or locale tags. `[h]:mm` (elapsed time) counts as a time.
    public static func dateKind(ofCode code: String) -> DateFormatKind? {
        let lowered = code.lowercased()
        if lowered == "general" || lowered == "@" || lowered.isEmpty { return nil }
        var hasDate = false
        var hasTime = false
        var hasMonthOrMinute = false
        var inQuote = false
        var scalars = code.unicodeScalars.makeIterator()
        // Only the first section (positive numbers) matters.
        while let scalar = scalars.next() {
            if inQuote {
                if scalar == "\"" { inQuote = false }
                continue
            }
            switch scalar {
            case "\"": inQuote = true
            case "\\", "_", "*": _ = scalars.next()  // an escaped or padding character
            case ";": break
            case "[":
                var tag = ""
                while let next = scalars.next(), next != "]" { tag.unicodeScalars.append(next) }
                let lowered = tag.lowercased()
                if !lowered.isEmpty, lowered.allSatisfy({ $0 == "h" || $0 == "m" || $0 == "s" }) { hasTime = true }
            case "y", "Y", "d", "D", "e", "E", "g", "G":
                // `E` after a digit placeholder is scientific notation (`0.00E+00`), not an era.
                if scalar == "e" || scalar == "E", code.contains("0E") || code.contains("0e") || code.contains("#E") { continue }
                hasDate = true
            case "h", "H", "s", "S": hasTime = true
            case "m", "M": hasMonthOrMinute = true
            case "0", "#", "?":
                // A digit placeholder: a number format, unless it is the fraction of seconds (`ss.000`).
                if !hasTime { return nil }
            default: continue
            }
            if scalar == ";" { break }
        }
        if hasDate && hasTime { return .dateTime }
        if hasDate || (hasMonthOrMinute && !hasTime) { return .date }
        if hasTime { return .time }
        return nil
    }
}
