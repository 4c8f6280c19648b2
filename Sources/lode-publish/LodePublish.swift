import ArgumentParser
import Foundation
import LodeAMQP
import LodeBuildInfo
import LodeEvents
import LodeLogging
import LodePublishing
import LodeSettings
import Logging
import Synchronization

@main
struct LodePublish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lode-publish",
        abstract: "Validate zone events and publish them to RabbitMQ, with publisher confirms.",
        discussion: """
            Reads events as NDJSON (one CloudEvents event per line), a spreadsheet's CSV, or an \
            Excel workbook (.xlsx), from a file or - (stdin), or builds one event from flags. Every event \
            is validated before anything is sent: on any error nothing is published, each \
            error is printed as FILE:LINE: message, and the exit status is 65.

            Events go to the topic exchange lode.events, routing key = event type, packed \
            into batch messages of one type and one source (--no-batch: one event per \
            message). Exit 0 means every event was confirmed by the broker; re-running the \
            same input is always safe.

            EXAMPLES
              NDJSON file, one CloudEvents event per line:
                lode-publish events.ndjson
                some-script | lode-publish -
              A workbook or a CSV from a spreadsheet (headers in Chinese or English, amounts
              with a unit, times in the zone's time zone; UTF-8, GBK or UTF-16 CSV):
                lode-publish 项目登记.xlsx --sheet 项目登记
                lode-publish --type project-status status.csv
                  项目编号,状态,时间,备注
                  BT-17,已开工,2024/5/5 10:00,"开工仪式, 一期"
                lode-publish --type zone.project.registered --time-now \\
                  --source dev-office projects.csv
              Several event types in one sheet: a column 事件类型 (type) naming each row's.
              A ready-to-fill sheet:
                lode-publish template project-registered -o 项目登记.xlsx
              One event from flags:
                lode-publish project-status --project BT-17 --status started
                lode-publish site-visit --enterprise 北方稀土 \\
                  --campaign 2024-spring --visitors 6
              Validate only:
                lode-publish --check --type investment investment.csv

            EXIT STATUS
              0 all confirmed; 64 usage; 65 invalid input (nothing published); 66 input not
              readable; 69 broker unreachable or topology missing (run `lodectl setup`);
              74 the NDJSON file changed while it was being published (read twice:
              docs/publishing.md);
              75 failed part way, safe to re-run; 77 the broker refused this user (a type its
              department may not send, docs/security.md); 78 bad config file.

            SETTINGS
              Flags over environment over config file: --url / LODE_AMQP_URL / amqp.url;
              password in LODE_AMQP_PASSWORD, --password-file, or amqp.password
              (never in --url); --config / LODE_CONFIG. The brokers of a cluster go in one
              comma-separated list, tried in turn; when the one in use goes away, the
              unconfirmed messages are published again through the next:
                lode-publish --url amqp://lode@mq1:5672/%2F,amqp://lode@mq2:5672/%2F events.ndjson

            The options of reading a file: lode-publish help file; of one event:
            lode-publish help project-status (and each other event command).
            """,
        version: "lode-publish \(BuildInfo.versionLine)",
        subcommands: [
            PublishInput.self, TemplateCommand.self, ProjectRegisteredEvent.self, ProjectStatusEvent.self, InvestmentEvent.self,
            EnterpriseContactedEvent.self, SiteVisitEvent.self, AgreementSignedEvent.self, ProjectIntroducedEvent.self,
        ],
        defaultSubcommand: PublishInput.self)
}

/// What every way of publishing shares: where to, how, and what to print.
struct PublishingOptions: ParsableArguments {
    @OptionGroup var broker: BrokerOptions

    @Flag(help: "Validate only; publish nothing.")
    var check = false

    @Flag(help: "Print a JSON summary (published, errors, seconds) on stdout.")
    var json = false

    @Option(help: "Events per batch message, 1...1000 (a batch also stays under 1 MiB).")
    var batchSize = 500

    @Flag(help: "Publish one event per message instead of batches.")
    var noBatch = false

    @Option(help: "Source of events that name none (a CSV row without 'source', an event from flags).")
    var source = "lode-publish"

    /// Messages per `Publisher.publish` call (progress is reported between calls).
    @Option(help: .hidden)
    var chunkSize = 2_000

    /// Bytes of message bodies per `Publisher.publish` call when a file is read in two passes:
    /// what the second pass holds at a time (docs/publishing.md).
    @Option(help: .hidden)
    var chunkBytes = 2 << 20

    /// For tests on a shared broker only: publish to another exchange than lode.events.
    @Option(help: .hidden)
    var exchange = MessagePlan.exchange

    func validate() throws {
        guard (1...EventLimits.maxBatchEvents).contains(batchSize) else {
            throw ValidationError("--batch-size must be 1...1000, got \(batchSize)")
        }
    }
}

/// Publishes NDJSON or CSV from a file or stdin.
struct PublishInput: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "file",
        abstract: "Publish the events of an NDJSON, CSV or .xlsx file (the default command).")

    @Argument(help: ArgumentHelp("NDJSON, CSV or .xlsx file, or - for stdin.", valueName: "input"))
    var input: String

    @Option(help: ArgumentHelp("""
        The event type of every row of a CSV file or sheet (e.g. project-status or \
        zone.project.status_changed), unless a type (事件类型) column names each row's; makes \
        the input CSV when it is not a workbook.
        """, valueName: "type"))
    var type: String?

    @Option(help: ArgumentHelp("""
        Input format; default: xlsx for a workbook (a .xlsx name, or a ZIP archive), csv when \
        --type is given or the file ends in .csv/.tsv/.txt, else ndjson.
        """, valueName: "ndjson|csv|xlsx"))
    var format: String?

    @Option(help: ArgumentHelp("The sheet of a workbook to read; default: the first.", valueName: "name"))
    var sheet: String?

    @Option(help: ArgumentHelp("""
        The encoding of a CSV file: utf-8, gb18030 (gbk) or utf-16; default: detected \
        (a byte order mark, else UTF-8, else GB18030).
        """, valueName: "encoding"))
    var encoding: String?

    @Flag(help: "Give CSV and sheet rows without a time the current time.")
    var timeNow = false

    @OptionGroup var options: PublishingOptions

    func run() async throws {
        let started = ContinuousClock.now
        let fileName = input == "-" ? "<stdin>" : input
        var eventType: EventType?
        if let type {
            guard let known = SpreadsheetVocabulary.eventType(named: type) else {
                let names = EventType.allCases.map(\.rawValue) + EventType.shortNames.keys.sorted()
                throw ValidationError("unknown --type '\(type)'; the types are \(names.joined(separator: ", "))")
            }
            eventType = known
        }
        var forcedEncoding: TextEncoding?
        if let encoding {
            guard let known = TextEncoding(name: encoding) else {
                throw ValidationError("unknown --encoding '\(encoding)'; give utf-8, gb18030 (or gbk) or utf-16")
            }
            forcedEncoding = known
        }
        let settings = try Terminal.resolve(options.broker)
        let file = try Terminal.openInput(input)
        var head: [UInt8] = []
        _ = try? file.append(at: 0, count: 4, to: &head)
        let lowered = input.lowercased()
        let kind: String
        switch format {
        case "csv", "ndjson", "xlsx": kind = format ?? ""
        case nil:
            if lowered.hasSuffix(".xlsx") || lowered.hasSuffix(".xlsm") || head.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
                kind = "xlsx"
            } else if type != nil || [".csv", ".tsv", ".txt"].contains(where: lowered.hasSuffix) {
                kind = "csv"
            } else {
                kind = "ndjson"
            }
        case let other?: throw ValidationError("--format must be ndjson, csv or xlsx, got '\(other)'")
        }
        if sheet != nil, kind != "xlsx" { throw ValidationError("--sheet is for a workbook (.xlsx)") }
        let calendar: ZoneCalendar
        do {
            calendar = try ZoneCalendar(timeZoneIdentifier: settings.timezone)
        } catch {
            Terminal.printError("\(error)")
            throw ExitCode(78)
        }
        if kind == "ndjson" {
            // Two passes over the file, in constant memory (docs/publishing.md).
            let index: NDJSONIndex
            do {
                index = try NDJSONIndex.scan(file)
            } catch {
                switch error {
                case .invalid(let invalid):
                    Terminal.report(invalid.problems.map(\.description), json: options.json, started: started)
                    throw ExitCode(65)
                case .unreadable(let unreadable):
                    Terminal.printError(unreadable.description)
                    throw ExitCode(66)
                case .changed:
                    Terminal.printError(error.description)
                    throw ExitCode(74)
                }
            }
            try await Terminal.publish(index, from: file, options: options, settings: settings, started: started)
            return
        }
        let bytes: [UInt8]
        do {
            bytes = try file.readAll()
        } catch {
            Terminal.printError(error.description)
            throw ExitCode(66)
        }
        let events: ReadEvents
        do {
            let now = timeNow ? Terminal.now(timezone: settings.timezone) : nil
            switch kind {
            case "xlsx":
                events = try WorkbookEventReader(type: eventType, fileName: fileName, sheet: sheet, defaultSource: options.source,
                                                 defaultTime: now, calendar: calendar)
                    .read(bytes).deduplicated(fileName: fileName)
            default:
                events = try CSVEventReader(type: eventType, fileName: fileName, defaultSource: options.source, defaultTime: now,
                                            calendar: calendar, encoding: forcedEncoding)
                    .read(bytes).deduplicated(fileName: fileName)
            }
        } catch {
            Terminal.report(error.problems.map(\.description), json: options.json, started: started)
            throw ExitCode(65)
        }
        try await Terminal.publish(events, options: options, settings: settings, started: started)
    }
}

/// The shared steps of the commands: settings, input, publishing, reporting.
enum Terminal {
    static func resolve(_ broker: BrokerOptions) throws -> CommonSettings {
        let settings: CommonSettings
        do {
            settings = try broker.resolve()
            for warning in settings.connection.warnings { printError("warning: \(warning)") }
        } catch {
            printError(error.description)
            throw ExitCode(error.exitCode)
        }
        // Errors only, unless --log-level, LODE_LOG_LEVEL or log.level says otherwise.
        settings.log.bootstrap(defaultLevel: .error)
        return settings
    }

    /// The input file, or standard input (`-`) or a pipe spooled to an unlinked temporary file.
    static func openInput(_ path: String) throws -> InputFile {
        do {
            return path == "-" ? try InputFile.spooling() : try InputFile.opening(path)
        } catch {
            printError(error.description)
            throw ExitCode(66)
        }
    }

    /// The current time, to the second, at the zone's UTC offset.
    static func now(timezone: String) -> EventTime {
        let seconds = Int64(Date().timeIntervalSince1970)
        let instant = EventInstant(secondsSinceEpoch: seconds)
        let calendar = try? ZoneCalendar(timeZoneIdentifier: timezone)
        let offset = (calendar?.utcOffsetSeconds(at: instant) ?? 8 * 3600) / 60
        return (try? EventTime(instant: instant, utcOffsetMinutes: offset)) ?? (try! EventTime(instant: instant))
    }

    /// Prints problems on stderr (at most 100, then a count), and the JSON summary if asked.
    static func report(_ problems: [String], json: Bool, started: ContinuousClock.Instant) {
        let shown = problems.prefix(100)
        for problem in shown { printError(problem) }
        if problems.count > shown.count {
            printError("... and \(problems.count - shown.count) more problems")
        }
        printError("\(problems.count) problem\(problems.count == 1 ? "" : "s") found; nothing was published")
        if json { printSummary(published: 0, errors: problems.count, started: started) }
    }

    static func publish(_ read: ReadEvents, options: PublishingOptions, settings: CommonSettings,
                        started: ContinuousClock.Instant) async throws {
        let events = read.events
        let timestamp = UInt64(Date().timeIntervalSince1970)
        // user_id: the login RabbitMQ checks it against; what a worker with departments: judges.
        let user = settings.connection.user
        var plan: [PlannedMessage] = []
        if !options.check {
            plan = options.noBatch
                ? MessagePlan.single(events, texts: read.texts, timestamp: timestamp, exchange: options.exchange, userID: user)
                : MessagePlan.batched(events, texts: read.texts, batchSize: options.batchSize, timestamp: timestamp,
                                      exchange: options.exchange, userID: user)
        }
        var start = 0
        try await publish(eventCount: events.count, options: options, settings: settings, started: started) { () throws(PublishFailure) in
            guard start < plan.count else { return nil }
            let chunk = Array(plan[start..<min(start + options.chunkSize, plan.count)])
            start += chunk.count
            return chunk
        }
    }

    /// Publishes an NDJSON file in its second pass: the messages made from the file as they are
    /// sent, a chunk at a time.
    static func publish(_ index: NDJSONIndex, from file: InputFile, options: PublishingOptions, settings: CommonSettings,
                        started: ContinuousClock.Instant) async throws {
        var messages = index.messages(in: file, batchSize: options.noBatch ? nil : options.batchSize,
                                      timestamp: UInt64(Date().timeIntervalSince1970), exchange: options.exchange,
                                      userID: settings.connection.user)
        try await publish(eventCount: index.eventCount, options: options, settings: settings, started: started) { () throws(PublishFailure) in
            do {
                return try messages.next(maxMessages: options.chunkSize, maxBytes: options.chunkBytes)
            } catch {
                throw PublishFailure(exitCode: 74, message: "\(error)")
            }
        }
    }

    /// Publishes `eventCount` events in the messages `chunks` gives (or only reports them, with
    /// --check), and reports the outcome.
    static func publish(eventCount: Int, options: PublishingOptions, settings: CommonSettings, started: ContinuousClock.Instant,
                        chunks: () throws(PublishFailure) -> [PlannedMessage]?) async throws {
        if options.check {
            if options.json {
                printSummary(published: 0, errors: 0, started: started, extra: ["valid": "\(eventCount)"])
            } else {
                printError("\(eventCount) event\(eventCount == 1 ? "" : "s") valid; nothing published (--check)")
            }
            return
        }
        if eventCount == 0 {
            if options.json {
                printSummary(published: 0, errors: 0, started: started, extra: ["messages": "0"])
            } else {
                printError("no events in the input; nothing to publish")
            }
            return
        }
        var publisherOptions = PublisherOptions()
        publisherOptions.reconnectTimeout = .seconds(2)
        var connection = settings.connection
        connection.connectionName = "lode-publish"
        let logger = Logger(label: "lode.publish")
        let publisher = Publisher(settings: connection, options: publisherOptions, logger: logger)
        let progress = ProgressDisplay(total: eventCount, enabled: !options.json && isatty(1) == 1 && isatty(2) == 1)
        let published: Int
        var messageCount = 0
        do {
            published = try await PublishRun(chunkSize: options.chunkSize).publish(
                total: eventCount,
                chunks: { () throws(PublishFailure) -> [PlannedMessage]? in
                    let chunk = try chunks()
                    messageCount += chunk?.count ?? 0
                    return chunk
                },
                with: publisher, progress: { done in progress.update(done) },
                republishing: { count, why in
                    printError("\(count) message\(count == 1 ? "" : "s") not confirmed: \(why)")
                })
        } catch {
            progress.finish()
            await publisher.close()
            printError(error.message)
            if options.json { printSummary(published: error.confirmedEvents, errors: eventCount - error.confirmedEvents, started: started) }
            throw ExitCode(error.exitCode)
        }
        progress.finish()
        await publisher.close()
        if options.json {
            printSummary(published: published, errors: 0, started: started, extra: ["messages": "\(messageCount)"])
        } else if isatty(2) == 1 {
            let elapsed = ContinuousClock.now - started
            printError("""
                published \(published) event\(published == 1 ? "" : "s") in \(messageCount) message\(messageCount == 1 ? "" : "s"), \
                all confirmed (\(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow))))
                """)
        }
    }

    static func printSummary(published: Int, errors: Int, started: ContinuousClock.Instant, extra: [String: String] = [:]) {
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var fields = ["\"published\":\(published)", "\"errors\":\(errors)", "\"seconds\":\(String(format: "%.3f", seconds))"]
        for (key, value) in extra.sorted(by: { $0.key < $1.key }) { fields.append("\"\(key)\":\(value)") }
        print("{" + fields.joined(separator: ",") + "}")
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("lode-publish: \(message)\n".utf8))
    }
}

/// The progress bar on stderr, redrawn at most ten times a second; nothing when disabled.
final class ProgressDisplay: Sendable {
    private let total: Int
    private let enabled: Bool
    private let started = ContinuousClock.now
    private let state = Mutex<(lastDraw: ContinuousClock.Instant?, drawn: Bool)>((nil, false))

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled && total >= 1_000
    }

    func update(_ done: Int) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let draw = state.withLock { state in
            if let last = state.lastDraw, now - last < .milliseconds(100), done < total { return false }
            state.lastDraw = now
            state.drawn = true
            return true
        }
        guard draw else { return }
        let elapsed = now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        FileHandle.standardError.write(Data(("\r" + ProgressBar.render(done: done, total: total, seconds: seconds) + "\u{1B}[K").utf8))
    }

    func finish() {
        if state.withLock({ $0.drawn }) { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}


/// `lode-publish template TYPE -o FILE.xlsx|.csv`: a ready-to-fill sheet for one event type.
struct TemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Write a ready-to-fill sheet for an event type (.xlsx or .csv).",
        discussion: """
            The header row names each column in Simplified Chinese (--lang en: the field names), \
            amounts in 万元; a workbook also explains each column when a cell is selected, offers \
            dropdowns for categories, statuses and 是/否, and has a second sheet of notes. Fill it \
            in and publish it with `lode-publish FILE`.

            EXAMPLES
              lode-publish template project-registered -o 项目登记.xlsx
              lode-publish template investment --lang en -o investment.csv
            """)

    @Argument(help: ArgumentHelp("The event type: project-registered, project-status, investment, ... or its wire name.",
                                 valueName: "type"))
    var type: String

    @Option(name: .customLong("lang"), help: ArgumentHelp("zh-Hans (default) or en; also LODE_LANG.", valueName: "lang"))
    var language: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("The file to write: .xlsx or .csv.", valueName: "file"))
    var output: String

    func run() throws {
        guard let eventType = SpreadsheetVocabulary.eventType(named: type) else {
            let names = EventType.allCases.map(\.rawValue) + EventType.shortNames.keys.sorted()
            throw ValidationError("unknown type '\(type)'; the types are \(names.joined(separator: ", "))")
        }
        let tag = language ?? ProcessInfo.processInfo.environment["LODE_LANG"] ?? ZoneLanguage.default.rawValue
        guard let zoneLanguage = ZoneLanguage(tag: tag) else {
            throw ValidationError("--lang must be one of \(ZoneLanguage.tags), got '\(tag)'")
        }
        let template = SheetTemplate(type: eventType, language: zoneLanguage)
        let bytes: [UInt8]
        let lowered = output.lowercased()
        if lowered.hasSuffix(".xlsx") {
            do {
                bytes = try template.xlsx()
            } catch {
                Terminal.printError("\(error)")
                throw ExitCode(70)
            }
        } else if lowered.hasSuffix(".csv") {
            bytes = template.csv()
        } else {
            throw ValidationError("-o must name a .xlsx or .csv file, got '\(output)'")
        }
        guard FileManager.default.createFile(atPath: output, contents: Data(bytes)) else {
            Terminal.printError("cannot write \(output): \(String(cString: strerror(errno)))")
            throw ExitCode(73)
        }
    }
}
