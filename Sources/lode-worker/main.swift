import ArgumentParser
import Foundation
import LodeAMQP
import LodeBuildInfo
import LodeDelivery
import LodeNotifications
import LodePermissions
import LodeProjections
import LodeQueues
import LodeSettings
import LodeStatus
import LodeStorage
import LodeSystemd
import LodeStores
import LodeWire
import LodeWorker
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

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
            The status page, GET / (HTML: queues, health, the year's report with its targets, dead \
            letters, failed notifications; refreshes itself), is served there too, or on an address \
            of its own with --status-address (logged as `status page listening`), or not at all \
            (--status-address off).

            Bearer tokens (RFC 6750) protect /metrics and the page when set, never as flags: \
            LODE_METRICS_TOKEN or LODE_METRICS_TOKEN_FILE (config metrics.token_file), \
            LODE_STATUS_TOKEN or LODE_STATUS_TOKEN_FILE (config status.token_file). /healthz is open.

            With a config file's departments: section, an event is applied only when its message's \
            user_id is a department's broker user that may send its type and source; any other goes \
            to lode.dead as `unauthorized` (docs/security.md).

            Under systemd (Type=notify, NOTIFY_SOCKET set) it sends READY=1 once it consumes, \
            STATUS= lines, WATCHDOG=1 while its consumer keeps turning (WatchdogSec=) and \
            STOPPING=1 on SIGTERM: deploy/systemd/lode-worker.service, docs/operations.md.

            The store: a SQLite file (the default, lodestone.sqlite) for one worker, or a PostgreSQL \
            database (--db postgres://USER@HOST:PORT/DBNAME, password in LODE_DB_PASSWORD or \
            --db-password-file) for any number of workers on one lode.work. A worker on a SQLite file \
            refuses to start (exit 78) while another worker consumes lode.work: the two would split the \
            figures between two stores.

            With a RabbitMQ cluster, give every node, comma-separated (in LODE_AMQP_URL, amqp.url \
            or --url): the worker connects to the first that answers, and when that node goes away \
            it connects to the next at once, declares the topology again and consumes on.

            Examples:
              lode-worker --db /var/lib/lodestone/lodestone.sqlite
              lode-worker --db lode.sqlite --metrics-address 0.0.0.0:9464 --status-address 127.0.0.1:9465
              LODE_METRICS_TOKEN_FILE=/etc/lodestone/metrics.token lode-worker --metrics-address 0.0.0.0:9464
              lode-worker --config /etc/lodestone/lodestone.yaml --log-format json
              LODE_DB_PASSWORD_FILE=/etc/lodestone/db-password lode-worker --db postgres://lode@db.example:5432/lodestone
              LODE_AMQP_URL=amqp://lode@mq1:5672/%2F,amqp://lode@mq2:5672/%2F,amqp://lode@mq3:5672/%2F \\
                lode-worker --db lode.sqlite
            """,
        version: "lode-worker \(BuildInfo.versionLine)")

    @OptionGroup var broker: BrokerOptions
    @OptionGroup var database: DatabaseOptions

    @Option(help: "Unacknowledged messages the broker may send ahead (config worker.prefetch; default 1000). It counts messages, not events: where several workers share batched messages, use about 30, or the first worker takes the whole backlog (docs/scaling.md).")
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

    @Option(name: .customLong("status-address"), help: ArgumentHelp(
        "Serve the status page on HOST:PORT, 'metrics' (with /metrics, the default) or 'off' (env LODE_STATUS_ADDRESS, config status.address).",
        valueName: "host:port"))
    var statusAddress: String?

    @Option(help: ArgumentHelp(
        "RabbitMQ's management API for the status page's queue figures (default http://HOST:15672 of the broker URL; 'off': AMQP only).",
        valueName: "url"))
    var managementURL: String?

    func run() async throws {
        let startedAt = Date()
        var flags = broker.flags
        database.apply(to: &flags)
        let settings: CommonSettings
        let options: WorkerOptions
        let address: MetricsAddress
        let notifications: NotificationSettings
        let targets: [Int: [ReportTarget]]
        let exposure: StatusExposure
        var tuned: WorkerOptions
        do throws(SettingsError) {
            settings = try CommonSettings.resolve(flags: flags)
            tuned = WorkerOptions(try WorkerTuning.resolve(
                flags: WorkerFlags(prefetch: prefetch, transactionEvents: transactionEvents, transactionMilliseconds: transactionMs,
                                   notificationGiveUpHours: notificationGiveUpHours, stallSeconds: stallSeconds),
                config: settings.config))
            targets = try settings.config?.reportTargets() ?? [:]  // a bad target is reported now, not at the first report
            address = try MetricsAddress.resolve(flag: metricsAddress, config: settings.config)
            exposure = try StatusExposure.resolve(flag: statusAddress, config: settings.config)
            notifications = try settings.config?.notificationSettings() ?? NotificationSettings()
            tuned.replayUsers = try settings.config?.brokerUsers().operators ?? []
            if let departments = try settings.config?.departments() {
                do throws(PermissionsError) {
                    // The worker's own user may replay too (a lodectl sharing its login).
                    tuned.departments = try departments.addingReplayUser(settings.connection.user)
                } catch {
                    throw SettingsError(.config, "Config error: \(settings.config?.path ?? "config"): departments: the worker's own broker user: \(error.message)")
                }
            }
        } catch {
            FileHandle.standardError.write(Data("lode-worker: \(error)\n".utf8))
            throw ExitCode(error.exitCode)
        }
        options = tuned
        settings.log.bootstrap(defaultLevel: .info)
        let logger = Logger(label: "lode.worker")
        for warning in settings.connection.warnings {
            logger.warning("\(warning)")
        }
        for warning in notifications.insecureURLWarnings {
            logger.warning("\(warning)")
        }
        if let departments = options.departments {
            logger.info("departments", metadata: [
                "count": "\(departments.departments.count)", "replay_users": "\(departments.replayUsers.joined(separator: ","))",
            ])
        }
        // Before the worker exists: its metrics go to the backend bootstrapped here.
        let prometheus = DescribedPrometheusFactory()
        if address != .off { MetricsSystem.bootstrap(prometheus) }

        var request = StoreRequest(
            database: settings.database, password: settings.databasePassword, timeZone: settings.timezone,
            notificationRules: notifications.rules, targets: targets,
            applicationName: "lode-worker on \(ProcessInfo.processInfo.hostName)")
        // A SQLite store's fsync on the worker's sync thread, beside the next batch's apply.
        request.defersSync = true
        let store: any ZoneDatabase
        do {
            store = try StoreFactory.open(request, logger: Logger(label: "lode.store"))
        } catch {
            FileHandle.standardError.write(Data("lode-worker: \(error)\n".utf8))
            // A store that settings point wrongly at, or that a newer Lodestone wrote, is not
            // fixed by starting again (systemd's RestartPreventExitStatus=78); the rest may pass.
            throw ExitCode(error.kind == .configuration ? 78 : 69)
        }
        var connection = settings.connection
        connection.connectionName = "lode-worker on \(ProcessInfo.processInfo.hostName)"
        // Before consuming: a worker on a SQLite file must be the only consumer of lode.work.
        let claim = WorkQueueClaim(kind: store.allowsConcurrentWorkers ? .shared : .sole, settings: connection,
                                   logger: Logger(label: "lode.worker.claim"))
        do {
            try await claim.acquire()
        } catch {
            await claim.release()
            FileHandle.standardError.write(Data("lode-worker: \(error)\n".utf8))
            throw ExitCode(error.kind == .refused ? 78 : 69)
        }
        let worker = Worker(settings: connection, store: store, options: options, logger: logger)

        // Shut down in reverse order: the worker drains first, /healthz answers until it has, and
        // systemd's watchdog is fed until the end. The claim first, so that it is given back last,
        // once the worker has drained.
        var services: [any Service] = [WorkQueueClaimService(claim: claim)]
        // Under systemd (Type=notify): READY=1 once consuming, STOPPING=1 at shutdown, STATUS= lines,
        // and WATCHDOG=1 while the consumer's thread keeps turning.
        let notifier = ServiceNotifier()
        let phase = ServicePhase()
        if let notifier {
            notifier.status("starting: connecting to the broker")
            services.append(WatchdogService(
                notifier: notifier, request: WatchdogRequest(), logger: logger,
                sinceLastTurn: { phase.isConsuming ? worker.sinceLastTurn : nil },
                status: { worker.statusLine }))
        }
        // The status page reads the queues over a connection of its own, opened at its first request.
        let queues = QueueReader(settings: settings.connection, managementURL: managementURL, headMemoLifetime: .seconds(60))
        if let warning = queues.insecureManagementURLWarning { logger.warning("\(warning)") }
        let status = WorkerStatusSource(
            worker: worker, store: store, targets: targets, queues: queues,
            timeZone: TimeZone(identifier: settings.timezone) ?? .current, startedAt: startedAt,
            language: settings.language)
        let page = StatusServer.Page(snapshot: { await status.snapshot($0) }, token: exposure.pageToken.map(BearerToken.init))
        if case .listen(let host, let port) = address {
            if !address.isLoopback {
                logger.notice("metrics and health served beyond this machine", metadata: [
                    "address": "\(address)", "metrics_token": "\(exposure.metricsToken == nil ? "none" : "required")",
                ])
            }
            let withPage = exposure.page == .withMetrics
            if withPage, !address.isLoopback, exposure.pageToken == nil {
                logger.warning("the status page (the year's figures, dead-letter errors) is served beyond this machine without a token: set LODE_STATUS_TOKEN_FILE, or serve it apart with --status-address 127.0.0.1:PORT", metadata: ["address": "\(address)"])
            }
            services.append(StatusServer(
                host: host, port: port,
                metrics: StatusServer.Metrics(registry: prometheus.registry, health: { worker.health },
                                              token: exposure.metricsToken.map(BearerToken.init)),
                page: withPage ? page : nil, logger: logger))
        }
        if case .listen(let host, let port) = exposure.page {
            let pageAddress = MetricsAddress.listen(host: host, port: port)
            if !pageAddress.isLoopback, exposure.pageToken == nil {
                logger.warning("the status page is served beyond this machine without a token: set LODE_STATUS_TOKEN_FILE", metadata: ["address": "\(pageAddress)"])
            }
            services.append(StatusServer(host: host, port: port, metrics: nil, page: page, logger: logger))
        }
        let database = request.redactedDatabase
        services.append(WorkerService(worker: worker, logger: logger, onConsuming: {
            logger.info("consuming", metadata: ["queue": "lode.work", "db": "\(database)"])
            phase.set(.consuming)
            notifier?.ready(status: worker.consumingLine)
        }, onStopping: {
            phase.set(.stopping)
            notifier?.stopping(status: "stopping: finishing the batch in hand")
        }))
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
        } catch let error as WorkQueueClaimError {
            FileHandle.standardError.write(Data("lode-worker: stopping: \(error)\n".utf8))
            throw ExitCode(78)
        }
        await claim.release()
        try? store.close()
        let totals = worker.totals
        logger.info("stopped", metadata: [
            "applied": "\(totals.applied)", "duplicates": "\(totals.duplicates)", "dead_lettered": "\(totals.deadLettered)",
        ])
    }
}

extension WorkerOptions {
    /// The defaults, with what the flags and the config file set.
    init(_ tuning: WorkerTuning) {
        self.init()
        if let value = tuning.prefetch { prefetch = UInt16(clamping: value) }
        if let value = tuning.transactionEvents { transactionEvents = value }
        if let value = tuning.transactionMilliseconds { transactionWindow = .milliseconds(value) }
        if let value = tuning.notificationGiveUpHours { notificationGiveUp = .seconds(value * 3600) }
        if let value = tuning.stallSeconds { stallTimeout = .seconds(value) }
    }
}

/// Where the worker is in its life, for the watchdog: only a consuming worker is checked (its
/// start and its drain are bounded by systemd's TimeoutStartSec= and TimeoutStopSec=).
final class ServicePhase: Sendable {
    enum Phase { case starting, consuming, stopping }
    private let phase = Mutex(Phase.starting)

    var isConsuming: Bool { phase.withLock { $0 == .consuming } }

    func set(_ new: Phase) { phase.withLock { $0 = new } }
}

/// Holds the worker's claim on `lode.work` while it runs (``WorkQueueClaim/hold()``); a claim
/// lost to another kind of worker ends the service group.
struct WorkQueueClaimService: Service {
    let claim: WorkQueueClaim

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await claim.hold()
        }
    }
}
