import Crypto
import LodeAMQP
import LodeWire
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
    public static let exchange = ZoneTopology.exchange

    /// One message per event, `application/cloudevents+json`, `message_id` = the event id.
    ///
    /// - Parameter texts: the events as written in the input (see ``ReadEvents/texts``), sent
    ///   as they are; empty to write each event.
    public static func single(_ events: [Event], texts: [ArraySlice<UInt8>] = [], timestamp: UInt64,
                              exchange: String = exchange) -> [PlannedMessage] {
        precondition(texts.isEmpty || texts.count == events.count, "one text per event")
        return events.indices.map { index in
            let event = events[index]
            return PlannedMessage(
                message: OutgoingMessage(
                    exchange: exchange, routingKey: event.type.rawValue,
                    body: texts.isEmpty ? event.encoded() : Array(texts[index]),
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
    public static func batched(_ events: [Event], texts: [ArraySlice<UInt8>] = [], batchSize: Int, timestamp: UInt64,
                               exchange: String = exchange) -> [PlannedMessage] {
        precondition(texts.isEmpty || texts.count == events.count, "one text per event")
        let size = min(max(1, batchSize), EventLimits.maxBatchEvents)
        return pack(events, texts: texts, maxEvents: size, maxBytes: EventLimits.maxBatchBytes).map { batch in
            let first = events[batch.members[0]]
            return PlannedMessage(
                message: OutgoingMessage(
                    exchange: exchange, routingKey: first.type.rawValue, body: batch.body,
                    properties: MessageProperties(
                        contentType: MessageFormat.batchContentType, deliveryMode: 2,
                        messageID: batchID(batch.members.map { events[$0] }),
                        timestamp: timestamp, type: first.type.rawValue, appID: first.source),
                    mandatory: true),
                eventCount: batch.members.count)
        }
    }

    /// Groups events by (type, source) in the order each group first appears, keeping their
    /// order within a group, into JSON arrays of at most `maxEvents` events and `maxBytes`
    /// bytes (as `EventBatch.pack` does, but from the input's own text when there is one).
    static func pack(_ events: [Event], texts: [ArraySlice<UInt8>], maxEvents: Int, maxBytes: Int)
        -> [(members: [Int], body: [UInt8])] {
        struct GroupKey: Hashable {
            let type: EventType
            let source: String
        }
        var groupOrder: [GroupKey] = []
        var groups: [GroupKey: [Int]] = [:]
        for (index, event) in events.enumerated() {
            let key = GroupKey(type: event.type, source: event.source)
            if groups[key] == nil { groupOrder.append(key) }
            groups[key, default: []].append(index)
        }
        var batches: [(members: [Int], body: [UInt8])] = []
        for key in groupOrder {
            var body: [UInt8] = []
            var members: [Int] = []
            for index in groups[key] ?? [] {
                let encoded = texts.isEmpty ? events[index].encoded()[...] : texts[index]
                // The body so far, a separator or the opening bracket, the event, the closing bracket.
                if !members.isEmpty, members.count == maxEvents || body.count + 1 + encoded.count + 1 > maxBytes {
                    body.append(UInt8(ascii: "]"))
                    batches.append((members, body))
                    body = []
                    members = []
                }
                if body.isEmpty { body.reserveCapacity(min(maxBytes, encoded.count * maxEvents + 2)) }
                body.append(members.isEmpty ? UInt8(ascii: "[") : UInt8(ascii: ","))
                body.append(contentsOf: encoded)
                members.append(index)
            }
            if !members.isEmpty {
                body.append(UInt8(ascii: "]"))
                batches.append((members, body))
            }
        }
        return batches
    }

    /// `batch:` and 32 hex digits of the SHA-256 of the events' ids, one per line.
    static func batchID(_ events: [Event]) -> String {
        var hash = SHA256()
        for event in events {
            hash.update(data: Array(event.id.utf8))
            hash.update(data: [0x0A])
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
