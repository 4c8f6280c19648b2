import LodeEvents

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an event stands in "latest by `time`" (contract section 3): first
/// its instant, then, for equal instants, its `id` in UTF-8 byte order.
/// The greater stamp wins.
///
/// Two events with the same stamp are the same event (same `id`): the
/// first one applied stays, so a redelivery never changes anything.
public struct EventStamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let instant: EventInstant
    public let eventID: ExactText

    public init(instant: EventInstant, eventID: String) {
        self.instant = instant
        self.eventID = ExactText(eventID)
    }

    /// The stamp of an event: its `time`'s instant and its `id`.
    public init(_ event: Event) {
        self.init(instant: event.time.instant, eventID: event.id)
    }

    public static func < (lhs: EventStamp, rhs: EventStamp) -> Bool {
        if lhs.instant != rhs.instant { return lhs.instant < rhs.instant }
        return lhs.eventID < rhs.eventID
    }

    public var description: String {
        "\(instant.secondsSinceEpoch).\(instant.nanoseconds)/\(eventID.text)"
    }
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
