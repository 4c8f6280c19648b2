import Foundation
import LodeEvents
import LodePublishing
import LodeWorkbook
import Testing

/// The fixtures LibreOffice wrote (Tests/Fixtures/spreadsheets/generate.py regenerates them).
enum SpreadsheetFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/spreadsheets")

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// The events of an NDJSON fixture: the truth the sheets are compared with.
    static func expected(_ name: String) throws -> [Event] {
        try NDJSONEventReader(fileName: name).read(try bytes(name)).events
    }

    static let shanghai = try! ZoneCalendar(timeZoneIdentifier: "Asia/Shanghai")
}

@Suite("Workbooks and CSV as spreadsheets write them")
struct SpreadsheetTests {
    let calendar = SpreadsheetFixtures.shanghai

    func workbook(_ sheet: String?, file: String = "book.xlsx", type: EventType? = nil) throws(InvalidInput) -> ReadEvents {
        let bytes = (try? SpreadsheetFixtures.bytes(file)) ?? []
        return try WorkbookEventReader(type: type, fileName: file, sheet: sheet, defaultSource: "bt-office", calendar: calendar)
            .read(bytes)
    }

    func csv(_ text: String, type: EventType? = nil, calendar: ZoneCalendar? = nil) throws(InvalidInput) -> ReadEvents {
        try CSVEventReader(type: type, fileName: "in.csv", defaultSource: "bt-office", calendar: calendar ?? self.calendar)
            .read(Array(text.utf8))
    }

    func problems(_ text: String, type: EventType? = nil) -> [String] {
        do {
            _ = try csv(text, type: type)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test func aSheetOfRegistrationsIsTheSameEventsAsTheNDJSON() throws {
        let expected = try SpreadsheetFixtures.expected("book.ndjson")
        let read = try workbook("项目登记", type: .projectRegistered)
        #expect(read.events == Array(expected.prefix(3)))
        #expect(read.lines == [2, 3, 5])  // the empty row 4 skipped
        // Without --type: the sheet's name, 项目登记, says its type.
        #expect(try workbook("项目登记").events == Array(expected.prefix(3)))
    }

    @Test func aSheetWithATypeColumnHoldsSeveralTypes() throws {
        let expected = try SpreadsheetFixtures.expected("book.ndjson")
        let read = try workbook("混合填报")
        #expect(read.events == Array(expected.dropFirst(3)))
        #expect(Set(read.events.map(\.type)).count == 5)
    }

    @Test func theNineteenOFourDateSystemGivesTheSameTime() throws {
        let read = try workbook(nil, file: "book-1904.xlsx", type: .projectRegistered)
        #expect(read.events == (try SpreadsheetFixtures.expected("book-1904.ndjson")))
    }

    @Test func everyErrorOfAWorkbookNamesItsCell() {
        var found: [String] = []
        do {
            _ = try workbook("错误")
        } catch {
            found = error.problems.map(\.description)
        }
        let cells = found.map { $0.split(separator: ":").prefix(2).joined(separator: ":") }
        #expect(cells == ["book.xlsx:错误!D2", "book.xlsx:错误!F3", "book.xlsx:错误!G4", "book.xlsx:错误!K5",
                          "book.xlsx:错误!A6", "book.xlsx:错误!F7"], "\(found)")
        #expect(found[0].contains("'已延期' is not a status"))
        #expect(found[1].contains("0.00001 万元 is 0.1 yuan, not a whole number of yuan"))
        #expect(found[2].contains("企业名称 (enterprise)"))
        #expect(found[3].contains("the number 12"))
        #expect(found[4].contains("'其他' is not an event type"))
        #expect(found[5].contains("#DIV/0!"))
    }

    @Test func csvInUTF8GBKAndUTF16ReadsAsTheSameEvents() throws {
        let expected = Array(try SpreadsheetFixtures.expected("book.ndjson").prefix(3))
        for name in ["registered-utf8.csv", "registered-gbk.csv", "registered-utf16.txt"] {
            let bytes = try SpreadsheetFixtures.bytes(name)
            let read = try CSVEventReader(type: .projectRegistered, fileName: name, defaultSource: "bt-office", calendar: calendar)
                .read(bytes)
            #expect(read.events == expected, "\(name)")
        }
        // The GBK file is not UTF-8, and the UTF-16 file starts with its byte order mark.
        #expect(String(validating: try SpreadsheetFixtures.bytes("registered-gbk.csv"), as: UTF8.self) == nil)
        #expect(try SpreadsheetFixtures.bytes("registered-utf16.txt").starts(with: [0xFF, 0xFE]))
    }

    @Test func anEncodingCanBeNamed() throws {
        let gbk = try SpreadsheetFixtures.bytes("registered-gbk.csv")
        let read = try CSVEventReader(type: .projectRegistered, fileName: "x.csv", defaultSource: "bt-office", calendar: calendar,
                                      encoding: .gb18030).read(gbk)
        #expect(read.events.count == 3)
        #expect(throws: InvalidInput.self) {
            try CSVEventReader(type: .projectRegistered, fileName: "x.csv", defaultSource: "bt-office", calendar: calendar,
                               encoding: .utf8).read(gbk)
        }
    }

    @Test func bytesInNoEncodingSayWhichEncodingsWereTried() {
        // 0x80 alone is neither UTF-8 nor GB18030.
        let bytes = Array("项目编号,状态,时间\n".utf8) + [0x80, 0x2C, 0x0A]
        do {
            _ = try CSVEventReader(type: .projectStatusChanged, fileName: "x.csv", defaultSource: "d", calendar: calendar).read(bytes)
            Issue.record("read")
        } catch {
            let message = error.problems.first?.description ?? ""
            #expect(message.hasPrefix("x.csv:2: the file is not text in any encoding tried: UTF-8"), "\(message)")
            #expect(message.contains("GB18030/GBK"))
            #expect(message.contains("UTF-16 needs a byte order mark"))
        }
    }

    @Test func aTimeWithoutAnOffsetIsOnTheZonesWallClock() throws {
        let text = "项目编号,状态,时间\nBT-1,已开工,2024/3/5 9:30\nBT-2,已投产,2024-03-06\nBT-3,开工,2024年3月7日 14:05:09\nBT-4,started,2024-03-08T10:00:00Z\n"
        let events = try csv(text, type: .projectStatusChanged).events
        #expect(events.map(\.time.text) == ["2024-03-05T09:30:00+08:00", "2024-03-06T00:00:00+08:00",
                                            "2024-03-07T14:05:09+08:00", "2024-03-08T10:00:00Z"])
        // Another zone, in summer time: the offset of that day.
        let newYork = try ZoneCalendar(timeZoneIdentifier: "America/New_York")
        let summer = try csv("project_id,status,time\nBT-1,started,2024-07-01 09:00\n", type: .projectStatusChanged, calendar: newYork)
        #expect(summer.events.first?.time.text == "2024-07-01T09:00:00-04:00")
        #expect(problems("project_id,status,time\nBT-1,started,2024-02-30\n", type: .projectStatusChanged).first?
            .contains("expected a date and time") == true)
    }

    @Test func chineseHeadersUnitsAndValues() throws {
        let text = """
            项目编号,项目名称,计划年度,类别,新开工,总投资（万元）,total_investment_x,时间
            """
        #expect(problems(text + "\n", type: .projectRegistered).contains { $0.contains("unknown column 'total_investment_x'") })
        let good = """
            项目编号,项目名称,计划年度,类别,新开工,总投资（万元）,planned_investment (亿元),重大项目,时间
            BT-1,稀土项目,2024,稀土；战略性新兴产业、稀土永磁電機,是,12.5,0.25,否,2024-03-05 09:00

            """
        let event = try #require(try csv(good, type: .projectRegistered).events.first)
        guard case .projectRegistered(let project) = event.data else { Issue.record("type"); return }
        #expect(project.categories == [.rareEarth, .strategicEmerging, .pmMotor])
        #expect(project.totalInvestment == 125_000)
        #expect(project.plannedInvestment == 25_000_000)
        #expect(project.newStart)
        #expect(!project.major)
    }

    @Test func aUnitIsConvertedExactlyOrRefused() throws {
        let header = "project_id,period,completed_investment (万元),time\n"
        struct Refused: Error { var message: String }
        func value(_ amount: String) -> Result<Int64, Refused> {
            do {
                let event = try csv(header + "BT-1,2024-05,\(amount),2024-06-01 08:00\n", type: .investmentReported).events[0]
                guard case .investmentReported(let report) = event.data else { return .failure(Refused(message: "type")) }
                return .success(report.completedInvestment)
            } catch {
                return .failure(Refused(message: error.problems.map(\.message).joined()))
            }
        }
        #expect(try value("1.2345").get() == 12_345)
        #expect(try value("0.0001").get() == 1)
        #expect(try value("100000000000").get() == 1_000_000_000_000_000)
        guard case .failure(let refused) = value("0.00001") else { Issue.record("accepted"); return }
        #expect(refused.message.contains("0.1 yuan, not a whole number of yuan"))
        guard case .failure(let tooMuch) = value("100000000001") else { Issue.record("accepted"); return }
        #expect(tooMuch.message.contains("completed_investment"))
        #expect(problems("project_id,period,completed_investment (斤),time\n", type: .investmentReported).first?
            .contains("unknown unit '斤'") == true)
        #expect(problems("project_id (万元),period,completed_investment,time\n", type: .investmentReported).first?
            .contains("is not an amount") == true)
        // Yuan stay whole: a fraction of a yuan is an error, as before.
        #expect(problems("project_id,period,completed_investment,time\nBT-1,2024-05,12.5,2024-06-01 08:00\n",
                         type: .investmentReported).count == 1)
    }

    @Test func aTypeColumnTakesFullShortAndChineseNames() throws {
        let text = """
            type,project_id,status,enterprise,campaign,time
            zone.project.status_changed,BT-1,started,,,2024-05-01 10:00
            project-status,BT-2,已投产,,,2024-05-01 10:00
            status_changed,BT-3,竣工,,,2024-05-01 10:00
            site_visit,,,北方稀土,百日攻坚,2024-05-02 10:00
            实地考察,,,中车,百日攻坚,2024-05-02 11:00

            """
        let events = try csv(text).events
        #expect(events.map(\.type) == [.projectStatusChanged, .projectStatusChanged, .projectStatusChanged, .siteVisit, .siteVisit])
        let wrong = problems("type,project_id,status,enterprise,time\nsite_visit,BT-1,,北方稀土,2024-05-02 10:00\n")
        #expect(wrong.contains { $0.hasPrefix("in.csv:2: project_id is not a field of zone.recruitment.site_visit") }, "\(wrong)")
        #expect(wrong.contains { $0.contains("no column 'campaign'") })
        #expect(problems("project_id,status,time\nBT-1,started,2024-05-02 10:00\n").first?.contains("no 'type'") == true)
        // --type is the type of rows that name none; the others keep theirs.
        let withDefault = try csv("type,project_id,status,enterprise,campaign,time\n,BT-1,started,,,2024-05-01 10:00\nsite_visit,,,北方稀土,百日攻坚,2024-05-02 10:00\n",
                                  type: .projectStatusChanged)
        #expect(withDefault.events.map(\.type) == [.projectStatusChanged, .siteVisit])
    }

    @Test func templatesReadBack() throws {
        for type in EventType.allCases {
            for language in [ZoneLanguage.simplifiedChinese, .english] {
                let template = SheetTemplate(type: type, language: language)
                let sheet = try WorkbookReader(bytes: try template.xlsx()).sheet()
                let short = EventType.shortNames.first { $0.value == type }?.key
                #expect(sheet.name == (language == .english ? short : type.name(in: .simplifiedChinese)))
                let headers = sheet.rows[0].cells.map { cell -> String in
                    if case .text(let text) = cell.value { return text }
                    return ""
                }
                #expect(headers == template.columns.map(template.header))
                // The CSV template's header is the same row; an empty sheet under it reads as no events.
                let csv = String(decoding: template.csv().dropFirst(3), as: UTF8.self)
                #expect(csv == headers.joined(separator: ",") + "\r\n")
                let read = try CSVEventReader(type: type, fileName: "t.csv", defaultSource: "d", calendar: calendar).read(template.csv())
                #expect(read.events.isEmpty)
            }
        }
        let registered = SheetTemplate(type: .projectRegistered, language: .simplifiedChinese)
        #expect(registered.columns.map(registered.header).contains("总投资（万元）"))
    }
}

@Suite("A sheet named after its type")
struct SheetNamedAfterItsType {
    @Test func aTemplatesSheetNeedsNoType() throws {
        let table = SheetTable(sheet: "项目状态", header: .init(number: 1, cells: [0: .text("项目编号"), 1: .text("状态"), 2: .text("时间")]),
                               rows: [.init(number: 2, cells: [0: .text("BT-1"), 1: .text("已开工"), 2: .text("2024-05-01 10:00")])])
        let reader = SpreadsheetEventReader(fileName: "t.xlsx", type: nil, defaultSource: "d", calendar: SpreadsheetFixtures.shanghai)
        #expect(try reader.read(table).events.map(\.type) == [.projectStatusChanged])
        var other = table
        other.sheet = "Sheet1"
        #expect(throws: InvalidInput.self) { try reader.read(other) }
    }
}
