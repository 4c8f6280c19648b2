import LodeEvents

/// HMAC-SHA256 (RFC 2104 over FIPS 180-4 SHA-256), on the repository's own
/// ``SHA256`` so that signing needs no crypto dependency.
///
/// Used to sign the generic webhook's body and DingTalk's robot URL. Checked
/// against the RFC 4231 test vectors.
public enum HMACSHA256 {
    /// SHA-256's block size in bytes: keys longer than this are hashed first.
    public static let blockSize = 64

    /// The 32-byte authentication code of `message` under `key`.
    public static func authenticationCode(for message: [UInt8], key: [UInt8]) -> SHA256Digest {
        var block = key.count > blockSize ? SHA256.hash(key).bytes : key
        block += [UInt8](repeating: 0, count: blockSize - block.count)
        var inner = SHA256()
        inner.update(block.map { $0 ^ 0x36 })
        inner.update(message)
        let innerDigest = inner.finalize()
        var outer = SHA256()
        outer.update(block.map { $0 ^ 0x5c })
        outer.update(innerDigest.bytes)
        return outer.finalize()
    }

    /// The code of the UTF-8 of `message` under the UTF-8 of `key`.
    public static func authenticationCode(for message: String, key: String) -> SHA256Digest {
        authenticationCode(for: Array(message.utf8), key: Array(key.utf8))
    }

    /// Compares two codes in time that does not depend on where they first
    /// differ, as a receiver must when it checks a signature.
    public static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
