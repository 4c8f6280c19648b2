import Foundation
import LodeWorkbook
import Testing

/// The fixtures LibreOffice wrote (Tests/Fixtures/spreadsheets/generate.py regenerates them).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/spreadsheets")

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }
}

@Suite("Excel serial dates")
struct ExcelDateTests {
    @Test func theNineteenHundredSystemCountsTheDayThatNeverWas() throws {
        // 1 is 1900-01-01; 59 is 1900-02-28; 60 is Lotus's 1900-02-29; 61 is 1900-03-01.
        #expect(ExcelDate(serial: "1", uses1904Dates: false) == ExcelDate(year: 1900, month: 1, day: 1))
        #expect(ExcelDate(serial: "59", uses1904Dates: false) == ExcelDate(year: 1900, month: 2, day: 28))
        #expect(ExcelDate(serial: "60", uses1904Dates: false) == nil)
        #expect(ExcelDate(serial: "61", uses1904Dates: false) == ExcelDate(year: 1900, month: 3, day: 1))
        // 2024-03-05 09:30, as a file stores it.
        let date = try #require(ExcelDate(serial: "45356.395833333336", uses1904Dates: false))
        #expect(date == ExcelDate(year: 2024, month: 3, day: 5, secondOfDay: 9 * 3600 + 30 * 60))
        #expect(abs(date.serial1900 - 45356.395833333336) < 1e-9)
    }

    @Test func theNineteenOFourSystemStartsFourYearsLater() {
        #expect(ExcelDate(serial: "0", uses1904Dates: true) == ExcelDate(year: 1904, month: 1, day: 1))
        // The same day is 1462 days less in the 1904 system.
        #expect(ExcelDate(serial: String(45356 - 1462), uses1904Dates: true) == ExcelDate(year: 2024, month: 3, day: 5))
    }

    @Test func nonsenseIsNoDate() {
        for text in ["", "abc", "-1", "1e400", "nan", "3000000"] {
            #expect(ExcelDate(serial: text, uses1904Dates: false) == nil, "\(text)")
        }
    }

    @Test func numberFormatsThatShowDates() {
        #expect(NumberFormat.builtInDateKind(14) == .date)
        #expect(NumberFormat.builtInDateKind(22) == .dateTime)
        #expect(NumberFormat.builtInDateKind(20) == .time)
        #expect(NumberFormat.builtInDateKind(3) == nil)
        #expect(NumberFormat.dateKind(ofCode: "yyyy/m/d h:mm") == .dateTime)
        #expect(NumberFormat.dateKind(ofCode: #"yyyy"年"m"月"d"日""#) == .date)
        #expect(NumberFormat.dateKind(ofCode: "[$-804]yyyy-mm-dd;@") == .date)
        #expect(NumberFormat.dateKind(ofCode: "[h]:mm:ss") == .time)
        #expect(NumberFormat.dateKind(ofCode: "#,##0.00") == nil)
        #expect(NumberFormat.dateKind(ofCode: #"0.00"万元""#) == nil)
        #expect(NumberFormat.dateKind(ofCode: "0.00E+00") == nil)
        #expect(NumberFormat.dateKind(ofCode: "General") == nil)
        #expect(NumberFormat.dateKind(ofCode: "[Red]0.00") == nil)
    }
}

@Suite("Reading and writing .xlsx")
struct WorkbookTests {
    @Test func readsWhatLibreOfficeWrote() throws {
        let book = try WorkbookReader(bytes: try Fixtures.bytes("book.xlsx"))
        #expect(book.sheetNames == ["项目登记", "混合填报", "错误"])
        let sheet = try book.sheet()
        #expect(sheet.name == "项目登记")
        #expect(!sheet.uses1904Dates)
        // The header, an empty row left out: rows 1, 2, 3, 5.
        #expect(sheet.rows.map(\.number) == [1, 2, 3, 5])
        let first = sheet.rows[1].cells
        #expect(first.first?.value == .text("xl-reg-1"))
        // LibreOffice stores a boolean as the number 1 or 0 with a TRUE/FALSE number format.
        #expect(first.first { $0.column == 5 }?.value == .number("1"))
        #expect(first.first { $0.column == 6 }?.value == .number("120000"))
        // A formula by its cached value.
        #expect(first.first { $0.column == 7 }?.value == .number("3"))
        guard case .date(let serial, .dateTime)? = first.first(where: { $0.column == 10 })?.value else {
            Issue.record("no date-time cell in K2: \(first)")
            return
        }
        #expect(ExcelDate(serial: serial, uses1904Dates: false) == ExcelDate(year: 2024, month: 3, day: 5, secondOfDay: 34_200))
        guard case .date(_, .date)? = sheet.rows[2].cells.first(where: { $0.column == 10 })?.value else {
            Issue.record("no date cell in K3")
            return
        }
        let errors = try book.sheet(named: "错误")
        #expect(errors.rows.last?.cells.first { $0.column == 5 }?.value == .error("#DIV/0!"))
    }

    @Test func readsTheNineteenOFourSystem() throws {
        let sheet = try WorkbookReader(bytes: try Fixtures.bytes("book-1904.xlsx")).sheet()
        #expect(sheet.uses1904Dates)
        guard case .date(let serial, _)? = sheet.rows[1].cells.first(where: { $0.column == 10 })?.value else {
            Issue.record("no date cell")
            return
        }
        #expect(ExcelDate(serial: serial, uses1904Dates: true) == ExcelDate(year: 2024, month: 3, day: 5, secondOfDay: 34_200))
    }

    @Test func aSheetThatIsNotThereNamesTheSheetsThatAre() throws {
        let book = try WorkbookReader(bytes: try Fixtures.bytes("book.xlsx"))
        #expect(throws: WorkbookError("the workbook has no sheet named '投资'; its sheets are '项目登记', '混合填报', '错误'")) {
            try book.sheet(named: "投资")
        }
    }

    @Test func whatIsNotAWorkbookIsRefusedWithAReason() {
        #expect(throws: WorkbookError.self) { try WorkbookReader(bytes: Array("项目编号,状态\n".utf8)) }
        #expect(throws: WorkbookError.self) { try WorkbookReader(bytes: [0x50, 0x4B, 0x03, 0x04, 0, 0, 0]) }
    }

    @Test func whatTheWriterWritesReadsBack() throws {
        let sheet = OutputSheet(name: "报告", rows: [
            [.text("指标"), .text("数值")],
            [.text("总投资 & <亿元>"), .decimal("573.84")],
            [.text("项目"), .integer(71), .boolean(true)],
            [.text("大"), .integer(Int64(1) << 60)],
        ], boldRows: [0], validations: [ColumnValidation(column: 0, allowed: ["已开工", "已投产"], promptTitle: "状态", prompt: "选一个")])
        let bytes = try WorkbookWriter.xlsx([sheet, OutputSheet(name: "二", rows: [[.text("x")]])])
        let book = try WorkbookReader(bytes: bytes)
        #expect(book.sheetNames == ["报告", "二"])
        let read = try book.sheet()
        #expect(read.rows[1].cells.map(\.value) == [.text("总投资 & <亿元>"), .number("573.84")])
        #expect(read.rows[2].cells.map(\.value) == [.text("项目"), .number("71"), .boolean(true)])
        // Past 2^53 a number would round: written as text.
        #expect(read.rows[3].cells.last?.value == .text(String(Int64(1) << 60)))
    }

    @Test func columnNamesAndReferences() {
        #expect(ColumnName.letters(0) == "A")
        #expect(ColumnName.letters(25) == "Z")
        #expect(ColumnName.letters(26) == "AA")
        #expect(ColumnName.parse("D7")! == (3, 7))
        #expect(ColumnName.parse("$AB$12")! == (27, 12))
        #expect(ColumnName.parse("7D") == nil)
        #expect(ColumnName.parse("A0") == nil)
    }
}

@Suite("Large workbooks")
struct LargeWorkbookTests {
    /// A sheet part past 10 MB: libxml2 refuses such a document handed over whole, so the parts
    /// are parsed from a stream.
    @Test func aSheetOfMoreThanTenMegabytesIsRead() throws {
        let rows: [[OutputCell]] = (0..<32_000).map { index in
            [.text("BT-\(index)"), .text("年产\(index)万台永磁电机项目（一期），稀土高新区"), .integer(Int64(index) * 10_000), .decimal("573.84")]
        }
        let bytes = try WorkbookWriter.xlsx([OutputSheet(name: "大表", rows: rows)])
        let sheet = try WorkbookReader(bytes: bytes).sheet()
        #expect(sheet.rows.count == 32_000)
        #expect(sheet.rows.last?.cells.first?.value == .text("BT-31999"))
        #expect(sheet.rows.last?.cells[2].value == .number("319990000"))
    }
}
