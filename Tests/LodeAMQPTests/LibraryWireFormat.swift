import CRabbitMQ
import Testing
@testable import LodeAMQP

/// librabbitmq's own encoder and decoder, to prove that the C structures we build are valid
/// for the library and come back unchanged from the AMQP wire format.
enum Wire {
    /// The AMQP encoding of `table` (its 4-byte length first), or the library's status.
    static func encode(_ table: FieldTable) -> Result<[UInt8], LibraryStatus> {
        let arena = CArena()
        var cTable = table.cTable(in: arena)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset = 0
        let status = buffer.withUnsafeMutableBytes { raw in
            amqp_encode_table(amqp_bytes_t(len: raw.count, bytes: raw.baseAddress), &cTable, &offset)
        }
        guard status == 0 else { return .failure(LibraryStatus(code: status)) }
        return .success(Array(buffer.prefix(offset)))
    }

    /// The table librabbitmq decodes from `bytes`, copied out before its pool is emptied.
    static func decode(_ bytes: [UInt8]) -> Result<FieldTable, LibraryStatus> {
        var pool = amqp_pool_t()
        init_amqp_pool(&pool, 4096)
        defer { empty_amqp_pool(&pool) }
        var bytes = bytes
        return bytes.withUnsafeMutableBytes { raw in
            var decoded = amqp_table_t()
            var offset = 0
            let status = amqp_decode_table(amqp_bytes_t(len: raw.count, bytes: raw.baseAddress), &pool, &decoded, &offset)
            guard status == 0 else { return .failure(LibraryStatus(code: status)) }
            guard offset == raw.count else { return .failure(LibraryStatus(code: -1_000_000 - Int32(offset))) }
            return .success(FieldTable(copying: decoded))
        }
    }

    /// The table after a trip through the wire format.
    static func roundTrip(_ table: FieldTable) throws -> FieldTable {
        try decode(try encode(table).get()).get()
    }

    /// The AMQP encoding of `properties` as a `basic` content header's property list.
    static func encode(_ properties: MessageProperties) -> Result<[UInt8], LibraryStatus> {
        let arena = CArena()
        var cProperties = properties.cProperties(in: arena)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let length = buffer.withUnsafeMutableBytes { raw in
            amqp_encode_properties(basicClass, &cProperties, amqp_bytes_t(len: raw.count, bytes: raw.baseAddress))
        }
        guard length >= 0 else { return .failure(LibraryStatus(code: length)) }
        return .success(Array(buffer.prefix(Int(length))))
    }

    static func decodeProperties(_ bytes: [UInt8]) -> Result<MessageProperties, LibraryStatus> {
        var pool = amqp_pool_t()
        init_amqp_pool(&pool, 4096)
        defer { empty_amqp_pool(&pool) }
        var bytes = bytes
        return bytes.withUnsafeMutableBytes { raw in
            var decoded: UnsafeMutableRawPointer?
            let status = amqp_decode_properties(basicClass, &pool, amqp_bytes_t(len: raw.count, bytes: raw.baseAddress), &decoded)
            guard status == 0, let decoded else { return .failure(LibraryStatus(code: status)) }
            return .success(MessageProperties(copying: decoded.assumingMemoryBound(to: amqp_basic_properties_t.self).pointee))
        }
    }

    static func roundTrip(_ properties: MessageProperties) throws -> MessageProperties {
        try decodeProperties(try encode(properties).get()).get()
    }

    /// AMQP_BASIC_CLASS.
    static let basicClass: UInt16 = 60
}

/// A librabbitmq status code, as an error a test can throw.
struct LibraryStatus: Error, CustomStringConvertible {
    let code: Int32
    var description: String {
        code < -1_000_000 ? "decoded only \(-(code + 1_000_000)) bytes" : String(cString: amqp_error_string2(code))
    }
}
