extension String {
    /// The text made safe to print as one line of a terminal or a log: every character that a
    /// terminal acts on instead of showing (C0 controls such as ESC, CR and LF, DEL, C1
    /// controls) and every bidirectional override or isolate (which reorder what a reader sees)
    /// is written as a visible escape, `\u{1B}`; a backslash before `u{` is doubled, so the
    /// escapes cannot be forged. Text from events, headers or the database goes through this
    /// before `lodectl` prints it and before a log line carries it.
    public var terminalSafe: String {
        guard unicodeScalars.contains(where: { $0.needsTerminalEscape || $0 == "\\" }) else { return self }
        var result = String.UnicodeScalarView()
        var scalars = unicodeScalars.makeIterator()
        var pending = scalars.next()
        while let scalar = pending {
            pending = scalars.next()
            if scalar.needsTerminalEscape {
                result.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                result.append(scalar)
                if scalar == "\\", pending == "u" { result.append("\\") }
            }
        }
        return String(result)
    }
}

extension Unicode.Scalar {
    /// C0 controls (tab included), DEL, C1 controls, and the bidirectional formatting
    /// characters (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069).
    var needsTerminalEscape: Bool {
        switch value {
        case 0x00...0x1F, 0x7F...0x9F, 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
