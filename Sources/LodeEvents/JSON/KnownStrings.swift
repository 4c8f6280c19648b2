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

/// A small set of ASCII strings looked up by their bytes: an open-addressing
/// hash table over the length and three of the bytes, then a byte compare.
/// A class, so that using the shared table copies no arrays.
final class InternTable<Value: Sendable>: Sendable {
    private static var slotCount: Int { 256 }
    /// For each slot, the index of its entry, or -1.
    private let slots: [Int16]
    /// Every entry's bytes, one after the other; entry i is
    /// `entryBytes[entryStarts[i]..<entryStarts[i + 1]]`.
    private let entryBytes: [UInt8]
    private let entryStarts: [Int]
    private let entryValues: [Value]

    init(_ entries: [(String, Value)]) {
        var slots = [Int16](repeating: -1, count: Self.slotCount)
        for (index, entry) in entries.enumerated() {
            let bytes = Array(entry.0.utf8)
            var slot = bytes.withUnsafeBufferPointer { Self.hash($0) }
            while slots[slot] >= 0 { slot = (slot + 1) & (Self.slotCount - 1) }
            slots[slot] = Int16(index)
        }
        self.slots = slots
        self.entryBytes = entries.flatMap { Array($0.0.utf8) }
        self.entryStarts = entries.reduce(into: [0]) { starts, entry in starts.append(starts.last! + entry.0.utf8.count) }
        self.entryValues = entries.map(\.1)
    }

    @inline(__always)
    private static func hash(_ utf8: UnsafeBufferPointer<UInt8>) -> Int {
        let count = utf8.count
        guard count > 0 else { return 0 }
        let mixed = count &* 31 &+ Int(utf8[0]) &* 7 &+ Int(utf8[count - 1]) &* 3 &+ Int(utf8[count / 2])
        return mixed & (slotCount - 1)
    }

    func match(_ utf8: UnsafeBufferPointer<UInt8>) -> Value? {
        var slot = Self.hash(utf8)
        while true {
            let entry = Int(slots[slot])
            guard entry >= 0 else { return nil }
            let start = entryStarts[entry]
            let end = entryStarts[entry + 1]
            if end - start == utf8.count {
                let isEqual = entryBytes.withUnsafeBufferPointer { all in
                    memoryEqual(UnsafeBufferPointer(rebasing: all[start..<end]), utf8)
                }
                if isEqual { return entryValues[entry] }
            }
            slot = (slot + 1) & (Self.slotCount - 1)
        }
    }
}

/// Whether two buffers hold the same bytes.
@inline(__always)
func memoryEqual(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0 else { return true }
    let left = UnsafeRawPointer(a.baseAddress!)
    let right = UnsafeRawPointer(b.baseAddress!)
    var offset = 0
    while offset + 8 <= a.count {
        if left.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            != right.loadUnaligned(fromByteOffset: offset, as: UInt64.self) {
            return false
        }
        offset += 8
    }
    while offset < a.count {
        if a[offset] != b[offset] { return false }
        offset += 1
    }
    return true
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
            self.init(rawValue: node.stringValue)
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
