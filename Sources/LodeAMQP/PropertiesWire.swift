import CRabbitMQ

/// The `basic` properties of a content header in AMQP's wire format, read and written by
/// librabbitmq's own codec (`amqp_decode_properties`, `amqp_encode_properties`) and copied out as
/// the consumer copies a delivery's. For tests and fuzzing of that copy-out: the bytes a broker
/// could send go through exactly the code a delivery goes through.
enum PropertiesWire {
    static let basicClass: UInt16 = 60

    /// The properties encoded in `bytes` (property flags, then the fields they announce), or
    /// `nil` when librabbitmq refuses them.
    static func decode(_ bytes: [UInt8]) -> MessageProperties? {
        var pool = amqp_pool_t()
        init_amqp_pool(&pool, 4096)
        defer { empty_amqp_pool(&pool) }
        var copy = bytes
        return copy.withUnsafeMutableBytes { buffer -> MessageProperties? in
            let encoded = amqp_bytes_t(len: buffer.count, bytes: buffer.baseAddress)
            var decoded: UnsafeMutableRawPointer?
            guard amqp_decode_properties(basicClass, &pool, encoded, &decoded) == 0, let decoded else { return nil }
            return MessageProperties(copying: decoded.assumingMemoryBound(to: amqp_basic_properties_t.self).pointee)
        }
    }

    /// `properties` in the wire format, or `nil` when they do not fit in `capacity` bytes.
    static func encode(_ properties: MessageProperties, capacity: Int = 1 << 20) -> [UInt8]? {
        let arena = CArena()
        var cProperties = properties.cProperties(in: arena)
        var buffer = [UInt8](repeating: 0, count: capacity)
        let length = buffer.withUnsafeMutableBytes { raw in
            amqp_encode_properties(basicClass, &cProperties, amqp_bytes_t(len: raw.count, bytes: raw.baseAddress))
        }
        guard length >= 0 else { return nil }
        return Array(buffer.prefix(Int(length)))
    }
}
