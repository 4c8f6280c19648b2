import Foundation
import LodeEvents
import LodeJSON
import LodeWorkbook

/// A sheet of cells with a header row: a CSV file's records, or a workbook's worksheet.
public struct SheetTable: Sendable {
    /// One row: its number (a CSV record's first line, a worksheet's row) and its non-empty
    /// cells by 0-based column.
    public struct Row: Sendable {
        public var number: Int
        public var cells: [Int: CellValue]
        /// For CSV: how many cells the record has (to catch a comma outside quotes); nil for a worksheet.
        public var width: Int?

        public init(number: Int, cells: [Int: CellValue], width: Int? = nil) {
            self.number = number
            self.cells = cells
            self.width = width
        }
    }

    /// The worksheet's name (errors name cells `SHEET!D7`), or nil for CSV (errors name lines).
    public var sheet: String?
    public var uses1904Dates: Bool
    public var header: Row
    public var rows: [Row]

    public init(sheet: String?, uses1904Dates: Bool = false, header: Row, rows: [Row]) {
        self.sheet = sheet
        self.uses1904Dates = uses1904Dates
        self.header = header
        self.rows = rows
    }

    /// A worksheet's first non-empty row as the header, the rows below as records.
    public init?(_ worksheet: Worksheet) {
        guard let first = worksheet.rows.first else { return nil }
        func row(_ source: WorksheetRow) -> Row {
            Row(number: source.number, cells: Dictionary(source.cells.map { ($0.column, $0.value) }, uniquingKeysWith: { $1 }))
        }
        self.init(sheet: worksheet.name, uses1904Dates: worksheet.uses1904Dates, header: row(first),
                  rows: worksheet.rows.dropFirst().map(row))
    }

    /// Where a problem is: `项目登记!D7` in a worksheet; nil in CSV (the line says it).
    func cell(column: Int?, row: Int) -> String? {
        guard let sheet else { return nil }
        return "\(sheet)!\(ColumnName.reference(column: column ?? 0, row: row))"
    }
}

/// Reads the events of a spreadsheet (CSV or a workbook's sheet) by the spreadsheet conventions
/// of contract section 2:
///
/// - the header names each column by its field name or Simplified Chinese name
///   (``SpreadsheetVocabulary``), an amount column optionally with its unit (`总投资（万元）`);
/// - one event type per sheet (`--type`), or a `type` (`事件类型`) column naming each row's type;
/// - values by ``SpreadsheetValues``: amounts converted exactly to yuan, times without an
///   offset on the zone's wall clock, Chinese names of categories and statuses;
/// - rows without cells are skipped; a row without `id` gets the derived id.
///
/// Every problem names its place: `FILE:LINE` in CSV, `FILE:SHEET!D7` in a workbook.
public struct SpreadsheetEventReader: Sendable {
    public var fileName: String
    /// The type of every row, unless a `type` column names it.
    public var type: EventType?
    public var defaultSource: String
    public var defaultTime: EventTime?
    public var calendar: ZoneCalendar

    public init(fileName: String, type: EventType?, defaultSource: String, defaultTime: EventTime? = nil, calendar: ZoneCalendar) {
        self.fileName = fileName
        self.type = type
        self.defaultSource = defaultSource
        self.defaultTime = defaultTime
        self.calendar = calendar
    }

    public func read(_ table: SheetTable) throws(InvalidInput) -> ReadEvents {
        // A sheet named after an event type (a template's `项目登记`) holds that type, unless a
        // type column or --type says otherwise.
        var reader = self
        if reader.type == nil, let sheet = table.sheet, let named = SpreadsheetVocabulary.eventType(named: sheet),
           !table.header.cells.values.contains(where: { cell in
               if case .success(let header) = SpreadsheetVocabulary.header(cell.text) { return header.column == "type" }
               return false
           }) {
            reader.type = named
        }
        return try reader.readRows(table)
    }

    private func readRows(_ table: SheetTable) throws(InvalidInput) -> ReadEvents {
        func problem(_ row: Int, column: Int?, _ message: String) -> InputProblem {
            InputProblem(file: fileName, line: row, cell: table.cell(column: column, row: row), message: message)
        }
        // The header.
        var headers: [Int: SpreadsheetVocabulary.Header] = [:]
        var columnOf: [String: Int] = [:]
        var problems: [InputProblem] = []
        let headerRow = table.header.number
        let width = (table.header.cells.keys.max() ?? -1) + 1
        // With a type column, the rows' types decide which columns they use.
        let sheetHasTypeColumn = table.header.cells.values.contains { cell in
            if case .success(let header) = SpreadsheetVocabulary.header(cell.text) { return header.column == "type" }
            return false
        }
        for column in 0..<width {
            let text: String
            switch table.header.cells[column] {
            case .text(let value)?: text = value
            case let other?: text = other.text
            case nil: text = ""
            }
            if text.trimmingCharacters(in: .whitespaces).isEmpty {
                // An empty header cell is fine when its whole column is empty.
                if table.rows.contains(where: { $0.cells[column] != nil }) {
                    problems.append(problem(headerRow, column: column, "the header has an empty column name above filled cells"))
                }
                continue
            }
            switch SpreadsheetVocabulary.header(text) {
            case .success(let header):
                if let earlier = columnOf[header.column] {
                    let earlierName = table.sheet == nil ? "column \(earlier + 1)" : ColumnName.letters(earlier)
                    problems.append(problem(headerRow, column: column, "column '\(text)' names \(header.column), as \(earlierName) does already"))
                } else if let type, !sheetHasTypeColumn, header.column != "type", !acceptedColumns(of: type).contains(header.column) {
                    problems.append(problem(headerRow, column: column, unknownColumn(text, for: type)))
                } else {
                    headers[column] = header
                    columnOf[header.column] = column
                }
            case .failure(let failure):
                switch failure {
                case .empty:
                    problems.append(problem(headerRow, column: column, "the header '\(text)' has a unit but no column name"))
                case .unknown(let name):
                    problems.append(problem(headerRow, column: column, type.map { unknownColumn(name, for: $0) } ?? unknownColumn(name, for: nil)))
                case .unknownUnit(let column_, let unit):
                    problems.append(problem(headerRow, column: column, "'\(text)': unknown unit '\(unit)' for \(column_); the units are 元, 万元, 亿元"))
                case .unitOnNonAmount(let column_, let unit):
                    problems.append(problem(headerRow, column: column, "'\(text)': \(column_) is not an amount, so it takes no unit ('\(unit)')"))
                }
            }
        }
        let hasTypeColumn = columnOf["type"] != nil
        if type == nil, !hasTypeColumn {
            problems.append(problem(headerRow, column: nil, """
                the sheet holds no 'type' (事件类型) column and no --type was given: name the event type of every row \
                (e.g. --type project-registered, or a column 事件类型 with 项目登记, 项目状态...)
                """))
        }
        if let type, !hasTypeColumn {
            for field in type.dataFields where field.isRequired && columnOf[field.name] == nil {
                problems.append(problem(headerRow, column: nil, "no column '\(field.name)' (\(SpreadsheetVocabulary.chineseName(of: field.name))), which \(type.rawValue) requires"))
            }
        }
        if columnOf["time"] == nil, defaultTime == nil {
            problems.append(problem(headerRow, column: nil, "no 'time' (时间) column: add one (e.g. 2024-03-05 09:30, in the zone's time zone) or pass --time-now"))
        }
        guard problems.isEmpty else { throw InvalidInput(problems) }

        // The rows.
        let values = SpreadsheetValues(calendar: calendar, uses1904Dates: table.uses1904Dates)
        var result = ReadEvents()
        result.events.reserveCapacity(table.rows.count)
        for row in table.rows {
            if row.cells.values.allSatisfy({ if case .text(let text) = $0 { text.trimmingCharacters(in: .whitespaces).isEmpty } else { false } }) {
                continue  // an empty row a spreadsheet wrote
            }
            if let width = row.width, width != table.header.width, table.sheet == nil {
                let headerWidth = table.header.width ?? width
                problems.append(problem(row.number, column: nil, """
                    this row has \(width) cell\(width == 1 ? "" : "s"), the header has \(headerWidth) \
                    (a comma inside a value needs the value in double quotes)
                    """))
                continue
            }
            // The row's type.
            var rowType = type
            if let typeColumn = columnOf["type"], let cell = row.cells[typeColumn] {
                let text = cell.text.trimmingCharacters(in: .whitespaces)
                if !text.isEmpty {
                    guard let named = SpreadsheetVocabulary.eventType(named: text) else {
                        let names = SpreadsheetVocabulary.typeNames.map { "\($0.names[0]) (\($0.type.rawValue))" }
                        problems.append(problem(row.number, column: typeColumn, "'\(text)' is not an event type; the types are \(names.joined(separator: ", "))"))
                        continue
                    }
                    rowType = named
                }
            }
            guard let rowType else {
                problems.append(problem(row.number, column: columnOf["type"], "this row names no event type (事件类型)"))
                continue
            }
            let fields = Dictionary(uniqueKeysWithValues: rowType.dataFields.map { ($0.name, $0) })
            var pairs: [(column: String, value: String)] = []
            var rowProblems: [InputProblem] = []
            for (column, cell) in row.cells.sorted(by: { $0.key < $1.key }) {
                guard let header = headers[column], header.column != "type" else { continue }
                if case .text(let text) = cell, text.isEmpty { continue }
                let field = fields[header.column]
                if field == nil, !EventRowReader.envelopeColumns.contains(header.column) {
                    rowProblems.append(problem(row.number, column: column, """
                        \(label(header)) is not a field of \(rowType.rawValue); leave this cell empty in a row of that type
                        """))
                    continue
                }
                switch values.text(cell, column: header.column, kind: field?.kind, unit: header.unit) {
                case .success(let text): pairs.append((header.column, text))
                case .failure(let failure): rowProblems.append(problem(row.number, column: column, "\(label(header)): \(failure.message)"))
                }
            }
            if hasTypeColumn {
                for field in rowType.dataFields where field.isRequired && columnOf[field.name] == nil {
                    rowProblems.append(problem(row.number, column: nil, "no column '\(field.name)' (\(SpreadsheetVocabulary.chineseName(of: field.name))), which \(rowType.rawValue) requires"))
                }
            }
            guard rowProblems.isEmpty else {
                problems += rowProblems
                continue
            }
            let reader = EventRowReader(type: rowType, defaultSource: defaultSource, defaultTime: defaultTime)
            switch reader.event(from: pairs) {
            case .success(let event):
                result.events.append(event)
                result.lines.append(row.number)
            case .failure(let failure):
                for message in failure.messages {
                    // `total_investment: …`: name the field's cell, with its header as written.
                    let field = message.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
                    if let column = columnOf[field], let header = headers[column] {
                        let rest = message.dropFirst(field.count)
                        problems.append(problem(row.number, column: column, label(header) + rest))
                    } else {
                        problems.append(problem(row.number, column: nil, message))
                    }
                }
            }
        }
        guard problems.isEmpty else { throw InvalidInput(problems) }
        result.sheet = table.sheet
        return result
    }

    /// The columns a sheet of one type accepts.
    private func acceptedColumns(of type: EventType) -> Set<String> {
        Set(type.dataFields.map(\.name) + EventRowReader.envelopeColumns)
    }

    /// `总投资（万元） (total_investment)`, or `total_investment` when written so.
    private func label(_ header: SpreadsheetVocabulary.Header) -> String {
        header.text == header.column ? header.column : "\(header.text) (\(header.column))"
    }

    private func unknownColumn(_ name: String, for type: EventType?) -> String {
        let columns: [String]
        if let type {
            columns = type.dataFields.map(\.name) + EventRowReader.envelopeColumns
        } else {
            var all: [String] = []
            for type in EventType.allCases { for field in type.dataFields where !all.contains(field.name) { all.append(field.name) } }
            columns = all + EventRowReader.envelopeColumns + ["type"]
        }
        var message = "unknown column '\(name)'" + (type.map { " for \($0.rawValue)" } ?? "")
        if let close = Self.closest(name, columns) { message += " (did you mean '\(close)' (\(SpreadsheetVocabulary.chineseName(of: close)))?)" }
        message += "; its columns are " + columns.map { "\($0) (\(SpreadsheetVocabulary.chineseName(of: $0)))" }.joined(separator: ", ")
        return message
    }

    private static func closest(_ name: String, _ candidates: [String]) -> String? {
        let lowered = SpreadsheetVocabulary.normalize(name)
        var best: (String, Int)?
        for candidate in candidates {
            let distance = EditDistance.between(Array(lowered), Array(candidate))
            if distance <= max(1, candidate.count / 3), distance < (best?.1 ?? .max) { best = (candidate, distance) }
        }
        return best?.0
    }

}
