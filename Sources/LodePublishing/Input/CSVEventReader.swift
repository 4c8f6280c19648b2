import LodeEvents
import LodeWorkbook

/// Reads the events of a CSV file exported from a spreadsheet (contract section 2): in UTF-8
/// (with or without a byte order mark), GB18030/GBK or UTF-16 with a byte order mark
/// (tab-separated, Excel's "Unicode text"), detected or named; one event type per file or a
/// `type` column; a header row naming the columns; one event per row, by the spreadsheet
/// conventions of ``SpreadsheetEventReader``.
public struct CSVEventReader: Sendable {
    public let spreadsheet: SpreadsheetEventReader
    /// The encoding to read; nil detects it.
    public let encoding: TextEncoding?
    /// The name used in problems, e.g. `projects.csv` or `<stdin>`.
    public var fileName: String { spreadsheet.fileName }

    public init(type: EventType?, fileName: String, defaultSource: String, defaultTime: EventTime? = nil,
                calendar: ZoneCalendar, encoding: TextEncoding? = nil) {
        spreadsheet = SpreadsheetEventReader(fileName: fileName, type: type, defaultSource: defaultSource,
                                             defaultTime: defaultTime, calendar: calendar)
        self.encoding = encoding
    }

    /// The events of the file, or every problem found in it (header problems alone when the
    /// header is wrong: then no row can be read).
    public func read(_ bytes: [UInt8]) throws(InvalidInput) -> ReadEvents {
        let decoded: DecodedText
        do {
            decoded = try TextEncoding.decode(bytes, forced: encoding)
        } catch {
            throw InvalidInput([InputProblem(file: fileName, line: error.line, message: error.message)])
        }
        var utf8 = Array(decoded.text.utf8)
        if utf8.starts(with: [0xEF, 0xBB, 0xBF]) { utf8.removeFirst(3) }
        let records: [CSVRecord]
        do {
            records = try CSVRecords.parse(utf8, delimiter: CSVRecords.delimiter(of: utf8))
        } catch {
            throw InvalidInput([InputProblem(file: fileName, line: error.line, message: error.message)])
        }
        guard let header = records.first else {
            throw InvalidInput([InputProblem(file: fileName, line: 1, message: "the file is empty: expected a header row naming the columns")])
        }
        func row(_ record: CSVRecord) -> SheetTable.Row {
            var cells: [Int: CellValue] = [:]
            for (column, text) in record.cells.enumerated() where !text.isEmpty { cells[column] = .text(text) }
            return SheetTable.Row(number: record.line, cells: cells, width: record.cells.count)
        }
        return try spreadsheet.read(SheetTable(sheet: nil, header: row(header), rows: records.dropFirst().map(row)))
    }
}

/// Reads the events of one sheet of an `.xlsx` workbook by the spreadsheet conventions of
/// ``SpreadsheetEventReader``; every problem names its cell (`book.xlsx:项目登记!D7: …`).
public struct WorkbookEventReader: Sendable {
    public let spreadsheet: SpreadsheetEventReader
    /// The sheet to read; nil reads the first.
    public let sheet: String?

    public init(type: EventType?, fileName: String, sheet: String?, defaultSource: String, defaultTime: EventTime? = nil,
                calendar: ZoneCalendar) {
        spreadsheet = SpreadsheetEventReader(fileName: fileName, type: type, defaultSource: defaultSource,
                                             defaultTime: defaultTime, calendar: calendar)
        self.sheet = sheet
    }

    public func read(_ bytes: [UInt8]) throws(InvalidInput) -> ReadEvents {
        let worksheet: Worksheet
        do {
            worksheet = try WorkbookReader(bytes: bytes).sheet(named: sheet)
        } catch {
            throw InvalidInput([InputProblem(file: spreadsheet.fileName, line: 1, cell: sheet, message: error.message)])
        }
        guard let table = SheetTable(worksheet) else {
            throw InvalidInput([InputProblem(file: spreadsheet.fileName, line: 1, cell: "\(worksheet.name)!A1",
                                             message: "the sheet is empty: expected a header row naming the columns")])
        }
        return try spreadsheet.read(table)
    }
}
