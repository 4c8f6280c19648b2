import Crypto
import LodeJSON
import Foundation
import LodeAMQP
import LodeEvents
import LodeStorage
import LodeWire

/// A message of `lode.dead` read as a dead letter: its id, and the index row it makes.
///
/// Works for every message there, whoever put it there: the worker's own dead letters carry the
/// `x-lode-*` headers (and `x-lode-dead-letter-id`); a message the broker moved there after too
/// many deliveries carries only `x-death` (reason `delivery_limit`) and is read as a `poison`
/// dead letter; anything else is indexed with reason `unknown`.
public struct DeadLetterMessage: Sendable {
    /// The header the worker stamps each dead letter with: its id in the index.
    public static let idHeader = "x-lode-dead-letter-id"

    public let properties: MessageProperties
    public let body: [UInt8]
    public let record: DeadLetterRecord

    public init(properties: MessageProperties, body: [UInt8], now: Date = Date()) {
        self.properties = properties
        self.body = body
        let headers = properties.headers ?? FieldTable()
        let death = Self.firstDeath(headers)
        let deathReason = death?["reason"]?.stringValue
        let reason = headers["x-lode-reason"]?.stringValue
            ?? deathReason.map { $0 == "delivery_limit" ? "poison" : $0 } ?? "unknown"
        let error = headers["x-lode-error"]?.stringValue
            ?? deathReason.map { "moved to \(ZoneTopology.deadLetterQueue) by the broker (x-death reason \($0), from queue \(death?["queue"]?.stringValue ?? "?"))" }
            ?? "no x-lode-error header: not dead-lettered by lode-worker"
        let attempts = headers["x-lode-attempts"]?.integerValue
            ?? headers["x-delivery-count"]?.integerValue
            ?? (deathReason == "delivery_limit" ? Int64(ZoneTopology.deliveryLimit) : death?["count"]?.integerValue) ?? 0
        // Headers anyone could set: a first failure that is no RFC 3339 time is not shown.
        let firstFailedAt = DeadLetter.firstFailure(in: headers)
            ?? Self.timestamp(death?["time"]).map { Date(amqpTimestamp: $0).ISO8601Format() }
            ?? now.ISO8601Format()
        let id = headers[Self.idHeader]?.stringValue ?? Self.id(reason: reason, body: body)
        record = DeadLetterRecord(
            id: id, type: properties.type ?? Self.bodyMember("type", of: body), reason: reason, error: error,
            attempts: max(0, Int(clamping: attempts)), firstFailedAt: firstFailedAt,
            eventID: headers["x-lode-event-id"]?.stringValue
                ?? (properties.contentType == MessageFormat.batchContentType ? nil : Self.bodyMember("id", of: body)),
            properties: DeadLetterProperties.json(properties).serializedBytes(), body: body, changedAt: now)
    }

    /// The id of a dead letter: 12 hex digits of SHA-256 over its reason and body. The same
    /// event dead-lettered twice for the same reason (a worker that crashed before its ack) is
    /// one dead letter; 48 bits make a clash unlikely below millions of dead letters.
    public static func id(reason: String, body: [UInt8]) -> String {
        var hash = SHA256()
        hash.update(data: Array(reason.utf8) + [0])
        hash.update(data: body)
        return String(hash.finalize().hex.prefix(12))
    }

    /// The message to publish to `lode.events` to replay it: routing key = its type, the
    /// original properties, without what says it failed (`x-lode-reason`, `x-lode-error`, the
    /// broker's `x-death`...). `x-lode-attempts` and `x-lode-first-failed-at` stay, so if it
    /// fails again its dead letter counts on and keeps its first failure time.
    public var replay: OutgoingMessage {
        var properties = properties
        if var headers = properties.headers {
            headers.entries.removeAll { entry in
                Self.droppedOnReplay.contains(entry.key) || entry.key.hasPrefix("x-first-death")
                    || entry.key.hasPrefix("x-last-death")
            }
            properties.headers = headers.isEmpty ? nil : headers
        }
        properties.deliveryMode = 2
        return OutgoingMessage(exchange: ZoneTopology.exchange, routingKey: record.type ?? "unknown", body: body,
                               properties: properties, mandatory: true)
    }

    /// The header a sweep marks the messages it puts back with, so that it knows when it meets
    /// them again (it went round the whole queue).
    public static let sweepHeader = "x-lode-swept-by"

    /// The same message put back at the tail of `lode.dead`, marked by the sweep `sweep`.
    public func requeued(by sweep: String) -> OutgoingMessage {
        var properties = properties
        var headers = properties.headers ?? FieldTable()
        headers[Self.sweepHeader] = .string(sweep)
        properties.headers = headers
        return OutgoingMessage(exchange: "", routingKey: ZoneTopology.deadLetterQueue, body: body, properties: properties,
                               mandatory: true)
    }

    /// The sweep that put this message back last, if any.
    public var sweptBy: String? { properties.headers?[Self.sweepHeader]?.stringValue }

    static let droppedOnReplay: Set<String> = [
        "x-lode-reason", "x-lode-error", idHeader, sweepHeader, "x-death", "x-delivery-count",
    ]

    private static func firstDeath(_ headers: FieldTable) -> FieldTable? {
        guard case .array(let deaths)? = headers["x-death"], case .table(let first)? = deaths.first else { return nil }
        return first
    }

    private static func timestamp(_ value: FieldValue?) -> UInt64? {
        if case .timestamp(let seconds)? = value { return seconds }
        return value?.integerValue.flatMap { UInt64(exactly: $0) }
    }

    /// A top-level string member of a JSON object body, when the body is one.
    private static func bodyMember(_ name: String, of body: [UInt8]) -> String? {
        guard let value = try? JSONParser.parse(body), case .string(let text)? = value[name] else { return nil }
        return text
    }
}

/// Message properties as JSON, for the index and `lodectl dlq show`.
enum DeadLetterProperties {
    static func json(_ properties: MessageProperties) -> JSONValue {
        var members: [JSONMember] = []
        func add(_ key: String, _ value: String?) { if let value { members.append(.init(key, .string(value))) } }
        add("content_type", properties.contentType)
        add("content_encoding", properties.contentEncoding)
        if let mode = properties.deliveryMode { members.append(.init("delivery_mode", .integer(Int(mode)))) }
        if let priority = properties.priority { members.append(.init("priority", .integer(Int(priority)))) }
        add("correlation_id", properties.correlationID)
        add("reply_to", properties.replyTo)
        add("expiration", properties.expiration)
        add("message_id", properties.messageID)
        if let timestamp = properties.timestamp {
            members.append(.init("timestamp", .string(Date(amqpTimestamp: timestamp).ISO8601Format())))
        }
        add("type", properties.type)
        add("user_id", properties.userID)
        add("app_id", properties.appID)
        add("cluster_id", properties.clusterID)
        if let headers = properties.headers { members.append(.init("headers", table(headers))) }
        return .object(members)
    }

    static func table(_ table: FieldTable) -> JSONValue {
        .object(table.entries.map { JSONMember($0.key, value($0.value)) })
    }

    static func value(_ value: FieldValue) -> JSONValue {
        switch value {
        case .bool(let flag): .bool(flag)
        case .float(let number): .number(JSONNumber(text: "\(number)") ?? JSONNumber(0))
        case .double(let number): .number(JSONNumber(text: "\(number)") ?? JSONNumber(0))
        case .decimal(let scale, let digits): .string("\(digits)e-\(scale)")
        case .string(let text): .string(text)
        case .bytes(let bytes): .string(String(decoding: bytes, as: UTF8.self))
        case .timestamp(let seconds): .string(Date(amqpTimestamp: seconds).ISO8601Format())
        case .array(let values): .array(values.map(Self.value))
        case .table(let nested): table(nested)
        case .void: .null
        default: value.integerValue.map { .integer($0) } ?? .string("\(value)")
        }
    }
}
