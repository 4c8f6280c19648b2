/// A message to publish.
public struct OutgoingMessage: Sendable, Hashable {
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    public var properties: MessageProperties
    /// Ask the broker to return the message (`basic.return`) when no queue takes it.
    public var mandatory: Bool

    public init(exchange: String, routingKey: String, body: [UInt8],
                properties: MessageProperties = .persistent, mandatory: Bool = false) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.properties = properties
        self.mandatory = mandatory
    }
}

extension OutgoingMessage {
    /// AMQP short strings (exchange and queue names, routing keys, header names and most
    /// properties) hold at most 255 bytes. librabbitmq does not check, and writes a corrupt frame
    /// or drops the connection; so a message breaking that limit is refused before sending.
    /// Returns what is wrong, or `nil`.
    public func shortStringViolation() -> String? {
        func check(_ value: String?, _ name: String) -> String? {
            guard let value, value.utf8.count > 255 else { return nil }
            return "\(name) is \(value.utf8.count) bytes; AMQP allows 255"
        }
        func check(_ table: FieldTable, _ path: String) -> String? {
            for entry in table.entries {
                if entry.key.utf8.count > 255 {
                    return "header name '\(entry.key.prefix(40))…' in \(path) is \(entry.key.utf8.count) bytes; AMQP allows 255"
                }
                if let problem = check(entry.value, "\(path).\(entry.key)") { return problem }
            }
            return nil
        }
        func check(_ value: FieldValue, _ path: String) -> String? {
            switch value {
            case .table(let table): return check(table, path)
            case .array(let values):
                for value in values { if let problem = check(value, path) { return problem } }
                return nil
            default: return nil
            }
        }
        let p = properties
        let shortStrings: [(String?, String)] = [
            (exchange, "exchange"), (routingKey, "routing key"), (p.contentType, "content_type"),
            (p.contentEncoding, "content_encoding"), (p.correlationID, "correlation_id"), (p.replyTo, "reply_to"),
            (p.expiration, "expiration"), (p.messageID, "message_id"), (p.type, "type"), (p.userID, "user_id"),
            (p.appID, "app_id"), (p.clusterID, "cluster_id"),
        ]
        for (value, name) in shortStrings {
            if let problem = check(value, name) { return problem }
        }
        return p.headers.flatMap { check($0, "headers") }
    }
}

/// What became of one published message.
public enum PublishOutcome: Sendable, Hashable {
    /// The broker took responsibility for it (`basic.ack`): it is in every queue it routes to,
    /// and on disk if it is persistent and the queue durable.
    case confirmed
    /// The broker refused it (`basic.nack`), e.g. a full queue with `x-overflow=reject-publish`.
    case nacked
    /// Mandatory and routed to no queue (`basic.return`); the broker still acks it afterwards.
    case returned(replyCode: UInt16, replyText: String)
    /// No answer before the connection failed or the publisher gave up: it may or may not have
    /// arrived. Publishing it again is the caller's choice (consumers must deduplicate).
    case unconfirmed
}

/// The outcome of each message of one `Publisher.publish` call, in the order given.
public struct PublishReport: Sendable {
    public var outcomes: [PublishOutcome]
    /// Why some messages are `.unconfirmed`, when they are.
    public var interruption: AMQPError?

    public var confirmedCount: Int { outcomes.count { $0 == .confirmed } }
    public var nackedCount: Int { outcomes.count { $0 == .nacked } }
    public var returnedCount: Int { outcomes.count { if case .returned = $0 { true } else { false } } }
    public var unconfirmedCount: Int { outcomes.count { $0 == .unconfirmed } }
    /// Whether every message was confirmed and none was returned or nacked.
    public var allConfirmed: Bool { outcomes.allSatisfy { $0 == .confirmed } }

    /// The indexes of the messages with a given outcome, e.g. the unconfirmed ones to resend.
    public func indexes(where predicate: (PublishOutcome) -> Bool) -> [Int] {
        outcomes.indices.filter { predicate(outcomes[$0]) }
    }
}

/// Identifies a delivery for ack/nack: the tag, and the connection it came on (a tag means
/// nothing on another connection).
public struct DeliveryTag: Sendable, Hashable, Comparable {
    public let value: UInt64
    let connection: UInt64

    public static func < (lhs: DeliveryTag, rhs: DeliveryTag) -> Bool {
        (lhs.connection, lhs.value) < (rhs.connection, rhs.value)
    }
}

/// A message delivered to a consumer, copied out of librabbitmq's buffers.
public struct Delivery: Sendable {
    public var tag: DeliveryTag
    /// Set when the broker delivered it before and it was not acknowledged.
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    public var consumerTag: String
    public var properties: MessageProperties
    public var body: [UInt8]

    init(tag: DeliveryTag, redelivered: Bool, exchange: String, routingKey: String, consumerTag: String,
         properties: MessageProperties, body: [UInt8]) {
        self.tag = tag
        self.redelivered = redelivered
        self.exchange = exchange
        self.routingKey = routingKey
        self.consumerTag = consumerTag
        self.properties = properties
        self.body = body
    }

    /// A delivery built in code (tests, tools), not received: its tag belongs to no connection,
    /// so acknowledging it throws `.staleDelivery`.
    public init(unreceived body: [UInt8], properties: MessageProperties = MessageProperties(),
                exchange: String = "", routingKey: String = "", tag: UInt64 = 1) {
        self.init(tag: DeliveryTag(value: tag, connection: 0), redelivered: false, exchange: exchange,
                  routingKey: routingKey, consumerTag: "", properties: properties, body: body)
    }
}

/// What happens to a connection, reported as it happens.
public enum ConnectionEvent: Sendable, Equatable {
    /// Connected (again), topology declared; `heartbeat` is the negotiated interval in seconds.
    case connected(heartbeat: Int)
    /// The connection failed; in-flight work is reported unconfirmed and a reconnect follows.
    case connectionLost(AMQPError)
    /// The broker stopped reading from this connection (resource alarm), with its reason.
    case blocked(reason: String)
    case unblocked
}
