/// The byte-level JSON reader behind ``JSONParser``, event decoding and the
/// batch splitter. It checks every rule of ``JSONParser`` and records what
/// it reads as ``JSONToken``s on a tape, allocating nothing per value; the
/// caller keeps the buffer alive while it reads the tape.
public struct JSONScanner {
    public let bytes: UnsafeBufferPointer<UInt8>
    public var position: Int
    public var tape = JSONTape()
    /// The object keys recognised from their bytes (see ``JSONKeyVocabulary``).
    private let keys: JSONKeyVocabulary?

    public init(_ bytes: UnsafeBufferPointer<UInt8>, position: Int = 0, keys: JSONKeyVocabulary? = nil) {
        self.bytes = bytes
        self.position = position
        self.keys = keys
        tape.tokens.reserveCapacity(min(bytes.count / 12 + 8, 1 << 20))
    }

    public var isAtEnd: Bool { position >= bytes.count }

    // MARK: Documents

    /// Parses the whole buffer as one JSON text onto the tape; its root is
    /// token 0.
    public mutating func parseDocument() throws(JSONParseError) {
        guard bytes.count < Int(Int32.max) else {
            throw JSONParseError(.unexpectedCharacter, "input larger than 2 GiB", at: 0)
        }
        try rejectByteOrderMark()
        skipWhitespace()
        try parseValue(depth: 0)
        skipWhitespace()
        if !isAtEnd {
            throw JSONParseError(.trailingData, "unexpected data after the JSON value", at: position)
        }
    }

    public func rejectByteOrderMark() throws(JSONParseError) {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            throw JSONParseError(.byteOrderMark, "byte order mark (BOM) before the JSON text", at: 0)
        }
    }

    public mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    // MARK: Values

    /// Parses one value at `position` onto the tape; `depth` is the number
    /// of arrays and objects around it.
    public mutating func parseValue(depth: Int) throws(JSONParseError) {
        guard position < bytes.count else {
            throw JSONParseError(.unexpectedEndOfInput, "unexpected end of input", at: position, expected: "a JSON value")
        }
        switch bytes[position] {
        case UInt8(ascii: "{"): try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): try parseString(as: .string)
        case UInt8(ascii: "t"): try parseLiteral("true", .true)
        case UInt8(ascii: "f"): try parseLiteral("false", .false)
        case UInt8(ascii: "n"): try parseLiteral("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try parseNumber()
        default: throw try unexpectedCharacter(expected: "a JSON value")
        }
    }

    private mutating func append(_ kind: JSONToken.Kind, start: Int, length: Int, flags: UInt8 = 0, knownKey: UInt8 = 0) {
        let index = tape.tokens.count
        tape.tokens.append(JSONToken(
            kind: kind, flags: flags, knownKey: knownKey, start: Int32(truncatingIfNeeded: start),
            length: Int32(truncatingIfNeeded: length), next: Int32(truncatingIfNeeded: index + 1)))
    }

    private mutating func checkDepth(_ depth: Int) throws(JSONParseError) {
        if depth > JSONParser.maxNestingDepth {
            throw JSONParseError(
                .nestingTooDeep, "nesting deeper than \(JSONParser.maxNestingDepth) levels", at: position)
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONParseError) {
        try checkDepth(depth)
        let objectIndex = tape.tokens.count
        append(.object, start: position, length: 0)
        position += 1
        skipWhitespace()
        var memberCount = 0
        var knownKeysSeen: UInt64 = 0
        var unknownKeys = UnknownKeySet()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
        } else {
            while true {
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                    throw try unexpectedCharacter(expected: "a string key")
                }
                let keyOffset = position
                let keyIndex = tape.tokens.count
                try parseString(as: .key)
                let knownKey = tape.tokens[keyIndex].knownKey
                if knownKey != 0 {
                    let bit: UInt64 = 1 << UInt64(knownKey - 1)
                    if knownKeysSeen & bit != 0 { throw duplicateKey(keyIndex, at: keyOffset) }
                    knownKeysSeen |= bit
                } else if !unknownKeys.insert(keyIndex, bytes: bytes, tokens: tape.tokens) {
                    throw duplicateKey(keyIndex, at: keyOffset)
                }
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                    throw try unexpectedCharacter(expected: "':' after the key")
                }
                position += 1
                skipWhitespace()
                try parseValue(depth: depth)
                memberCount += 1
                skipWhitespace()
                guard position < bytes.count else {
                    throw JSONParseError(.unexpectedEndOfInput, "unexpected end of input", at: position, expected: "',' or '}'")
                }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                    skipWhitespace()
                } else if bytes[position] == UInt8(ascii: "}") {
                    position += 1
                    break
                } else {
                    throw try unexpectedCharacter(expected: "',' or '}'")
                }
            }
        }
        tape.tokens[objectIndex].length = Int32(truncatingIfNeeded: memberCount)
        tape.tokens[objectIndex].next = Int32(truncatingIfNeeded: tape.tokens.count)
    }

    private func duplicateKey(_ keyIndex: Int, at offset: Int) -> JSONParseError {
        let key = tape.tokens.withUnsafeBufferPointer { JSONNode(bytes: bytes, tokens: $0, index: keyIndex).stringValue }
        return JSONParseError(.duplicateKey, "duplicate key '\(key)'", at: offset)
    }

    private mutating func parseArray(depth: Int) throws(JSONParseError) {
        try checkDepth(depth)
        let arrayIndex = tape.tokens.count
        append(.array, start: position, length: 0)
        position += 1
        skipWhitespace()
        var elementCount = 0
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
        } else {
            while true {
                try parseValue(depth: depth)
                elementCount += 1
                skipWhitespace()
                guard position < bytes.count else {
                    throw JSONParseError(.unexpectedEndOfInput, "unexpected end of input", at: position, expected: "',' or ']'")
                }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                    skipWhitespace()
                } else if bytes[position] == UInt8(ascii: "]") {
                    position += 1
                    break
                } else {
                    throw try unexpectedCharacter(expected: "',' or ']'")
                }
            }
        }
        tape.tokens[arrayIndex].length = Int32(truncatingIfNeeded: elementCount)
        tape.tokens[arrayIndex].next = Int32(truncatingIfNeeded: tape.tokens.count)
    }

    private mutating func parseLiteral(_ literal: StaticString, _ kind: JSONToken.Kind) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        let text = literal.utf8Start
        for index in 0..<count {
            guard position + index < bytes.count, bytes[position + index] == text[index] else {
                let start = position
                position += index
                if isAtEnd {
                    throw JSONParseError(.unexpectedEndOfInput, "unexpected end of input", at: position, expected: "'\(literal)'")
                }
                throw JSONParseError(
                    .unexpectedCharacter, "invalid literal", at: start, expected: "true, false or null")
            }
        }
        append(kind, start: position, length: count)
        position += count
    }

    private mutating func parseNumber() throws(JSONParseError) {
        let start = position
        let length = JSONNumber.syntaxLength(in: bytes, from: start)
        guard length > 0 else {
            throw JSONParseError(.invalidNumber, "invalid number", at: start)
        }
        position += length
        if position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
            throw JSONParseError(.invalidNumber, "invalid number (leading zero)", at: start)
        }
        var isPlainInteger = true
        for index in start..<position {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                isPlainInteger = false
                break
            }
        }
        append(.number, start: start, length: length, flags: isPlainInteger ? JSONToken.isPlainInteger : 0)
    }

    // MARK: Strings

    /// Parses the string whose opening quote is at `position` onto the
    /// tape, as a string value or as an object key (recognizing the keys
    /// events use).
    private mutating func parseString(as kind: JSONToken.Kind) throws(JSONParseError) {
        let start = position + 1
        let (end, isASCII, hasEscapes) = try scanString(from: start)
        position = end + 1
        var flags: UInt8 = isASCII ? JSONToken.isASCII : 0
        if hasEscapes { flags |= JSONToken.hasEscapes }
        var knownKey: UInt8 = 0
        if kind == .key, let keys {
            if !hasEscapes, isASCII {
                knownKey = keys.number(of: UnsafeBufferPointer(rebasing: bytes[start..<end]))
            } else if hasEscapes {
                let decoded = JSONNode.decodeEscapes(UnsafeBufferPointer(rebasing: bytes[start..<end]))
                knownKey = decoded.withUnsafeBufferPointer { keys.number(of: $0) }
            }
        }
        append(kind, start: start, length: end - start, flags: flags, knownKey: knownKey)
    }

    /// Scans string content from `start` to its closing quote, checking
    /// UTF-8, control characters and escapes. Returns the index of the
    /// closing quote, whether the content is all ASCII and whether it has
    /// escapes.
    private func scanString(from start: Int) throws(JSONParseError) -> (end: Int, isASCII: Bool, hasEscapes: Bool) {
        var index = start
        let end = bytes.count
        var isASCII = true
        var hasEscapes = false
        while true {
            // Eight bytes at a time up to the first special byte: a quote, a
            // backslash, a control character or a non-ASCII byte.
            while index + 8 <= end {
                let word = UnsafeRawPointer(bytes.baseAddress! + index).loadUnaligned(as: UInt64.self)
                let special = Self.specialByteMask(UInt64(littleEndian: word))
                if special != 0 {
                    index += special.trailingZeroBitCount >> 3
                    break
                }
                index += 8
            }
            guard index < end else { break }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                return (index, isASCII, hasEscapes)
            } else if byte >= 0x80 {
                isASCII = false
                index = try endOfUTF8Sequence(at: index)
            } else if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                index = try endOfEscape(at: index)
            } else if byte < 0x20 {
                throw controlCharacter(byte, at: index)
            } else {
                index += 1  // An ordinary byte within the last eight of the input.
            }
        }
        throw JSONParseError(.unexpectedEndOfInput, "unterminated string starting", at: start - 1)
    }

    /// A mask whose lowest set bit is the high bit of the first byte of
    /// `word` (in memory order) that is `"`, `\`, below 0x20 or above 0x7F;
    /// zero when there is none. Bits above the lowest may be spurious.
    @inline(__always)
    private static func specialByteMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let zeroInQuote = (quote &- ones) & ~quote
        let zeroInBackslash = (backslash &- ones) & ~backslash
        let belowSpace = (word &- ones &* 0x20) & ~word
        return (zeroInQuote | zeroInBackslash | belowSpace | word) & highBits
    }

    /// Checks the escape whose backslash is at `index` and returns the
    /// index after it; a `\u` escape of a high surrogate must be followed by
    /// one of a low surrogate.
    private func endOfEscape(at index: Int) throws(JSONParseError) -> Int {
        guard index + 1 < bytes.count else {
            throw JSONParseError(.unexpectedEndOfInput, "unterminated escape", at: index)
        }
        switch bytes[index + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return index + 2
        case UInt8(ascii: "u"):
            break
        default:
            let shown = bytes[index + 1] < 0x80 ? Self.show(bytes[index + 1]) : "a non-ASCII character"
            throw JSONParseError(.invalidEscape, "invalid escape '\\\(shown)'", at: index)
        }
        let unit = try hexUnit(at: index)
        switch unit {
        case 0xD800...0xDBFF:
            let next = index + 6
            let lowFollows = next + 1 < bytes.count
                && bytes[next] == UInt8(ascii: "\\") && bytes[next + 1] == UInt8(ascii: "u")
            let low = lowFollows ? try hexUnit(at: next) : 0
            guard (0xDC00...0xDFFF).contains(low) else {
                throw JSONParseError(.loneSurrogate, "lone surrogate \\u\(Self.hex4(unit))", at: index)
            }
            return next + 6
        case 0xDC00...0xDFFF:
            throw JSONParseError(.loneSurrogate, "lone surrogate \\u\(Self.hex4(unit))", at: index)
        default:
            return index + 6
        }
    }

    /// The 16-bit code unit of the `\uXXXX` escape whose backslash is at `index`.
    private func hexUnit(at index: Int) throws(JSONParseError) -> UInt16 {
        var unit: UInt16 = 0
        for offset in 2..<6 {
            guard index + offset < bytes.count else {
                throw JSONParseError(.unexpectedEndOfInput, "unterminated \\u escape", at: index)
            }
            let byte = bytes[index + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default:
                throw JSONParseError(.invalidEscape, "invalid \\u escape (it needs 4 hex digits)", at: index)
            }
            unit = unit << 4 | UInt16(digit)
        }
        return unit
    }

    // MARK: UTF-8

    /// Validates the multi-byte UTF-8 sequence whose lead byte is at `index`
    /// (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF) and
    /// returns the index after it.
    @inline(__always)
    public func endOfUTF8Sequence(at index: Int) throws(JSONParseError) -> Int {
        // The common case first: a three-byte sequence (CJK text) whose
        // lead byte allows any continuation bytes.
        let lead = bytes[index]
        if lead >= 0xE1, lead <= 0xEF, lead != 0xED, index + 2 < bytes.count,
           bytes[index + 1] & 0xC0 == 0x80, bytes[index + 2] & 0xC0 == 0x80 {
            return index + 3
        }
        return try endOfUTF8SequenceInGeneral(at: index)
    }

    private func endOfUTF8SequenceInGeneral(at index: Int) throws(JSONParseError) -> Int {
        let lead = bytes[index]
        let length: Int
        var secondLow: UInt8 = 0x80
        var secondHigh: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondLow = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondHigh = 0x9F
        case 0xF0: length = 4; secondLow = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondHigh = 0x8F
        default: throw invalidUTF8(at: index)
        }
        guard index + length <= bytes.count else { throw invalidUTF8(at: index) }
        let second = bytes[index + 1]
        guard second >= secondLow, second <= secondHigh else { throw invalidUTF8(at: index) }
        for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 {
            throw invalidUTF8(at: index)
        }
        return index + length
    }

    private func invalidUTF8(at index: Int) -> JSONParseError {
        JSONParseError(.invalidUTF8, "invalid UTF-8", at: index)
    }

    // MARK: Error helpers

    /// The error for the character at `position`, which the grammar does not
    /// allow there.
    public func unexpectedCharacter(expected: String) throws(JSONParseError) -> JSONParseError {
        guard position < bytes.count else {
            return JSONParseError(.unexpectedEndOfInput, "unexpected end of input", at: position, expected: expected)
        }
        let byte = bytes[position]
        if byte < 0x80 {
            return JSONParseError(.unexpectedCharacter, "unexpected character \(Self.show(byte))", at: position, expected: expected)
        }
        let end = try endOfUTF8Sequence(at: position)
        let character = String(decoding: UnsafeBufferPointer(rebasing: bytes[position..<end]), as: UTF8.self)
        return JSONParseError(.unexpectedCharacter, "unexpected character '\(character)'", at: position, expected: expected)
    }

    private func controlCharacter(_ byte: UInt8, at index: Int) -> JSONParseError {
        let escape: String = switch byte {
        case 0x08: "\\b"
        case 0x09: "\\t"
        case 0x0A: "\\n"
        case 0x0C: "\\f"
        case 0x0D: "\\r"
        default: "\\u\(Self.hex4(UInt16(byte)))"
        }
        return JSONParseError(
            .controlCharacterInString,
            "control character U+\(Self.hex4(UInt16(byte))) in a string (write it as \(escape))", at: index)
    }

    /// An ASCII byte as an error message shows it: `'x'`, or `U+000A` for
    /// control characters and space.
    public static func show(_ byte: UInt8) -> String {
        if byte > 0x20, byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        return "U+\(hex4(UInt16(byte)))"
    }

    public static func hex4(_ value: UInt16) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        let nibbles = [value >> 12, value >> 8 & 0xF, value >> 4 & 0xF, value & 0xF]
        return String(decoding: nibbles.map { digits[Int($0)] }, as: UTF8.self)
    }
}
