/// One token of a parsed JSON text: a flat, allocation-free record of where
/// a value (or an object key) is in the bytes.
///
/// An object is its own token followed, per member, by a key token and the
/// value's tokens; an array is its own token followed by its elements'.
/// ``next`` is the index of the token after the whole value, so that
/// readers can step over a subtree.
package struct JSONToken {
    package enum Kind: UInt8 {
        case null, `true`, `false`, number, string, key, array, object
    }

    package var kind: Kind
    /// For strings and keys: whether the content has escapes / is all
    /// ASCII. For numbers: whether it is a plain integer.
    package var flags: UInt8
    /// For keys: its number in the scanner's ``JSONKeyVocabulary`` + 1, or 0.
    package var knownKey: UInt8
    /// Byte offset of the content: after the opening quote for strings and
    /// keys, the first character otherwise.
    package var start: Int32
    /// Byte length of the content (for strings, as written, escapes
    /// included); for arrays and objects, the number of elements or members.
    package var length: Int32
    /// Index of the token after this value and everything in it.
    package var next: Int32

    package static let hasEscapes: UInt8 = 1
    package static let isASCII: UInt8 = 2
    package static let isPlainInteger: UInt8 = 4
}

/// A parsed JSON text: its tokens over its bytes. Valid only while the bytes
/// it was parsed from are.
package struct JSONTape {
    package var tokens: [JSONToken] = []
}
