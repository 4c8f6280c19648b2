/// What one cell of a worksheet holds, as a spreadsheet program saved it.
public enum CellValue: Sendable, Hashable {
    /// A shared, inline or formula string.
    case text(String)
    /// A number exactly as the file writes it (`1200000000`, `12.5`, `1.2E-3`): never rounded
    /// through a `Double` before its reader decides what it means.
    case number(String)
    case boolean(Bool)
    /// A number shown with a date or time number format: an Excel serial day number (see
    /// ``ExcelDate``), as the file writes it.
    case date(serial: String, format: DateFormatKind)
    /// An error value such as `#DIV/0!` or `#N/A` (a formula that failed).
    case error(String)

    /// The cell as text: strings as they are, numbers and date serials as written, booleans as
    /// `TRUE`/`FALSE`, errors by their code.
    public var text: String {
        switch self {
        case .text(let text): text
        case .number(let number): number
        case .boolean(let value): value ? "TRUE" : "FALSE"
        case .date(let serial, _): serial
        case .error(let code): code
        }
    }

    /// The value as a person reads it in a message.
    public var shown: String {
        switch self {
        case .text(let text): "'\(text)'"
        case .number(let number): number
        case .boolean(let value): value ? "TRUE" : "FALSE"
        case .date(let serial, _): "date serial \(serial)"
        case .error(let code): code
        }
    }
}

/// What a date number format shows.
public enum DateFormatKind: Sendable, Hashable {
    /// A day (`yyyy-mm-dd`, `yyyy"年"m"月"d"日"`).
    case date
    /// A day and a time of day (`yyyy/m/d h:mm`).
    case dateTime
    /// A time of day alone (`h:mm:ss`).
    case time
}

/// One non-empty cell.
public struct WorksheetCell: Sendable, Hashable {
    /// 0-based column (A is 0).
    public var column: Int
    public var value: CellValue

    public init(column: Int, value: CellValue) {
        self.column = column
        self.value = value
    }
}

/// One row that holds at least one cell.
public struct WorksheetRow: Sendable, Hashable {
    /// 1-based, as the spreadsheet numbers it.
    public var number: Int
    /// In column order.
    public var cells: [WorksheetCell]

    public init(number: Int, cells: [WorksheetCell]) {
        self.number = number
        self.cells = cells
    }
}

/// The cells of one worksheet.
public struct Worksheet: Sendable, Hashable {
    public var name: String
    /// In row order; rows without cells are left out.
    public var rows: [WorksheetRow]
    /// Whether the workbook counts days from 1904 (old Mac Excel) rather than 1900.
    public var uses1904Dates: Bool

    public init(name: String, rows: [WorksheetRow], uses1904Dates: Bool = false) {
        self.name = name
        self.rows = rows
        self.uses1904Dates = uses1904Dates
    }
}

/// Column letters: 0 ↔ `A`, 25 ↔ `Z`, 26 ↔ `AA`.
public enum ColumnName {
    public static func letters(_ column: Int) -> String {
        var number = column + 1
        var letters: [Character] = []
        while number > 0 {
            let remainder = (number - 1) % 26
            letters.append(Character(Unicode.Scalar(UInt8(65 + remainder))))
            number = (number - 1) / 26
        }
        return String(letters.reversed())
    }

    /// The 0-based column and 1-based row of a reference such as `D7`, or nil.
    public static func parse(_ reference: String) -> (column: Int, row: Int)? {
        var column = 0
        var row = 0
        var sawLetter = false
        var sawDigit = false
        for scalar in reference.unicodeScalars {
            switch scalar.value {
            case 65...90, 97...122:
                guard !sawDigit else { return nil }
                let value = Int(scalar.value & ~0x20) - 64
                column = column * 26 + value
                guard column <= 16_384 else { return nil }
                sawLetter = true
            case 48...57:
                guard sawLetter else { return nil }
                row = row * 10 + Int(scalar.value - 48)
                guard row <= 1_048_576 else { return nil }
                sawDigit = true
            case 36:  // `$` of an absolute reference
                continue
            default:
                return nil
            }
        }
        guard sawLetter, sawDigit, row >= 1 else { return nil }
        return (column - 1, row)
    }

    /// `D7`.
    public static func reference(column: Int, row: Int) -> String {
        letters(column) + String(row)
    }
}
