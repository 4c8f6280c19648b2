/// Why a body is not JSON that ``JSONParser`` accepts, and where.
///
/// ``message`` is complete on its own ("duplicate key 'id' at byte 57"), so
/// it can go into a dead letter's `x-lode-error` as it is.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of rule the body broke.
    public enum Kind: Sendable, Hashable {
        case unexpectedEndOfInput
        case unexpectedCharacter
        case invalidUTF8
        case byteOrderMark
        case controlCharacterInString
        case invalidEscape
        case loneSurrogate
        case invalidNumber
        case duplicateKey
        case nestingTooDeep
        case trailingData
    }

    public let kind: Kind
    /// The 0-based byte offset in the parsed input where the problem is.
    public let offset: Int
    /// What is wrong, without the position ("duplicate key 'id'").
    public let detail: String
    /// What the parser expected there, when that helps ("',' or '}'").
    public let expected: String?

    public init(_ kind: Kind, _ detail: String, at offset: Int, expected: String? = nil) {
        self.kind = kind
        self.detail = detail
        self.offset = offset
        self.expected = expected
    }

    /// What is wrong and where, e.g. "duplicate key 'id' at byte 57" or
    /// "unexpected character 'x' at byte 9, expected ',' or '}'".
    public var message: String {
        let located = "\(detail) at byte \(offset)"
        guard let expected else { return located }
        return "\(located), expected \(expected)"
    }

    public var description: String { message }

    /// The same error with its offset made relative to `base` (for an
    /// element cut out of a larger body).
    public func relative(to base: Int) -> JSONParseError {
        JSONParseError(kind, detail, at: offset - base, expected: expected)
    }
}
