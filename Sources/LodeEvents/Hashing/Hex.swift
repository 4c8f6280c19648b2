import Crypto

/// Lowercase hexadecimal text of bytes: how Lodestone writes digests and
/// signatures (event fingerprints, derived ids, webhook signatures).
public enum Hex {
    /// Two lowercase hex digits per byte, in order.
    public static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension Digest {
    /// The digest as lowercase hex text.
    public var hex: String { Hex.encode(self) }
}

extension HashedAuthenticationCode {
    /// The code as lowercase hex text.
    public var hex: String { Hex.encode(self) }
}
