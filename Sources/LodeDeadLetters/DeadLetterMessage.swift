import Crypto
import LodeJSON
import Foundation
import LodeAMQP
import LodeEvents
import LodeStorage
import LodeWire

/// Whose `x-lode-*` headers on a message of `lode.dead` are believed (contract section 3): the
/// broker users of the worker, which publishes dead letters, and of `lodectl`, which puts the
/// messages it sweeps past back at the tail of the queue. RabbitMQ refuses a `user_id` that is not
/// the publishing connection's user, so `user_id` says who really published a message; headers
/// say what the publisher chose to write.
public struct DeadLetterTrust: Sendable, Hashable {
    /// The trusted broker users.
    public let users: [String]

    public init(users: [String]) {
        var seen: Set<[UInt8]> = []
        self.users = users.filter { !$0.isEmpty && seen.insert(Array($0.utf8)).inserted }
    }

    /// Whether the `x-lode-*` headers of a message with `properties` are the worker's or
    /// `lodectl`'s: its `user_id` is a trusted user's (compared byte for byte), and no trusted
    /// publisher marked it as carrying someone else's (``DeadLetterMessage/untrustedUserHeader``).
    public func trusts(_ properties: MessageProperties) -> Bool {
        guard let user = properties.userID, users.contains(where: { $0.utf8.elementsEqual(user.utf8) }) else { return false }
        return properties.headers?[DeadLetterMessage.untrustedUserHeader] == nil
    }
}

/// A message of `lode.dead` read as a dead letter: its id, and the index row it makes.
///
/// Works for every message there, whoever put it there. A trusted one (``DeadLetterTrust``) is read
/// by its headers: the worker's own dead letters carry the `x-lode-*` headers (and
/// `x-lode-dead-letter-id`); one the broker moved there after too many deliveries carries only
/// `x-death` (reason `delivery_limit`) and is read as a `poison` dead letter; anything else is
/// indexed with reason `unknown`. An untrusted one (published by anyone else: a producer that could
/// reach the queue, or the broker moving a producer's message) is indexed with reason `untrusted`,
/// an id of its own and none of what its headers claim; `lodectl dlq show` prints its raw headers,
/// and it is replayed only when asked for by id.
public struct DeadLetterMessage: Sendable {
    /// The header the worker stamps each dead letter with: its id in the index.
    public static let idHeader = "x-lode-dead-letter-id"
    /// The reason an untrusted message is indexed with.
    public static let untrustedReason = "untrusted"
    /// Set by `lodectl` on an untrusted message it puts back in `lode.dead` (as its own user, the
    /// only one it may publish as): the `user_id` the message had, so it stays untrusted.
    public static let untrustedUserHeader = "x-lode-untrusted-user-id"

    public let properties: MessageProperties
    public let body: [UInt8]
    public let record: DeadLetterRecord
    /// Whether its `x-lode-*` headers were believed.
    public let trusted: Bool
    /// Who published an untrusted message: its `user_id`, or the one `lodectl` recorded when it
    /// put the message back (``untrustedUserHeader``, believed from a trusted user only); `nil`
    /// for a trusted message or one without a publisher.
    public let untrustedPublisher: String?

    public init(properties: MessageProperties, body: [UInt8], trust: DeadLetterTrust, now: Date = Date()) {
        self.properties = properties
        self.body = body
        let trusted = trust.trusts(properties)
        self.trusted = trusted
        let type = properties.type ?? Self.bodyMember("type", of: body)
        guard trusted else {
            var marked = properties
            marked.headers?[Self.untrustedUserHeader] = nil
            let byTrustedUser = trust.trusts(marked)
            let publisher = byTrustedUser ? properties.headers?[Self.untrustedUserHeader]?.stringValue : properties.userID
            untrustedPublisher = publisher?.isEmpty == false ? publisher : nil
            record = DeadLetterRecord(
                id: Self.id(reason: Self.untrustedReason, body: body), type: type, reason: Self.untrustedReason,
                error: Self.untrustedError(publisher: untrustedPublisher, headers: properties.headers ?? FieldTable()),
                attempts: 0, firstFailedAt: now.ISO8601Format(),
                eventID: properties.contentType == MessageFormat.batchContentType ? nil : Self.bodyMember("id", of: body),
                properties: DeadLetterProperties.json(properties).serializedBytes(), body: body, changedAt: now)
            return
        }
        untrustedPublisher = nil
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
            id: id, type: type, reason: reason, error: error,
            attempts: max(0, Int(clamping: attempts)), firstFailedAt: firstFailedAt,
            eventID: headers["x-lode-event-id"]?.stringValue
                ?? (properties.contentType == MessageFormat.batchContentType ? nil : Self.bodyMember("id", of: body)),
            properties: DeadLetterProperties.json(properties).serializedBytes(), body: body, changedAt: now)
    }

    static func untrustedError(publisher: String?, headers: FieldTable) -> String {
        let user = publisher.map { "user_id '\(String($0.utf8Prefix(255)))'" } ?? "no user_id"
        var text = "not published by lode-worker (\(user)): its x-lode-* headers are not trusted; `lodectl dlq show` prints them raw; it is replayed only when asked for by id"
        if let death = firstDeath(headers), let reason = death["reason"]?.stringValue {
            text += "; its x-death header says the broker moved it here (reason \(String(reason.utf8Prefix(64))), from queue \(String((death["queue"]?.stringValue ?? "?").utf8Prefix(255))))"
        }
        return text
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

    /// The message to publish to `lode.events` to replay it as broker user `user` (RabbitMQ takes
    /// no other `user_id` from that connection): routing key = its type, the original properties,
    /// without what says it failed (`x-lode-reason`, `x-lode-error`, the broker's `x-death`...),
    /// and with `x-lode-original-user-id` naming whose event it is, so that a worker with
    /// `departments:` judges it as that user's (it believes that header from its replay users
    /// only). A trusted dead letter keeps `x-lode-attempts` and `x-lode-first-failed-at`: if it
    /// fails again its dead letter counts on and keeps its first failure time. An untrusted one
    /// loses every `x-lode-*` header it came with; its publisher is its `user_id`.
    public func replay(as user: String?) -> OutgoingMessage {
        var properties = properties
        var headers = properties.headers ?? FieldTable()
        let originalUser: String?
        if trusted {
            originalUser = headers[DeadLetter.originalUserHeader]?.stringValue ?? properties.userID
            headers.entries.removeAll { entry in
                Self.droppedOnReplay.contains(entry.key) || entry.key.hasPrefix("x-first-death")
                    || entry.key.hasPrefix("x-last-death")
            }
        } else {
            originalUser = untrustedPublisher
            headers.entries.removeAll { entry in
                entry.key.hasPrefix(DeadLetter.lodeHeaderPrefix) || Self.droppedOnReplay.contains(entry.key)
                    || entry.key.hasPrefix("x-first-death") || entry.key.hasPrefix("x-last-death")
            }
        }
        if let originalUser, !originalUser.isEmpty, originalUser != user {
            headers[DeadLetter.originalUserHeader] = .string(originalUser)
        } else {
            headers[DeadLetter.originalUserHeader] = nil
        }
        properties.headers = headers.isEmpty ? nil : headers
        properties.userID = user
        properties.deliveryMode = 2
        return OutgoingMessage(exchange: ZoneTopology.exchange, routingKey: record.type ?? "unknown", body: body,
                               properties: properties, mandatory: true)
    }

    /// The header a sweep marks the messages it puts back with, so that it knows when it meets
    /// them again (it went round the whole queue).
    public static let sweepHeader = "x-lode-swept-by"

    /// The same message put back at the tail of `lode.dead` by broker user `user`, marked by the
    /// sweep `sweep`. An untrusted message keeps its publisher in ``untrustedUserHeader``, so that
    /// being put back by a trusted user does not make it trusted.
    public func requeued(by sweep: String, as user: String?) -> OutgoingMessage {
        var properties = properties
        var headers = properties.headers ?? FieldTable()
        headers[Self.sweepHeader] = .string(sweep)
        if !trusted { headers[Self.untrustedUserHeader] = .string(untrustedPublisher ?? "") }
        properties.headers = headers
        properties.userID = user
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
