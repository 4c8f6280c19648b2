import Foundation
/// The AMQP 0-9-1 `basic` properties of a message; `nil` means "not set".
public struct MessageProperties: Sendable, Hashable {
    public var contentType: String?
    public var contentEncoding: String?
    public var headers: FieldTable?
    /// 1 transient, 2 persistent.
    public var deliveryMode: UInt8?
    public var priority: UInt8?
    public var correlationID: String?
    public var replyTo: String?
    public var expiration: String?
    public var messageID: String?
    /// Seconds since the Unix epoch.
    public var timestamp: UInt64?
    public var type: String?
    public var userID: String?
    public var appID: String?
    public var clusterID: String?

    public init(
        contentType: String? = nil, contentEncoding: String? = nil, headers: FieldTable? = nil,
        deliveryMode: UInt8? = nil, priority: UInt8? = nil, correlationID: String? = nil,
        replyTo: String? = nil, expiration: String? = nil, messageID: String? = nil,
        timestamp: UInt64? = nil, type: String? = nil, userID: String? = nil,
        appID: String? = nil, clusterID: String? = nil
    ) {
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.deliveryMode = deliveryMode
        self.priority = priority
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.expiration = expiration
        self.messageID = messageID
        self.timestamp = timestamp
        self.type = type
        self.userID = userID
        self.appID = appID
        self.clusterID = clusterID
    }

    /// Persistent delivery (`delivery_mode` 2), everything else unset.
    public static var persistent: MessageProperties { MessageProperties(deliveryMode: 2) }
}

extension Date {
    /// An AMQP timestamp (seconds since the epoch: any `UInt64` a producer sends), clamped to the
    /// years 1970 to 9999 so that arithmetic and RFC 3339 formatting on it always work.
    public init(amqpTimestamp seconds: UInt64) {
        self.init(timeIntervalSince1970: Double(min(seconds, 253_402_300_799)))
    }
}
