/// Reading a MIME content type such as `application/json; charset=utf-8`.
enum MediaType {
    /// The `type/subtype` of a content type, lower-cased, without
    /// parameters or surrounding spaces or tabs.
    static func essence(of contentType: String) -> String {
        var utf8 = Array(contentType.utf8)
        if let semicolon = utf8.firstIndex(of: UInt8(ascii: ";")) {
            utf8.removeSubrange(semicolon...)
        }
        let isBlank = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        while let last = utf8.last, isBlank(last) { utf8.removeLast() }
        let start = utf8.firstIndex { !isBlank($0) } ?? utf8.endIndex
        let lowered = utf8[start...].map { byte in
            byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
        }
        return String(decoding: lowered, as: UTF8.self)
    }

    /// Whether `contentType` is the media type `essence` (lower case),
    /// with or without parameters; the exact spelling is checked first.
    static func matches(_ contentType: String, _ essence: String) -> Bool {
        contentType == essence || self.essence(of: contentType) == essence
    }
}
