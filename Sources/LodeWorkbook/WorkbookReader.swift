import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZIPFoundation

/// Why a workbook cannot be read. ``message`` is a sentence fragment for `FILE: message`.
public struct WorkbookError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Reads the sheets of an Office Open XML workbook (`.xlsx`, as Excel, WPS and LibreOffice save
/// it): a ZIP archive of XML parts.
///
/// What it reads of a sheet: shared strings (rich text runs joined), inline strings, numbers
/// (as written, never rounded), booleans, error values, formulas by their cached value, and
/// dates: a number whose cell style has a date or time number format (built-in or custom, see
/// ``NumberFormat``), with the workbook's 1900 or 1904 date system. Empty cells and rows are
/// left out.
///
/// Parts are read whole into memory, each at most ``maxPartBytes`` once inflated, so a small
/// archive cannot expand into gigabytes.
public struct WorkbookReader: Sendable {
    /// The most bytes one inflated part (a sheet, the shared strings) may take.
    public static let maxPartBytes = 256 << 20

    /// The sheets' names, in the workbook's order.
    public let sheetNames: [String]
    private let sheetPaths: [String]
    private let parts: [String: Data]
    private let uses1904Dates: Bool

    /// Opens a workbook from its bytes.
    public init(bytes: [UInt8]) throws(WorkbookError) {
        guard bytes.count >= 4, bytes[0] == 0x50, bytes[1] == 0x4B else {
            throw WorkbookError("not an .xlsx workbook (not a ZIP archive); save it from the spreadsheet as \"Excel Workbook (.xlsx)\"")
        }
        let archive: Archive
        do {
            archive = try Archive(data: Data(bytes), accessMode: .read)
        } catch {
            throw WorkbookError("not a readable .xlsx workbook: the ZIP archive is damaged (\(error))")
        }
        var parts: [String: Data] = [:]
        for entry in archive where entry.type == .file {
            let path = entry.path.hasPrefix("/") ? String(entry.path.dropFirst()) : entry.path
            guard path.hasSuffix(".xml") || path.hasSuffix(".rels") else { continue }
            guard entry.uncompressedSize <= Int64(Self.maxPartBytes) else {
                throw WorkbookError("the part \(path) of the workbook is larger than \(Self.maxPartBytes >> 20) MiB")
            }
            var data = Data()
            do {
                _ = try archive.extract(entry, skipCRC32: false) { chunk in
                    data.append(chunk)
                    if data.count > Self.maxPartBytes { throw WorkbookError("the part \(path) inflates past \(Self.maxPartBytes >> 20) MiB") }
                }
            } catch let error as WorkbookError {
                throw error
            } catch {
                throw WorkbookError("the part \(path) of the workbook cannot be read: the ZIP archive is damaged (\(error))")
            }
            parts[path] = data
        }
        guard let workbook = parts["xl/workbook.xml"] else {
            throw WorkbookError("not an .xlsx workbook: it has no xl/workbook.xml (an .xls, .ods or .numbers file? save it as .xlsx)")
        }
        let book = try WorkbookPart.parse(workbook)
        let relations = try parts["xl/_rels/workbook.xml.rels"].map { data throws(WorkbookError) in
            try RelationshipsPart.parse(data)
        } ?? [:]
        var names: [String] = []
        var paths: [String] = []
        for sheet in book.sheets {
            guard let target = relations[sheet.relationID] else { continue }
            names.append(sheet.name)
            paths.append(Self.resolve(target))
        }
        self.sheetNames = names
        self.sheetPaths = paths
        self.parts = parts
        self.uses1904Dates = book.uses1904Dates
    }

    /// `worksheets/sheet1.xml` relative to `xl/`, or an absolute `/xl/...` target.
    static func resolve(_ target: String) -> String {
        if target.hasPrefix("/") { return String(target.dropFirst()) }
        var components: [Substring] = ["xl"]
        for part in target.split(separator: "/") {
            if part == ".." { if !components.isEmpty { components.removeLast() } } else if part != "." { components.append(part) }
        }
        return components.joined(separator: "/")
    }

    /// The cells of the sheet named `name`, or of the first sheet.
    public func sheet(named name: String? = nil) throws(WorkbookError) -> Worksheet {
        let index: Int
        if let name {
            guard let found = sheetNames.firstIndex(of: name) else {
                throw WorkbookError("the workbook has no sheet named '\(name)'; its sheets are \(sheetNames.map { "'\($0)'" }.joined(separator: ", "))")
            }
            index = found
        } else {
            guard !sheetNames.isEmpty else { throw WorkbookError("the workbook has no sheet") }
            index = 0
        }
        guard let data = parts[sheetPaths[index]] else {
            throw WorkbookError("the sheet '\(sheetNames[index])' is missing from the archive (\(sheetPaths[index]))")
        }
        let strings = try parts["xl/sharedStrings.xml"].map { data throws(WorkbookError) in try SharedStringsPart.parse(data) } ?? []
        let styles = try parts["xl/styles.xml"].map { data throws(WorkbookError) in try StylesPart.parse(data) } ?? []
        let rows = try SheetPart.parse(data, sheet: sheetNames[index], strings: strings, dateStyles: styles)
        return Worksheet(name: sheetNames[index], rows: rows, uses1904Dates: uses1904Dates)
    }
}

// MARK: - Parts

/// Runs an XMLParser over `data` with `delegate`; a malformed part is a ``WorkbookError``.
private func parseXML(_ data: Data, _ delegate: some XMLParserDelegate & PartErrors, part: String) throws(WorkbookError) {
    // From a stream, in chunks: on Linux, XMLParser(data:) hands libxml2 the whole part at once,
    // and a part past 10 MB (a sheet of some 20,000 rows) then fails at its end.
    let parser = XMLParser(stream: InputStream(data: data))
    parser.shouldProcessNamespaces = false
    parser.shouldResolveExternalEntities = false
    parser.delegate = delegate
    let ok = parser.parse()
    if let problem = delegate.problem { throw problem }
    guard ok else {
        throw WorkbookError("the part \(part) is not well-formed XML (line \(parser.lineNumber)): the workbook is damaged")
    }
}

private protocol PartErrors: AnyObject {
    var problem: WorkbookError? { get }
}

/// The local name of a possibly prefixed element name (`x:row` → `row`).
private func localName(_ name: String) -> Substring {
    if let colon = name.lastIndex(of: ":") { return name[name.index(after: colon)...] }
    return Substring(name)
}

/// `xl/workbook.xml`: the sheets and the date system.
private enum WorkbookPart {
    struct Sheet { var name: String; var relationID: String }

    final class Delegate: NSObject, XMLParserDelegate, PartErrors {
        var sheets: [Sheet] = []
        var uses1904Dates = false
        var problem: WorkbookError?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            switch localName(elementName) {
            case "sheet":
                let id = attributes.first { localName($0.key) == "id" && $0.key != "sheetId" }?.value
                if let name = attributes["name"], let id { sheets.append(Sheet(name: name, relationID: id)) }
            case "workbookPr":
                let value = attributes["date1904"]?.lowercased()
                uses1904Dates = value == "1" || value == "true"
            default: break
            }
        }
    }

    static func parse(_ data: Data) throws(WorkbookError) -> (sheets: [Sheet], uses1904Dates: Bool) {
        let delegate = Delegate()
        try parseXML(data, delegate, part: "xl/workbook.xml")
        return (delegate.sheets, delegate.uses1904Dates)
    }
}

/// `xl/_rels/workbook.xml.rels`: relationship id → target path.
private enum RelationshipsPart {
    final class Delegate: NSObject, XMLParserDelegate, PartErrors {
        var targets: [String: String] = [:]
        var problem: WorkbookError?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            if localName(elementName) == "Relationship", let id = attributes["Id"], let target = attributes["Target"] {
                targets[id] = target
            }
        }
    }

    static func parse(_ data: Data) throws(WorkbookError) -> [String: String] {
        let delegate = Delegate()
        try parseXML(data, delegate, part: "xl/_rels/workbook.xml.rels")
        return delegate.targets
    }
}

/// `xl/sharedStrings.xml`: each `<si>`'s text, its runs joined, phonetic guides (`<rPh>`) left out.
private enum SharedStringsPart {
    final class Delegate: NSObject, XMLParserDelegate, PartErrors {
        var strings: [String] = []
        var current = ""
        var inItem = false
        var inText = false
        var phoneticDepth = 0
        var problem: WorkbookError?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            switch localName(elementName) {
            case "si": inItem = true; current = ""
            case "rPh": phoneticDepth += 1
            case "t": inText = inItem && phoneticDepth == 0
            default: break
            }
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            switch localName(elementName) {
            case "si": strings.append(current); inItem = false
            case "rPh": phoneticDepth -= 1
            case "t": inText = false
            default: break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if inText { current += string }
        }
    }

    static func parse(_ data: Data) throws(WorkbookError) -> [String] {
        let delegate = Delegate()
        try parseXML(data, delegate, part: "xl/sharedStrings.xml")
        return delegate.strings.map(unescapeOOXML)
    }
}

/// `_x000D_` and the like: how OOXML writes characters XML cannot hold.
func unescapeOOXML(_ text: String) -> String {
    guard text.contains("_x") else { return text }
    var result = ""
    var rest = Substring(text)
    while let range = rest.range(of: "_x") {
        result += rest[..<range.lowerBound]
        let after = rest[range.upperBound...]
        let hex = after.prefix(4)
        if hex.count == 4, after.dropFirst(4).first == "_", let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) {
            result.unicodeScalars.append(scalar)
            rest = after.dropFirst(5)
        } else {
            result += "_x"
            rest = after
        }
    }
    return result + rest
}

/// `xl/styles.xml`: for each cell style (`cellXfs` index), whether its number format is a date.
private enum StylesPart {
    final class Delegate: NSObject, XMLParserDelegate, PartErrors {
        var customFormats: [Int: String] = [:]
        var styleFormats: [Int] = []
        var inCellStyles = false
        var problem: WorkbookError?

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            switch localName(elementName) {
            case "numFmt":
                if let id = attributes["numFmtId"].flatMap({ Int($0) }), let code = attributes["formatCode"] { customFormats[id] = code }
            case "cellXfs": inCellStyles = true
            case "xf" where inCellStyles:
                styleFormats.append(attributes["numFmtId"].flatMap { Int($0) } ?? 0)
            default: break
            }
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            if localName(elementName) == "cellXfs" { inCellStyles = false }
        }
    }

    /// Per style index: the date kind of its number format, or nil.
    static func parse(_ data: Data) throws(WorkbookError) -> [DateFormatKind?] {
        let delegate = Delegate()
        try parseXML(data, delegate, part: "xl/styles.xml")
        return delegate.styleFormats.map { id in
            if let code = delegate.customFormats[id] { return NumberFormat.dateKind(ofCode: code) }
            return NumberFormat.builtInDateKind(id)
        }
    }
}

/// A worksheet part: its rows of cells.
private enum SheetPart {
    final class Delegate: NSObject, XMLParserDelegate, PartErrors {
        let sheet: String
        let strings: [String]
        let dateStyles: [DateFormatKind?]
        var rows: [WorksheetRow] = []
        var problem: WorkbookError?

        var rowNumber = 0
        var cells: [WorksheetCell] = []
        var nextColumn = 0
        // The cell being read.
        var inCell = false
        var reference: (column: Int, row: Int)?
        var type = "n"
        var style = 0
        var value = ""
        var inValue = false
        var inInlineText = false
        var phoneticDepth = 0

        init(sheet: String, strings: [String], dateStyles: [DateFormatKind?]) {
            self.sheet = sheet
            self.strings = strings
            self.dateStyles = dateStyles
        }

        func fail(_ parser: XMLParser, _ message: String) {
            if problem == nil { problem = WorkbookError(message) }
            parser.abortParsing()
        }

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            switch localName(elementName) {
            case "row":
                if let r = attributes["r"] {
                    guard let number = Int(r), number > rowNumber, number <= 1_048_576 else {
                        fail(parser, "\(sheet): row number '\(r)' is out of order or out of range: the workbook is damaged")
                        return
                    }
                    rowNumber = number
                } else {
                    rowNumber += 1
                }
                cells = []
                nextColumn = 0
            case "c":
                inCell = true
                type = attributes["t"] ?? "n"
                style = attributes["s"].flatMap { Int($0) } ?? 0
                value = ""
                if let r = attributes["r"] {
                    guard let parsed = ColumnName.parse(r), parsed.row == rowNumber || rowNumber == 0 else {
                        fail(parser, "\(sheet): cell reference '\(r)' does not belong to row \(rowNumber): the workbook is damaged")
                        return
                    }
                    reference = parsed
                } else {
                    reference = (nextColumn, rowNumber)
                }
            case "v": inValue = inCell
            case "rPh": phoneticDepth += 1
            case "t": inInlineText = inCell && type == "inlineStr" && phoneticDepth == 0
            default: break
            }
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            switch localName(elementName) {
            case "v": inValue = false
            case "t": inInlineText = false
            case "rPh": phoneticDepth -= 1
            case "c":
                inCell = false
                guard let reference else { return }
                nextColumn = reference.column + 1
                if let cell = makeCell(parser, column: reference.column) { cells.append(cell) }
            case "row":
                if !cells.isEmpty { rows.append(WorksheetRow(number: rowNumber, cells: cells.sorted { $0.column < $1.column })) }
                cells = []
            default: break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if inValue || inInlineText { value += string }
        }

        func makeCell(_ parser: XMLParser, column: Int) -> WorksheetCell? {
            let where_ = "\(sheet)!\(ColumnName.reference(column: column, row: rowNumber))"
            let content: CellValue
            switch type {
            case "s":
                guard !value.isEmpty else { return nil }
                guard let index = Int(value.trimmingCharacters(in: .whitespaces)), strings.indices.contains(index) else {
                    fail(parser, "\(where_): shared string \(value) does not exist: the workbook is damaged")
                    return nil
                }
                content = .text(strings[index])
            case "inlineStr", "str":
                content = .text(unescapeOOXML(value))
            case "b":
                content = .boolean(value.trimmingCharacters(in: .whitespaces) == "1")
            case "e":
                content = .error(value)
            case "d":
                // An ISO 8601 date cell (strict OOXML; rare): kept as text for the reader to parse.
                content = .text(value)
            default:
                let number = value.trimmingCharacters(in: .whitespaces)
                guard !number.isEmpty else { return nil }
                if dateStyles.indices.contains(style), let kind = dateStyles[style] {
                    content = .date(serial: number, format: kind)
                } else {
                    content = .number(number)
                }
            }
            if case .text(let text) = content, text.isEmpty { return nil }
            return WorksheetCell(column: column, value: content)
        }
    }

    static func parse(_ data: Data, sheet: String, strings: [String], dateStyles: [DateFormatKind?]) throws(WorkbookError) -> [WorksheetRow] {
        let delegate = Delegate(sheet: sheet, strings: strings, dateStyles: dateStyles)
        try parseXML(data, delegate, part: "the sheet '\(sheet)'")
        return delegate.rows
    }
}
