import Testing

@testable import LodeAMQP

/// Regressions from fuzzing the copy-out of delivered properties (fuzz/Targets/amqp-properties).
@Suite struct CopyOutFindingsTests {
    /// Property flags (headers, type) and a table whose one key is 200 bytes of 0xF4, then a
    /// `type` of 255 bytes of 0xFF: neither is UTF-8. Repaired with U+FFFD they grew to 600 and
    /// 765 bytes, and librabbitmq refused to write them again (as a dead letter copies them).
    @Test func shortStringsThatAreNotUTF8StayWithin255BytesWhenWrittenAgain() throws {
        let key = [UInt8](repeating: 0xF4, count: 200)
        let entry = [UInt8(key.count)] + key + [UInt8(ascii: "t"), 1]
        let table = withUnsafeBytes(of: UInt32(entry.count).bigEndian, Array.init) + entry
        let type = [UInt8](repeating: 0xFF, count: 255)
        let wire = [0x20, 0x20] + table + [UInt8(type.count)] + type
        let properties = try #require(PropertiesWire.decode(wire))
        let copiedKey = try #require(properties.headers?.entries.first?.key)
        #expect(copiedKey.utf8.count <= 200 && copiedKey.allSatisfy { $0 == "?" })
        #expect(properties.type?.utf8.count ?? 0 <= 255)
        let written = try #require(PropertiesWire.encode(properties))
        #expect(PropertiesWire.decode(written) == properties)
    }

    @Test func validUTF8IsCopiedAsItIs() throws {
        let name = Array("稀土永磁".utf8)
        let wire: [UInt8] = [0x00, 0x20, UInt8(name.count)] + name
        #expect(PropertiesWire.decode(wire)?.type == "稀土永磁")
    }
}
