/// A read-only view of one value on a ``JSONTape``: what event validation
/// reads instead of a ``JSONValue`` tree, so that checking an event
/// allocates only for the strings the event keeps.
///
/// A node holds unsafe pointers: use it only while the parsed bytes and the
/// tape are alive and unchanged.
public struct JSONNode {
    public let bytes: UnsafeBufferPointer<UInt8>
    public let tokens: UnsafeBufferPointer<JSONToken>
    public let index: Int

    @inlinable public init(bytes: UnsafeBufferPointer<UInt8>, tokens: UnsafeBufferPointer<JSONToken>, index: Int) {
        self.bytes = bytes
        self.tokens = tokens
        self.index = index
    }

    @inlinable public var token: JSONToken { tokens[index] }
    @inlinable public var kind: JSONToken.Kind { tokens[index].kind }
    @inlinable public var isNull: Bool { kind == .null }

    /// The raw content bytes of a string, key or number, as written.
    @inlinable public var rawBytes: UnsafeBufferPointer<UInt8> {
        let token = tokens[index]
        let start = Int(token.start)
        return UnsafeBufferPointer(rebasing: bytes[start..<(start + Int(token.length))])
    }

    // MARK: Strings and keys

    /// For a key: its number in the scanner's ``JSONKeyVocabulary`` plus
    /// one, or 0 when the vocabulary does not hold it.
    @inlinable public var knownKeyNumber: UInt8 { tokens[index].knownKey }

    /// The decoded text of a string or key.
    @inlinable public var stringValue: String {
        let token = tokens[index]
        if token.flags & JSONToken.hasEscapes != 0 {
            return String(decoding: Self.decodeEscapes(rawBytes), as: UTF8.self)
        }
        return String(decoding: rawBytes, as: UTF8.self)
    }

    /// Whether the string is empty.
    @inlinable public var isEmptyString: Bool { tokens[index].length == 0 }

    /// The decoded UTF-8 of a string or key.
    public var decodedBytes: [UInt8] {
        tokens[index].flags & JSONToken.hasEscapes != 0 ? Self.decodeEscapes(rawBytes) : Array(rawBytes)
    }

    /// Whether this key and the key at `other` are the same bytes once
    /// decoded.
    public func sameKeyBytes(as other: Int) -> Bool {
        let otherNode = JSONNode(bytes: bytes, tokens: tokens, index: other)
        let bothPlain = (tokens[index].flags | tokens[other].flags) & JSONToken.hasEscapes == 0
        if bothPlain {
            return memoryEqual(rawBytes, otherNode.rawBytes)
        }
        return decodedBytes == otherNode.decodedBytes
    }

    /// The decoded bytes of string content whose escapes the scanner has
    /// already checked.
    public static func decodeEscapes(_ raw: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(raw.count)
        var index = 0
        func hexUnit(at offset: Int) -> UInt32 {
            var unit: UInt32 = 0
            for byte in raw[offset..<(offset + 4)] {
                let digit: UInt8 = switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
                default: byte - UInt8(ascii: "A") + 10
                }
                unit = unit << 4 | UInt32(digit)
            }
            return unit
        }
        while index < raw.count {
            let byte = raw[index]
            guard byte == UInt8(ascii: "\\") else {
                utf8.append(byte)
                index += 1
                continue
            }
            let escaped = raw[index + 1]
            switch escaped {
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hexUnit(at: index + 2)
                if (0xD800...0xDBFF).contains(scalar) {
                    let low = hexUnit(at: index + 8)
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                utf8.append(contentsOf: UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}")!)
                index += 6
                continue
            default: utf8.append(escaped)  // '"', '\\' or '/'
            }
            index += 2
        }
        return utf8
    }

    // MARK: Numbers

    /// The number as written.
    public var numberText: String { String(decoding: rawBytes, as: UTF8.self) }

    @inlinable public var isPlainInteger: Bool { tokens[index].flags & JSONToken.isPlainInteger != 0 }

    public var hasExponent: Bool {
        rawBytes.contains { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }

    /// The value of a plain integer that fits in `Int64`.
    @inlinable public var int64Value: Int64? {
        guard kind == .number, isPlainInteger else { return nil }
        return JSONNumber.int64Value(ofPlainInteger: rawBytes)
    }

    // MARK: Containers

    /// The members of an object, in order.
    @inlinable public var members: MemberSequence { MemberSequence(object: self) }

    /// The elements of an array, in order.
    @inlinable public var elements: ElementSequence { ElementSequence(array: self) }

    /// The number of elements of an array or members of an object.
    @inlinable public var count: Int { Int(tokens[index].length) }

    /// The value of the member whose key has `knownKeyNumber` (see
    /// ``knownKeyNumber``), when this is an object.
    @inlinable public func member(knownKeyNumber: UInt8) -> JSONNode? {
        guard kind == .object, knownKeyNumber != 0 else { return nil }
        for (memberKey, value) in members where memberKey.knownKeyNumber == knownKeyNumber {
            return value
        }
        return nil
    }

    public struct MemberSequence: Sequence, IteratorProtocol {
        @usableFromInline let object: JSONNode
        @usableFromInline var cursor: Int
        @usableFromInline let end: Int

        @inlinable public init(object: JSONNode) {
            self.object = object
            self.cursor = object.index + 1
            self.end = Int(object.token.next)
        }

        @inlinable public mutating func next() -> (key: JSONNode, value: JSONNode)? {
            guard cursor < end else { return nil }
            let key = JSONNode(bytes: object.bytes, tokens: object.tokens, index: cursor)
            let value = JSONNode(bytes: object.bytes, tokens: object.tokens, index: cursor + 1)
            cursor = Int(object.tokens[cursor + 1].next)
            return (key, value)
        }
    }

    public struct ElementSequence: Sequence, IteratorProtocol {
        @usableFromInline let array: JSONNode
        @usableFromInline var cursor: Int
        @usableFromInline let end: Int

        @inlinable public init(array: JSONNode) {
            self.array = array
            self.cursor = array.index + 1
            self.end = Int(array.token.next)
        }

        @inlinable public mutating func next() -> JSONNode? {
            guard cursor < end else { return nil }
            let element = JSONNode(bytes: array.bytes, tokens: array.tokens, index: cursor)
            cursor = Int(array.tokens[cursor].next)
            return element
        }
    }

    // MARK: Trees

    /// The value as a ``JSONValue`` tree.
    public var jsonValue: JSONValue {
        switch kind {
        case .null: .null
        case .true: .bool(true)
        case .false: .bool(false)
        case .number: .number(JSONNumber(uncheckedText: numberText))
        case .string, .key: .string(stringValue)
        case .array: .array(elements.map(\.jsonValue))
        case .object: .object(members.map { JSONMember($0.key.stringValue, $0.value.jsonValue) })
        }
    }
}

/// The unknown keys of one object, for finding duplicates: compared directly
/// while few, through a set of their bytes when many.
struct UnknownKeySet {
    private var indices: [Int] = []
    private var byteSet: Set<[UInt8]>?

    /// Adds the key token at `index`; `false` if the object already had it.
    mutating func insert(_ index: Int, bytes: UnsafeBufferPointer<UInt8>, tokens: [JSONToken]) -> Bool {
        tokens.withUnsafeBufferPointer { tokens in
            let node = JSONNode(bytes: bytes, tokens: tokens, index: index)
            if var byteSet {
                self.byteSet = nil  // Keep the set uniquely referenced while it changes.
                let isNew = byteSet.insert(node.decodedBytes).inserted
                self.byteSet = byteSet
                return isNew
            }
            for other in indices where node.sameKeyBytes(as: other) {
                return false
            }
            indices.append(index)
            if indices.count > 32 {
                byteSet = Set(indices.map { JSONNode(bytes: bytes, tokens: tokens, index: $0).decodedBytes })
            }
            return true
        }
    }
}
