/// The inbox's key for an event id: a 64-bit hash of the id's UTF-8 bytes.
///
/// The inbox is a table of these keys (`inbox.id_key`, an `INTEGER PRIMARY
/// KEY`) rather than an index of the ids themselves: a key is 8 bytes
/// whatever the id (ids may be up to 255 bytes), so the inbox's b-tree is
/// small and a batch's lookups and inserts, done in key order, walk it once
/// from left to right. Two different ids with the same key are resolved
/// through `inbox_collision`, keyed by the full id (see docs/storage.md):
/// the key only speeds the inbox up, it never decides alone that two ids
/// are the same.
///
/// Stored in every database: the function must never change. It reads the
/// bytes as little-endian 64-bit words (the last one padded with zeros; the
/// length is mixed into the start value), multiplies each in, and ends
/// with SplitMix64's finalizer so that ids differing in one byte land far
/// apart. It is not a cryptographic hash; it need not be, because a
/// collision costs only a lookup by the full id.
enum InboxKey {
    /// The key of `id`. `mask` is for tests only: a narrow mask makes
    /// collisions common, to exercise `inbox_collision`.
    @inline(__always)
    static func of(_ id: String, mask: UInt64 = ~0) -> Int64 {
        var id = id
        let hashed = id.withUTF8 { bytes in hash(UnsafeRawBufferPointer(bytes)) }
        return Int64(bitPattern: hashed & mask)
    }

    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var state: UInt64 = 0x243F_6A88_85A3_08D3 ^ (UInt64(bytes.count) &* 0x9E37_79B9_7F4A_7C15)
        var offset = 0
        let count = bytes.count
        while offset + 8 <= count {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            state = mix(state, word)
            offset += 8
        }
        if offset < count {
            var word: UInt64 = 0
            var shift: UInt64 = 0
            while offset < count {
                word |= UInt64(bytes[offset]) << shift
                shift += 8
                offset += 1
            }
            state = mix(state, word)
        }
        // SplitMix64's finalizer.
        state = (state ^ (state >> 30)) &* 0xBF58_476D_1CE4_E5B9
        state = (state ^ (state >> 27)) &* 0x94D0_49BB_1331_11EB
        return state ^ (state >> 31)
    }

    @inline(__always)
    private static func mix(_ state: UInt64, _ word: UInt64) -> UInt64 {
        let mixed = (state ^ word) &* 0x9FB2_1C65_1E98_DF25
        return mixed ^ (mixed >> 29)
    }
}
