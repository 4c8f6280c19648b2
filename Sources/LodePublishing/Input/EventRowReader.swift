import LodeJSON
import LodeEvents

/// Turns one row of text values (a CSV row, or the flags of one event) into a validated event
/// of a given type: the values are converted to JSON by the kind of their field, then the
/// event goes through exactly the checks a received event goes through.
///
/// Columns are the type's `data` fields plus `id`, `time` and `source`. An empty value is an
/// absent field. A row without `id` gets the id derived from its content
/// (`Event.derivedID`), so identical rows are one event and re-runs never count twice.
public struct EventRowReader: Sendable {
    public let type: EventType
    /// The source of rows that have none.
    public let defaultSource: String
    /// The time of rows that have none (`--time-now`); `nil` makes a missing time an error.
    public let defaultTime: EventTime?

    /// The columns besides the `data` fields.
    public static let envelopeColumns = ["id", "time", "source"]

    public init(type: EventType, defaultSource: String, defaultTime: EventTime? = nil) {
        self.type = type
        self.defaultSource = defaultSource
        self.defaultTime = defaultTime
    }

    /// Every column name this type accepts.
    public var columns: [String] { type.dataFields.map(\.name) + Self.envelopeColumns }

    /// The event of one row, or its problems (one message each, without file and line).
    public func event(from row: [(column: String, value: String)]) -> Result<Event, RowProblems> {
        let fields = Dictionary(uniqueKeysWithValues: type.dataFields.map { ($0.name, $0) })
        var problems: [String] = []
        var members: [JSONMember] = []
        var id: String?
        var time: String?
        var source: String?
        for (column, value) in row where !value.isEmpty {
            switch column {
            case "id": id = value
            case "time": time = value.trimmingASCIISpaces
            case "source": source = value
            default:
                guard let field = fields[column] else {
                    problems.append("unknown column '\(column)' for \(type.rawValue)")
                    continue
                }
                switch FieldText.json(value, kind: field.kind) {
                case .success(let json): members.append(JSONMember(column, json))
                case .failure(let problem): problems.append("\(column): \(problem.message)")
                }
            }
        }
        let timeText: String
        if let time {
            timeText = time
        } else if let defaultTime {
            timeText = defaultTime.text
        } else {
            problems.append("time: no time in this row; fill in the time (RFC 3339, e.g. 2024-05-05T10:00:00+08:00) or pass --time-now")
            timeText = "1970-01-01T00:00:00Z"
        }
        let envelope = JSONValue.object([
            JSONMember("specversion", .string(Event.specVersion)),
            // A placeholder when the row has no id: replaced by the derived id below.
            JSONMember("id", .string(id ?? "derived")),
            JSONMember("source", .string(source ?? defaultSource)),
            JSONMember("type", .string(type.rawValue)),
            JSONMember("time", .string(timeText)),
            JSONMember("data", .object(members)),
        ])
        do {
            var event = try Event.decode(envelope.serializedBytes())
            guard problems.isEmpty else { return .failure(RowProblems(messages: problems)) }
            if id == nil {
                event.id = Event.derivedID(type: event.type, source: event.source, time: event.time, data: event.data)
            }
            return .success(event)
        } catch {
            let issues = error.issues.isEmpty ? [error.message] : error.issues.map { issue in
                // `data.status: …` reads as the column's name in a row.
                var text = issue.description
                if text.hasPrefix("data.") { text.removeFirst(5) }
                return text
            }
            // A field that failed conversion is missing from the JSON: don't also call it missing.
            let converted = Set(problems.compactMap { $0.split(separator: ":").first.map(String.init) })
            problems += issues.filter { issue in
                guard let name = issue.split(separator: ":").first.map(String.init) else { return true }
                return !converted.contains(name)
            }
            return .failure(RowProblems(messages: problems))
        }
    }
}

/// The problems of one row, one message each.
public struct RowProblems: Error, Sendable {
    public var messages: [String]
}

/// Why a text cannot be a field's value.
public struct FieldProblem: Error, Sendable {
    public var message: String
    init(_ message: String) { self.message = message }
}

/// Spreadsheet text to the JSON value a field of a given kind holds.
public enum FieldText {
    /// The JSON for `text` in a field of `kind`, or a message saying why it can't be.
    public static func json(_ text: String, kind: DataField.Kind) -> Result<JSONValue, FieldProblem> {
        switch kind {
        case .text:
            return .success(.string(text))
        case .projectID, .category, .projectStatus, .period:
            return .success(.string(text.trimmingASCIISpaces))
        case .year, .money, .count:
            return integer(text.trimmingASCIISpaces)
        case .boolean:
            switch text.trimmingASCIISpaces.lowercased() {
            case "true": return .success(.bool(true))
            case "false": return .success(.bool(false))
            default: return .failure(FieldProblem("expected true or false, found '\(text)'"))
            }
        case .categories:
            let items = text.split(separator: ";").map { String($0).trimmingASCIISpaces }.filter { !$0.isEmpty }
            return .success(.array(items.map { .string($0) }))
        }
    }

    static func integer(_ text: String) -> Result<JSONValue, FieldProblem> {
        let negative = text.hasPrefix("-")
        let digits = negative ? text.utf8.dropFirst() : text.utf8[...]
        if !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            if let value = Int64(text) { return .success(.integer(value)) }
            // Beyond Int64: kept as digits, so that validation reports the allowed range.
            var significant = String(decoding: digits.drop { $0 == UInt8(ascii: "0") }, as: UTF8.self)
            if significant.isEmpty { significant = "0" }
            if let number = JSONNumber(text: (negative ? "-" : "") + significant) { return .success(.number(number)) }
        }
        if let number = JSONNumber(text: text), number.hasExponent {
            return .failure(FieldProblem("""
                found \(text), a number in scientific notation (how spreadsheets show large numbers); \
                write it in plain digits: format the column as a number with no decimals before exporting
                """))
        }
        if text.contains(","), text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "," || $0 == "-") }) {
            return .failure(FieldProblem("expected a whole number in plain digits, found '\(text)'; write it without thousands separators"))
        }
        if let number = JSONNumber(text: text), !number.isPlainInteger {
            return .failure(FieldProblem("expected a whole number in plain digits, found \(text)"))
        }
        return .failure(FieldProblem("expected a whole number in plain digits, found '\(text)'"))
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    var trimmingASCIISpaces: String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
