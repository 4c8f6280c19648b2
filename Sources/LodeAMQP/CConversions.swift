import CRabbitMQ
import Glibc

// Conversions between Swift values and librabbitmq's C structures. Reading copies every byte
// out of the library's buffers; writing places everything in a `CArena` that outlives the call.

extension amqp_bytes_t {
    /// A copy of the bytes as a Swift string (UTF-8). Each invalid sequence becomes one `?`,
    /// never longer than the bytes it replaces: a short string of 255 bytes (a header name, a
    /// property) stays within AMQP's 255 when it is written again, as in a dead letter. (U+FFFD,
    /// three bytes, could make it up to three times longer: found by fuzzing.)
    var string: String {
        guard len > 0, let bytes else { return "" }
        let buffer = UnsafeRawBufferPointer(start: bytes, count: len)
        if let valid = String(validating: buffer, as: UTF8.self) { return valid }
        var scalars = String.UnicodeScalarView()
        var input = buffer.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        while true {
            switch parser.parseScalar(from: &input) {
            case .valid(let encoded): scalars.append(Unicode.UTF8.decode(encoded))
            case .error: scalars.append("?")
            case .emptyInput: return String(scalars)
            }
        }
    }

    /// A copy of the bytes.
    var array: [UInt8] {
        guard len > 0, let bytes else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: bytes, count: len))
    }

    /// A copy of the bytes as a string when they are valid UTF-8.
    var validatedString: String? {
        guard len > 0, let bytes else { return "" }
        return String(validating: UnsafeRawBufferPointer(start: bytes, count: len), as: UTF8.self)
    }
}

extension FieldTable {
    /// A copy of a table decoded by librabbitmq.
    init(copying table: amqp_table_t) {
        var entries: [Entry] = []
        entries.reserveCapacity(Int(table.num_entries))
        for index in 0..<Int(table.num_entries) {
            let entry = table.entries[index]
            entries.append(Entry(entry.key.string, FieldValue(copying: entry.value)))
        }
        self.init(entries)
    }

    /// The table as librabbitmq's structure, allocated in `arena`.
    func cTable(in arena: CArena) -> amqp_table_t {
        guard !entries.isEmpty else { return lode_empty_table() }
        let cEntries = arena.allocate(amqp_table_entry_t.self, count: entries.count)
        for (index, entry) in entries.enumerated() {
            cEntries[index] = amqp_table_entry_t(key: arena.bytes(entry.key), value: entry.value.cValue(in: arena))
        }
        return amqp_table_t(num_entries: Int32(entries.count), entries: cEntries)
    }
}

extension FieldValue {
    init(copying value: amqp_field_value_t) {
        switch UInt32(value.kind) {
        case AMQP_FIELD_KIND_BOOLEAN.rawValue: self = .bool(value.value.boolean != 0)
        case AMQP_FIELD_KIND_I8.rawValue: self = .int8(value.value.i8)
        case AMQP_FIELD_KIND_U8.rawValue: self = .uint8(value.value.u8)
        case AMQP_FIELD_KIND_I16.rawValue: self = .int16(value.value.i16)
        case AMQP_FIELD_KIND_U16.rawValue: self = .uint16(value.value.u16)
        case AMQP_FIELD_KIND_I32.rawValue: self = .int32(value.value.i32)
        case AMQP_FIELD_KIND_U32.rawValue: self = .uint32(value.value.u32)
        case AMQP_FIELD_KIND_I64.rawValue: self = .int64(value.value.i64)
        case AMQP_FIELD_KIND_U64.rawValue: self = .uint64(value.value.u64)
        case AMQP_FIELD_KIND_F32.rawValue: self = .float(value.value.f32)
        case AMQP_FIELD_KIND_F64.rawValue: self = .double(value.value.f64)
        case AMQP_FIELD_KIND_DECIMAL.rawValue:
            self = .decimal(scale: value.value.decimal.decimals, value: value.value.decimal.value)
        case AMQP_FIELD_KIND_UTF8.rawValue:
            if let string = value.value.bytes.validatedString {
                self = .string(string)
            } else {
                self = .bytes(value.value.bytes.array)
            }
        case AMQP_FIELD_KIND_BYTES.rawValue: self = .bytes(value.value.bytes.array)
        case AMQP_FIELD_KIND_TIMESTAMP.rawValue: self = .timestamp(value.value.u64)
        case AMQP_FIELD_KIND_ARRAY.rawValue:
            let array = value.value.array
            self = .array((0..<Int(array.num_entries)).map { FieldValue(copying: array.entries[$0]) })
        case AMQP_FIELD_KIND_TABLE.rawValue: self = .table(FieldTable(copying: value.value.table))
        default: self = .void
        }
    }

    func cValue(in arena: CArena) -> amqp_field_value_t {
        var result = amqp_field_value_t()
        func kind(_ k: amqp_field_value_kind_t) -> UInt8 { UInt8(k.rawValue) }
        switch self {
        case .bool(let v): result.kind = kind(AMQP_FIELD_KIND_BOOLEAN); result.value.boolean = v ? 1 : 0
        case .int8(let v): result.kind = kind(AMQP_FIELD_KIND_I8); result.value.i8 = v
        case .uint8(let v): result.kind = kind(AMQP_FIELD_KIND_U8); result.value.u8 = v
        case .int16(let v): result.kind = kind(AMQP_FIELD_KIND_I16); result.value.i16 = v
        case .uint16(let v): result.kind = kind(AMQP_FIELD_KIND_U16); result.value.u16 = v
        case .int32(let v): result.kind = kind(AMQP_FIELD_KIND_I32); result.value.i32 = v
        case .uint32(let v): result.kind = kind(AMQP_FIELD_KIND_U32); result.value.u32 = v
        case .int64(let v): result.kind = kind(AMQP_FIELD_KIND_I64); result.value.i64 = v
        case .uint64(let v): result.kind = kind(AMQP_FIELD_KIND_U64); result.value.u64 = v
        case .float(let v): result.kind = kind(AMQP_FIELD_KIND_F32); result.value.f32 = v
        case .double(let v): result.kind = kind(AMQP_FIELD_KIND_F64); result.value.f64 = v
        case .decimal(let scale, let value):
            result.kind = kind(AMQP_FIELD_KIND_DECIMAL)
            result.value.decimal = amqp_decimal_t(decimals: scale, value: value)
        case .string(let v): result.kind = kind(AMQP_FIELD_KIND_UTF8); result.value.bytes = arena.bytes(v)
        case .bytes(let v): result.kind = kind(AMQP_FIELD_KIND_BYTES); result.value.bytes = arena.bytes(v)
        case .timestamp(let v): result.kind = kind(AMQP_FIELD_KIND_TIMESTAMP); result.value.u64 = v
        case .array(let values):
            result.kind = kind(AMQP_FIELD_KIND_ARRAY)
            let cValues = arena.allocate(amqp_field_value_t.self, count: max(values.count, 1))
            for (index, value) in values.enumerated() { cValues[index] = value.cValue(in: arena) }
            result.value.array = amqp_array_t(num_entries: Int32(values.count), entries: cValues)
        case .table(let table): result.kind = kind(AMQP_FIELD_KIND_TABLE); result.value.table = table.cTable(in: arena)
        case .void: result.kind = kind(AMQP_FIELD_KIND_VOID)
        }
        return result
    }
}

extension MessageProperties {
    /// A copy of the properties librabbitmq decoded from a content header.
    init(copying p: amqp_basic_properties_t) {
        var strings = RepeatedStrings()
        self.init(copying: p, strings: &strings)
    }

    init(copying p: amqp_basic_properties_t, strings: inout RepeatedStrings) {
        let flags = p._flags
        func has(_ flag: Int32) -> Bool { flags & amqp_flags_t(flag) != 0 }
        self.init()
        if has(AMQP_BASIC_CONTENT_TYPE_FLAG) { contentType = strings.string(p.content_type, .contentType) }
        if has(AMQP_BASIC_CONTENT_ENCODING_FLAG) { contentEncoding = strings.string(p.content_encoding, .contentEncoding) }
        if has(AMQP_BASIC_HEADERS_FLAG) { headers = FieldTable(copying: p.headers) }
        if has(AMQP_BASIC_DELIVERY_MODE_FLAG) { deliveryMode = p.delivery_mode }
        if has(AMQP_BASIC_PRIORITY_FLAG) { priority = p.priority }
        if has(AMQP_BASIC_CORRELATION_ID_FLAG) { correlationID = p.correlation_id.string }
        if has(AMQP_BASIC_REPLY_TO_FLAG) { replyTo = p.reply_to.string }
        if has(AMQP_BASIC_EXPIRATION_FLAG) { expiration = p.expiration.string }
        if has(AMQP_BASIC_MESSAGE_ID_FLAG) { messageID = p.message_id.string }
        if has(AMQP_BASIC_TIMESTAMP_FLAG) { timestamp = p.timestamp }
        if has(AMQP_BASIC_TYPE_FLAG) { type = strings.string(p.type, .type) }
        if has(AMQP_BASIC_USER_ID_FLAG) { userID = p.user_id.string }
        if has(AMQP_BASIC_APP_ID_FLAG) { appID = strings.string(p.app_id, .appID) }
        if has(AMQP_BASIC_CLUSTER_ID_FLAG) { clusterID = p.cluster_id.string }
    }

    /// The properties as librabbitmq's structure, its strings allocated in `arena`.
    func cProperties(in arena: CArena) -> amqp_basic_properties_t {
        var p = amqp_basic_properties_t()
        var flags: Int32 = 0
        if let contentType { p.content_type = arena.bytes(contentType); flags |= AMQP_BASIC_CONTENT_TYPE_FLAG }
        if let contentEncoding {
            p.content_encoding = arena.bytes(contentEncoding); flags |= AMQP_BASIC_CONTENT_ENCODING_FLAG
        }
        if let headers { p.headers = headers.cTable(in: arena); flags |= AMQP_BASIC_HEADERS_FLAG }
        if let deliveryMode { p.delivery_mode = deliveryMode; flags |= AMQP_BASIC_DELIVERY_MODE_FLAG }
        if let priority { p.priority = priority; flags |= AMQP_BASIC_PRIORITY_FLAG }
        if let correlationID { p.correlation_id = arena.bytes(correlationID); flags |= AMQP_BASIC_CORRELATION_ID_FLAG }
        if let replyTo { p.reply_to = arena.bytes(replyTo); flags |= AMQP_BASIC_REPLY_TO_FLAG }
        if let expiration { p.expiration = arena.bytes(expiration); flags |= AMQP_BASIC_EXPIRATION_FLAG }
        if let messageID { p.message_id = arena.bytes(messageID); flags |= AMQP_BASIC_MESSAGE_ID_FLAG }
        if let timestamp { p.timestamp = timestamp; flags |= AMQP_BASIC_TIMESTAMP_FLAG }
        if let type { p.type = arena.bytes(type); flags |= AMQP_BASIC_TYPE_FLAG }
        if let userID { p.user_id = arena.bytes(userID); flags |= AMQP_BASIC_USER_ID_FLAG }
        if let appID { p.app_id = arena.bytes(appID); flags |= AMQP_BASIC_APP_ID_FLAG }
        if let clusterID { p.cluster_id = arena.bytes(clusterID); flags |= AMQP_BASIC_CLUSTER_ID_FLAG }
        p._flags = amqp_flags_t(flags)
        return p
    }
}

/// Remembers the last string seen in each slot, so that a stream of deliveries carrying the same
/// consumer tag, exchange, routing key or content type allocates each string once, not once per
/// message. Confined to the connection's owner thread.
struct RepeatedStrings {
    enum Slot: Int, CaseIterable {
        case consumerTag, exchange, routingKey, contentType, contentEncoding, type, appID
    }

    private var last = [String](repeating: "", count: Slot.allCases.count)

    mutating func string(_ bytes: amqp_bytes_t, _ slot: Slot) -> String {
        let cached = last[slot.rawValue]
        let same = cached.utf8.count == bytes.len && (bytes.len == 0 || cached.utf8.withContiguousStorageIfAvailable {
            memcmp($0.baseAddress!, bytes.bytes, bytes.len) == 0
        } == true)
        if same { return cached }
        let fresh = bytes.string
        last[slot.rawValue] = fresh
        return fresh
    }
}
