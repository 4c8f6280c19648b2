import ArgumentParser
import Foundation
import LodeAMQP
import LodeDelivery
import LodeNotifications
import LodeProjections
import LodeQueues
import LodeSettings
import LodeStatus
import LodeStorage
import LodeWorker
import Logging
import Metrics
import ServiceLifecycle

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

            Serves GET /metrics (Prometheus text) and GET /healthz (JSON; 200 when consuming and the \
            store takes batches, 503 otherwise) on --metrics-address, 127.0.0.1:9464 by default \
            (loopback only; give 0.0.0.0:9464 to serve every interface, port 0 for any free port, \
            'off' for none). The address it listens on is logged as `metrics listening address=...`. \
            The same address serves the status page, GET / (HTML: queues, health, the year's report \
            with its targets, dead letters, failed notifications; refreshes itself).

            With a RabbitMQ cluster, give every node, comma-separated (in LODE_AMQP_URL, amqp.url \
            or --url): the worker connects to the first that answers, and when that node goes away \
            it connects to the next at once, declares the topology again and consumes on.

            Examples:
              lode-worker --db /var/lib/lodestone/lodestone.sqlite
              lode-worker --db lode.sqlite --metrics-address 0.0.0.0:9464
              LODE_AMQP_URL=amqp://lode@mq1:5672/%2F,amqp://lode@mq2:5672/%2F,amqp://lode@mq3:5672/%2F \\
                lode-worker --db lode.sqlite
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

    @Option(help: ArgumentHelp(
        "A notification still failing this long after it was recorded is marked failed (config worker.notification_give_up_hours; default 24).",
        valueName: "hours"))
    var notificationGiveUpHours: Int?

    @Option(help: ArgumentHelp(
        "Reconnect the consumer when it gets nothing this long while lode.work has ready messages (config worker.stall_seconds; default 30).",
        valueName: "seconds"))
    var stallSeconds: Int?

    @Option(name: .customLong("metrics-address"), help: ArgumentHelp(
        "Serve /metrics and /healthz on HOST:PORT, or 'off' (env LODE_METRICS_ADDRESS, config metrics.address; default 127.0.0.1:9464; port 0: any free port).",
        valueName: "host:port"))
    var metricsAddress: String?

    @Option(help: ArgumentHelp(
        "RabbitMQ's management API for the status page's queue figures (default http://HOST:15672 of the broker URL; 'off': AMQP only).",
        valueName: "url"))
    var managementURL: String?

    func run() async throws {
        let startedAt = Date()
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
        let address: MetricsAddress
        let notifications: NotificationSettings
        let targets: [Int: [ReportTarget]]
        do {
            settings = try CommonSettings.resolve(flags: flags)
            options = try WorkerOptions.resolve(
                flags: WorkerFlags(prefetch: prefetch, transactionEvents: transactionEvents, transactionMilliseconds: transactionMs,
                                   notificationGiveUpHours: notificationGiveUpHours, stallSeconds: stallSeconds),
                config: settings.config)
            targets = try settings.config?.reportTargets() ?? [:]  // a bad target is reported now, not at the first report
            address = try MetricsAddress.resolve(flag: metricsAddress, config: settings.config)
            notifications = try settings.config?.notificationSettings() ?? NotificationSettings()
        } catch {
            FileHandle.standardError.write(Data("lode-worker: \(error)\n".utf8))
            throw ExitCode(error.exitCode)
        }
        // Before the worker exists: its metrics go to the backend bootstrapped here.
        let prometheus = DescribedPrometheusFactory()
        if address != .off { MetricsSystem.bootstrap(prometheus) }

        let store: SQLiteZoneStore
        do {
            store = try StoreLocation.open(settings, notifications: notifications)
        } catch {
            FileHandle.standardError.write(Data("lode-worker: \(error)\n".utf8))
            throw ExitCode(69)
        }
        var connection = settings.connection
        connection.connectionName = "lode-worker on \(ProcessInfo.processInfo.hostName)"
        let worker = Worker(settings: connection, store: store, options: options, logger: logger)

        // Shut down in reverse order: the worker drains first, /healthz answers until it has.
        var services: [any Service] = []
        // The status page reads the queues over a connection of its own, opened at its first request.
        let queues = QueueReader(settings: settings.connection, managementURL: managementURL, headMemoLifetime: .seconds(60))
        if case .listen(let host, let port) = address {
            if !address.isLoopback {
                logger.notice("metrics and health served beyond this machine", metadata: ["address": "\(address)"])
            }
            let status = WorkerStatusSource(
                worker: worker, store: store, targets: targets, queues: queues,
                timeZone: TimeZone(identifier: settings.timezone) ?? .current, startedAt: startedAt)
            services.append(StatusServer(host: host, port: port, registry: prometheus.registry,
                                         health: { worker.health }, statusPage: { await status.snapshot($0) }, logger: logger))
        }
        let database = settings.database ?? StoreLocation.defaultPath
        services.append(WorkerService(worker: worker, logger: logger) {
            logger.info("consuming", metadata: ["queue": "lode.work", "db": "\(database)"])
        })
        if !notifications.channels.isEmpty {
            // Sends what the store records; apart from the consumer, so a hanging webhook costs
            // the consume rate nothing.
            var dispatch = DispatcherOptions()
            dispatch.giveUpAfter = options.notificationGiveUp
            services.append(DispatcherService(dispatcher: NotificationDispatcher(
                outbox: store, channels: Array(notifications.channels.values), options: dispatch,
                logger: Logger(label: "lode.notifications"))))
            logger.info("notifications", metadata: [
                "rules": "\(notifications.rules.count)", "channels": "\(notifications.channels.keys.sorted().joined(separator: ","))",
            ])
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
            await queues.close()
        } catch let error as AMQPError {
            FileHandle.standardError.write(Data("lode-worker: \(error)\n".utf8))
            throw ExitCode(error.isRetryable ? 69 : 75)
        } catch let error as StatusServerError {
            FileHandle.standardError.write(Data("lode-worker: \(error)\n".utf8))
            throw ExitCode(69)
        }
        let totals = worker.totals
        logger.info("stopped", metadata: [
            "applied": "\(totals.applied)", "duplicates": "\(totals.duplicates)", "dead_lettered": "\(totals.deadLettered)",
        ])
    }
}
