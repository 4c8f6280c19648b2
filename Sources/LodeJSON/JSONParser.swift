/// A strict RFC 8259 JSON parser over UTF-8 bytes.
///
/// Beyond the RFC's grammar it rejects what would make an event ambiguous or
/// unsafe to process: invalid UTF-8 anywhere, unescaped control characters
/// in strings, `\u` escapes that leave a lone surrogate, two members with
/// the same key in one object, a byte order mark, and arrays or objects
/// nested more than ``maxNestingDepth`` deep. Anything after the value other
/// than whitespace is an error.
///
/// Errors are ``JSONParseError``s with a 0-based byte offset.
public enum JSONParser {
    /// The deepest nesting of arrays and objects accepted; the outermost
    /// array or object is level 1.
    public static let maxNestingDepth = 64

    /// Parses `bytes` as one JSON text.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(JSONParseError) in try parse(buffer) }
    }

    /// Parses the bytes of `buffer` as one JSON text.
    public static func parse(_ buffer: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        try parse(buffer.assumingMemoryBound(to: UInt8.self))
    }

    /// Parses the UTF-8 of `text` as one JSON text.
    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        var scanner = JSONScanner(bytes)
        try scanner.parseDocument()
        return scanner.tape.tokens.withUnsafeBufferPointer { tokens in
            JSONNode(bytes: bytes, tokens: tokens, index: 0).jsonValue
        }
    }
}
