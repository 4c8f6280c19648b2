import Foundation
import LodeEvents

/// The names a spreadsheet's header row may give a column (contract section 2): a field's
/// contract name, or its Simplified Chinese name, optionally followed by a unit in parentheses
/// (`总投资（万元）`, `total_investment (亿元)`).
public enum SpreadsheetVocabulary {
    /// The Simplified Chinese names of the columns, first the name templates write, then other
    /// names people use. `docs/publishing.md` lists them all.
    public static let chineseNames: [(column: String, names: [String])] = [
        ("id", ["事件编号", "编号"]),
        ("time", ["时间", "日期", "发生时间", "填报时间"]),
        ("source", ["来源", "填报单位", "报送单位"]),
        ("type", ["事件类型", "类型"]),
        ("project_id", ["项目编号", "项目代码"]),
        ("name", ["项目名称"]),
        ("plan_year", ["计划年度", "年度"]),
        ("categories", ["类别", "项目类别", "产业类别"]),
        ("new_start", ["新开工", "是否新开工"]),
        ("total_investment", ["总投资", "总投资额", "项目总投资"]),
        ("planned_investment", ["当年计划投资", "年度计划投资", "计划投资"]),
        ("major", ["重大项目", "是否重大项目"]),
        ("enterprise", ["企业名称", "企业", "建设单位", "项目单位"]),
        ("park", ["园区", "所在园区"]),
        ("capacity", ["建设规模", "产能", "建设内容及规模"]),
        ("status", ["状态", "项目状态", "进展"]),
        ("note", ["备注", "说明"]),
        ("period", ["月份", "统计月份", "填报月份"]),
        ("completed_investment", ["完成投资", "当月完成投资", "本月完成投资"]),
        ("campaign", ["招商行动", "招商活动"]),
        ("industry", ["行业", "产业", "所属行业"]),
        ("visitors", ["来访人数", "考察人数"]),
        ("intended_investment", ["意向投资", "意向投资额", "协议投资"]),
    ]

    /// The Chinese name a template writes for `column`.
    public static func chineseName(of column: String) -> String {
        chineseNames.first { $0.column == column }?.names.first ?? column
    }

    /// Every column name the producer knows, by normalized spelling.
    static let columnsByName: [String: String] = {
        var names: [String: String] = [:]
        for type in EventType.allCases {
            for field in type.dataFields { names[normalize(field.name)] = field.name }
        }
        for column in EventRowReader.envelopeColumns + ["type"] { names[normalize(column)] = column }
        for (column, aliases) in chineseNames {
            for alias in aliases { names[normalize(alias)] = column }
        }
        return names
    }()

    /// Lower case, without spaces, `-` as `_`, full-width letters as ASCII.
    static func normalize(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x20, 0x09, 0x3000: continue
            case 0xFF01...0xFF5E: result.unicodeScalars.append(Unicode.Scalar(scalar.value - 0xFEE0) ?? scalar)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result.lowercased().replacingOccurrences(of: "-", with: "_")
    }

    /// A unit of money in a header.
    public enum MoneyUnit: String, Sendable, Hashable, CaseIterable {
        case yuan = "元"
        case wan = "万元"
        case yi = "亿元"

        /// Yuan per unit.
        public var yuan: Int64 {
            switch self {
            case .yuan: 1
            case .wan: 10_000
            case .yi: 100_000_000
            }
        }

        init?(text: String) {
            switch normalize(text) {
            case "元", "yuan", "cny", "rmb", "人民币元": self = .yuan
            case "万元", "萬元", "万", "10kyuan", "wanyuan", "万元人民币": self = .wan
            case "亿元", "億元", "亿", "100myuan", "yiyuan", "亿元人民币": self = .yi
            default: return nil
            }
        }
    }

    /// A header cell, understood: its column and its unit, if it has one.
    struct Header: Sendable, Hashable {
        var column: String
        var unit: MoneyUnit?
        /// As the sheet writes it.
        var text: String
    }

    /// What a header cell names, or why it names nothing.
    static func header(_ text: String) -> Result<Header, HeaderProblem> {
        var name = text.trimmingCharacters(in: .whitespaces)
        var unitText: String?
        // A unit in parentheses at the end: `总投资（万元）`, `total_investment (亿元)`, `总投资(万元)`.
        if let last = name.last, last == ")" || last == "）",
           let open = name.lastIndex(where: { $0 == "(" || $0 == "（" }) {
            unitText = String(name[name.index(after: open)..<name.index(before: name.endIndex)])
            name = String(name[..<open]).trimmingCharacters(in: .whitespaces)
        }
        guard !name.isEmpty else { return .failure(.empty) }
        guard let column = columnsByName[normalize(name)] else { return .failure(.unknown(name)) }
        guard let unitText else { return .success(Header(column: column, unit: nil, text: text)) }
        guard let unit = MoneyUnit(text: unitText) else { return .failure(.unknownUnit(column: column, unit: unitText)) }
        guard moneyColumns.contains(column) else { return .failure(.unitOnNonAmount(column: column, unit: unitText)) }
        return .success(Header(column: column, unit: unit, text: text))
    }

    enum HeaderProblem: Error {
        case empty
        case unknown(String)
        case unknownUnit(column: String, unit: String)
        case unitOnNonAmount(column: String, unit: String)
    }

    /// The columns that hold an amount of money.
    static let moneyColumns: Set<String> = {
        var columns: Set<String> = []
        for type in EventType.allCases {
            for field in type.dataFields where field.kind == .money { columns.insert(field.name) }
        }
        return columns
    }()

    /// The names a `type` column may hold for each type, besides its wire name: its Chinese
    /// name (``EventType/name(in:)``, first), the short name (`project-status`), the wire
    /// name's last part (`status_changed`) and a few more.
    public static let typeNames: [(type: EventType, names: [String])] = {
        let more: [(EventType, [String])] = [
            (.projectRegistered, ["项目入库", "registered"]),
            (.projectStatusChanged, ["状态变更", "status_changed", "status"]),
            (.investmentReported, ["投资填报", "investment_reported", "investment"]),
            (.enterpriseContacted, ["企业对接", "enterprise_contacted", "contact"]),
            (.siteVisit, ["考察", "site_visit", "visit"]),
            (.agreementSigned, ["签订协议", "agreement_signed", "agreement"]),
            (.projectIntroduced, ["引进项目", "project_introduced", "introduced"]),
        ]
        return more.map { (type: EventType, names: [String]) -> (type: EventType, names: [String]) in
            let chinese: [String] = [type.name(in: .simplifiedChinese), type.name(in: .traditionalChinese)]
            return (type: type, names: chinese + names)
        }
    }()

    /// The Chinese name of a type, as templates name their sheet: `项目登记`.
    public static func chineseName(of type: EventType) -> String {
        type.name(in: .simplifiedChinese)
    }

    /// A type by any of its names (wire, short, last part, Chinese).
    public static func eventType(named text: String) -> EventType? {
        let key = normalize(text)
        if let type = EventType(rawValue: key) ?? EventType.shortNames[key.replacingOccurrences(of: "_", with: "-")] { return type }
        return typeNames.first { entry in entry.names.contains { normalize($0) == key } }?.type
    }
}
