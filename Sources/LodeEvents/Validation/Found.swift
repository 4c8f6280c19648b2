import LodeJSON

/// How error messages show a JSON value that was found where it should not be.
enum Found {
    /// The value with its type, for a value of the wrong type: `null`,
    /// `true`, `5.7384E+10`, `a string ('2024')`, `an array`, `an object`.
    static func describe(_ value: JSONNode) -> String {
        switch value.kind {
        case .null: "null"
        case .true: "true"
        case .false: "false"
        case .number: shortened(value.numberText)
        case .string, .key: value.isEmptyString ? "an empty string" : "a string (\(quoted(value.text)))"
        case .array: value.count == 0 ? "an empty array" : "an array"
        case .object: "an object"
        }
    }

    /// A string value in single quotes, escaped like JSON and shortened.
    static func quoted(_ string: String) -> String {
        var writer = JSONWriter(sortingKeys: false, capacity: 64)
        writer.writeString(shortened(string))
        let escaped = String(decoding: writer.bytes.dropFirst().dropLast(), as: UTF8.self)
        return "'\(escaped)'"
    }

    private static func shortened(_ text: String) -> String {
        let limit = 80
        guard text.utf8.count > limit, text.unicodeScalars.count > limit else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit))) + "…"
    }
}

extension Found {
    /// A key as a path segment: as it is when it is a plain name, quoted
    /// when it holds anything that would make the path ambiguous.
    static func quotedKeyIfNeeded(_ key: String) -> String {
        let isPlain = !key.isEmpty && key.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
        return isPlain ? key : quoted(key)
    }
}
