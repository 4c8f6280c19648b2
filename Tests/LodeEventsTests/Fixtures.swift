import LodeJSON
import LodeEvents

/// Valid events of every type, as JSON, and ways to change them.
enum Fixtures {
    static func data(for type: EventType) -> JSONValue {
        switch type {
        case .projectRegistered:
            .object([
                JSONMember("project_id", .string("BT-2024-001")),
                JSONMember("name", .string("浙江中車尚馳年產10萬臺新能源永磁驅動系統北方基地項目")),
                JSONMember("plan_year", .integer(2024)),
                JSONMember("categories", .array([.string("industrial"), .string("pm_motor")])),
                JSONMember("new_start", .bool(true)),
                JSONMember("total_investment", .integer(1_500_000_000)),
                JSONMember("planned_investment", .integer(600_000_000)),
                JSONMember("park", .string("稀土永磁電機產業園")),
            ])
        case .projectStatusChanged:
            .object([JSONMember("project_id", .string("BT-2024-001")), JSONMember("status", .string("started"))])
        case .investmentReported:
            .object([
                JSONMember("project_id", .string("BT-2024-001")),
                JSONMember("period", .string("2024-04")),
                JSONMember("completed_investment", .integer(35_000_000)),
            ])
        case .enterpriseContacted:
            .object([
                JSONMember("enterprise", .string("臥龍控股集團")),
                JSONMember("campaign", .string("百日攻堅")),
                JSONMember("industry", .string("pm_motor")),
            ])
        case .siteVisit:
            .object([
                JSONMember("enterprise", .string("臥龍控股集團")),
                JSONMember("campaign", .string("百日攻堅")),
                JSONMember("visitors", .integer(6)),
            ])
        case .agreementSigned:
            .object([
                JSONMember("enterprise", .string("臥龍控股集團")),
                JSONMember("campaign", .string("百日攻堅")),
                JSONMember("project_id", .string("WL-PM-01")),
                JSONMember("intended_investment", .integer(2_000_000_000)),
            ])
        case .projectIntroduced:
            .object([
                JSONMember("enterprise", .string("臥龍控股集團")),
                JSONMember("campaign", .string("百日攻堅")),
                JSONMember("project_id", .string("WL-PM-01")),
                JSONMember("industry", .string("pm_motor")),
            ])
        }
    }

    static func envelope(
        _ type: EventType = .projectRegistered, id: String = "evt-0001", source: String = "bt-zone/projects",
        time: String = "2024-05-05T10:00:00+08:00"
    ) -> JSONValue {
        .object([
            JSONMember("specversion", .string("1.0")),
            JSONMember("id", .string(id)),
            JSONMember("source", .string(source)),
            JSONMember("type", .string(type.rawValue)),
            JSONMember("time", .string(time)),
            JSONMember("data", data(for: type)),
        ])
    }

    static func body(_ value: JSONValue) -> [UInt8] { value.serializedBytes() }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
}

extension JSONValue {
    /// The object with `key` set to `value`, or removed when `value` is nil.
    func setting(_ key: String, _ value: JSONValue?) -> JSONValue {
        guard case .object(var members) = self else { return self }
        if let index = members.firstIndex(where: { $0.key == key }) {
            if let value { members[index].value = value } else { members.remove(at: index) }
        } else if let value {
            members.append(JSONMember(key, value))
        }
        return .object(members)
    }

    /// The event with `data.key` set to `value`, or removed when nil.
    func settingData(_ key: String, _ value: JSONValue?) -> JSONValue {
        setting("data", self["data"]!.setting(key, value))
    }
}

/// Decodes a JSON value as a single-event message body.
func decode(_ value: JSONValue) -> Result<Event, EventRejection> {
    decode(Fixtures.body(value))
}

func decode(_ body: [UInt8]) -> Result<Event, EventRejection> {
    Result { () throws(EventRejection) in try Event.decode(body) }
}

extension Result where Failure == EventRejection {
    var rejection: EventRejection? {
        if case .failure(let rejection) = self { rejection } else { nil }
    }

    var value: Success? {
        if case .success(let value) = self { value } else { nil }
    }
}
