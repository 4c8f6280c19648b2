/// Percent-encoding of a URL query value (RFC 3986): every byte of the UTF-8
/// except the unreserved `A-Z a-z 0-9 - . _ ~` becomes `%XX` (upper-case hex).
///
/// A base64 signature's `+`, `/` and `=` come out as `%2B`, `%2F` and `%3D`,
/// which is what DingTalk's robot expects in `sign=`.
public enum PercentEncoding {
    public static func queryValue(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
