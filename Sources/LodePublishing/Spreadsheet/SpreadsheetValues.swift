import Foundation
import LodeEvents
import LodeJSON
import LodeWorkbook

/// Turns a spreadsheet cell into the text of a field's JSON value, by the spreadsheet
/// conventions (contract section 2): amounts in a header's unit, dates and times without an
/// offset in the zone's time zone, Chinese names of categories and statuses, `是`/`否`.
struct SpreadsheetValues: Sendable {
    let calendar: ZoneCalendar
    let uses1904Dates: Bool

    /// The text `EventRowReader` reads for a field of `kind`, or why the cell cannot be one.
    func text(_ value: CellValue, column: String, kind: DataField.Kind?, unit: SpreadsheetVocabulary.MoneyUnit?) -> Result<String, FieldProblem> {
        if case .error(let code) = value {
            return .failure(FieldProblem("the cell holds the error \(code) (a formula that failed)"))
        }
        switch column {
        case "time": return time(value)
        case "id", "source":
            return plainText(value)
        default: break
        }
        guard let kind else { return plainText(value) }
        switch kind {
        case .money:
            return money(value, unit: unit ?? .yuan)
        case .year, .count:
            return wholeNumber(value)
        case .boolean:
            switch value {
            case .boolean(let flag): return .success(flag ? "true" : "false")
            case .number("1"): return .success("true")
            case .number("0"): return .success("false")
            default:
                let text = displayText(value).trimmingCharacters(in: .whitespaces)
                switch text.lowercased() {
                case "true", "是", "y", "yes", "1": return .success("true")
                case "false", "否", "n", "no", "0": return .success("false")
                default: return .failure(FieldProblem("expected 是 or 否 (true or false), found '\(text)'"))
                }
            }
        case .category:
            let text = displayText(value).trimmingCharacters(in: .whitespaces)
            guard let category = Category(named: text) else { return .failure(Self.unknownCategory(text)) }
            return .success(category.rawValue)
        case .categories:
            let separators: Set<Character> = [";", "；", ",", "，", "、", "\n"]
            let items = displayText(value).split(whereSeparator: { separators.contains($0) })
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            var codes: [String] = []
            for item in items {
                guard let category = Category(named: item) else { return .failure(Self.unknownCategory(item)) }
                codes.append(category.rawValue)
            }
            return .success(codes.joined(separator: ";"))
        case .projectStatus:
            let text = displayText(value).trimmingCharacters(in: .whitespaces)
            guard let status = ProjectStatus(named: text) else {
                let names = ProjectStatus.allCases.map { "\($0.name(in: .simplifiedChinese)) (\($0.rawValue))" }
                return .failure(FieldProblem("'\(text)' is not a status; the statuses are \(names.joined(separator: ", "))"))
            }
            return .success(status.rawValue)
        case .period:
            return period(value)
        case .text, .projectID:
            return plainText(value)
        }
    }

    static func unknownCategory(_ text: String) -> FieldProblem {
        let names = Category.allCases.map { "\($0.name(in: .simplifiedChinese)) (\($0.rawValue))" }
        return FieldProblem("'\(text)' is not a category; the categories are \(names.joined(separator: ", "))")
    }

    private func displayText(_ value: CellValue) -> String { value.text }

    private func plainText(_ value: CellValue) -> Result<String, FieldProblem> {
        switch value {
        case .date(let serial, let format):
            guard let date = ExcelDate(serial: serial, uses1904Dates: uses1904Dates) else {
                return .failure(FieldProblem("the date cell holds \(serial), which is no date"))
            }
            return .success(format == .date ? Self.dayText(date) : Self.dayText(date) + " " + Self.clockText(date))
        case .number(let number):
            // A whole number typed into a text column (a numeric id): its digits.
            if let whole = ExactDecimal(number)?.wholeNumberText { return .success(whole) }
            return .success(number)
        default:
            return .success(displayText(value))
        }
    }

    // MARK: Numbers

    private func wholeNumber(_ value: CellValue) -> Result<String, FieldProblem> {
        switch value {
        case .number(let number):
            guard let decimal = ExactDecimal(number), let whole = decimal.wholeNumberText else {
                return .failure(FieldProblem("expected a whole number, found \(number)"))
            }
            return .success(whole)
        case .text(let text):
            return FieldText.integer(text.trimmingCharacters(in: .whitespaces)).map { json in
                if case .number(let number) = json { return number.text }
                return text.trimmingCharacters(in: .whitespaces)
            }
        case .date(let serial, _):
            return .failure(FieldProblem("expected a whole number, found a date (serial \(serial)); format the column as a number"))
        default:
            return .failure(FieldProblem("expected a whole number, found \(value.shown)"))
        }
    }

    /// An amount in `unit`, exactly in yuan: `12.5` 万元 is 125000; `0.00001` 万元 is 0.1 yuan, an error.
    private func money(_ value: CellValue, unit: SpreadsheetVocabulary.MoneyUnit) -> Result<String, FieldProblem> {
        let text: String
        switch value {
        case .number(let number):
            text = number
        case .text(let written):
            text = written.trimmingCharacters(in: .whitespaces)
            if text.contains(","), text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "," || $0 == ".") }) {
                return .failure(FieldProblem("expected a number in plain digits, found '\(text)'; write it without thousands separators"))
            }
            if let decimal = ExactDecimal(text), decimal.hasExponent {
                return .failure(FieldProblem("""
                    found \(text), a number in scientific notation (how spreadsheets show large numbers); \
                    write it in plain digits: format the column as a number with no decimals before exporting
                    """))
            }
        case .date(let serial, _):
            return .failure(FieldProblem("expected an amount, found a date (serial \(serial)); format the column as a number"))
        default:
            return .failure(FieldProblem("expected an amount, found \(value.shown)"))
        }
        guard let decimal = ExactDecimal(text) else {
            return .failure(FieldProblem("expected an amount in \(unit.rawValue), found '\(text)'"))
        }
        guard !decimal.negative else {
            return .failure(FieldProblem("expected an amount of at least 0, found \(text)"))
        }
        guard let yuan = decimal.times(unit.yuan) else {
            return .failure(FieldProblem("\(decimal.plainText) \(unit.rawValue) is more than 10^15 yuan"))
        }
        guard let whole = yuan.wholeNumberText else {
            if unit == .yuan {
                return .failure(FieldProblem("expected a whole number of yuan, found \(text)"))
            }
            return .failure(FieldProblem("\(decimal.plainText) \(unit.rawValue) is \(yuan.plainText) yuan, not a whole number of yuan"))
        }
        return .success(whole)
    }

    // MARK: Times

    /// An RFC 3339 time: one with an offset as written; a date and time, or a date alone, on the
    /// zone's wall clock; a date cell by its serial, on the zone's wall clock.
    private func time(_ value: CellValue) -> Result<String, FieldProblem> {
        switch value {
        case .date(let serial, let format):
            guard format != .time else {
                return .failure(FieldProblem("the cell holds a time of day only; the time needs a date too"))
            }
            guard let date = ExcelDate(serial: serial, uses1904Dates: uses1904Dates) else {
                return .failure(FieldProblem("the date cell holds \(serial), which is no date"))
            }
            return zoneTime(date)
        case .number(let number):
            return .failure(FieldProblem("expected a date and time, found the number \(number); format the cell as a date (or write 2024-03-05 09:30)"))
        case .text(let text):
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if (try? EventTime(parsing: trimmed)) != nil { return .success(trimmed) }
            guard let date = LocalDateTime.parse(trimmed) else {
                return .failure(FieldProblem("""
                    expected a date and time such as 2024-03-05 09:30, 2024/3/5 9:30, 2024年3月5日 or \
                    2024-03-05T09:30:00+08:00, found '\(trimmed)'
                    """))
            }
            return zoneTime(date)
        default:
            return .failure(FieldProblem("expected a date and time, found \(value.shown)"))
        }
    }

    /// A wall-clock time in the zone as RFC 3339 with the zone's offset then.
    private func zoneTime(_ date: ExcelDate) -> Result<String, FieldProblem> {
        guard (1...9999).contains(date.year) else { return .failure(FieldProblem("the year \(date.year) is out of range")) }
        let local = date.secondsSince1970

        // The offset at the instant the wall time would be in UTC, then at the corrected instant.
        var offset = calendar.utcOffsetSeconds(at: EventInstant(secondsSinceEpoch: local))
        offset = calendar.utcOffsetSeconds(at: EventInstant(secondsSinceEpoch: local - Int64(offset)))
        do {
            let time = try EventTime(instant: EventInstant(secondsSinceEpoch: local - Int64(offset)), utcOffsetMinutes: offset / 60)
            return .success(time.text)
        } catch {
            return .failure(FieldProblem(error.message))
        }
    }

    /// `YYYY-MM`: as written, from `2024/5`, `2024年5月`, or a date (text or cell) in the month.
    private func period(_ value: CellValue) -> Result<String, FieldProblem> {
        func month(_ year: Int, _ month: Int) -> String {
            String(format: "%04d-%02d", year, month)
        }
        switch value {
        case .date(let serial, _):
            guard let date = ExcelDate(serial: serial, uses1904Dates: uses1904Dates) else {
                return .failure(FieldProblem("the date cell holds \(serial), which is no date"))
            }
            return .success(month(date.year, date.month))
        case .text(let text):
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if let parsed = LocalDateTime.parseMonth(trimmed) { return .success(month(parsed.year, parsed.month)) }
            if let date = LocalDateTime.parse(trimmed) { return .success(month(date.year, date.month)) }
            return .success(trimmed)  // validation says what a period looks like
        default:
            return .failure(FieldProblem("expected a month such as 2024-05, found \(value.shown)"))
        }
    }

    static func dayText(_ date: ExcelDate) -> String {
        String(format: "%04d-%02d-%02d", date.year, date.month, date.day)
    }

    static func clockText(_ date: ExcelDate) -> String {
        String(format: "%02d:%02d:%02d", date.secondOfDay / 3600, date.secondOfDay / 60 % 60, date.secondOfDay % 60)
    }
}

/// Dates and times as people type them, without an offset.
enum LocalDateTime {
    /// `2024-03-05`, `2024/3/5`, `2024.3.5`, `2024年3月5日`, each optionally followed (after a
    /// space or `T`) by `9:30` or `09:30:15` (a fraction of a second is dropped).
    static func parse(_ text: String) -> ExcelDate? {
        var rest = Substring(text)
        guard let year = number(&rest, digits: 4...4) else { return nil }
        guard let separator = rest.first, "-/.年".contains(separator) else { return nil }
        rest.removeFirst()
        guard let month = number(&rest, digits: 1...2) else { return nil }
        let daySeparator: Character = separator == "年" ? "月" : separator
        guard rest.first == daySeparator else { return nil }
        rest.removeFirst()
        guard let day = number(&rest, digits: 1...2) else { return nil }
        if separator == "年" {
            guard rest.first == "日" || rest.first == "号" else { return nil }
            rest.removeFirst()
        }
        guard (1...12).contains(month), day >= 1, day <= daysIn(year: year, month: month) else { return nil }
        var secondOfDay = 0
        let spaces = rest.prefix { $0 == " " || $0 == "T" || $0 == "t" }
        rest = rest.dropFirst(spaces.count)
        if !rest.isEmpty {
            guard !spaces.isEmpty, let hour = number(&rest, digits: 1...2), rest.first == ":" else { return nil }
            rest.removeFirst()
            guard let minute = number(&rest, digits: 2...2) else { return nil }
            var second = 0
            if rest.first == ":" {
                rest.removeFirst()
                guard let value = number(&rest, digits: 2...2) else { return nil }
                second = value
                if rest.first == "." {
                    rest.removeFirst()
                    while let first = rest.first, first.isASCII, first.isNumber { rest.removeFirst() }
                }
            }
            guard rest.isEmpty, hour < 24, minute < 60, second < 60 else { return nil }
            secondOfDay = hour * 3600 + minute * 60 + second
        }
        return ExcelDate(year: year, month: month, day: day, secondOfDay: secondOfDay)
    }

    /// `2024-05`, `2024/5`, `2024.05`, `2024年5月`.
    static func parseMonth(_ text: String) -> (year: Int, month: Int)? {
        var rest = Substring(text)
        guard let year = number(&rest, digits: 4...4), let separator = rest.first, "-/.年".contains(separator) else { return nil }
        rest.removeFirst()
        guard let month = number(&rest, digits: 1...2), (1...12).contains(month) else { return nil }
        if separator == "年" {
            guard rest.first == "月" else { return nil }
            rest.removeFirst()
        }
        return rest.isEmpty ? (year, month) : nil
    }

    private static func number(_ text: inout Substring, digits: ClosedRange<Int>) -> Int? {
        let run = text.prefix { $0.isASCII && $0.isNumber }
        guard digits.contains(run.count), let value = Int(run) else { return nil }
        text = text.dropFirst(run.count)
        return value
    }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// A decimal number exactly as written (`12.5`, `1.2E+9`, `-3`): digits and a power of ten, no
/// rounding through binary floating point.
struct ExactDecimal: Sendable, Hashable {
    var negative: Bool
    /// The significant digits, without leading zeros (empty for zero).
    var digits: [UInt8]
    /// The value is digits × 10^exponent.
    var exponent: Int
    var hasExponent: Bool

    init?(_ text: String) {
        var bytes = Array(text.utf8)[...]
        negative = bytes.first == UInt8(ascii: "-")
        if negative || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        var digits: [UInt8] = []
        var exponent = 0
        var sawDigit = false
        var sawPoint = false
        while let byte = bytes.first {
            if byte >= 48 && byte <= 57 {
                sawDigit = true
                if !(digits.isEmpty && byte == 48) { digits.append(byte - 48) }
                if sawPoint { exponent -= 1 }
                if digits.count > 40 { return nil }
            } else if byte == UInt8(ascii: "."), !sawPoint {
                sawPoint = true
            } else {
                break
            }
            bytes = bytes.dropFirst()
        }
        guard sawDigit else { return nil }
        hasExponent = false
        if let e = bytes.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            var exponentNegative = false
            if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                exponentNegative = sign == UInt8(ascii: "-")
                bytes = bytes.dropFirst()
            }
            guard !bytes.isEmpty, bytes.count <= 4, bytes.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let value = Int(String(decoding: bytes, as: UTF8.self)) else { return nil }
            exponent += exponentNegative ? -value : value
            hasExponent = true
            bytes = bytes[bytes.endIndex...]
        }
        guard bytes.isEmpty else { return nil }
        // Trailing zeros of the digits move into the exponent.
        while let last = digits.last, last == 0 {
            digits.removeLast()
            exponent += 1
        }
        if digits.isEmpty { exponent = 0 }
        self.digits = digits
        self.exponent = exponent
    }

    /// × `factor` (a power of ten), or nil past 10^18.
    func times(_ factor: Int64) -> ExactDecimal? {
        var result = self
        var power = factor
        while power >= 10 {
            guard power % 10 == 0 else { return nil }
            result.exponent += 1
            power /= 10
        }
        guard !result.digits.isEmpty else { return result }
        guard result.digits.count + result.exponent <= 18 else { return nil }
        return result
    }

    /// The whole number in plain digits, or nil when it has a fraction (or is huge).
    var wholeNumberText: String? {
        if digits.isEmpty { return "0" }
        guard exponent >= 0, digits.count + exponent <= 40 else { return nil }
        return (negative ? "-" : "") + digits.map(String.init).joined() + String(repeating: "0", count: exponent)
    }

    /// The value in plain digits with a decimal point where needed: `0.1`.
    var plainText: String {
        if digits.isEmpty { return "0" }
        if exponent >= 0 { return wholeNumberText ?? "0" }
        let all = digits.map(String.init).joined()
        let places = -exponent
        let padded = String(repeating: "0", count: max(0, places - all.count + 1)) + all
        let split = padded.index(padded.endIndex, offsetBy: -places)
        return (negative ? "-" : "") + padded[..<split] + "." + padded[split...]
    }
}
