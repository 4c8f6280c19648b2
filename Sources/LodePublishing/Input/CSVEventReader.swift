import LodeEvents

/// Reads the events of a CSV file exported from a spreadsheet (contract section 2): one event
/// type per file, a header row naming `data` fields plus optional `id`, `time`, `source`, one
/// event per row.
public struct CSVEventReader: Sendable {
    public let rows: EventRowReader
    /// The name used in problems, e.g. `projects.csv` or `<stdin>`.
    public let fileName: String

    public init(type: EventType, fileName: String, defaultSource: String, defaultTime: EventTime? = nil) {
        rows = EventRowReader(type: type, defaultSource: defaultSource, defaultTime: defaultTime)
        self.fileName = fileName
    }

    /// The events of the file, or every problem found in it (header problems alone when the
    /// header is wrong: then no row can be read).
    public func read(_ bytes: [UInt8]) throws(InvalidInput) -> ReadEvents {
        let records: [CSVRecord]
        do {
            records = try CSVRecords.parse(bytes)
        } catch {
            throw InvalidInput([InputProblem(file: fileName, line: error.line, message: error.message)])
        }
        guard let header = records.first else {
            throw InvalidInput([InputProblem(file: fileName, line: 1, message: "the file is empty: expected a header row naming the columns")])
        }
        let columns = header.cells.map(\.trimmingASCIISpaces)
        let headerProblems = checkHeader(columns).map { InputProblem(file: fileName, line: header.line, message: $0) }
        guard headerProblems.isEmpty else { throw InvalidInput(headerProblems) }

        var result = ReadEvents()
        var problems: [InputProblem] = []
        result.events.reserveCapacity(records.count - 1)
        for record in records.dropFirst() {
            if record.cells.allSatisfy(\.isEmpty) { continue }  // an empty row a spreadsheet wrote
            guard record.cells.count == columns.count else {
                problems.append(InputProblem(file: fileName, line: record.line, message: """
                    this row has \(record.cells.count) cell\(record.cells.count == 1 ? "" : "s"), the header has \(columns.count) \
                    (a comma inside a value needs the value in double quotes)
                    """))
                continue
            }
            switch rows.event(from: Array(zip(columns, record.cells)).map { (column: $0.0, value: $0.1) }) {
            case .success(let event):
                result.events.append(event)
                result.lines.append(record.line)
            case .failure(let rowProblems):
                problems += rowProblems.messages.map { InputProblem(file: fileName, line: record.line, message: $0) }
            }
        }
        guard problems.isEmpty else { throw InvalidInput(problems) }
        return result
    }

    /// What is wrong with the header row: unknown, repeated or missing columns.
    func checkHeader(_ columns: [String]) -> [String] {
        let type = rows.type
        let known = rows.columns
        var problems: [String] = []
        var seen: Set<String> = []
        for column in columns {
            if column.isEmpty {
                problems.append("the header has an empty column name")
            } else if !known.contains(column) {
                var message = "unknown column '\(column)' for \(type.rawValue)"
                if let close = closest(column, known) { message += " (did you mean '\(close)'?)" }
                message += "; its columns are \(known.joined(separator: ", "))"
                problems.append(message)
            } else if !seen.insert(column).inserted {
                problems.append("column '\(column)' appears twice in the header")
            }
        }
        for field in type.dataFields where field.isRequired && !seen.contains(field.name) {
            problems.append("no column '\(field.name)', which \(type.rawValue) requires")
        }
        if !seen.contains("time"), rows.defaultTime == nil {
            problems.append("no 'time' column: add one (RFC 3339, e.g. 2024-05-05T10:00:00+08:00) or pass --time-now")
        }
        return problems
    }

    private func closest(_ name: String, _ candidates: [String]) -> String? {
        let lowered = name.lowercased().replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: "-", with: "_")
        if candidates.contains(lowered) { return lowered }
        var best: (String, Int)?
        for candidate in candidates {
            let distance = EditDistance.between(Array(lowered), Array(candidate))
            if distance <= max(1, candidate.count / 3), distance < (best?.1 ?? .max) { best = (candidate, distance) }
        }
        return best?.0
    }

}
