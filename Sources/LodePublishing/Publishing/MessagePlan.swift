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
/// `message_id`, `type`, `app_id` = source, a `timestamp`, and `user_id` = the broker user the
/// producer logs in as (RabbitMQ checks it; a worker with `departments:` requires it).
public enum MessagePlan {
    /// The exchange every producer publishes to.
    public static let exchange = ZoneTopology.exchange

    /// One message per event, `application/cloudevents+json`, `message_id` = the event id.
    ///
    /// - Parameter texts: the events as written in the input (see ``ReadEvents/texts``), sent
    ///   as they are; empty to write each event.
    public static func single(_ events: [Event], texts: [ArraySlice<UInt8>] = [], timestamp: UInt64,
                              exchange: String = exchange, userID: String? = nil) -> [PlannedMessage] {
        precondition(texts.isEmpty || texts.count == events.count, "one text per event")
        return events.indices.map { index in
            let event = events[index]
            return single(texts.isEmpty ? event.encoded() : Array(texts[index]), id: event.id, type: event.type,
                          source: event.source, timestamp: timestamp, exchange: exchange, userID: userID)
        }
    }

    /// The message of one event, from its JSON text.
    public static func single(_ body: [UInt8], id: String, type: EventType, source: String, timestamp: UInt64,
                              exchange: String = exchange, userID: String? = nil) -> PlannedMessage {
        PlannedMessage(
            message: OutgoingMessage(
                exchange: exchange, routingKey: type.rawValue, body: body,
                properties: MessageProperties(
                    contentType: MessageFormat.singleContentType, deliveryMode: 2, messageID: id,
                    timestamp: timestamp, type: type.rawValue, userID: userID, appID: source),
                mandatory: true),
            eventCount: 1)
    }

    /// Batch messages (`application/cloudevents-batch+json`) of one type and one source, at most
    /// `batchSize` events (≤ 1,000) and 1 MiB each. A batch's `message_id` is derived from the
    /// ids it holds, so the same input gives the same message ids on every run.
    public static func batched(_ events: [Event], texts: [ArraySlice<UInt8>] = [], batchSize: Int, timestamp: UInt64,
                               exchange: String = exchange, userID: String? = nil) -> [PlannedMessage] {
        precondition(texts.isEmpty || texts.count == events.count, "one text per event")
        var assembler = BatchAssembler(batchSize: batchSize, timestamp: timestamp, exchange: exchange, userID: userID)
        var messages: [PlannedMessage] = []
        for group in groups(events) {
            for index in group {
                let event = events[index]
                let text = texts.isEmpty ? event.encoded()[...] : texts[index]
                if let full = assembler.add(text, id: event.id, type: event.type, source: event.source) { messages.append(full) }
            }
            if let last = assembler.finish() { messages.append(last) }
        }
        return messages
    }

    /// The indexes of `events` grouped by (type, source), groups in the order each first
    /// appears, events in their order within a group.
    static func groups(_ events: [Event]) -> [[Int]] {
        struct GroupKey: Hashable {
            let type: EventType
            let source: String
        }
        var order: [GroupKey] = []
        var groups: [GroupKey: [Int]] = [:]
        for (index, event) in events.enumerated() {
            let key = GroupKey(type: event.type, source: event.source)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(index)
        }
        return order.map { groups[$0] ?? [] }
    }
}

/// Packs the events of one group (one type, one source) into batch messages one event at a
/// time: JSON arrays of at most `batchSize` events and 1 MiB (as `EventBatch.pack` does, but
/// from the input's own text), with `message_id` = `batch:` and 32 hex digits of the SHA-256 of
/// the events' ids, one per line. Both the in-memory plan and the streaming second pass of
/// ``NDJSONIndex`` go through it, so their messages are the same bytes.
public struct BatchAssembler {
    public let maxEvents: Int
    public let maxBytes: Int
    let timestamp: UInt64
    let exchange: String
    let userID: String?
    private var body: [UInt8] = []
    private var count = 0
    private var idHash = SHA256()
    private var first: (type: EventType, source: String)?

    public init(batchSize: Int, maxBytes: Int = EventLimits.maxBatchBytes, timestamp: UInt64,
                exchange: String = MessagePlan.exchange, userID: String? = nil) {
        maxEvents = min(max(1, batchSize), EventLimits.maxBatchEvents)
        self.maxBytes = maxBytes
        self.timestamp = timestamp
        self.exchange = exchange
        self.userID = userID
    }

    /// Adds one event (its JSON text); returns the batch it closed, when it did not fit there.
    /// Every event added between two `finish()` calls must be of one type and one source.
    public mutating func add(_ text: ArraySlice<UInt8>, id: String, type: EventType, source: String) -> PlannedMessage? {
        var closed: PlannedMessage?
        // The body so far, a separator or the opening bracket, the event, the closing bracket.
        if count > 0, count == maxEvents || body.count + 1 + text.count + 1 > maxBytes {
            closed = finish()
        }
        if count == 0 {
            body.reserveCapacity(min(maxBytes, text.count * maxEvents + 2))
            first = (type, source)
        }
        body.append(count == 0 ? UInt8(ascii: "[") : UInt8(ascii: ","))
        body.append(contentsOf: text)
        idHash.update(data: Array(id.utf8))
        idHash.update(data: [0x0A])
        count += 1
        return closed
    }

    /// The batch being filled, closed; nil when it is empty.
    public mutating func finish() -> PlannedMessage? {
        guard count > 0, let first else { return nil }
        body.append(UInt8(ascii: "]"))
        let message = PlannedMessage(
            message: OutgoingMessage(
                exchange: exchange, routingKey: first.type.rawValue, body: body,
                properties: MessageProperties(
                    contentType: MessageFormat.batchContentType, deliveryMode: 2,
                    messageID: "batch:" + idHash.finalize().hex.prefix(32),
                    timestamp: timestamp, type: first.type.rawValue, userID: userID, appID: first.source),
                mandatory: true),
            eventCount: count)
        body = []
        count = 0
        idHash = SHA256()
        self.first = nil
        return message
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
