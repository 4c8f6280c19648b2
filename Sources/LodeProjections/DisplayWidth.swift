/// How many terminal columns a text takes: East Asian wide and fullwidth
/// characters (CJK ideographs, kana, hangul, fullwidth forms, most emoji)
/// take 2, combining marks and zero-width characters 0, everything else 1.
/// Ambiguous-width characters (box drawing, block elements such as the
/// report's bars) count 1, as terminals in a non-CJK locale draw them.
public func displayWidth(_ text: some StringProtocol) -> Int {
    var width = 0
    for scalar in text.unicodeScalars { width += scalarWidth(scalar.value) }
    return width
}

func scalarWidth(_ value: UInt32) -> Int {
    if value < 0x300 { return value < 0x20 || (0x7F..<0xA0).contains(value) ? 0 : 1 }
    switch value {
    case 0x0300...0x036F, 0x200B...0x200F, 0x20D0...0x20FF, 0xFE00...0xFE0F, 0xFE20...0xFE2F:
        return 0
    case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
         0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19,
         0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF,
         0x20000...0x2FFFD, 0x30000...0x3FFFD:
        return 2
    default:
        return 1
    }
}

extension String {
    /// The text followed by spaces up to `width` columns.
    public func padded(to width: Int) -> String {
        self + String(repeating: " ", count: max(0, width - displayWidth(self)))
    }

    /// Spaces up to `width` columns, then the text.
    public func padded(left width: Int) -> String {
        String(repeating: " ", count: max(0, width - displayWidth(self))) + self
    }
}
