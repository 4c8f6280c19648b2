import LodeJSON

/// What CloudEvents 1.0 itself requires of an event's attributes beyond Lodestone's own rules:
/// `source` is a URI-reference (RFC 3986), attribute names are lower-case ASCII letters and
/// digits, and the optional attributes and extensions hold values of CloudEvents' types.
enum CloudEventsAttributes {
    /// The optional attributes of the specification that Lodestone does not read.
    static let optionalAttributes: Set<String> = ["subject", "dataschema"]

    /// The issues of one attribute that is none of the required ones, `data` or
    /// `datacontenttype`: its name, then its value.
    static func checkOther(name: String, value: JSONNode, issues: inout [EventIssue]) {
        let path = Found.quotedKeyIfNeeded(name)
        if let problem = nameProblem(name) {
            issues.append(EventIssue(path: path, message: problem))
            return
        }
        switch name {
        case "subject":
            if value.kind != .string || value.isEmptyString {
                issues.append(.expected("a non-empty string", found: Found.describe(value), at: path))
            }
        case "dataschema":
            if value.kind != .string || value.isEmptyString {
                issues.append(.expected("an absolute URI", found: Found.describe(value), at: path))
            } else if let problem = URIReference.problem(value.stringValue, absolute: true) {
                issues.append(EventIssue(path: path, message: problem))
            }
        default:
            if let problem = extensionValueProblem(value) {
                issues.append(EventIssue(path: path, message: problem))
            }
        }
    }

    /// Why `name` cannot name a CloudEvents attribute, or `nil`.
    static func nameProblem(_ name: String) -> String? {
        guard !name.isEmpty else {
            return "an attribute needs a name: CloudEvents attribute names are lower-case letters and digits (a-z, 0-9)"
        }
        let isValid = name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard !isValid else { return nil }
        var message = "not a CloudEvents attribute name: names are lower-case letters and digits only (a-z, 0-9)"
        let suggestion = String(String.UnicodeScalarView(name.lowercased().unicodeScalars.filter { scalar in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
        }))
        if !suggestion.isEmpty, suggestion != name { message += "; rename it, e.g. '\(suggestion)'" }
        return message
    }

    /// Why a JSON value cannot be the value of an extension attribute, or `nil`: CloudEvents'
    /// JSON format writes its types as a string, a boolean, or an integer of 32 bits.
    static func extensionValueProblem(_ value: JSONNode) -> String? {
        switch value.kind {
        case .string, .key, .true, .false, .null:
            return nil
        case .number:
            if value.isPlainInteger, let number = value.int64Value, Int32(exactly: number) != nil { return nil }
            return "expected an extension value (a string, a boolean or an integer from -2147483648 to 2147483647), found \(Found.describe(value))"
        case .array, .object:
            return "expected an extension value (a string, a boolean or an integer), found \(Found.describe(value)): CloudEvents extensions hold no structured values"
        }
    }
}

/// RFC 3986 URI references, as CloudEvents' `source` must be one.
enum URIReference {
    /// Why `text` is not a URI-reference (or, with `absolute`, not an absolute URI), with the
    /// percent-encoded form to use when encoding would fix it; `nil` when it is one.
    static func problem(_ text: String, absolute: Bool = false) -> String? {
        let bytes = Array(text.utf8)
        var faults: [String] = []
        var hasSpace = false, hasNonASCII = false, hasControl = false, hasBadPercent = false
        var others: Set<Character> = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                if index + 2 < bytes.count, isHex(bytes[index + 1]), isHex(bytes[index + 2]) {
                    index += 3
                    continue
                }
                hasBadPercent = true
            } else if byte == UInt8(ascii: " ") {
                hasSpace = true
            } else if byte >= 0x80 {
                hasNonASCII = true
            } else if byte < 0x20 || byte == 0x7F {
                hasControl = true
            } else if !isAllowed(byte) {
                others.insert(Character(Unicode.Scalar(byte)))
            }
            index += 1
        }
        if hasSpace { faults.append("a space") }
        if hasNonASCII { faults.append("non-ASCII characters") }
        if hasControl { faults.append("control characters") }
        if hasBadPercent { faults.append("a '%' not followed by two hex digits") }
        if !others.isEmpty {
            faults.append("the character\(others.count == 1 ? "" : "s") \(others.sorted().map { "'\($0)'" }.joined(separator: " "))")
        }
        if !faults.isEmpty {
            return "expected \(absolute ? "an absolute URI" : "a URI-reference (RFC 3986), such as 'bt-hitech/development-reform-bureau' or 'urn:bt-hitech:dept'"), found \(Found.quoted(text)), which holds \(list(faults)); percent-encoded it reads \(Found.quoted(percentEncoded(text))), or use an ASCII name"
        }
        // Structure: the scheme, '#' and brackets.
        let firstDelimiter = bytes.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? bytes.count
        let colon = bytes[..<firstDelimiter].firstIndex(of: UInt8(ascii: ":"))
        if let colon {
            let scheme = bytes[..<colon]
            let isScheme = scheme.first.map(isLetter) == true && scheme.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
            if !isScheme {
                return "expected a URI-reference (RFC 3986), found \(Found.quoted(text)): a ':' before the first '/' must end a scheme (such as 'urn:'); a relative reference cannot hold one there (write '%3A' or './' before it)"
            }
        } else if absolute {
            return "expected an absolute URI (with a scheme, such as 'https://'), found \(Found.quoted(text))"
        }
        if bytes.count(where: { $0 == UInt8(ascii: "#") }) > 1 {
            return "expected a URI-reference (RFC 3986), found \(Found.quoted(text)): it holds more than one '#' (write '%23' for the others)"
        }
        if bytes.contains(UInt8(ascii: "[")) || bytes.contains(UInt8(ascii: "]")) {
            if !bracketsOnlyInHost(bytes, schemeEnd: colon) {
                return "expected a URI-reference (RFC 3986), found \(Found.quoted(text)): '[' and ']' belong around an IPv6 host only (write '%5B' and '%5D')"
            }
        }
        return nil
    }

    /// `text` with every byte that a URI cannot hold as it is percent-encoded (UTF-8, `%XX`).
    static func percentEncoded(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var result = ""
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count, isHex(bytes[index + 1]), isHex(bytes[index + 2]) {
                result += "%"
            } else if byte != UInt8(ascii: "%"), byte > 0x20, byte < 0x7F, isAllowed(byte) {
                result.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let digits = Array("0123456789ABCDEF".unicodeScalars)
                result += "%"
                result.unicodeScalars.append(digits[Int(byte >> 4)])
                result.unicodeScalars.append(digits[Int(byte & 0x0F)])
            }
            index += 1
        }
        return result
    }

    /// Unreserved characters, general and sub-delimiters of RFC 3986 (`%` is handled apart).
    private static func isAllowed(_ byte: UInt8) -> Bool {
        if isLetter(byte) || isDigit(byte) { return true }
        return "-._~:/?#[]@!$&'()*+,;=".utf8.contains(byte)
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func isHex(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    /// Whether the only brackets are one `[` … `]` pair opening the host of an authority
    /// (`//[::1]:8080/…` or `scheme://[::1]/…`).
    private static func bracketsOnlyInHost(_ bytes: [UInt8], schemeEnd: Int?) -> Bool {
        let afterScheme = schemeEnd.map { $0 + 1 } ?? 0
        guard bytes.count >= afterScheme + 2, bytes[afterScheme] == UInt8(ascii: "/"), bytes[afterScheme + 1] == UInt8(ascii: "/")
        else { return false }
        let authorityStart = afterScheme + 2
        let authorityEnd = bytes[authorityStart...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? bytes.count
        let authority = bytes[authorityStart..<authorityEnd]
        let hostStart = (authority.lastIndex(of: UInt8(ascii: "@")).map { $0 + 1 }) ?? authorityStart
        guard hostStart < authorityEnd, bytes[hostStart] == UInt8(ascii: "["),
              let close = bytes[hostStart..<authorityEnd].firstIndex(of: UInt8(ascii: "]")) else { return false }
        let outside = bytes[..<hostStart] + bytes[(close + 1)...]
        return !outside.contains(UInt8(ascii: "[")) && !outside.contains(UInt8(ascii: "]"))
    }

    private static func list(_ items: [String]) -> String {
        switch items.count {
        case 0: ""
        case 1: items[0]
        default: items.dropLast().joined(separator: ", ") + " and " + items[items.count - 1]
        }
    }
}
