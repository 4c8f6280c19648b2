/// A batch body ready to publish, with what it holds.
public struct PackedBatch: Sendable {
    public let type: EventType
    public let source: String
    public let events: [Event]
    /// The message body (`application/cloudevents-batch+json`).
    public let body: [UInt8]
}

extension EventBatch {
    /// Packs events into batch bodies that keep to the contract: one type
    /// and one source per batch, at most `maxEvents` events and `maxBytes`
    /// bytes each. Events are grouped by (type, source) in the order each
    /// group first appears, keeping their order within a group; the result
    /// of applying events never depends on their order.
    public static func pack(
        _ events: [Event], maxEvents: Int = EventLimits.maxBatchEvents, maxBytes: Int = EventLimits.maxBatchBytes
    ) -> [PackedBatch] {
        struct GroupKey: Hashable {
            let type: EventType
            let source: String
        }
        var groupOrder: [GroupKey] = []
        var groups: [GroupKey: [Event]] = [:]
        for event in events {
            let key = GroupKey(type: event.type, source: event.source)
            if groups[key] == nil { groupOrder.append(key) }
            groups[key, default: []].append(event)
        }

        var batches: [PackedBatch] = []
        for key in groupOrder {
            var body: [UInt8] = []
            var packed: [Event] = []
            func flush() {
                guard !packed.isEmpty else { return }
                body.append(UInt8(ascii: "]"))
                batches.append(PackedBatch(type: key.type, source: key.source, events: packed, body: body))
                body = []
                packed = []
            }
            for event in groups[key] ?? [] {
                let encoded = event.encoded()
                // The body so far, a separator or the opening bracket, the
                // event, and the closing bracket.
                let sizeWithEvent = body.count + 1 + encoded.count + 1
                if !packed.isEmpty, packed.count == maxEvents || sizeWithEvent > maxBytes {
                    flush()
                }
                body.append(packed.isEmpty ? UInt8(ascii: "[") : UInt8(ascii: ","))
                body.append(contentsOf: encoded)
                packed.append(event)
            }
            flush()
        }
        return batches
    }
}
