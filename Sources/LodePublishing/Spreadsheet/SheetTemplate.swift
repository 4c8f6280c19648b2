import LodeEvents
import LodeWorkbook

/// A ready-to-fill sheet for one event type (`lode-publish template TYPE`): the header row
/// (Chinese names, or field names in English, amounts in 万元), and for a workbook a prompt on
/// every column, dropdowns for categories, statuses and yes/no, and a second sheet explaining
/// each column. What it writes reads back through ``SpreadsheetEventReader``.
public struct SheetTemplate: Sendable {
    public let type: EventType
    public let language: ZoneLanguage

    public init(type: EventType, language: ZoneLanguage) {
        self.type = type
        self.language = language
    }

    /// The columns: the type's fields, then `time`.
    public var columns: [String] { type.dataFields.map(\.name) + ["time"] }

    private var chinese: Bool { language != .english }

    /// The header of a column, with its unit: `总投资（万元）`, `total_investment (10k yuan)`.
    public func header(_ column: String) -> String {
        let isMoney = SpreadsheetVocabulary.moneyColumns.contains(column)
        if chinese {
            let name = SpreadsheetVocabulary.chineseName(of: column)
            return isMoney ? name + "（万元）" : name
        }
        return isMoney ? column + " (10k yuan)" : column
    }

    /// CSV: the header row, UTF-8 with a byte order mark (so Excel opens Chinese text right), CRLF.
    public func csv() -> [UInt8] {
        let line = columns.map(header).joined(separator: ",") + "\r\n"
        return [0xEF, 0xBB, 0xBF] + Array(line.utf8)
    }

    /// The workbook: the sheet to fill (named `项目登记`, or the type's wire name) and a sheet of notes.
    public func xlsx() throws(WorkbookError) -> [UInt8] {
        let fields = Dictionary(uniqueKeysWithValues: type.dataFields.map { ($0.name, $0) })
        var validations: [ColumnValidation] = []
        var widths: [Int: Double] = [:]
        var notes: [[OutputCell]] = [[
            .text(chinese ? "列" : "column"), .text(chinese ? "必填" : "required"),
            .text(chinese ? "说明" : "what to write"),
        ]]
        for (index, column) in columns.enumerated() {
            let field = fields[column]
            let required = column == "time" || field?.isRequired == true
            let note = explanation(column, kind: field?.kind)
            widths[index] = Double(max(12, min(40, header(column).count * 2 + 4)))
            validations.append(ColumnValidation(
                column: index, allowed: allowed(field?.kind), strict: field?.kind != .categories,
                promptTitle: header(column), prompt: (required ? (chinese ? "必填。" : "Required. ") : "") + note))
            notes.append([.text(header(column)), .text(required ? (chinese ? "是" : "yes") : (chinese ? "否" : "no")), .text(note)])
        }
        let sheetName = chinese ? SpreadsheetVocabulary.chineseName(of: type) : sheetName(english: type)
        let fill = OutputSheet(name: sheetName, rows: [columns.map { .text(header($0)) }], boldRows: [0],
                               columnWidths: widths, freezeFirstRow: true, validations: validations)
        let explained = OutputSheet(name: chinese ? "填写说明" : "notes", rows: notes, boldRows: [0],
                                    columnWidths: [0: 24, 1: 8, 2: 90])
        return try WorkbookWriter.xlsx([fill, explained])
    }

    /// The short name (`project-registered`): a sheet name has at most 31 characters.
    private func sheetName(english type: EventType) -> String {
        EventType.shortNames.first { $0.value == type }?.key ?? type.rawValue
    }

    private func allowed(_ kind: DataField.Kind?) -> [String]? {
        switch kind {
        case .category?, .categories?: Category.allCases.map { chinese ? $0.name(in: .simplifiedChinese) : $0.rawValue }
        case .projectStatus?: ProjectStatus.allCases.map { chinese ? $0.name(in: .simplifiedChinese) : $0.rawValue }
        case .boolean?: chinese ? ["是", "否"] : ["true", "false"]
        default: nil
        }
    }

    /// What to write in a column, in the template's language.
    func explanation(_ column: String, kind: DataField.Kind?) -> String {
        if column == "time" {
            return chinese
                ? "发生时间，如 2024-03-05 09:30 或 2024-03-05（按园区时区，默认北京时间）；也可填日期单元格。"
                : "When it happened, e.g. 2024-03-05 09:30 or 2024-03-05 (the zone's time zone, Asia/Shanghai by default); a date cell works too."
        }
        switch kind {
        case .money?:
            return chinese ? "金额，单位万元，可有小数（换算成元须为整数，如 12.5）。" : "An amount in 10k yuan (万元); decimals allowed if it is a whole number of yuan."
        case .year?:
            return chinese ? "年份，如 2024。" : "A year, e.g. 2024."
        case .count?:
            return chinese ? "人数，整数。" : "A whole number."
        case .boolean?:
            return chinese ? "是 或 否。" : "true or false."
        case .categories?:
            return chinese
                ? "项目所属类别，可多选，用“、”或“;”分隔：" + Category.allCases.map { $0.name(in: .simplifiedChinese) }.joined(separator: "、") + "。"
                : "One or more of " + Category.allCases.map(\.rawValue).joined(separator: ", ") + ", separated by ';'."
        case .category?:
            return chinese
                ? "所属行业，其一：" + Category.allCases.map { $0.name(in: .simplifiedChinese) }.joined(separator: "、") + "。"
                : "One of " + Category.allCases.map(\.rawValue).joined(separator: ", ") + "."
        case .projectStatus?:
            return chinese
                ? "项目状态，其一：" + ProjectStatus.allCases.map { $0.name(in: .simplifiedChinese) }.joined(separator: "、") + "。"
                : "One of " + ProjectStatus.allCases.map(\.rawValue).joined(separator: ", ") + "."
        case .period?:
            return chinese ? "统计月份，如 2024-05。" : "The month, e.g. 2024-05."
        case .projectID?:
            return chinese ? "项目编号，1–64 个字母、数字或 . _ -，如 BT2024-001。" : "1–64 letters, digits or . _ -, e.g. BT2024-001."
        case .text?, nil:
            return chinese ? "文字，最多 1000 字。" : "Text, at most 1,000 characters."
        }
    }
}
