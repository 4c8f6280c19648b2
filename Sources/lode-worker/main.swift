import ArgumentParser
import Dispatch
import Foundation
import LodeAMQP
import LodeSettings
import LodeStorage
import LodeWorker
import Logging

@main
struct LodeWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lode-worker",
        abstract: "Lodestone's worker: applies every event from lode.work to the zone's figures exactly once.",
        discussion: """
            Consumes lode.work (declared by `lodectl setup`, and again at start), writes each batch's \
            inbox, event log and figures in one database transaction, moves what it cannot apply to \
            lode.dead with its reason, and acknowledges only after the commit. Runs until SIGTERM or \
            SIGINT, then finishes the batch in hand and exits 0.

            Example:
              lode-worker --db /var/lib/lodestone/lodestone.sqlite
            """)

    @OptionGroup var broker: BrokerOptions
    @OptionGroup var database: DatabaseOptions

    @Option(help: "Unacknowledged messages the broker may send ahead (config worker.prefetch; default 1000).")
    var prefetch: Int?

    @Option(help: "A transaction closes at this many events (config worker.transaction_events; default 5000).")
    var transactionEvents: Int?

    @Option(help: ArgumentHelp(
        "... or this many milliseconds after its first message arrived (config worker.transaction_ms; default 50).",
        valueName: "ms"))
    var transactionMs: Int?

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        let logger = Logger(label: "lode.worker")
        var flags = broker.flags
        flags.database = database.db
        let settings: CommonSettings
        let options: WorkerOptions
        do {
            settings = try CommonSettings.resolve(flags: flags)
            options = try WorkerOptions.resolve(
                flags: WorkerFlags(prefetch: prefetch, transactionEvents: transactionEvents, transactionMilliseconds: transactionMs),
                config: settings.config)
            _ = try settings.config?.reportTargets()  // a bad target is reported now, not at the first report
        } catch {
            FileHandle.standardError.write(Data("lode-worker: \(error)\n".utf8))
            throw ExitCode(error.exitCode)
        }
        let store: any ZoneStore
        do {
            store = try StoreLocation.open(settings)
        } catch {
            FileHandle.standardError.write(Data("lode-worker: \(error)\n".utf8))
            throw ExitCode(69)
        }
        var connection = settings.connection
        connection.connectionName = "lode-worker on \(ProcessInfo.processInfo.hostName)"
        let worker = Worker(settings: connection, store: store, options: options, logger: logger)
        do {
            try await worker.start()
        } catch {
            FileHandle.standardError.write(Data("lode-worker: \(error)\n".utf8))
            throw ExitCode(error.isRetryable ? 69 : 75)
        }
        logger.info("consuming", metadata: ["queue": "lode.work", "db": "\(settings.database ?? StoreLocation.defaultPath)"])
        await Self.waitForTermination()
        logger.info("stopping: finishing the batch in hand")
        await worker.stop()
        let totals = worker.totals
        logger.info("stopped", metadata: [
            "applied": "\(totals.applied)", "duplicates": "\(totals.duplicates)", "dead_lettered": "\(totals.deadLettered)",
        ])
    }

    /// Returns on the first SIGTERM or SIGINT.
    static func waitForTermination() async {
        let (signals, continuation) = AsyncStream<Int32>.makeStream()
        var sources: [DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        for await _ in signals { break }
        for source in sources { source.cancel() }
    }
}
