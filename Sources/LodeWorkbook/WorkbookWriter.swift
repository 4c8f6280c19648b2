import Foundation
import ZIPFoundation

/// A cell to write.
public enum OutputCell: Sendable, Hashable {
    case empty
    case text(String)
    /// A whole number. Beyond ±2^53 a spreadsheet's number (a double) would round it, so such
    /// a value is written as text.
    case integer(Int64)
    /// A decimal number as text (`573.84`), shown with two decimals.
    case decimal(String)
    case boolean(Bool)
}

/// A list of allowed values for a column (a dropdown in Excel, WPS and LibreOffice), and the
/// message shown when a cell of it is selected.
public struct ColumnValidation: Sendable, Hashable {
    /// 0-based column.
    public var column: Int
    /// The allowed values; nil allows anything (the prompt alone is shown).
    public var allowed: [String]?
    /// Whether a value outside `allowed` is refused; false offers the list but takes any text
    /// (several categories in one cell).
    public var strict: Bool
    public var promptTitle: String
    public var prompt: String

    public init(column: Int, allowed: [String]?, strict: Bool = true, promptTitle: String, prompt: String) {
        self.column = column
        self.allowed = allowed
        self.strict = strict
        self.promptTitle = promptTitle
        self.prompt = prompt
    }
}

/// One sheet to write.
public struct OutputSheet: Sendable, Hashable {
    public var name: String
    public var rows: [[OutputCell]]
    /// Rows (0-based) shown bold: headers.
    public var boldRows: Set<Int>
    /// Column widths in characters, by 0-based column.
    public var columnWidths: [Int: Double]
    /// Keeps the first row in view while scrolling.
    public var freezeFirstRow: Bool
    /// List validations and prompts, applied from row 2 to `validatedRows`.
    public var validations: [ColumnValidation]
    public var validatedRows: Int

    public init(name: String, rows: [[OutputCell]], boldRows: Set<Int> = [], columnWidths: [Int: Double] = [:],
                freezeFirstRow: Bool = false, validations: [ColumnValidation] = [], validatedRows: Int = 1000) {
        self.name = name
        self.rows = rows
        self.boldRows = boldRows
        self.columnWidths = columnWidths
        self.freezeFirstRow = freezeFirstRow
        self.validations = validations
        self.validatedRows = validatedRows
    }
}

/// Writes a simple `.xlsx` workbook: inline strings, numbers (whole numbers with a thousands
/// separator, decimals with two places), booleans, bold header rows, column widths, a frozen
/// header, and list validations with prompts. What Excel, WPS and LibreOffice open alike.
public enum WorkbookWriter {
    /// The workbook's bytes. Sheet names are cut to Excel's 31 characters, without `[]:*?/\`.
    public static func xlsx(_ sheets: [OutputSheet]) throws(WorkbookError) -> [UInt8] {
        let names = sheets.map { sheet in
            String(sheet.name.filter { !"[]:*?/\\".contains($0) }.prefix(31))
        }
        var parts: [(String, String)] = []
        parts.append(("[Content_Types].xml", contentTypes(count: sheets.count)))
        parts.append(("_rels/.rels", """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
            <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
            </Relationships>
            """))
        var workbook = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
            xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>
            """
        var relations = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
            """
        for (index, name) in names.enumerated() {
            workbook += #"<sheet name="\#(escape(name))" sheetId="\#(index + 1)" r:id="rId\#(index + 1)"/>"#
            relations += #"<Relationship Id="rId\#(index + 1)" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet\#(index + 1).xml"/>"#
        }
        workbook += "</sheets></workbook>"
        relations += #"<Relationship Id="rId\#(names.count + 1)" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>"#
        relations += "</Relationships>"
        parts.append(("xl/workbook.xml", workbook))
        parts.append(("xl/_rels/workbook.xml.rels", relations))
        parts.append(("xl/styles.xml", styles))
        for (index, sheet) in sheets.enumerated() {
            parts.append(("xl/worksheets/sheet\(index + 1).xml", worksheet(sheet)))
        }

        do {
            let archive = try Archive(accessMode: .create)
            for (path, text) in parts {
                let data = Data(text.utf8)
                try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count),
                                     compressionMethod: .deflate) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
            guard let data = archive.data else { throw WorkbookError("the workbook could not be assembled") }
            return [UInt8](data)
        } catch let error as WorkbookError {
            throw error
        } catch {
            throw WorkbookError("the workbook could not be assembled: \(error)")
        }
    }

    // Style indexes of `styles`.
    private static let plain = 0, bold = 1, integer = 2, decimal = 3, wrapped = 4

    private static func worksheet(_ sheet: OutputSheet) -> String {
        var xml = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
            """
        if sheet.freezeFirstRow {
            xml += #"<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>"#
        }
        if !sheet.columnWidths.isEmpty {
            xml += "<cols>"
            for (column, width) in sheet.columnWidths.sorted(by: { $0.key < $1.key }) {
                xml += #"<col min="\#(column + 1)" max="\#(column + 1)" width="\#(String(format: "%.1f", width))" customWidth="1"/>"#
            }
            xml += "</cols>"
        }
        xml += "<sheetData>"
        for (rowIndex, row) in sheet.rows.enumerated() {
            let number = rowIndex + 1
            xml += #"<row r="\#(number)">"#
            let isBold = sheet.boldRows.contains(rowIndex)
            for (column, cell) in row.enumerated() {
                let reference = ColumnName.reference(column: column, row: number)
                switch cell {
                case .empty:
                    continue
                case .text(let text):
                    let style = isBold ? bold : (text.contains("\n") ? wrapped : plain)
                    xml += #"<c r="\#(reference)" s="\#(style)" t="inlineStr"><is><t xml:space="preserve">\#(escape(text))</t></is></c>"#
                case .integer(let value):
                    if value.magnitude > 1 << 53 {
                        xml += #"<c r="\#(reference)" s="\#(isBold ? bold : plain)" t="inlineStr"><is><t>\#(value)</t></is></c>"#
                    } else {
                        xml += #"<c r="\#(reference)" s="\#(isBold ? bold : integer)"><v>\#(value)</v></c>"#
                    }
                case .decimal(let text):
                    xml += #"<c r="\#(reference)" s="\#(isBold ? bold : decimal)"><v>\#(escape(text))</v></c>"#
                case .boolean(let value):
                    xml += #"<c r="\#(reference)" s="\#(isBold ? bold : plain)" t="b"><v>\#(value ? 1 : 0)</v></c>"#
                }
            }
            xml += "</row>"
        }
        xml += "</sheetData>"
        if !sheet.validations.isEmpty {
            xml += #"<dataValidations count="\#(sheet.validations.count)">"#
            for validation in sheet.validations {
                let letters = ColumnName.letters(validation.column)
                let range = "\(letters)2:\(letters)\(max(2, sheet.validatedRows))"
                let prompt = #"showInputMessage="1" promptTitle="\#(escape(String(validation.promptTitle.prefix(32))))" prompt="\#(escape(String(validation.prompt.prefix(255))))""#
                if let allowed = validation.allowed {
                    let list = allowed.joined(separator: ",").replacingOccurrences(of: "\"", with: "\"\"")
                    xml += #"<dataValidation type="list" allowBlank="1" showErrorMessage="\#(validation.strict ? 1 : 0)" \#(prompt) sqref="\#(range)"><formula1>"\#(escape(list))"</formula1></dataValidation>"#
                } else {
                    xml += #"<dataValidation allowBlank="1" \#(prompt) sqref="\#(range)"/>"#
                }
            }
            xml += "</dataValidations>"
        }
        xml += "</worksheet>"
        return xml
    }

    private static func contentTypes(count: Int) -> String {
        var xml = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
            <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
            <Default Extension="xml" ContentType="application/xml"/>\
            <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
            <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
            """
        for index in 1...max(1, count) where index <= count {
            xml += #"<Override PartName="/xl/worksheets/sheet\#(index).xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
        }
        return xml + "</Types>"
    }

    /// Fonts: regular, bold. Number formats: built-in 3 (`#,##0`), 4 (`#,##0.00`).
    private static let styles = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
        <fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
        <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
        <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
        <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
        <cellXfs count="5">\
        <xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
        <xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
        <xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
        <xf numFmtId="4" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
        <xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment wrapText="1" vertical="top"/></xf>\
        </cellXfs>\
        <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
        </styleSheet>
        """

    /// Text made safe for XML content and attributes; characters XML 1.0 cannot hold are dropped.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "\n": escaped += "&#10;"
            case "\t": escaped += "&#9;"
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF { continue }
                escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
