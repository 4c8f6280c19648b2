/// A small set of ASCII strings looked up by their bytes: an open-addressing
/// hash table over the length and three of the bytes, then a byte compare.
/// A class, so that using the shared table copies no arrays.
public final class InternTable<Value: Sendable>: Sendable {
    @usableFromInline static var slotCount: Int { 256 }
    /// For each slot, the index of its entry, or -1.
    @usableFromInline let slots: [Int16]
    /// Every entry's bytes, one after the other; entry i is
    /// `entryBytes[entryStarts[i]..<entryStarts[i + 1]]`.
    @usableFromInline let entryBytes: [UInt8]
    @usableFromInline let entryStarts: [Int]
    @usableFromInline let entryValues: [Value]

    public init(_ entries: [(String, Value)]) {
        var slots = [Int16](repeating: -1, count: Self.slotCount)
        for (index, entry) in entries.enumerated() {
            let bytes = Array(entry.0.utf8)
            var slot = bytes.withUnsafeBufferPointer { Self.hash($0) }
            while slots[slot] >= 0 { slot = (slot + 1) & (Self.slotCount - 1) }
            slots[slot] = Int16(index)
        }
        self.slots = slots
        self.entryBytes = entries.flatMap { Array($0.0.utf8) }
        self.entryStarts = entries.reduce(into: [0]) { starts, entry in starts.append(starts.last! + entry.0.utf8.count) }
        self.entryValues = entries.map(\.1)
    }

    @inlinable @inline(__always)
    static func hash(_ utf8: UnsafeBufferPointer<UInt8>) -> Int {
        let count = utf8.count
        guard count > 0 else { return 0 }
        let mixed = count &* 31 &+ Int(utf8[0]) &* 7 &+ Int(utf8[count - 1]) &* 3 &+ Int(utf8[count / 2])
        return mixed & (slotCount - 1)
    }

    @inlinable
    public func match(_ utf8: UnsafeBufferPointer<UInt8>) -> Value? {
        var slot = Self.hash(utf8)
        while true {
            let entry = Int(slots[slot])
            guard entry >= 0 else { return nil }
            let start = entryStarts[entry]
            let end = entryStarts[entry + 1]
            if end - start == utf8.count {
                let isEqual = entryBytes.withUnsafeBufferPointer { all in
                    memoryEqual(UnsafeBufferPointer(rebasing: all[start..<end]), utf8)
                }
                if isEqual { return entryValues[entry] }
            }
            slot = (slot + 1) & (Self.slotCount - 1)
        }
    }
}

/// Whether two buffers hold the same bytes.
@inlinable @inline(__always)
public func memoryEqual(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0 else { return true }
    let left = UnsafeRawPointer(a.baseAddress!)
    let right = UnsafeRawPointer(b.baseAddress!)
    var offset = 0
    while offset + 8 <= a.count {
        if left.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            != right.loadUnaligned(fromByteOffset: offset, as: UInt64.self) {
            return false
        }
        offset += 8
    }
    while offset < a.count {
        if a[offset] != b[offset] { return false }
        offset += 1
    }
    return true
}

/// Object keys a ``JSONScanner`` recognises from their bytes while it scans:
/// each recognised key token carries its number here (``JSONNode/knownKeyNumber``),
/// so a reader dispatches on a small integer instead of comparing strings,
/// and the scanner finds duplicates among these keys with a bit test.
///
/// At most 63 keys (a bit each in a 64-bit set).
public final class JSONKeyVocabulary: Sendable {
    @usableFromInline let table: InternTable<UInt8>

    /// `keys[i]` gets the number `i + 1`.
    public init(_ keys: [String]) {
        precondition(keys.count < 64, "a key vocabulary holds at most 63 keys")
        table = InternTable(keys.enumerated().map { ($0.element, UInt8($0.offset + 1)) })
    }

    /// The number of the key spelled by exactly these bytes, or 0.
    @inlinable @inline(__always)
    public func number(of utf8: UnsafeBufferPointer<UInt8>) -> UInt8 {
        table.match(utf8) ?? 0
    }
}
