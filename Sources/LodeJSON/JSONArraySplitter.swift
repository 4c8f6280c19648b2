/// One element of a JSON array, cut out of its body: where it is, and what
/// parsing it on its own gave.
public struct SplitElement {
    /// The element's bytes within the body, without surrounding whitespace.
    public let range: Range<Int>
    /// The index of the element's root token on the scanner's tape, or the
    /// JSON rule the element breaks.
    public let parsed: Result<Int, JSONParseError>
}

/// The elements of a top-level JSON array, or the news that there were more
/// than the caller allows.
public enum ArraySplit {
    case elements([SplitElement])
    case tooManyElements(limit: Int)
}

extension JSONScanner {
    /// Parses a JSON text that must be an array, element by element.
    ///
    /// An element that breaks a JSON rule of its own (a duplicate key,
    /// invalid UTF-8 in a string, a bad literal, nesting too deep) fails
    /// alone as long as its extent can still be found by matching brackets
    /// and quotes; only a body whose array structure itself is broken
    /// throws. Nesting depth counts from each element, not from the array.
    ///
    /// Call at the start of the body; the caller has checked that the first
    /// non-whitespace byte is `[`.
    public mutating func splitArray(maxElements: Int) throws(JSONParseError) -> ArraySplit {
        guard bytes.count < Int(Int32.max) else {
            throw JSONParseError(.unexpectedCharacter, "input larger than 2 GiB", at: 0)
        }
        try rejectByteOrderMark()
        skipWhitespace()
        position += 1  // '['
        skipWhitespace()
        var elements: [SplitElement] = []
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
        } else {
            while true {
                if elements.count == maxElements {
                    return .tooManyElements(limit: maxElements)
                }
                let start = position
                let root = tape.tokens.count
                let parsed: Result<Int, JSONParseError>
                do {
                    try parseValue(depth: 0)
                    parsed = .success(root)
                } catch {
                    tape.tokens.removeSubrange(root...)
                    position = start
                    guard skipValueStructurally() else { throw error }
                    parsed = .failure(error)
                }
                elements.append(SplitElement(range: start..<position, parsed: parsed))
                skipWhitespace()
                guard position < bytes.count else {
                    throw JSONParseError(.unexpectedEndOfInput, "unexpected end of input", at: position, expected: "',' or ']'")
                }
                if bytes[position] == UInt8(ascii: "]") {
                    position += 1
                    break
                }
                guard bytes[position] == UInt8(ascii: ",") else {
                    throw try unexpectedCharacter(expected: "',' or ']'")
                }
                position += 1
                skipWhitespace()
            }
        }
        skipWhitespace()
        if !isAtEnd {
            throw JSONParseError(.trailingData, "unexpected data after the JSON value", at: position)
        }
        return .elements(elements)
    }

    /// Moves past one value by matching quotes and brackets only, without
    /// judging what is between them. Returns `false` if no value's end can
    /// be found that way.
    public mutating func skipValueStructurally() -> Bool {
        var closers: [UInt8] = []
        repeat {
            guard position < bytes.count else { return false }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                guard skipStringStructurally() else { return false }
            case UInt8(ascii: "{"):
                closers.append(UInt8(ascii: "}"))
                position += 1
            case UInt8(ascii: "["):
                closers.append(UInt8(ascii: "]"))
                position += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard closers.last == byte else { return false }
                closers.removeLast()
                position += 1
            default:
                guard closers.isEmpty else {
                    position += 1
                    continue
                }
                // A scalar on its own: it runs to the next delimiter.
                let start = position
                while position < bytes.count, !Self.isDelimiter(bytes[position]) { position += 1 }
                return position > start
            }
        } while !closers.isEmpty
        return true
    }

    private mutating func skipStringStructurally() -> Bool {
        position += 1
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\\"): position += 2
            case UInt8(ascii: "\""):
                position += 1
                return true
            default: position += 1
            }
        }
        return false
    }

    private static func isDelimiter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "{"),
             UInt8(ascii: "\""), UInt8(ascii: ":"), 0x20, 0x0A, 0x0D, 0x09:
            true
        default:
            false
        }
    }
}
