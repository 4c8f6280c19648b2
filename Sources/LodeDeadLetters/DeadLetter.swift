import Foundation
import LodeAMQP
import LodeEvents
import LodeWire

/// One event, or one whole message that could not be split into events, that the worker cannot
/// apply: it goes to `lode.dead` with its reason.
public struct Rejected: Sendable, Hashable {
    /// The bytes of the event (or of the whole message).
    public var body: [UInt8]
    /// `x-lode-reason`: a short code (`invalid_event`, `conflicting_duplicate`, ...).
    public var reason: String
    /// `x-lode-error`: what a person reads.
    public var error: String
    public var eventID: String?
    /// The event's `type` attribute as written, when the body had one (for the metrics' `type` label).
    public var eventType: String?

    public init(body: [UInt8], reason: String, error: String, eventID: String? = nil, eventType: String? = nil) {
        self.body = body
        self.reason = reason
        self.error = error
        self.eventID = eventID
        self.eventType = eventType
    }
}

/// The dead letter of the contract (section 3): the original body (of the event, or of the whole
/// message) and properties, with the `x-lode-*` headers.
///
/// Everything taken from the incoming message is untrusted input: a header that claims earlier
/// attempts is clamped, a first-failure time that is not an RFC 3339 time is replaced, and
/// original headers too large to travel again are summarised, so that building and publishing a
/// dead letter cannot fail, trap or be refused by the broker because of what a producer sent.
public enum DeadLetter {
    /// The most `x-lode-attempts` says (it is an AMQP `int32`).
    public static let maxAttempts = Int64(Int32.max)
    /// Original headers larger than this on the wire are not copied (a header frame must fit in
    /// the connection's `frame_max`, 128 KiB by default, with the `x-lode-*` headers beside them).
    public static let maxKeptHeaderBytes = 64 * 1024
    /// `x-lode-error` keeps at most this many characters.
    public static let maxErrorCharacters = 4000

    /// The message to publish to `lode.dead` for `rejected`, which came in `delivery`.
    ///
    /// - Parameters:
    ///   - publisherUser: the broker user the dead letter is published as: its `user_id` (RabbitMQ
    ///     refuses a `user_id` other than the connection's own); the original one is kept in
    ///     `x-lode-original-user-id`. `nil` leaves `user_id` out.
    ///   - now: the first failure time when the message does not carry one.
    public static func message(for rejected: Rejected, of delivery: Delivery, publisherUser: String?,
                               now: Date = Date()) -> OutgoingMessage {
        var properties = delivery.properties
        let original = properties.headers ?? FieldTable()
        var headers = original.encodedSize <= maxKeptHeaderBytes ? original : FieldTable([
            .init("x-lode-dropped-headers", .string(
                "the original \(original.entries.count) headers (\(original.encodedSize) bytes) were too large to keep")),
        ])
        headers["x-lode-reason"] = .string(rejected.reason)
        headers["x-lode-error"] = .string(String(rejected.error.prefix(maxErrorCharacters)))
        headers["x-lode-attempts"] = .int32(Int32(attempts(after: original)))
        if firstFailure(in: original) == nil {
            headers["x-lode-first-failed-at"] = .string(now.ISO8601Format())
        }
        // The event's id as the worker read it, or none: an `x-lode-event-id` that came with the
        // message is the producer's word, not the worker's.
        headers["x-lode-event-id"] = rejected.eventID.map { .string(String($0.utf8Prefix(255))) }
        headers[DeadLetterMessage.idHeader] = .string(DeadLetterMessage.id(reason: rejected.reason, body: rejected.body))
        if let originalUser = properties.userID, originalUser != publisherUser {
            headers["x-lode-original-user-id"] = .string(originalUser)
        }
        properties.headers = headers
        properties.userID = publisherUser
        properties.deliveryMode = 2
        // A per-message TTL would let the dead letter expire from lode.dead: nothing is dropped.
        properties.expiration = nil
        if rejected.body != delivery.body {
            // One event out of a batch: it travels as a single event now.
            properties.contentType = MessageFormat.singleContentType
            properties.messageID = rejected.eventID.map { String($0.utf8Prefix(255)) } ?? properties.messageID
        }
        return OutgoingMessage(exchange: "", routingKey: ZoneTopology.deadLetterQueue, body: rejected.body,
                               properties: properties, mandatory: true)
    }

    /// `x-lode-attempts` of a dead letter made from a message with `headers`: the attempts it
    /// claims already (a replayed dead letter counts on), plus the broker's deliveries of it
    /// (`x-delivery-count`), plus this one; each part clamped, so any header values give a
    /// number from 1 to ``maxAttempts``.
    public static func attempts(after headers: FieldTable) -> Int64 {
        let earlier = clamp(headers["x-lode-attempts"]?.integerValue)
        let deliveries = clamp(headers["x-delivery-count"]?.integerValue)
        return min(maxAttempts, earlier + deliveries + 1)
    }

    /// The message's `x-lode-first-failed-at` when it is an RFC 3339 time (a replayed dead letter
    /// keeps its first failure); anything else is ignored.
    public static func firstFailure(in headers: FieldTable) -> String? {
        guard let text = headers["x-lode-first-failed-at"]?.stringValue, text.utf8.count <= 64,
              (try? EventTime(parsing: text)) != nil else { return nil }
        return text
    }

    private static func clamp(_ value: Int64?) -> Int64 {
        min(max(value ?? 0, 0), maxAttempts)
    }
}

extension String {
    /// The longest prefix of whole characters whose UTF-8 is at most `limit` bytes.
    func utf8Prefix(_ limit: Int) -> Substring {
        guard utf8.count > limit else { return self[...] }
        var end = startIndex
        var bytes = 0
        for index in indices {
            let next = self.index(after: index)
            bytes += self[index..<next].utf8.count
            guard bytes <= limit else { break }
            end = next
        }
        return self[..<end]
    }
}
