/// The inbox's key for an event's identity, its `source` and `id` (``LodeProjections/EventKey``):
/// a 64-bit hash of the source's UTF-8 bytes, a 0xFF byte (never part of UTF-8, so no two pairs
/// give the same bytes) and the id's. (Until schema v5 the key was the id's alone; v5 computed
/// every key again from the event log.)
///
/// The inbox is a table of these keys (`inbox.id_key`, an `INTEGER PRIMARY
/// KEY`) rather than an index of the ids themselves: a key is 8 bytes
/// whatever the id (ids may be up to 255 bytes), so the inbox's b-tree is
/// small and a batch's lookups and inserts, done in key order, walk it once
/// from left to right. Two different ids with the same key are resolved
/// through `inbox_collision`, keyed by the full source and id (see
/// docs/storage.md): the key only speeds the inbox up, it never decides alone
/// that two events are the same.
///
/// Stored in every database: the function must never change. It reads the
/// bytes as little-endian 64-bit words (the last one padded with zeros; the
/// length is mixed into the start value), multiplies each in, and ends
/// with SplitMix64's finalizer so that ids differing in one byte land far
/// apart. It is not a cryptographic hash; it need not be, because a
/// collision costs only a lookup by the full id.
enum InboxKey {
    /// The key of the event `id` from `source`. `mask` is for tests only: a narrow mask makes
    /// collisions common, to exercise `inbox_collision`. The joined bytes are on the stack for
    /// any source and id the validation lets through.
    @inline(__always)
    static func of(source: String, id: String, mask: UInt64 = ~0) -> Int64 {
        var source = source
        var id = id
        let hashed = source.withUTF8 { sourceBytes in
            id.withUTF8 { idBytes in
                let count = sourceBytes.count + 1 + idBytes.count
                return withUnsafeTemporaryAllocation(byteCount: count, alignment: 8) { joined in
                    UnsafeMutableRawBufferPointer(rebasing: joined[0..<sourceBytes.count])
                        .copyMemory(from: UnsafeRawBufferPointer(sourceBytes))
                    joined[sourceBytes.count] = 0xFF
                    UnsafeMutableRawBufferPointer(rebasing: joined[(sourceBytes.count + 1)...])
                        .copyMemory(from: UnsafeRawBufferPointer(idBytes))
                    return hash(UnsafeRawBufferPointer(joined))
                }
            }
        }
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
