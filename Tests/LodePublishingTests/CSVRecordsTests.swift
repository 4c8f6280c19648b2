import LodePublishing
import Testing

@Suite("CSV records (RFC 4180, as spreadsheets write them)")
struct CSVRecordsTests {
    func records(_ text: String) throws(CSVRecords.Failure) -> [CSVRecord] {
        try CSVRecords.parse(Array(text.utf8))
    }

    @Test func aByteOrderMarkIsSkipped() throws {
        let parsed = try CSVRecords.parse([0xEF, 0xBB, 0xBF] + Array("a,b\n1,2\n".utf8))
        #expect(parsed.map(\.cells) == [["a", "b"], ["1", "2"]])
    }

    @Test func crlfAndLfLineEndsAndATrailingEmptyLine() throws {
        let parsed = try records("a,b\r\n1,2\r\n3,4\n\r\n")
        #expect(parsed.map(\.cells) == [["a", "b"], ["1", "2"], ["3", "4"]])
        #expect(parsed.map(\.line) == [1, 2, 3])
    }

    @Test func aLastLineWithoutLineBreakIsARecord() throws {
        #expect(try records("a,b\n1,2").map(\.cells) == [["a", "b"], ["1", "2"]])
    }

    @Test func quotedFieldsHoldCommasQuotesAndLineBreaks() throws {
        let parsed = try records("a,b\n\"x, y\",\"he said \"\"hi\"\"\"\n\"line one\r\nline two\",z\nnext,row\n")
        #expect(parsed.map(\.cells) == [["a", "b"], ["x, y", "he said \"hi\""], ["line one\r\nline two", "z"], ["next", "row"]])
        // A record is named by its first line; the one after a two-line record starts on line 4.
        #expect(parsed.map(\.line) == [1, 2, 3, 5])
    }

    @Test func emptyCellsStayEmpty() throws {
        #expect(try records("a,b,c\n,,\n1,,\n").map(\.cells) == [["a", "b", "c"], ["", "", ""], ["1", "", ""]])
    }

    @Test func chineseTextPassesThrough() throws {
        #expect(try records("名称,园区\n稀土永磁电机项目,稀土高新区\n")[1].cells == ["稀土永磁电机项目", "稀土高新区"])
    }

    @Test func anUnclosedQuoteIsAnErrorAtItsRecordsFirstLine() {
        #expect(throws: CSVRecords.Failure.self) { try records("a\nok\n\"never closed\nmore\n") }
        do {
            _ = try records("a\nok\n\"never closed\nmore\n")
        } catch {
            #expect(error.line == 3)
        }
    }

    @Test func textAfterAClosingQuoteIsAnError() {
        #expect(throws: CSVRecords.Failure.self) { try records("a\n\"x\"y\n") }
    }

    @Test func bytesThatAreNotUTF8SaySoAndHowToFixIt() {
        // "稀土" in GBK.
        let gbk: [UInt8] = Array("a\n".utf8) + [0xCF, 0xA1, 0xCD, 0xC1, 0x0A]
        do {
            _ = try CSVRecords.parse(gbk)
            Issue.record("expected a failure")
        } catch {
            #expect(error.line == 2)
            #expect(error.message.contains("UTF-8"))
        }
    }
}
