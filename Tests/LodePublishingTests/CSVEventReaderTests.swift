import LodeEvents
import LodePublishing
import Testing

@Suite("CSV files to events")
struct CSVEventReaderTests {
    func read(_ type: EventType, _ text: String, source: String = "dept", timeNow: EventTime? = nil) throws(InvalidInput) -> ReadEvents {
        try CSVEventReader(type: type, fileName: "in.csv", defaultSource: source, defaultTime: timeNow, calendar: SpreadsheetFixtures.shanghai).read(Array(text.utf8))
    }

    func problems(_ type: EventType, _ text: String, timeNow: EventTime? = nil) -> [String] {
        do {
            _ = try read(type, text, timeNow: timeNow)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    static let registeredHeader = "project_id,name,plan_year,categories,new_start,total_investment,planned_investment,time"

    @Test func aSpreadsheetExportWithBOMCRLFQuotesChineseAndLists() throws {
        let text = "\u{FEFF}" + Self.registeredHeader + ",park\r\n"
            + "BT-1,\"年产10万台永磁电机, 一期\",2024,industrial;pm_motor;rare_earth,TRUE,57384000000,600000000,2024-03-01T09:00:00+08:00,\r\n"
        let events = try read(.projectRegistered, text).events
        #expect(events.count == 1)
        guard case .projectRegistered(let project) = events[0].data else { Issue.record("wrong type"); return }
        #expect(project.name == "年产10万台永磁电机, 一期")
        #expect(project.categories == [.industrial, .pmMotor, .rareEarth])
        #expect(project.newStart)
        #expect(project.totalInvestment == 57_384_000_000)
        #expect(project.park == nil)  // the empty cell is an absent field
        #expect(project.major)
        #expect(events[0].source == "dept")
        #expect(events[0].id.hasPrefix("sha256:"))
    }

    @Test func scientificNotationIsRefusedWithAMessageSayingSo() {
        let text = Self.registeredHeader + "\nBT-1,x,2024,industrial,true,5.7384E+10,1,2024-03-01T09:00:00+08:00\n"
        let found = problems(.projectRegistered, text)
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("in.csv:2: total_investment:") == true)
        #expect(found.first?.contains("scientific notation") == true)
    }

    @Test func anErrorNamesTheFirstLineOfAMultiLineRecord() {
        let text = "project_id,status,note,time\nBT-1,started,\"two\nlines\",2024-03-01T09:00:00+08:00\nBT-2,strted,,2024-03-01T09:00:00+08:00\n"
        let found = problems(.projectStatusChanged, text)
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("in.csv:4: status:") == true)
    }

    @Test func everyBadRowIsReported() {
        let text = "project_id,status,time\nBT 1,started,2024-03-01T09:00:00+08:00\nBT-2,started,yesterday\nBT-3,started,2024-03-01T09:00:00+08:00\n"
        let found = problems(.projectStatusChanged, text)
        #expect(found.count == 2)
        #expect(found.map { $0.prefix(9) } == ["in.csv:2:", "in.csv:3:"])
    }

    @Test func aMissingTimeIsAnErrorUnlessTimeNow() throws {
        let text = "project_id,status,time\nBT-1,started,\n"
        #expect(problems(.projectStatusChanged, text).first?.contains("--time-now") == true)
        let now = try EventTime(parsing: "2024-06-01T08:00:00+08:00")
        let events = try read(.projectStatusChanged, text, timeNow: now).events
        #expect(events.first?.time == now)
        // Without a time column at all: the header says so once.
        #expect(problems(.projectStatusChanged, "project_id,status\nBT-1,started\n").first?.hasPrefix("in.csv:1:") == true)
    }

    @Test func unknownAndMissingColumnsAreReportedAtTheHeader() {
        let found = problems(.projectStatusChanged, "project_id,stauts,time\nBT-1,started,2024-03-01T09:00:00+08:00\n")
        #expect(found.contains { $0.hasPrefix("in.csv:1: unknown column 'stauts'") && $0.contains("did you mean 'status'") })
        #expect(found.contains { $0 == "in.csv:1: no column 'status' (状态), which zone.project.status_changed requires" })
    }

    @Test func aRowWithTheWrongNumberOfCellsIsAnError() {
        let found = problems(.projectStatusChanged, "project_id,status,time\nBT-1,started,2024-03-01T09:00:00+08:00,extra\n")
        #expect(found.first?.hasPrefix("in.csv:2: this row has 4 cells, the header has 3") == true)
    }

    @Test func givenIdsTimesAndSourcesAreKept() throws {
        let text = "id,project_id,status,time,source\nevt-9,BT-1,started,2024-03-01T09:00:00+08:00,dept-b\n"
        let event = try #require(try read(.projectStatusChanged, text).events.first)
        #expect(event.id == "evt-9")
        #expect(event.source == "dept-b")
        #expect(event.time.text == "2024-03-01T09:00:00+08:00")
    }

    @Test func integersMustBePlainDigits() {
        for bad in ["1,000", "12.5", "abc", "1e3"] {
            let text = "project_id,period,completed_investment,time\nBT-1,2024-05,\"\(bad)\",2024-03-01T09:00:00+08:00\n"
            #expect(problems(.investmentReported, text).count == 1, "\(bad)")
        }
        let negative = "project_id,period,completed_investment,time\nBT-1,2024-05,-5,2024-03-01T09:00:00+08:00\n"
        #expect(problems(.investmentReported, negative).first?.contains("completed_investment") == true)
    }

    @Test func booleansAreTrueOrFalseInAnyCaseOrShiFou() {
        let bad = Self.registeredHeader + "\nBT-1,x,2024,industrial,maybe,1,1,2024-03-01T09:00:00+08:00\n"
        #expect(problems(.projectRegistered, bad).first?.contains("expected 是 or 否 (true or false), found 'maybe'") == true)
    }
}

@Suite("Derived event ids")
struct DerivedIDTests {
    static let text = "project_id,status,time\nBT-1,started,2024-03-01T09:00:00+08:00\n"

    func id(_ text: String, source: String = "dept") throws -> String {
        try CSVEventReader(type: .projectStatusChanged, fileName: "x", defaultSource: source, calendar: SpreadsheetFixtures.shanghai).read(Array(text.utf8)).events[0].id
    }

    @Test func theSameRowGetsTheSameIdOnEveryRun() throws {
        // Pinned: the SHA-256 of the canonical JSON of (data, source, time, type), computed
        // independently; a change here would make re-runs of old files count twice.
        #expect(try id(Self.text) == "sha256:c699ba0b54ea689115de49eec50218f3")
        #expect(try id(Self.text) == id(Self.text))
        // Column order and an empty optional cell are not content.
        #expect(try id("status,time,project_id,note\nstarted,2024-03-01T09:00:00+08:00,BT-1,\n") == id(Self.text))
    }

    @Test func differentContentGetsADifferentId() throws {
        let base = try id(Self.text)
        #expect(try id(Self.text, source: "other") != base)
        #expect(try id("project_id,status,time\nBT-1,completed,2024-03-01T09:00:00+08:00\n") != base)
        #expect(try id("project_id,status,time\nBT-1,started,2024-03-01T09:00:01+08:00\n") != base)
    }

    @Test func identicalRowsAreOneEvent() throws {
        let text = Self.text + "BT-1,started,2024-03-01T09:00:00+08:00\n"
        let read = try CSVEventReader(type: .projectStatusChanged, fileName: "x", defaultSource: "d", calendar: SpreadsheetFixtures.shanghai).read(Array(text.utf8))
        #expect(read.events.count == 2)
        #expect(try read.deduplicated(fileName: "x").events.count == 1)
    }
}
