/// One validated CloudEvents 1.0 event of the zone (contract section 3).
///
/// Build one with ``decode(_:)-(UnsafeRawBufferPointer)`` from a message body, or
/// directly from its parts; write one with ``encoded()``. Extension
/// attributes of a decoded event are not kept.
public struct Event: Sendable, Hashable {
    /// The only CloudEvents version accepted and written.
    public static let specVersion = "1.0"

    /// The idempotency key: an event delivered again with the same id is
    /// applied once.
    public var id: String
    /// Which department or script sent the event.
    public var source: String
    /// When it happened, with the text as written.
    public var time: EventTime
    public var data: EventData

    /// The event type, given by the payload.
    public var type: EventType { data.type }

    public init(id: String, source: String, time: EventTime, data: EventData) {
        self.id = id
        self.source = source
        self.time = time
        self.data = data
    }

    /// Creates an event whose id is derived from its content (see
    /// ``derivedID(type:source:time:data:)``), for producers whose input
    /// has no ids: the same content always gets the same id.
    public init(derivingIDFromSource source: String, time: EventTime, data: EventData) {
        self.init(
            id: Event.derivedID(type: data.type, source: source, time: time, data: data),
            source: source, time: time, data: data)
    }
}
