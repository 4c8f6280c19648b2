import Foundation

/// The language people read Lodestone in (contract section 2: `--lang`, `LODE_LANG`, config
/// `language:`): Simplified Chinese by default, as the zone is on the mainland.
public enum ZoneLanguage: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case simplifiedChinese = "zh-Hans"
    case traditionalChinese = "zh-Hant"
    case english = "en"

    public static let `default` = ZoneLanguage.simplifiedChinese

    public var description: String { rawValue }

    /// By its BCP 47 tag: `zh-Hans` (also `zh`, `zh-CN`, `zh-SG`), `zh-Hant` (also `zh-TW`,
    /// `zh-HK`, `zh-MO`), `en` (also `en-US`, `en-GB`...); any letter case, `_` for `-`.
    public init?(tag: String) {
        let lowered = tag.lowercased().replacingOccurrences(of: "_", with: "-")
        switch lowered {
        case "zh-hans", "zh", "zh-cn", "zh-sg", "zh-hans-cn": self = .simplifiedChinese
        case "zh-hant", "zh-tw", "zh-hk", "zh-mo", "zh-hant-tw", "zh-hant-hk": self = .traditionalChinese
        default:
            if lowered == "en" || lowered.hasPrefix("en-") { self = .english } else { return nil }
        }
    }

    /// The three tags, for messages.
    public static let tags = "zh-Hans, zh-Hant, en"
}

extension Category {
    /// The category's name in `language`: `稀土永磁电机`, `稀土永磁電機`, `PM motor`.
    public func name(in language: ZoneLanguage) -> String {
        switch (self, language) {
        case (.industrial, .simplifiedChinese): "产业类"
        case (.industrial, .traditionalChinese): "產業類"
        case (.industrial, .english): "industrial"
        case (.strategicEmerging, .simplifiedChinese): "战略性新兴产业"
        case (.strategicEmerging, .traditionalChinese): "戰略性新興產業"
        case (.strategicEmerging, .english): "strategic emerging"
        case (.rareEarth, .simplifiedChinese): "稀土产业"
        case (.rareEarth, .traditionalChinese): "稀土產業"
        case (.rareEarth, .english): "rare earth"
        case (.pmMotor, .simplifiedChinese): "稀土永磁电机"
        case (.pmMotor, .traditionalChinese): "稀土永磁電機"
        case (.pmMotor, .english): "PM motor"
        case (.rareEarthMaterial, .simplifiedChinese): "稀土新材料"
        case (.rareEarthMaterial, .traditionalChinese): "稀土新材料"
        case (.rareEarthMaterial, .english): "rare-earth material"
        case (.infrastructure, .simplifiedChinese): "基础设施"
        case (.infrastructure, .traditionalChinese): "基礎設施"
        case (.infrastructure, .english): "infrastructure"
        }
    }

    /// Other names a spreadsheet may use, besides the wire value and the names above.
    static let aliases: [String: Category] = [
        "产业": .industrial, "產業": .industrial, "产业项目": .industrial, "产业类项目": .industrial,
        "战略性新兴": .strategicEmerging, "战新": .strategicEmerging, "战略性新兴产业项目": .strategicEmerging,
        "稀土": .rareEarth, "稀土产业项目": .rareEarth,
        "永磁电机": .pmMotor, "稀土永磁": .pmMotor, "永磁電機": .pmMotor,
        "稀土材料": .rareEarthMaterial, "新材料": .rareEarthMaterial,
        "基础设施类": .infrastructure, "基础设施项目": .infrastructure, "基建": .infrastructure,
    ]

    /// A category by its wire value (`pm_motor`) or a name people write (`稀土永磁电机`,
    /// `稀土永磁電機`, `PM motor`, `永磁电机`...); letter case and spaces are ignored.
    public init?(named text: String) {
        let key = text.lowercased().filter { $0 != " " && $0 != "\u{3000}" }
        if let category = Category(rawValue: key) {
            self = category
            return
        }
        for category in Category.allCases {
            for language in ZoneLanguage.allCases
            where category.name(in: language).lowercased().filter({ $0 != " " }) == key {
                self = category
                return
            }
        }
        guard let alias = Category.aliases[key] else { return nil }
        self = alias
    }
}

extension ProjectStatus {
    /// The status's name in `language`: `已开工`, `已開工`, `started`.
    public func name(in language: ZoneLanguage) -> String {
        switch (self, language) {
        case (.signed, .simplifiedChinese): "已签约"
        case (.signed, .traditionalChinese): "已簽約"
        case (.signed, .english): "signed"
        case (.started, .simplifiedChinese): "已开工"
        case (.started, .traditionalChinese): "已開工"
        case (.started, .english): "started"
        case (.resumed, .simplifiedChinese): "已复工"
        case (.resumed, .traditionalChinese): "已復工"
        case (.resumed, .english): "resumed"
        case (.suspended, .simplifiedChinese): "已停工"
        case (.suspended, .traditionalChinese): "已停工"
        case (.suspended, .english): "suspended"
        case (.completed, .simplifiedChinese): "已竣工"
        case (.completed, .traditionalChinese): "已竣工"
        case (.completed, .english): "completed"
        case (.inProduction, .simplifiedChinese): "已投产"
        case (.inProduction, .traditionalChinese): "已投產"
        case (.inProduction, .english): "in production"
        case (.cancelled, .simplifiedChinese): "已取消"
        case (.cancelled, .traditionalChinese): "已取消"
        case (.cancelled, .english): "cancelled"
        }
    }

    /// A status by its wire value (`in_production`) or a name people write (`已投产`, `投产`,
    /// `已投產`, `in production`); letter case and spaces are ignored.
    public init?(named text: String) {
        var key = text.lowercased().filter { $0 != "\u{3000}" }
        if let status = ProjectStatus(rawValue: key.replacingOccurrences(of: " ", with: "_")) {
            self = status
            return
        }
        key = key.filter { $0 != " " }
        for status in ProjectStatus.allCases {
            for language in ZoneLanguage.allCases {
                let name = status.name(in: language).lowercased().filter { $0 != " " }
                // `开工` for `已开工`: the same word without its "already".
                if name == key || (name.hasPrefix("已") && String(name.dropFirst()) == key) {
                    self = status
                    return
                }
            }
        }
        switch key {
        case "签约", "已签订", "签订": self = .signed
        case "在建", "开工建设", "开建": self = .started
        case "停建", "暂停", "缓建": self = .suspended
        case "建成", "完工", "已完工", "已建成": self = .completed
        case "达产", "已达产", "运营", "已运营": self = .inProduction
        case "撤销", "终止", "已终止", "已撤销": self = .cancelled
        default: return nil
        }
    }
}

extension EventType {
    /// The type's name in `language`: `项目登记`, `項目登記`, `project registered`.
    public func name(in language: ZoneLanguage) -> String {
        switch (self, language) {
        case (.projectRegistered, .simplifiedChinese): "项目登记"
        case (.projectRegistered, .traditionalChinese): "項目登記"
        case (.projectRegistered, .english): "project registered"
        case (.projectStatusChanged, .simplifiedChinese): "项目状态"
        case (.projectStatusChanged, .traditionalChinese): "項目狀態"
        case (.projectStatusChanged, .english): "project status"
        case (.investmentReported, .simplifiedChinese): "投资完成"
        case (.investmentReported, .traditionalChinese): "投資完成"
        case (.investmentReported, .english): "investment reported"
        case (.enterpriseContacted, .simplifiedChinese): "走访对接"
        case (.enterpriseContacted, .traditionalChinese): "走訪對接"
        case (.enterpriseContacted, .english): "enterprise contacted"
        case (.siteVisit, .simplifiedChinese): "实地考察"
        case (.siteVisit, .traditionalChinese): "實地考察"
        case (.siteVisit, .english): "site visit"
        case (.agreementSigned, .simplifiedChinese): "签约"
        case (.agreementSigned, .traditionalChinese): "簽約"
        case (.agreementSigned, .english): "agreement signed"
        case (.projectIntroduced, .simplifiedChinese): "项目引进"
        case (.projectIntroduced, .traditionalChinese): "項目引進"
        case (.projectIntroduced, .english): "project introduced"
        }
    }
}
