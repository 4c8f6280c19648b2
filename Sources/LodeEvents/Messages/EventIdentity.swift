import Crypto
import LodeJSON

extension Event {
    /// The canonical JSON (keys in UTF-8 byte order, no whitespace; see
    /// ``JSONValue/canonicalBytes()``) of the event's content: its required
    /// attributes (`specversion`, `id`, `source`, `type`, `time` as written)
    /// and its `data` as validated, so that an absent `major` and
    /// `"major": true` are the same content. Extension attributes and
    /// `datacontenttype` are not content.
    public var canonicalContent: [UInt8] {
        var writer = JSONWriter(sortingKeys: true)
        writer.openObject()
        writer.writeKey(.data)
        writer.writeData(data)
        writer.writeKey(.id)
        writer.writeString(id)
        writer.writeKey(.source)
        writer.writeString(source)
        writer.writeKey(.specversion)
        writer.writeString(Event.specVersion)
        writer.writeKey(.time)
        writer.writeString(time.text)
        writer.writeKey(.type)
        writer.writeString(type.rawValue)
        writer.closeObject()
        return writer.bytes
    }

    /// `sha256:` and the 64 hex digits of the SHA-256 of
    /// ``canonicalContent``. Two deliveries with the same id and different
    /// fingerprints are a conflicting duplicate.
    public var contentFingerprint: String {
        "sha256:" + SHA256.hash(data: canonicalContent).hex
    }

    /// An event id derived from content, for input without ids (CSV rows):
    /// `sha256:` and the first 32 hex digits (128 bits) of the SHA-256 of the
    /// canonical JSON of `{"data":…,"source":…,"time":…,"type":…}`. The
    /// same content always gives the same id, on any platform and in any
    /// run, so re-publishing the same rows never counts twice.
    ///
    /// - Parameters:
    ///   - type: the event type; pass `data.type`.
    ///   - time: hashed as its text, as written.
    ///   - data: hashed as validated (see ``EventData/jsonValue``).
    public static func derivedID(type: EventType, source: String, time: EventTime, data: EventData) -> String {
        var writer = JSONWriter(sortingKeys: true)
        writer.openObject()
        writer.writeKey(.data)
        writer.writeData(data)
        writer.writeKey(.source)
        writer.writeString(source)
        writer.writeKey(.time)
        writer.writeString(time.text)
        writer.writeKey(.type)
        writer.writeString(type.rawValue)
        writer.closeObject()
        return "sha256:" + SHA256.hash(data: writer.bytes).hex.prefix(32)
    }
}
