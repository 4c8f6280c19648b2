import LodeProjections
import Testing

/// Text from events printed by lodectl: one line, nothing a terminal acts on.
@Suite("Text made safe for a terminal")
struct TerminalTextTests {
    @Test func controlCharactersAndBidiOverridesBecomeVisibleEscapes() {
        #expect("plain 稀土 text".terminalSafe == "plain 稀土 text")
        #expect("a\u{1B}[2Jb".terminalSafe == #"a\u{1B}[2Jb"#)
        #expect("line\r\nforged: x".terminalSafe == #"line\u{D}\u{A}forged: x"#)
        #expect("\u{0}\u{7F}\u{9B}\t".terminalSafe == #"\u{0}\u{7F}\u{9B}\u{9}"#)
        #expect("abc\u{202E}fed".terminalSafe == #"abc\u{202E}fed"#)
        #expect(!"x\u{2066}y\u{2069}".terminalSafe.unicodeScalars.contains { $0.value == 0x2066 || $0.value == 0x2069 })
    }

    @Test func anEscapeWrittenInTheTextCannotPassForOne() {
        #expect(#"a\u{1B}b"#.terminalSafe == #"a\\u{1B}b"#)
        #expect(#"C:\dir"#.terminalSafe == #"C:\dir"#)
        #expect("a\u{1B}".terminalSafe != #"a\u{1B}"#.terminalSafe)
    }

    @Test func aReportTableKeepsACampaignNameOnItsLine() {
        #expect(!"百日攻堅\n  走訪企業 999".terminalSafe.contains("\n"))
    }
}
