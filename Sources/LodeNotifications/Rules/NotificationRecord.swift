import LodeJSON
import Foundation
import LodeEvents
import LodeProjections

extension NotificationCause {
    /// The cause as the webhook payload and the outbox record write it.
    public var json: JSONValue {
        switch self {
        case .event(let id, let type):
            return .object([.init("kind", .string("event")), .init("event_id", .string(id)), .init("event_type", .string(type.rawValue))])
        case .threshold(let year, let figure, let threshold, let value):
            return .object([
                .init("kind", .string("threshold")), .init("year", .integer(year)), .init("figure", .string(figure.path)),
                .init("threshold", .integer(threshold)), .init("value", .integer(value)),
            ])
        case .milestone(let year, let target, let milestone, let threshold, let value):
            return .object([
                .init("kind", .string("milestone")), .init("year", .integer(year)), .init("figure", .string(target.figure.path)),
                .init("target_name", .string(target.name)), .init("target", .integer(target.target)),
                .init("milestone", .integer(milestone)), .init("threshold", .integer(threshold)), .init("value", .integer(value)),
            ])
        }
    }

    init?(json: JSONValue) {
        func string(_ key: String) -> String? {
            if case .string(let text)? = json[key] { text } else { nil }
        }
        func integer(_ key: String) -> Int64? {
            if case .number(let number)? = json[key] { number.int64Value } else { nil }
        }
        switch string("kind") {
        case "event":
            guard let id = string("event_id"), let type = string("event_type").flatMap(EventType.init(rawValue:)) else { return nil }
            self = .event(id: id, type: type)
        case "threshold":
            guard let year = integer("year"), let path = string("figure"), let figure = try? ReportFigure(path: path),
                  let threshold = integer("threshold"), let value = integer("value") else { return nil }
            self = .threshold(year: Int(year), figure: figure, threshold: threshold, value: value)
        case "milestone":
            guard let year = integer("year"), let path = string("figure"), let name = string("target_name"),
                  let number = integer("target"), let target = try? ReportTarget(name: name, path: path, target: number),
                  let milestone = integer("milestone"), let threshold = integer("threshold"), let value = integer("value")
            else { return nil }
            self = .milestone(year: Int(year), target: target, milestone: Int(milestone), threshold: threshold, value: value)
        default:
            return nil
        }
    }
}

extension ZoneNotification {
    /// The notification as one JSON document, for the outbox: everything a channel needs to
    /// send it again later, read back by ``init(record:)``.
    public func record() -> [UInt8] {
        JSONValue.object([
            .init("key", .string(key)),
            .init("rule", .string(rule)),
            .init("channels", .array(channels.map { .string($0) })),
            .init("title", .string(title)),
            .init("text", .string(text)),
            .init("cause", cause.json),
            .init("created_at_ms", .integer(Int64((createdAt.timeIntervalSince1970 * 1000).rounded()))),
        ]).serializedBytes()
    }

    /// Reads back what ``record()`` wrote; `nil` for anything else.
    public init?(record: [UInt8]) {
        guard let json = try? JSONParser.parse(record) else { return nil }
        func string(_ key: String) -> String? {
            if case .string(let text)? = json[key] { text } else { nil }
        }
        guard let key = string("key"), let rule = string("rule"), let title = string("title"), let text = string("text"),
              case .array(let channelValues)? = json["channels"], let causeJSON = json["cause"],
              let cause = NotificationCause(json: causeJSON),
              case .number(let created)? = json["created_at_ms"], let milliseconds = created.int64Value
        else { return nil }
        let channels = channelValues.compactMap { value -> String? in if case .string(let name) = value { name } else { nil } }
        self.init(key: key, rule: rule, channels: channels, title: title, text: text, cause: cause,
                  createdAt: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
