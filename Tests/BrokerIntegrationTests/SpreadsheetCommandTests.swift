import Foundation
import LodeAMQP
import LodeEvents
import LodeProjections
import LodeStorage
import Testing

/// The spreadsheet side of issue 14 through the built executables: workbooks and CSVs published
/// through the broker and compared event by event with the same data as NDJSON; `lodectl
/// report` and `lodectl projects` in each language and as workbooks that LibreOffice opens.
enum SpreadsheetFiles {
    static let directory = BrokerFixture.repositoryRoot.appendingPathComponent("Tests/Fixtures/spreadsheets")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func expected(_ name: String) throws -> [Event] {
        let data = try #require(FileManager.default.contents(atPath: path(name)))
        return try [UInt8](data).split(separator: UInt8(ascii: "\n")).map { try Event.decode(Array($0)) }
    }

    /// LibreOffice's `soffice`, or nil.
    static var libreOffice: String? {
        ["/usr/bin/soffice", "/usr/bin/libreoffice", "/usr/lib/libreoffice/program/soffice"]
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Converts `file` with LibreOffice headless (`--convert-to FILTER`) into `directory`.
    static func convert(_ soffice: String, _ file: String, to filter: String, in directory: String) async throws -> PublishProcess.Outcome {
        try await PublishProcess.run([
            "-env:UserInstallation=file://\(directory)/lo-profile", "--headless", "--convert-to", filter, "--outdir", directory, file,
        ], program: soffice)
    }

    /// A store holding the demo data set, for lodectl to read.
    static func demoStore(in directory: String) throws -> String {
        let path = directory + "/zone.sqlite"
        let store = try SQLiteZoneStore(path: path, configuration: SQLiteStoreConfiguration(calendar: try ZoneCalendar()))
        let data = try #require(FileManager.default.contents(atPath: BrokerTests.WorkerThroughTheBroker.demoFile))
        let events = try [UInt8](data).split(separator: UInt8(ascii: "\n")).map { try IncomingEvent(decoding: Array($0)) }
        var start = 0
        while start < events.count {
            _ = try store.apply(Array(events[start..<min(start + 500, events.count)]))
            start += 500
        }
        try store.close()
        return path
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }
}

extension BrokerTests {
    @Suite("Spreadsheets through lode-publish")
    struct SpreadsheetPublishing {
        typealias Route = PublishCommandTests.Route

        /// Publishes `arguments` to a route of its own and returns the events that arrived, in order.
        func publish(_ arguments: [String], name: String) async throws -> (PublishProcess.Outcome, [Event]) {
            let route = try await Route(name)
            let outcome = try await PublishProcess.run(["--exchange", route.exchange, "--source", "bt-office", "--json"] + arguments,
                                                       environment: ["LODE_AMQP_URL": BrokerFixture.url])
            guard outcome.status == 0, let summary = try? SpreadsheetFiles.json(outcome.stdout),
                  let messages = summary["messages"] as? Int else {
                await route.remove()
                return (outcome, [])
            }
            var events: [Event] = []
            for delivery in try await route.drain(messages) {
                if delivery.properties.contentType == "application/cloudevents-batch+json" {
                    events += try EventBatch.decode(delivery.body).events
                } else {
                    events.append(try Event.decode(delivery.body))
                }
            }
            await route.remove()
            return (outcome, events)
        }

        @Test func aWorkbookArrivesEventByEventAsTheSameDataInNDJSON() async throws {
            let expected = try SpreadsheetFiles.expected("book.ndjson")
            let (registered, fromSheet) = try await publish(
                [SpreadsheetFiles.path("book.xlsx"), "--sheet", "项目登记", "--type", "project-registered"], name: "xlsx-registered")
            #expect(registered.status == 0, "\(registered.stderr)")
            #expect(fromSheet == Array(expected.prefix(3)))
            let (mixed, fromMixed) = try await publish([SpreadsheetFiles.path("book.xlsx"), "--sheet", "混合填报"], name: "xlsx-mixed")
            #expect(mixed.status == 0, "\(mixed.stderr)")
            #expect(Set(fromMixed.map(\.id)) == Set(expected.dropFirst(3).map(\.id)))
            for event in fromMixed { #expect(expected.contains(event), "\(event.id)") }
            // The NDJSON itself, for the same events.
            let (ndjson, fromNDJSON) = try await publish([SpreadsheetFiles.path("book.ndjson")], name: "xlsx-ndjson")
            #expect(ndjson.status == 0, "\(ndjson.stderr)")
            #expect(Set(fromNDJSON.map(\.id)) == Set((fromSheet + fromMixed).map(\.id)))
            for event in fromNDJSON { #expect((fromSheet + fromMixed).contains(event), "\(event.id)") }
        }

        @Test func gbkAndUTF16CSVsArriveAsTheSameEvents() async throws {
            let expected = Array(try SpreadsheetFiles.expected("book.ndjson").prefix(3))
            for file in ["registered-gbk.csv", "registered-utf16.txt"] {
                let (outcome, events) = try await publish([SpreadsheetFiles.path(file), "--type", "registered"], name: "csv-\(file.prefix(14))")
                #expect(outcome.status == 0, "\(file): \(outcome.stderr)")
                #expect(events == expected, "\(file)")
            }
        }

        @Test func aBadWorkbookPublishesNothingAndNamesEveryBadCell() async throws {
            let route = try await Route("xlsx-errors")
            let outcome = try await PublishProcess.run(
                ["--exchange", route.exchange, SpreadsheetFiles.path("book.xlsx"), "--sheet", "错误"],
                environment: ["LODE_AMQP_URL": BrokerFixture.url])
            #expect(outcome.status == 65)
            let path = SpreadsheetFiles.path("book.xlsx")
            for cell in ["D2", "F3", "G4", "K5", "A6", "F7"] {
                #expect(outcome.stderr.contains("lode-publish: \(path):错误!\(cell): "), "\(cell): \(outcome.stderr)")
            }
            #expect(outcome.stderr.contains("6 problems found; nothing was published"))
            #expect(try await route.messageCount == 0)
            await route.remove()
        }

        @Test func templatesOpenInLibreOfficeAndReadBack() async throws {
            let directory = try BrokerFixture.temporaryDirectory("lode-template")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let xlsx = directory + "/项目登记.xlsx"
            let written = try await PublishProcess.run(["template", "project-registered", "-o", xlsx])
            #expect(written.status == 0, "\(written.stderr)")
            let csv = directory + "/investment.csv"
            #expect(try await PublishProcess.run(["template", "investment", "--lang", "en", "-o", csv]).status == 0)
            let header = try #require(FileManager.default.contents(atPath: csv))
            #expect([UInt8](header) == [0xEF, 0xBB, 0xBF] + Array("project_id,period,completed_investment (10k yuan),time\r\n".utf8))
            // An empty template validates (its sheet's name says its type): no events, no problems.
            let checked = try await PublishProcess.run(["--check", xlsx])
            #expect(checked.status == 0, "\(checked.stderr)")
            guard let soffice = SpreadsheetFiles.libreOffice else {
                print("skipped: LibreOffice is not installed (apt-get install libreoffice-calc); the template was not opened in it")
                return
            }
            let converted = try await SpreadsheetFiles.convert(soffice, xlsx, to: "csv:Text - txt - csv (StarCalc):44,34,76,1", in: directory)
            #expect(converted.status == 0, "\(converted.stderr)")
            let back = try String(contentsOfFile: directory + "/项目登记.csv", encoding: .utf8).replacingOccurrences(of: "\"", with: "")
            #expect(back.hasPrefix("项目编号,项目名称,计划年度,类别,新开工,总投资（万元）,当年计划投资（万元）,重大项目,企业名称,园区,建设规模,时间"), "\(back)")
        }
    }

    @Suite("lodectl report and projects for the office")
    struct ReportForTheOffice {
        func lodectl(_ arguments: [String], _ environment: [String: String] = [:]) async throws -> PublishProcess.Outcome {
            try await PublishProcess.run(arguments, environment: environment, program: "lodectl")
        }

        @Test func theReportIsInSimplifiedChineseByDefaultAndInEachLanguageAsked() async throws {
            let directory = try BrokerFixture.temporaryDirectory("lode-report-lang")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let db = try SpreadsheetFiles.demoStore(in: directory)
            let simplified = try await lodectl(["report", "--year", "2024", "--db", db])
            #expect(simplified.status == 0, "\(simplified.stderr)")
            #expect(simplified.stdout.hasPrefix("2024 年度报告\n"))
            for line in ["重大项目数                            71  个", "总投资                            573.84  亿元",
                         "新开工亿元以上产业类项目              42  个", "新开工战略性新兴产业项目              32  上年 28  +14.29%",
                         "走访对接企业                         904  家"] {
                #expect(simplified.stdout.contains(line), "\(line)\n\(simplified.stdout)")
            }
            let traditional = try await lodectl(["report", "--year", "2024", "--db", db, "--lang", "zh-Hant"])
            #expect(traditional.stdout.contains("重大項目數                            71  個"), "\(traditional.stdout)")
            let english = try await lodectl(["report", "--year", "2024", "--db", db], ["LODE_LANG": "en"])
            #expect(english.stdout.hasPrefix("Report for 2024\n"), "\(english.stdout)")
            #expect(english.stdout.contains("total investment"))
            // The JSON is the contract's whatever the language.
            let jsonDefault = try await lodectl(["report", "--year", "2024", "--db", db, "--json"])
            let jsonEnglish = try await lodectl(["report", "--year", "2024", "--db", db, "--json", "--lang", "en"])
            #expect(jsonDefault.stdout == jsonEnglish.stdout)
            #expect(jsonDefault.stdout.contains(#""major":71"#))
            let bad = try await lodectl(["report", "--year", "2024", "--db", db, "--lang", "fr"])
            #expect(bad.status == 64, "\(bad.stderr)")
        }

        @Test func eachProjectFigureOfTheDemoReportIsReproducedByLodectlProjects() async throws {
            let directory = try BrokerFixture.temporaryDirectory("lode-projects")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let db = try SpreadsheetFiles.demoStore(in: directory)
            let report = try SpreadsheetFiles.json(try await lodectl(["report", "--year", "2024", "--db", db, "--json"]).stdout)
            let projects = try #require(report["projects"] as? [String: Any])
            func listed(_ options: [String], year: Int = 2024) async throws -> [String: Any] {
                let outcome = try await lodectl(["projects", "--year", String(year), "--db", db, "--json"] + options)
                #expect(outcome.status == 0, "\(options): \(outcome.stderr)")
                return try #require(try SpreadsheetFiles.json(outcome.stdout)["totals"] as? [String: Any])
            }
            let all = try await listed([])
            #expect(all["count"] as? Int == projects["major"] as? Int)
            #expect(all["count"] as? Int == 71)
            for amount in ["total_investment", "planned_investment", "completed_investment"] {
                #expect((all[amount] as? NSNumber)?.int64Value == (projects[amount] as? NSNumber)?.int64Value, "\(amount)")
            }
            let figures: [(String, [String])] = [
                ("industrial", ["--category", "industrial"]),
                ("industrial_new_start_over_100m", ["--category", "industrial", "--new-start", "--over-100m"]),
                ("rare_earth", ["--category", "稀土产业"]),
            ]
            for (figure, options) in figures {
                #expect(try await listed(options)["count"] as? Int == projects[figure] as? Int, "\(figure)")
            }
            for (figure, options) in [("strategic_emerging_new_start", ["--category", "strategic_emerging", "--new-start"]),
                                      ("rare_earth_new_start_over_100m", ["--category", "rare_earth", "--new-start", "--over-100m"])] {
                let growth = try #require(projects[figure] as? [String: Any])
                #expect(try await listed(options)["count"] as? Int == growth["count"] as? Int, "\(figure)")
                #expect(try await listed(options, year: 2023)["count"] as? Int == growth["previous"] as? Int, "\(figure) previous")
            }
            let byStatus = try #require(projects["by_status"] as? [String: Int])
            for (status, count) in byStatus {
                #expect(try await listed(["--status", status])["count"] as? Int == count, "\(status)")
            }
            let byCategory = try #require(projects["by_category"] as? [String: Int])
            for (category, count) in byCategory {
                #expect(try await listed(["--category", category])["count"] as? Int == count, "\(category)")
            }
            // The table ends with the count and the sums, in Simplified Chinese.
            let table = try await lodectl(["projects", "--year", "2024", "--db", db, "--category", "industrial", "--new-start", "--over-100m"])
            #expect(table.stdout.contains("共 42 个项目 · 总投资 "), "\(table.stdout)")
            #expect(try await lodectl(["projects", "--year", "2024", "--db", db, "--status", "nonsense"]).status == 64)
        }

        @Test func theReportWorkbookOpensInLibreOfficeWithTheSameFigures() async throws {
            let directory = try BrokerFixture.temporaryDirectory("lode-report-xlsx")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let db = try SpreadsheetFiles.demoStore(in: directory)
            let workbook = directory + "/report.xlsx"
            let written = try await lodectl(["report", "--year", "2024", "--db", db, "--xlsx", "-o", workbook])
            #expect(written.status == 0, "\(written.stderr)")
            let csvPath = directory + "/projects.csv"
            #expect(try await lodectl(["projects", "--year", "2024", "--db", db, "--csv", "-o", csvPath]).status == 0)
            guard let soffice = SpreadsheetFiles.libreOffice else {
                print("skipped: LibreOffice is not installed (apt-get install libreoffice-calc); the report workbook was not opened in it")
                return
            }
            // Sheet 1, the report; sheet 2 (LibreOffice 7.2+: the 12th token names the sheet), the projects.
            let first = try await SpreadsheetFiles.convert(soffice, workbook, to: "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,1", in: directory)
            #expect(first.status == 0, "\(first.stderr)")
            let reportCSV = try String(contentsOfFile: directory + "/report-2024 年度报告.csv", encoding: .utf8)
            for line in ["重大项目数,71,个", "总投资,573.84,亿元", "新开工战略性新兴产业项目,32,个,28,14.29", "走访对接企业,904,家"] {
                #expect(reportCSV.contains(line), "\(line)\n\(reportCSV)")
            }
            let second = try await SpreadsheetFiles.convert(soffice, workbook, to: "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,2", in: directory)
            #expect(second.status == 0, "\(second.stderr)")
            let listed = try String(contentsOfFile: directory + "/report-2024 年项目清单.csv", encoding: .utf8)
            // The same rows as `lodectl projects --csv`, amounts in yuan.
            let expected = try String(contentsOfFile: csvPath, encoding: .utf8).replacingOccurrences(of: "\u{FEFF}", with: "")
            func rows(_ text: String) -> [String] {
                text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map { $0.replacingOccurrences(of: "\"", with: "") }
            }
            #expect(rows(listed) == rows(expected), "\(listed)")
            #expect(rows(listed).count == 72)
        }
    }
}
