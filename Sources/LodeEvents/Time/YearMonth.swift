/// A calendar month of a year, as the report counts by: the month of an
/// event's time in the zone's time zone, or an investment report's `period`.
public struct YearMonth: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    /// 1...12
    public let month: Int

    /// Creates a month; `nil` unless `month` is 1...12 and `year` 0...9999.
    public init?(year: Int, month: Int) {
        guard (1...12).contains(month), (0...9999).contains(year) else { return nil }
        self.year = year
        self.month = month
    }

    init(uncheckedYear year: Int, month: Int) {
        self.year = year
        self.month = month
    }

    /// Parses exactly `YYYY-MM`; `nil` for anything else, including a month
    /// outside 01...12.
    public init?(period text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 7, utf8[4] == UInt8(ascii: "-"),
              let year = decimalValue(utf8[0..<4]), let month = decimalValue(utf8[5..<7]),
              (1...12).contains(month)
        else { return nil }
        self.year = year
        self.month = month
    }

    public static func < (lhs: YearMonth, rhs: YearMonth) -> Bool {
        (lhs.year, lhs.month) < (rhs.year, rhs.month)
    }

    /// `YYYY-MM`, e.g. `2024-05`.
    public var description: String {
        let yearText = String(year)
        let monthText = month < 10 ? "0\(month)" : String(month)
        return String(repeating: "0", count: max(0, 4 - yearText.count)) + yearText + "-" + monthText
    }
}

/// The value of a run of ASCII digits; `nil` if any byte is not a digit or
/// the run is empty.
func decimalValue(_ digits: some Collection<UInt8>) -> Int? {
    guard !digits.isEmpty else { return nil }
    var value = 0
    for byte in digits {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        value = value * 10 + Int(byte - UInt8(ascii: "0"))
    }
    return value
}
