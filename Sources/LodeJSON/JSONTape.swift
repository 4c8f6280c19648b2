/// One token of a parsed JSON text: a flat, allocation-free record of where
/// a value (or an object key) is in the bytes.
///
/// An object is its own token followed, per member, by a key token and the
/// value's tokens; an array is its own token followed by its elements'.
/// ``next`` is the index of the token after the whole value, so that
/// readers can step over a subtree.
public struct JSONToken {
    public enum Kind: UInt8, Equatable {
        case null, `true`, `false`, number, string, key, array, object

        // Written out so that it inlines into the readers of other modules.
        @inlinable public static func == (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue == rhs.rawValue }
    }

    public var kind: Kind
    /// For strings and keys: whether the content has escapes / is all
    /// ASCII. For numbers: whether it is a plain integer.
    public var flags: UInt8
    /// For keys: its number in the scanner's ``JSONKeyVocabulary`` + 1, or 0.
    public var knownKey: UInt8
    /// Byte offset of the content: after the opening quote for strings and
    /// keys, the first character otherwise.
    public var start: Int32
    /// Byte length of the content (for strings, as written, escapes
    /// included); for arrays and objects, the number of elements or members.
    public var length: Int32
    /// Index of the token after this value and everything in it.
    public var next: Int32

    public static let hasEscapes: UInt8 = 1
    public static let isASCII: UInt8 = 2
    public static let isPlainInteger: UInt8 = 4
}

/// A parsed JSON text: its tokens over its bytes. Valid only while the bytes
/// it was parsed from are.
public struct JSONTape {
    public var tokens: [JSONToken] = []
}
