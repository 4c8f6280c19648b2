import LodeEvents

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an event stands in "latest by `time`" (contract section 3): first
/// its instant, then, for equal instants, its `id` in UTF-8 byte order, then
/// its `source` in byte order. The greater stamp wins.
///
/// Two events with the same stamp are the same event (the same identity,
/// ``EventKey``): the first one applied stays, so a redelivery never changes
/// anything. The `source` only decides between two producers' events with
/// the same time and id, which are different events: whichever arrives
/// first, the same one wins.
public struct EventStamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let instant: EventInstant
    public let eventID: ExactText
    public let source: ExactText

    public init(instant: EventInstant, eventID: String, source: String) {
        self.instant = instant
        self.eventID = ExactText(eventID)
        self.source = ExactText(source)
    }

    /// The stamp of an event: its `time`'s instant, its `id` and its `source`.
    public init(_ event: Event) {
        self.init(instant: event.time.instant, eventID: event.id, source: event.source)
    }

    public static func < (lhs: EventStamp, rhs: EventStamp) -> Bool {
        if lhs.instant != rhs.instant { return lhs.instant < rhs.instant }
        if lhs.eventID != rhs.eventID { return lhs.eventID < rhs.eventID }
        return lhs.source < rhs.source
    }

    public var description: String {
        "\(instant.secondsSinceEpoch).\(instant.nanoseconds)/\(eventID.text)@\(source.text)"
    }
}

/// An event's identity: its `source` and its `id`, compared by bytes
/// (CloudEvents: "source + id is unique for each distinct event"). The same
/// id from two sources is two events; with `departments:` a source belongs to
/// one department, so one department's ids never touch another's (contract
/// section 6, docs/security.md).
public struct EventKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let source: ExactText
    public let id: ExactText

    public init(source: String, id: String) {
        self.source = ExactText(source)
        self.id = ExactText(id)
    }

    /// The key of `event`.
    public init(_ event: Event) {
        self.init(source: event.source, id: event.id)
    }

    /// By id, then by source (the order two workers take their row locks in).
    public static func < (lhs: EventKey, rhs: EventKey) -> Bool {
        lhs.id != rhs.id ? lhs.id < rhs.id : lhs.source < rhs.source
    }

    public var description: String { "'\(id.text)' from '\(source.text)'" }
}

/// A string compared, hashed and ordered by its exact UTF-8 bytes.
///
/// Swift's `String` equality is canonical equivalence (a precomposed "é"
/// equals "e" + U+0301); the contract counts enterprises "by their exact
/// `enterprise` string" and orders ids by bytes, as a database column with a
/// binary collation does. This wrapper gives the same answers as such a
/// column.
public struct ExactText: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) {
        self.text = text
    }

    // Both are on the hot path of every recruitment event: native strings
    // give their UTF-8 storage directly, so these are a memcmp and one pass
    // of the hasher over the bytes.
    public static func == (lhs: ExactText, rhs: ExactText) -> Bool {
        let left = lhs.text.utf8
        let right = rhs.text.utf8
        guard left.count == right.count else { return false }
        let compared = left.withContiguousStorageIfAvailable { leftBytes in
            right.withContiguousStorageIfAvailable { rightBytes in
                leftBytes.isEmpty || memcmp(leftBytes.baseAddress!, rightBytes.baseAddress!, leftBytes.count) == 0
            }
        }
        if let compared, let compared { return compared }
        return left.elementsEqual(right)
    }

    public func hash(into hasher: inout Hasher) {
        let hashed: Void? = text.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if hashed == nil {
            var text = text
            text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }
    }

    /// UTF-8 byte order.
    public static func < (lhs: ExactText, rhs: ExactText) -> Bool {
        lhs.text.utf8.lexicographicallyPrecedes(rhs.text.utf8)
    }

    public var description: String { text }
}

/// A value together with the stamp of the event that set it: one row of a
/// "latest by `time`" table.
public struct Latest<Value: Sendable & Hashable>: Sendable, Hashable {
    public let stamp: EventStamp
    public let value: Value

    public init(stamp: EventStamp, value: Value) {
        self.stamp = stamp
        self.value = value
    }
}

extension Dictionary {
    /// Upsert-if-newer: stores `value` under `key` unless the stored row's
    /// stamp is at least `stamp`. Returns whether it stored anything.
    @inline(__always)
    mutating func upsertIfNewer<V>(_ key: Key, stamp: EventStamp, value: V) -> Bool where Value == Latest<V> {
        if let current = self[key], !(current.stamp < stamp) { return false }
        self[key] = Latest(stamp: stamp, value: value)
        return true
    }
}
