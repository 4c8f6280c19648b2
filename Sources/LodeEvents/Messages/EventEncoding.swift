import LodeJSON

/// The value of one `data` field, as events write it.
enum DataValue {
    case text(String)
    case integer(Int64)
    case boolean(Bool)
    case categories([Category])

    var jsonValue: JSONValue {
        switch self {
        case .text(let text): .string(text)
        case .integer(let integer): .integer(integer)
        case .boolean(let flag): .bool(flag)
        case .categories(let categories): .array(categories.map { .string($0.rawValue) })
        }
    }
}

extension EventData {
    /// The payload's fields in the contract's order; optional fields only
    /// when present, `major` always.
    var fields: [(key: KnownKey, value: DataValue)] {
        switch self {
        case .projectRegistered(let project):
            var fields: [(key: KnownKey, value: DataValue)] = [
                (.projectID, .text(project.projectID)),
                (.name, .text(project.name)),
                (.planYear, .integer(Int64(project.planYear))),
                (.categories, .categories(project.categories)),
                (.newStart, .boolean(project.newStart)),
                (.totalInvestment, .integer(project.totalInvestment)),
                (.plannedInvestment, .integer(project.plannedInvestment)),
                (.major, .boolean(project.major)),
            ]
            if let enterprise = project.enterprise { fields.append((.enterprise, .text(enterprise))) }
            if let park = project.park { fields.append((.park, .text(park))) }
            if let capacity = project.capacity { fields.append((.capacity, .text(capacity))) }
            return fields
        case .projectStatusChanged(let change):
            var fields: [(key: KnownKey, value: DataValue)] = [
                (.projectID, .text(change.projectID)),
                (.status, .text(change.status.rawValue)),
            ]
            if let note = change.note { fields.append((.note, .text(note))) }
            return fields
        case .investmentReported(let report):
            return [
                (.projectID, .text(report.projectID)),
                (.period, .text(report.period.description)),
                (.completedInvestment, .integer(report.completedInvestment)),
            ]
        case .enterpriseContacted(let contact):
            var fields: [(key: KnownKey, value: DataValue)] = [
                (.enterprise, .text(contact.enterprise)),
                (.campaign, .text(contact.campaign)),
            ]
            if let industry = contact.industry { fields.append((.industry, .text(industry.rawValue))) }
            return fields
        case .siteVisit(let visit):
            var fields: [(key: KnownKey, value: DataValue)] = [
                (.enterprise, .text(visit.enterprise)),
                (.campaign, .text(visit.campaign)),
            ]
            if let visitors = visit.visitors { fields.append((.visitors, .integer(Int64(visitors)))) }
            return fields
        case .agreementSigned(let agreement):
            var fields: [(key: KnownKey, value: DataValue)] = [
                (.enterprise, .text(agreement.enterprise)),
                (.campaign, .text(agreement.campaign)),
            ]
            if let projectID = agreement.projectID { fields.append((.projectID, .text(projectID))) }
            if let amount = agreement.intendedInvestment { fields.append((.intendedInvestment, .integer(amount))) }
            return fields
        case .projectIntroduced(let introduction):
            return [
                (.enterprise, .text(introduction.enterprise)),
                (.campaign, .text(introduction.campaign)),
                (.projectID, .text(introduction.projectID)),
                (.industry, .text(introduction.industry.rawValue)),
            ]
        }
    }

    /// The payload as the `data` object, fields in the contract's order;
    /// optional fields that are `nil` are left out, `major` is always
    /// written.
    public var jsonValue: JSONValue {
        .object(fields.map { JSONMember($0.key.name, $0.value.jsonValue) })
    }
}

extension Event {
    /// The event as a JSON object in CloudEvents structured mode:
    /// `specversion`, `id`, `source`, `type`, `time` (its text as given),
    /// `datacontenttype` (`application/json`) and `data`, in that order.
    public var jsonValue: JSONValue {
        .object([
            JSONMember("specversion", .string(Event.specVersion)),
            JSONMember("id", .string(id)),
            JSONMember("source", .string(source)),
            JSONMember("type", .string(type.rawValue)),
            JSONMember("time", .string(time.text)),
            JSONMember("datacontenttype", .string("application/json")),
            JSONMember("data", data.jsonValue),
        ])
    }

    /// The body of a single-event message: compact JSON of ``jsonValue``.
    /// `Event.decode(event.encoded()) == event` for every valid event.
    public func encoded() -> [UInt8] {
        var writer = JSONWriter(sortingKeys: false)
        write(to: &writer)
        return writer.bytes
    }

    func write(to writer: inout JSONWriter) {
        writer.openObject()
        writer.writeKey(.specversion)
        writer.writeString(Event.specVersion)
        writer.writeKey(.id)
        writer.writeString(id)
        writer.writeKey(.source)
        writer.writeString(source)
        writer.writeKey(.type)
        writer.writeString(type.rawValue)
        writer.writeKey(.time)
        writer.writeString(time.text)
        writer.writeKey(.datacontenttype)
        writer.writeString("application/json")
        writer.writeKey(.data)
        writer.writeData(data)
        writer.closeObject()
    }
}

extension JSONWriter {
    mutating func openObject() {
        bytes.append(UInt8(ascii: "{"))
    }

    mutating func closeObject() {
        bytes.append(UInt8(ascii: "}"))
    }

    /// Writes `"key":`, with a comma before it unless it begins the object.
    mutating func writeKey(_ key: KnownKey) {
        if bytes.last != UInt8(ascii: "{") { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        var name = key.name
        name.withUTF8 { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// Writes a payload as its `data` object: in the contract's order, or
    /// in canonical key order when the writer sorts keys.
    mutating func writeData(_ data: EventData) {
        let fields = data.fields
        // Sorting positions rather than fields keeps the sort free of
        // reference counting.
        var order = Array(fields.indices)
        if sortingKeys {
            order.sort { fields[$0].key.canonicalRank < fields[$1].key.canonicalRank }
        }
        openObject()
        for position in order {
            let field = fields[position]
            writeKey(field.key)
            switch field.value {
            case .text(let text): writeString(text)
            case .integer(let integer): writeInteger(integer)
            case .boolean(let flag): writeBoolean(flag)
            case .categories(let categories):
                bytes.append(UInt8(ascii: "["))
                for (index, category) in categories.enumerated() {
                    if index > 0 { bytes.append(UInt8(ascii: ",")) }
                    writeString(category.rawValue)
                }
                bytes.append(UInt8(ascii: "]"))
            }
        }
        closeObject()
    }
}

extension KnownKey {
    /// The key's position among all known keys in UTF-8 byte order: the
    /// order canonical JSON writes them in.
    var canonicalRank: UInt8 { KnownKey.canonicalRanks[Int(rawValue)] }

    private static let canonicalRanks: [UInt8] = {
        let sorted = allCases.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        var ranks = [UInt8](repeating: 0, count: allCases.count)
        for (rank, key) in sorted.enumerated() { ranks[Int(key.rawValue)] = UInt8(rank) }
        return ranks
    }()
}
