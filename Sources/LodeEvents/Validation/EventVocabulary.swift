import LodeJSON

/// The object keys that events use: the envelope's attributes and every
/// `data` field name. The scanner recognizes them from their bytes, so that
/// these keys cost no allocation, duplicate checks among them are a bit
/// test, and validation dispatches on a small integer instead of comparing
/// strings.
enum KnownKey: UInt8, CaseIterable {
    case specversion, id, source, type, time, datacontenttype, data, dataBase64
    case projectID, name, planYear, categories, newStart, totalInvestment, plannedInvestment, major
    case enterprise, park, capacity, status, note, period, completedInvestment
    case campaign, industry, visitors, intendedInvestment

    /// The key as it is written.
    var name: String {
        switch self {
        case .specversion: "specversion"
        case .id: "id"
        case .source: "source"
        case .type: "type"
        case .time: "time"
        case .datacontenttype: "datacontenttype"
        case .data: "data"
        case .dataBase64: "data_base64"
        case .projectID: "project_id"
        case .name: "name"
        case .planYear: "plan_year"
        case .categories: "categories"
        case .newStart: "new_start"
        case .totalInvestment: "total_investment"
        case .plannedInvestment: "planned_investment"
        case .major: "major"
        case .enterprise: "enterprise"
        case .park: "park"
        case .capacity: "capacity"
        case .status: "status"
        case .note: "note"
        case .period: "period"
        case .completedInvestment: "completed_investment"
        case .campaign: "campaign"
        case .industry: "industry"
        case .visitors: "visitors"
        case .intendedInvestment: "intended_investment"
        }
    }

    var bit: UInt64 { 1 << UInt64(rawValue) }

    /// What the scanner recognises: key `k` has the number `k.rawValue + 1`.
    static let vocabulary = JSONKeyVocabulary(allCases.map(\.name))

    private static let table = InternTable(allCases.map { ($0.name, $0) })

    /// The known key spelled by exactly these bytes.
    static func match(_ utf8: UnsafeBufferPointer<UInt8>) -> KnownKey? {
        table.match(utf8)
    }

    /// The known key spelled by exactly this string.
    init?(_ key: String) {
        var key = key
        guard let known = key.withUTF8({ KnownKey.match($0) }) else { return nil }
        self = known
    }
}

/// String values that events repeat: returned as the same constant strings
/// instead of being allocated again for every event.
enum KnownValue {
    private static let table = InternTable(
        ([Event.specVersion, "application/json"]
            + EventType.allCases.map(\.rawValue)
            + Category.allCases.map(\.rawValue)
            + ProjectStatus.allCases.map(\.rawValue))
            .map { ($0, $0) })

    static func match(_ utf8: UnsafeBufferPointer<UInt8>) -> String? {
        table.match(utf8)
    }
}

/// An enum whose cases have wire names that events carry as strings.
protocol WireEnum: RawRepresentable, CaseIterable, Sendable where RawValue == String {
    /// The cases by the bytes of their wire names.
    static var wireNames: InternTable<Self> { get }
}

extension WireEnum {
    static func makeWireNames() -> InternTable<Self> {
        InternTable(allCases.map { ($0.rawValue, $0) })
    }

    /// The case whose wire name is the string at `node`.
    init?(wireName node: JSONNode) {
        if node.token.flags & JSONToken.hasEscapes == 0 {
            guard let value = Self.wireNames.match(node.rawBytes) else { return nil }
            self = value
        } else {
            self.init(rawValue: node.text)
        }
    }
}

extension EventType: WireEnum {
    static let wireNames = makeWireNames()
}

extension Category: WireEnum {
    static let wireNames = makeWireNames()
}

extension ProjectStatus: WireEnum {
    static let wireNames = makeWireNames()
}

extension JSONScanner {
    /// A scanner that recognises the keys events use (``KnownKey``).
    init(event bytes: UnsafeBufferPointer<UInt8>, position: Int = 0) {
        self.init(bytes, position: position, keys: KnownKey.vocabulary)
    }
}

extension JSONNode {
    /// The known key this key token spells, if any (for nodes of a scanner
    /// made with ``JSONScanner/init(event:position:)``).
    var knownKey: KnownKey? {
        let number = knownKeyNumber
        return number == 0 ? nil : KnownKey(rawValue: number - 1)
    }

    /// The value of the member whose key is `key`, when this is an object.
    func member(_ key: KnownKey) -> JSONNode? {
        member(knownKeyNumber: key.rawValue + 1)
    }

    /// The decoded text of a string or key, with the event vocabulary's
    /// repeated strings (known keys, types, categories, statuses) returned as
    /// shared constants instead of new allocations.
    var text: String {
        let token = self.token
        if token.flags & JSONToken.hasEscapes == 0 {
            if token.kind == .key, let known = knownKey { return known.name }
            if token.flags & JSONToken.isASCII != 0, let known = KnownValue.match(rawBytes) { return known }
        }
        return stringValue
    }
}
