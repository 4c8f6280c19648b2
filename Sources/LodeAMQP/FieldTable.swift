/// A value in an AMQP field table or field array (message headers, queue arguments).
///
/// Integer widths are kept, so a table read from the broker and published again encodes
/// exactly as it came. RabbitMQ itself sends `x-death` and similar headers as nested
/// tables and arrays of these values.
public enum FieldValue: Sendable, Hashable {
    case bool(Bool)
    case int8(Int8)
    case uint8(UInt8)
    case int16(Int16)
    case uint16(UInt16)
    case int32(Int32)
    case uint32(UInt32)
    case int64(Int64)
    case uint64(UInt64)
    case float(Float)
    case double(Double)
    /// AMQP decimal: `value` × 10^-`scale`.
    case decimal(scale: UInt8, value: UInt32)
    /// A long string (`S`) holding valid UTF-8.
    case string(String)
    /// Raw bytes: a byte array (`x`), or a long string that is not valid UTF-8.
    case bytes([UInt8])
    /// Seconds since the Unix epoch.
    case timestamp(UInt64)
    case array([FieldValue])
    case table(FieldTable)
    case void
}

/// An AMQP field table: an ordered list of named values.
///
/// Order is kept as sent; lookups by key take the first entry with that key.
public struct FieldTable: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    /// One named value of a table.
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var value: FieldValue
        public init(_ key: String, _ value: FieldValue) {
            self.key = key
            self.value = value
        }
    }

    public var entries: [Entry]

    public init(_ entries: [Entry] = []) { self.entries = entries }

    public init(dictionaryLiteral elements: (String, FieldValue)...) {
        entries = elements.map { Entry($0.0, $0.1) }
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// The value of the first entry named `key`; setting replaces it, or appends a new entry.
    public subscript(key: String) -> FieldValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            let index = entries.firstIndex { $0.key == key }
            switch (index, newValue) {
            case let (index?, value?): entries[index].value = value
            case let (index?, nil): entries.remove(at: index)
            case let (nil, value?): entries.append(Entry(key, value))
            case (nil, nil): break
            }
        }
    }
}

extension FieldValue {
    /// The value as a string, when it is one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The value as a signed integer, whatever its width, when it is an integer that fits.
    public var integerValue: Int64? {
        switch self {
        case .int8(let v): Int64(v)
        case .uint8(let v): Int64(v)
        case .int16(let v): Int64(v)
        case .uint16(let v): Int64(v)
        case .int32(let v): Int64(v)
        case .uint32(let v): Int64(v)
        case .int64(let v): v
        case .uint64(let v): Int64(exactly: v)
        default: nil
        }
    }
}

extension FieldTable {
    /// The bytes this table takes on the wire (AMQP 0-9-1 with RabbitMQ's field types): its
    /// 4-byte length and every entry. A message's header frame must fit in the connection's
    /// `frame_max`, so a table that comes from input is measured before it is published again.
    public var encodedSize: Int {
        entries.reduce(4) { size, entry in size &+ 1 &+ entry.key.utf8.count &+ 1 &+ entry.value.encodedSize }
    }
}

extension FieldValue {
    /// The bytes of the value after its type byte.
    public var encodedSize: Int {
        switch self {
        case .bool, .int8, .uint8: 1
        case .int16, .uint16: 2
        case .int32, .uint32, .float: 4
        case .int64, .uint64, .double, .timestamp: 8
        case .decimal: 5
        case .string(let text): 4 &+ text.utf8.count
        case .bytes(let bytes): 4 &+ bytes.count
        case .array(let values): values.reduce(4) { $0 &+ 1 &+ $1.encodedSize }
        case .table(let table): table.encodedSize
        case .void: 0
        }
    }
}
