import LodeAMQP
import LodeEvents

/// A message to publish and how many events it carries.
public struct PlannedMessage: Sendable {
    public var message: OutgoingMessage
    public var eventCount: Int
}

/// How events become AMQP messages on the wire (contract section 3): to the durable topic
/// exchange `lode.events`, routing key = the event type, `mandatory`, persistent, with
/// `message_id`, `type`, `app_id` = source and a `timestamp`.
public enum MessagePlan {
    /// The exchange every producer publishes to.
    public static let exchange = "lode.events"

    /// One message per event, `application/cloudevents+json`, `message_id` = the event id.
    public static func single(_ events: [Event], timestamp: UInt64, exchange: String = exchange) -> [PlannedMessage] {
        events.map { event in
            PlannedMessage(
                message: OutgoingMessage(
                    exchange: exchange, routingKey: event.type.rawValue, body: event.encoded(),
                    properties: MessageProperties(
                        contentType: MessageFormat.singleContentType, deliveryMode: 2, messageID: event.id,
                        timestamp: timestamp, type: event.type.rawValue, appID: event.source),
                    mandatory: true),
                eventCount: 1)
        }
    }

    /// Batch messages (`application/cloudevents-batch+json`) of one type and one source, at most
    /// `batchSize` events (≤ 1,000) and 1 MiB each. A batch's `message_id` is derived from the
    /// ids it holds, so the same input gives the same message ids on every run.
    public static func batched(_ events: [Event], batchSize: Int, timestamp: UInt64, exchange: String = exchange) -> [PlannedMessage] {
        let size = min(max(1, batchSize), EventLimits.maxBatchEvents)
        return EventBatch.pack(events, maxEvents: size).map { batch in
            PlannedMessage(
                message: OutgoingMessage(
                    exchange: exchange, routingKey: batch.type.rawValue, body: batch.body,
                    properties: MessageProperties(
                        contentType: MessageFormat.batchContentType, deliveryMode: 2, messageID: batchID(batch.events),
                        timestamp: timestamp, type: batch.type.rawValue, appID: batch.source),
                    mandatory: true),
                eventCount: batch.events.count)
        }
    }

    /// `batch:` and 32 hex digits of the SHA-256 of the events' ids, one per line.
    static func batchID(_ events: [Event]) -> String {
        var hash = SHA256()
        for event in events {
            hash.update(Array(event.id.utf8))
            hash.update([0x0A])
        }
        return "batch:" + hash.finalize().hex.prefix(32)
    }
}

extension EventType {
    /// The short names `lode-publish` accepts for `--type` and as subcommands.
    public static let shortNames: [String: EventType] = [
        "project-registered": .projectRegistered,
        "project-status": .projectStatusChanged,
        "investment": .investmentReported,
        "enterprise-contacted": .enterpriseContacted,
        "site-visit": .siteVisit,
        "agreement-signed": .agreementSigned,
        "project-introduced": .projectIntroduced,
    ]

    /// A type by its wire name (`zone.project.status_changed`) or short name (`project-status`).
    public init?(name: String) {
        if let type = EventType(rawValue: name) ?? EventType.shortNames[name] {
            self = type
        } else {
            return nil
        }
    }
}
