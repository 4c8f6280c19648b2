import ArgumentParser
import Foundation
import LodeAMQP
import LodeBuildInfo
import LodeLogging
import LodeSettings
import LodeProjections
import LodeStorage
import LodeStores
import LodeWire
import LodeWorker
import Logging

@main
struct LodeCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lodectl",
        abstract: "Lodestone's operator tool.",
        discussion: """
            Connection: --url, LODE_AMQP_URL or the config file's amqp.url (default \(ConnectionSettings.defaultURL)); \
            a cluster's brokers comma-separated, tried in turn \
            (amqp://lode@mq1:5672/%2F,amqp://lode@mq2:5672/%2F,amqp://lode@mq3:5672/%2F).
            Put a password in LODE_AMQP_PASSWORD, --password-file or the config file, never in \
            --url: command lines show in `ps`.
            Database (report, rebuild, notifications, dlq): --db, LODE_DB or the config file's db: a \
            SQLite file (default lodestone.sqlite) or postgres://USER@HOST:PORT/DBNAME, its password in \
            LODE_DB_PASSWORD, --db-password-file or the config file's db.password_file, never in --db.
            Exit codes: 0 success, 64 usage, 65 no such dead letter or notification, 66 unreadable \
            file, 69 broker or database unavailable (or a failed `doctor` check), 70 a workbook could not \
            be assembled, 73 a backup or output file (-o) that exists or cannot be written, 75 temporary \
            failure (safe to re-run), 78 bad configuration.
            """,
        version: "lodectl \(BuildInfo.versionLine)",
        subcommands: [
            Setup.self, Queues.self, Report.self, Projects.self, Rebuild.self, Notifications.self, DeadLetters.self,
            Definitions.self, Ping.self, Doctor.self, Backup.self,
        ])
}

/// Exit codes from sysexits, as the contract specifies.
enum ExitStatus {
    static let usage: Int32 = 64
    static let unavailable: Int32 = 69
    static let temporaryFailure: Int32 = 75
    static let cannotCreate: Int32 = 73
}

struct ConnectionOptions: ParsableArguments {
    @OptionGroup var broker: BrokerOptions

    @Flag(help: "Log what the client layer does (to standard error).")
    var verbose = false

    /// Flags over environment over config file (LodeSettings); a password inside `--url` is
    /// refused with exit 64.
    func settings() throws -> ConnectionSettings {
        do {
            var settings = try broker.resolve().connection
            settings.connectionName = "lodectl on \(ProcessInfo.processInfo.hostName)"
            for warning in settings.warnings { FileHandle.standardError.write(Data("lodectl: warning: \(warning)\n".utf8)) }
            return settings
        } catch {
            FileHandle.standardError.write(Data("lodectl: \(error)\n".utf8))
            throw ExitCode(error.exitCode)
        }
    }

    /// Errors only, `--verbose` for debug; `--log-level` (or LODE_LOG_LEVEL, config log.level)
    /// and `--log-format` as for every executable. A bad setting is reported by ``settings()``.
    func bootstrapLogging() {
        let log = (try? CommonSettings.resolve(flags: broker.flags, needsBroker: false).log) ?? LogSettings()
        log.bootstrap(defaultLevel: verbose ? .debug : .error)
    }
}

struct Ping: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the broker end to end: publish with confirms, consume, acknowledge.",
        discussion: """
            Connects, declares a temporary queue (auto-delete, deleted afterwards), publishes \
            --count persistent messages with publisher confirms, consumes them with manual \
            acknowledgements, checks every body came back intact, and prints what happened.

            Example:
              lodectl ping --count 10000
            """)

    @OptionGroup var connection: ConnectionOptions

    @Option(help: "Messages to send round.")
    var count = 1000

    @Option(help: "Body size in bytes.")
    var size = 300

    func run() async throws {
        connection.bootstrapLogging()
        guard count > 0, size >= 8 else { throw ValidationError("--count must be at least 1 and --size at least 8") }
        let settings = try connection.settings()
        var options = PublisherOptions()
        options.reconnectTimeout = .seconds(3)
        let publisher = Publisher(settings: settings, options: options)
        defer { Task { await publisher.close() } }
        let queue = "lode.ping.\(UUID().uuidString.prefix(8).lowercased())"
        let line = { (label: String, text: String) in print(label.padding(toLength: 11, withPad: " ", startingAt: 0) + text) }

        do {
            try await publisher.connect()
        } catch {
            FileHandle.standardError.write(Data("lodectl: \(error)\nIs the broker running? Try: scripts/broker start\n".utf8))
            throw ExitCode(ExitStatus.unavailable)
        }
        let heartbeat = await publisher.heartbeats()?.negotiated ?? 0
        line("broker", "\(await publisher.connectedBroker() ?? settings.redactedURL)  (heartbeat \(heartbeat) s)")
        try await publisher.declare(Topology(queues: [QueueSpec(name: queue, durable: false, autoDelete: true)]))
        line("declared", "queue \(queue) (classic, auto-delete)")

        let messages = (0..<count).map { index in
            var body = [UInt8](repeating: UInt8(ascii: "."), count: size)
            withUnsafeBytes(of: UInt64(index).bigEndian) { body.replaceSubrange(0..<8, with: $0) }
            return OutgoingMessage(exchange: "", routingKey: queue, body: body,
                                   properties: MessageProperties(contentType: "application/octet-stream", deliveryMode: 2,
                                                                 messageID: "ping-\(index)"),
                                   mandatory: true)
        }
        var started = ContinuousClock.now
        let report = try await publisher.publish(messages)
        line("published", "\(count) messages: \(report.confirmedCount) confirmed, \(report.nackedCount) nacked, "
             + "\(report.returnedCount) returned, \(report.unconfirmedCount) unconfirmed  in \(seconds(since: started))")
        if let interruption = report.interruption {
            FileHandle.standardError.write(Data("lodectl: \(interruption)\n".utf8))
            throw ExitCode(ExitStatus.temporaryFailure)
        }

        started = ContinuousClock.now
        var consumerOptions = ConsumerOptions()
        consumerOptions.prefetch = 500
        let consumer = Consumer(settings: settings, queue: queue, options: consumerOptions)
        try await consumer.start()
        var seen = Set<UInt64>()
        var intact = true
        var redelivered = 0
        for await event in consumer.events {
            guard case .deliveries(let batch) = event else { continue }
            for delivery in batch {
                let index = delivery.body.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                intact = intact && index < UInt64(count) && delivery.body == messages[Int(index)].body
                seen.insert(index)
                if delivery.redelivered { redelivered += 1 }
            }
            try await consumer.ack(batch.map(\.tag))
            if seen.count >= report.confirmedCount { break }
        }
        await consumer.close()
        line("consumed", "\(seen.count) messages, all acknowledged, "
             + "\(intact ? "bodies intact" : "BODIES DIFFER"), \(redelivered) redelivered  in \(seconds(since: started))")
        try await publisher.deleteQueue(queue)
        let ok = intact && seen.count == count && report.allConfirmed
        line("round trip", ok ? "ok" : "FAILED")
        if !ok { throw ExitCode(ExitStatus.temporaryFailure) }
    }

    private func seconds(since start: ContinuousClock.Instant) -> String {
        let elapsed = ContinuousClock.now - start
        let (s, atto) = elapsed.components
        return String(format: "%.3f s", Double(s) + Double(atto) / 1e18)
    }
}

struct Setup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Declare Lodestone's exchange and queues on the broker (idempotent).",
        discussion: """
            Declares the durable topic exchange \(ZoneTopology.exchange) that producers publish to, the \
            worker's quorum queue \(ZoneTopology.workQueue) bound to it with '#' (nothing published there \
            is dropped, whatever its routing key; x-delivery-limit \(ZoneTopology.deliveryLimit)), and the \
            dead-letter queue \(ZoneTopology.deadLetterQueue). Running it again changes nothing.

            Example:
              lodectl setup
            """)

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        connection.bootstrapLogging()
        let settings = try connection.settings()
        var options = PublisherOptions()
        options.reconnectTimeout = .seconds(3)
        let publisher = Publisher(settings: settings, options: options)
        do {
            try await publisher.declare(ZoneTopology.topology)
        } catch {
            await publisher.close()
            FileHandle.standardError.write(Data("lodectl: \(error)\n".utf8))
            if error.isRetryable { throw ExitCode(ExitStatus.unavailable) }
            // 406: a queue or exchange exists with other arguments; changing it needs an operator.
            throw ExitCode(ExitStatus.temporaryFailure)
        }
        let topology = ZoneTopology.topology
        for exchange in topology.exchanges { print("exchange  \(exchange.name) (\(exchange.kind), durable)") }
        for queue in topology.queues {
            let state = try await publisher.inspectQueue(queue.name)
            print("queue     \(queue.name) (quorum): \(state?.messageCount ?? 0) ready, \(state?.consumerCount ?? 0) consumers")
        }
        for binding in topology.bindings { print("binding   \(binding.exchange) → \(binding.queue) with '\(binding.routingKey)'") }
        await publisher.close()
    }
}

/// `--db` and the shared settings, for the commands that read the worker's store.
struct StoreOptions: ParsableArguments {
    @OptionGroup var broker: BrokerOptions
    @OptionGroup var database: DatabaseOptions

    func open() throws -> any ZoneDatabase {
        try openWithSettings().store
    }

    /// The store, and the settings it was found through (the config file's targets, ...).
    func openWithSettings() throws -> (store: any ZoneDatabase, settings: CommonSettings) {
        var flags = broker.flags
        database.apply(to: &flags)
        do {
            let settings = try CommonSettings.resolve(flags: flags, needsBroker: false)
            return (try StoreFactory.open(settings.storeRequest(for: "lodectl")), settings)
        } catch let error as SettingsError {
            FileHandle.standardError.write(Data("lodectl: \(error)\n".utf8))
            throw ExitCode(error.exitCode)
        } catch {
            FileHandle.standardError.write(Data("lodectl: \(error)\n".utf8))
            throw ExitCode(ExitStatus.unavailable)
        }
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the zone's figures for a year, from the worker's store.",
        discussion: """
            Amounts in 亿元, growth with its sign, in the language of --lang (zh-Hans by \
            default, zh-Hant, en; env LODE_LANG, config language); --json prints the contract's \
            JSON (section 4), the same in every language. Targets come from the config file's \
            `targets:` section, per year (see config/lodestone.example.yaml); progress is shown \
            as bars. --xlsx writes the report as a workbook: the figures, targets and campaigns on \
            its first sheet, the projects behind them on the second (see `lodectl projects`).

            Examples:
              lodectl report --year 2024 --db lodestone.sqlite --config /etc/lodestone/lodestone.yaml
              lodectl report --year 2024 --lang en
              lodectl report --year 2024 --xlsx -o 2024-report.xlsx
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "The plan year (1 to 9999).") var year: Int
    @Flag(help: "The contract's JSON instead of a table.") var json = false
    @Flag(help: "An .xlsx workbook (the report, then the project list), to -o FILE.") var xlsx = false
    @Option(name: .shortAndLong, help: ArgumentHelp("Where to write --xlsx.", valueName: "file")) var output: String?

    func validate() throws {
        guard ZoneReport.years.contains(year) else { throw ValidationError("--year: \(ZoneReport.yearProblem(String(year)))") }
        if json && xlsx { throw ValidationError("give --json or --xlsx, not both") }
        if xlsx, output == nil { throw ValidationError("--xlsx needs -o FILE.xlsx") }
    }

    func run() throws {
        let (store, settings) = try store.openWithSettings()
        let targets: [ReportTarget]
        do {
            targets = try settings.config?.reportTargets()[year] ?? []
        } catch {
            FileHandle.standardError.write(Data("lodectl: \(error)\n".utf8))
            throw ExitCode(error.exitCode)
        }
        let report = try store.report(year: year, targets: targets)
        if xlsx {
            let export = ProjectExport(language: settings.language)
            let sheets = [export.sheet(report), export.sheet(try store.projects(year: year), year: year)]
            try write(try export.workbook(sheets), to: output)
            return
        }
        print(json ? report.jsonText() : report.renderTable(language: settings.language), terminator: json ? "\n" : "")
    }
}

struct Rebuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute every figure from the event log (the report stays the same).",
        discussion: """
            Replays every logged event into empty projection tables in one transaction: the \
            figures change only when the rebuild commits, and an interrupted rebuild changes \
            nothing. Needed after a change to the projection rules or to the zone's time zone. \
            Workers may keep running: their batches wait until it commits. On a terminal a \
            progress bar shows the events replayed, the rate and the time left.

            Examples:
              lodectl rebuild
              lodectl rebuild --db postgres://lode@db.zone.local:5432/lodestone
            """)

    @OptionGroup var store: StoreOptions

    func run() throws {
        let opened = try store.open()
        let bar = RebuildProgress(enabled: isatty(STDERR_FILENO) == 1)
        let summary: RebuildSummary
        do {
            summary = try opened.rebuild(progress: bar.show)
        } catch {
            bar.finish()
            throw error
        }
        bar.finish()
        let seconds = bar.elapsed
        let rate = seconds > 0 ? Int((Double(summary.eventsReplayed) / seconds).rounded()) : 0
        print("rebuilt from the event log: \(summary.eventsReplayed) events replayed in \(String(format: "%.1f", seconds)) s (\(rate) events/s)")
    }
}

/// The rebuild's progress bar on standard error, redrawn at most ten times a second, only on a terminal.
final class RebuildProgress {
    let enabled: Bool
    private let started = ContinuousClock.now
    private var lastDrawn: ContinuousClock.Instant?

    init(enabled: Bool) {
        self.enabled = enabled
    }

    var elapsed: Double {
        let duration = ContinuousClock.now - started
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    func show(replayed: Int, total: Int) {
        guard enabled else { return }
        let now = ContinuousClock.now
        if let lastDrawn, replayed < total, now - lastDrawn < .milliseconds(100) { return }
        lastDrawn = now
        let line = ProgressBar.render(done: replayed, total: total, seconds: elapsed)
        FileHandle.standardError.write(Data("\r\(line)\u{1B}[K".utf8))
    }

    func finish() {
        if enabled, lastDrawn != nil { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

extension CommonSettings {
    /// What the store is opened with: the database, its password, the zone's time zone.
    func storeRequest(for program: String) -> StoreRequest {
        StoreRequest(database: database, password: databasePassword, timeZone: timezone,
                     applicationName: "\(program) on \(ProcessInfo.processInfo.hostName)")
    }
}
