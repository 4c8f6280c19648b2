/// A JSON value as parsed by ``JSONParser``, keeping what an event's rules
/// need to see: the exact source text of numbers and the order of object
/// members.
///
/// Equality compares strings the way Swift does (canonically equivalent
/// Unicode compares equal); compare ``canonicalBytes()`` when byte-exact
/// equality matters.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number, kept as its source text.
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    /// An object, as its members in source order. A parsed object never
    /// holds two members with the same key.
    case object([JSONMember])

    /// The value of the member named `key` when this is an object, else `nil`.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for member in members where member.key == key {
            return member.value
        }
        return nil
    }
}

/// One `"key": value` member of a JSON object.
public struct JSONMember: Sendable, Hashable {
    public var key: String
    public var value: JSONValue

    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// A JSON number kept as its exact source text, so that `57384000000` stays
/// exact and `5.7384E+10` can be reported as written.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The number as written, e.g. `-12`, `0.5`, `5.7384E+10`.
    public let text: String

    /// Creates a number from its text; `nil` unless `text` is a number in
    /// RFC 8259 syntax.
    public init?(text: String) {
        let bytes = Array(text.utf8)
        let length = bytes.withUnsafeBufferPointer { JSONNumber.syntaxLength(in: $0, from: 0) }
        guard length > 0, length == bytes.count else { return nil }
        self.text = text
    }

    /// Creates a number from an integer.
    public init(_ integer: Int64) {
        self.text = String(integer)
    }

    /// Creates a number from an integer beyond `Int64` (sums of amounts), written exactly.
    public init(_ integer: Int128) {
        self.text = String(integer)
    }

    /// Creates a number from an integer.
    public init(_ integer: Int) {
        self.text = String(integer)
    }

    public init(uncheckedText: String) {
        self.text = uncheckedText
    }

    public var description: String { text }

    /// Whether the number is written as a plain integer: an optional minus
    /// sign and digits, with no fraction and no exponent.
    public var isPlainInteger: Bool {
        var utf8 = text.utf8[...]
        if utf8.first == UInt8(ascii: "-") { utf8 = utf8.dropFirst() }
        return !utf8.isEmpty && utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// Whether the number is written with an exponent (`1e3`, `5.7384E+10`).
    public var hasExponent: Bool {
        text.utf8.contains { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }

    /// The value when the number is a plain integer (see ``isPlainInteger``)
    /// that fits in `Int64`; `nil` otherwise. `5.0` and `1e3` are not plain
    /// integers.
    public var int64Value: Int64? {
        guard isPlainInteger else { return nil }
        var text = text
        return text.withUTF8 { JSONNumber.int64Value(ofPlainInteger: $0) }
    }

    /// The value of `-?[0-9]+` that fits in `Int64`.
    @inlinable public static func int64Value(ofPlainInteger utf8: UnsafeBufferPointer<UInt8>) -> Int64? {
        var index = 0
        let isNegative = utf8.count > 0 && utf8[0] == UInt8(ascii: "-")
        if isNegative { index = 1 }
        guard index < utf8.count else { return nil }
        // Accumulated negatively so that Int64.min is representable.
        var value: Int64 = 0
        while index < utf8.count {
            let digit = utf8[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            let (next, borrow) = shifted.subtractingReportingOverflow(Int64(digit))
            guard !overflow, !borrow else { return nil }
            value = next
            index += 1
        }
        if isNegative { return value }
        return value == .min ? nil : -value
    }

    /// The value as a `Double` (the nearest one; large or long numbers lose
    /// precision).
    public var doubleValue: Double? { Double(text) }

    /// The length of the RFC 8259 number that starts at `start`, or 0 when
    /// no number starts there.
    public static func syntaxLength(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        let end = bytes.count
        func isDigit(_ i: Int) -> Bool {
            i < end && bytes[i] >= UInt8(ascii: "0") && bytes[i] <= UInt8(ascii: "9")
        }
        if index < end, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard isDigit(index) else { return 0 }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while isDigit(index) { index += 1 }
        }
        if index < end, bytes[index] == UInt8(ascii: ".") {
            guard isDigit(index + 1) else { return 0 }
            index += 1
            while isDigit(index) { index += 1 }
        }
        if index < end, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            var next = index + 1
            if next < end, bytes[next] == UInt8(ascii: "+") || bytes[next] == UInt8(ascii: "-") { next += 1 }
            guard isDigit(next) else { return 0 }
            index = next
            while isDigit(index) { index += 1 }
        }
        return index - start
    }
}

extension JSONValue {
    /// Creates a number value from an integer.
    public static func integer(_ value: Int64) -> JSONValue { .number(JSONNumber(value)) }
    /// Creates a number value from an integer.
    public static func integer(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
    /// Creates a number value from an integer beyond `Int64`, written exactly.
    public static func integer(_ value: Int128) -> JSONValue { .number(JSONNumber(value)) }
}
