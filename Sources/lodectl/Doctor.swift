import ArgumentParser
import AsyncHTTPClient
import Foundation
import LodeAMQP
import LodeJSON
import LodeNotifications
import LodeSettings
import LodeStorage
import LodeStores
import LodeWorker
import LodeWire

/// One finding of `lodectl doctor`.
struct DoctorCheck: Sendable, Equatable {
    enum Verdict: String, Sendable {
        case ok, warn, fail, skip

        /// The column the table shows: `ok`, `WARN`, `FAIL`, `skip`.
        var label: String {
            switch self {
            case .ok: "ok"
            case .warn: "WARN"
            case .fail: "FAIL"
            case .skip: "skip"
            }
        }
    }

    var name: String
    var verdict: Verdict
    var detail: String
}

/// `lodectl doctor`: the effective settings and where each came from, then a check of every
/// part the worker needs.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the effective settings and check the broker, topology, store and notification channels.",
        discussion: """
            Prints every setting with where it came from (flag, environment variable, config file and \
            line, or default; passwords and channel URLs masked), then checks, each with a verdict:
              config      the config file reads, its rules and channels are valid
              broker      an AMQP connection opens (the URL, the password, TLS)
              topology    lode.work and lode.dead exist (`lodectl setup` declares them); consumers
              store       the SQLite file and its directory are writable by this user; events
              migrations  the schema against this Lodestone's (pending ones run at the worker's start;
                          unknown ones mean a newer Lodestone wrote the file)
              channel     each notification channel's host answers HTTP (a HEAD request on its
                          root: no message is sent, no token leaves)
            Run it as the user the service runs as (sudo -u lodestone lodectl doctor --config \
            /etc/lodestone/lodestone.yaml) to check that user's rights.

            Examples:
              lodectl doctor --config /etc/lodestone/lodestone.yaml --db /var/lib/lodestone/lodestone.sqlite
              lodectl doctor --json

            Exit status: 0 every check passed (warnings allowed), 69 a check failed, 78 the \
            settings are invalid (the message says where), 64 usage.
            """)

    @OptionGroup var broker: BrokerOptions
    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Print a JSON object (settings, checks, exit_code) instead of a table.") var json = false
    @Option(help: ArgumentHelp("Seconds each network check may take.", valueName: "seconds")) var timeout = 5

    func run() async throws {
        var flags = broker.flags
        database.apply(to: &flags)
        let settings: CommonSettings
        let notifications: NotificationSettings
        do {
            settings = try CommonSettings.resolve(flags: flags)
            notifications = try settings.config?.notificationSettings() ?? NotificationSettings()
            _ = try settings.config?.reportTargets()
        } catch {
            let check = DoctorCheck(name: "config", verdict: .fail, detail: error.description)
            emit(settings: [], checks: [check], exitCode: error.exitCode)
            throw ExitCode(error.exitCode)
        }
        settings.log.bootstrap(defaultLevel: .critical)
        let seconds = max(1, min(timeout, 120))
        var checks: [DoctorCheck] = []
        let configDetail = settings.config.map {
            "\($0.path): \(notifications.rules.count) rules, \(notifications.channels.count) channels"
        } ?? "no config file (--config or LODE_CONFIG): built-in defaults"
        checks.append(DoctorCheck(name: "config", verdict: .ok, detail: configDetail))
        checks += await checkBroker(settings.connection, seconds: seconds)
        checks += checkStore(settings.database ?? StoreFactory.defaultSQLitePath)
        for channel in notifications.channels.values.sorted(by: { $0.name < $1.name }) {
            checks.append(await checkChannel(channel, seconds: seconds))
        }
        let exitCode: Int32 = checks.contains { $0.verdict == .fail } ? ExitStatus.unavailable : 0
        emit(settings: effectiveSettings(settings, notifications: notifications), checks: checks, exitCode: exitCode)
        if exitCode != 0 { throw ExitCode(exitCode) }
    }

    // MARK: Settings

    /// (name, value, origin) of every setting, secrets masked.
    private func effectiveSettings(_ settings: CommonSettings, notifications: NotificationSettings)
        -> [(name: String, value: String, origin: String)] {
        let origin = { (key: String) in settings.origins[key] ?? SettingOrigin.builtIn }
        let password = settings.connection.password
        var rows: [(name: String, value: String, origin: String)] = [
            ("config", settings.config?.path ?? "none", origin("config")),
            ("url", settings.connection.redactedURL, origin("url")),
            ("password", password.isEmpty ? "(none)" : "******** (set)", origin("password")),
            ("db", StoreRequest(database: settings.database).redactedDatabase, origin("db")),
            ("timezone", settings.timezone, origin("timezone")),
            ("log.format", settings.log.format.rawValue, settings.log.formatOrigin),
            ("log.level", settings.log.level?.rawValue ?? "each program's own (worker: info)", settings.log.levelOrigin),
        ]
        let metrics = (try? MetricsAddress.resolve(flag: nil, config: settings.config)).map { "\($0)" } ?? "invalid"
        let metricsOrigin = ProcessInfo.processInfo.environment["LODE_METRICS_ADDRESS"].map { _ in "LODE_METRICS_ADDRESS" }
            ?? settings.config.flatMap { config in config.entries["metrics.address"].map { "\(config.path):\($0.line): metrics.address" } }
            ?? SettingOrigin.builtIn
        rows.append(("metrics.address", metrics, metricsOrigin))
        for channel in notifications.channels.values.sorted(by: { $0.name < $1.name }) {
            rows.append(("channel", channel.description, settings.config?.path ?? "config"))
        }
        return rows
    }

    // MARK: Checks

    private func checkBroker(_ connection: ConnectionSettings, seconds: Int) async -> [DoctorCheck] {
        var connection = connection
        connection.connectionName = "lodectl doctor on \(ProcessInfo.processInfo.hostName)"
        var options = PublisherOptions()
        options.reconnectTimeout = .seconds(Int64(seconds))
        let publisher = Publisher(settings: connection, options: options)
        defer { Task { await publisher.close() } }
        do {
            try await publisher.connect()
        } catch {
            return [
                DoctorCheck(name: "broker", verdict: .fail, detail: "\(error)"),
                DoctorCheck(name: "topology", verdict: .skip, detail: "needs the broker"),
            ]
        }
        let heartbeat = await publisher.heartbeats()?.negotiated ?? 0
        var checks = [DoctorCheck(name: "broker", verdict: .ok,
                                  detail: "connected to \(connection.redactedURL) (heartbeat \(heartbeat) s)")]
        var missing: [String] = []
        var found: [String] = []
        do {
            for name in [ZoneTopology.workQueue, ZoneTopology.deadLetterQueue] {
                if let queue = try await publisher.inspectQueue(name) {
                    found.append("\(name): \(queue.messageCount) ready, \(queue.consumerCount) consumers")
                } else {
                    missing.append(name)
                }
            }
        } catch {
            checks.append(DoctorCheck(name: "topology", verdict: .fail, detail: "inspecting the queues failed: \(error)"))
            return checks
        }
        if missing.isEmpty {
            checks.append(DoctorCheck(name: "topology", verdict: .ok, detail: found.joined(separator: "; ")))
        } else {
            checks.append(DoctorCheck(name: "topology", verdict: .fail, detail: """
                queue \(missing.joined(separator: " and ")) missing: run `lodectl setup` \
                (it declares \(ZoneTopology.exchange), \(ZoneTopology.workQueue), \(ZoneTopology.deadLetterQueue))
                """))
        }
        return checks
    }

    private func checkStore(_ path: String) -> [DoctorCheck] {
        let inspection: SQLiteStoreInspection
        do {
            guard let inspected = try StoreFactory.inspect(path) else {
                return [DoctorCheck(name: "store", verdict: .skip, detail: "PostgreSQL: check it with psql; the worker migrates it at start")]
            }
            inspection = inspected
        } catch {
            var checks = [DoctorCheck(name: "store", verdict: .fail, detail: error.message)]
            if let reason = StoreFactory.whyNotWritable(path) {
                checks[0].detail += "; \(reason)"
            }
            checks.append(DoctorCheck(name: "migrations", verdict: .skip, detail: "needs a readable store"))
            return checks
        }
        var checks: [DoctorCheck] = []
        if let reason = inspection.notWritable {
            checks.append(DoctorCheck(name: "store", verdict: .fail, detail: "\(path): \(reason); the worker could not commit a batch"))
        } else if !inspection.exists {
            checks.append(DoctorCheck(name: "store", verdict: .warn, detail: "\(path) does not exist yet: the worker creates it at start (its directory is writable)"))
        } else {
            checks.append(DoctorCheck(name: "store", verdict: .ok, detail: "\(path): writable, \(inspection.events) events in the log"))
        }
        let known = inspection.knownMigrations.count
        if !inspection.unknownMigrations.isEmpty {
            checks.append(DoctorCheck(name: "migrations", verdict: .fail, detail: """
                written by a newer Lodestone (migrations unknown here: \(inspection.unknownMigrations.joined(separator: ", "))): \
                run that version, or restore a backup taken before the upgrade
                """))
        } else if !inspection.exists {
            checks.append(DoctorCheck(name: "migrations", verdict: .ok, detail: "\(known) to apply when the worker creates the store"))
        } else if !inspection.pendingMigrations.isEmpty {
            checks.append(DoctorCheck(name: "migrations", verdict: .warn, detail: """
                \(inspection.pendingMigrations.count) pending (\(inspection.pendingMigrations.joined(separator: "; "))): \
                the worker applies them when it starts; back up first (lodectl backup)
                """))
        } else {
            checks.append(DoctorCheck(name: "migrations", verdict: .ok, detail: "\(inspection.appliedMigrations.count) applied, none pending"))
        }
        return checks
    }

    /// A HEAD request on the channel's root (`https://host:port/`): any HTTP answer means the
    /// host is reachable. Never the channel's path or query, which may hold its token.
    private func checkChannel(_ channel: ChannelConfiguration, seconds: Int) async -> DoctorCheck {
        let name = "channel \(channel.name)"
        guard let secret = channel.url, let url = URL(string: secret.revealed), let scheme = url.scheme?.lowercased(),
              let host = url.host, !host.isEmpty else {
            return DoctorCheck(name: name, verdict: .ok, detail: "\(channel.kind): nothing to reach")
        }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let root = "\(scheme)://\(hostPart):\(port)/"
        var request = HTTPClientRequest(url: root)
        request.method = .HEAD
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(Int64(seconds)))
            return DoctorCheck(name: name, verdict: .ok, detail: "\(channel): \(scheme)://\(hostPart):\(port) answers (HTTP \(response.status.code))")
        } catch {
            return DoctorCheck(name: name, verdict: .fail, detail: "\(channel): \(scheme)://\(hostPart):\(port) unreachable: \(Self.describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        if text.contains("connectTimeout") || text.contains("deadlineExceeded") { return "timed out" }
        if text.lowercased().contains("connection refused") { return "connection refused" }
        return text
    }

    // MARK: Output

    private func emit(settings: [(name: String, value: String, origin: String)], checks: [DoctorCheck], exitCode: Int32) {
        if json {
            let object = JSONValue.object([
                JSONMember("settings", .array(settings.map {
                    .object([JSONMember("name", .string($0.name)), JSONMember("value", .string($0.value)),
                             JSONMember("origin", .string($0.origin))])
                })),
                JSONMember("checks", .array(checks.map {
                    .object([JSONMember("name", .string($0.name)), JSONMember("verdict", .string($0.verdict.rawValue)),
                             JSONMember("detail", .string($0.detail))])
                })),
                JSONMember("exit_code", .integer(Int(exitCode))),
            ])
            print(object.serializedText())
            return
        }
        if !settings.isEmpty {
            print("settings")
            let width = settings.map(\.name.count).max() ?? 0
            let valueWidth = min(60, settings.map(\.value.count).max() ?? 0)
            for row in settings {
                let name = row.name.padding(toLength: width, withPad: " ", startingAt: 0)
                let value = row.value.count >= valueWidth ? row.value : row.value.padding(toLength: valueWidth, withPad: " ", startingAt: 0)
                print("  \(name)  \(value)  (\(row.origin))")
            }
            print("")
        }
        print("checks")
        let width = checks.map(\.name.count).max() ?? 0
        for check in checks {
            let label = check.verdict.label.padding(toLength: 4, withPad: " ", startingAt: 0)
            print("  \(label)  \(check.name.padding(toLength: width, withPad: " ", startingAt: 0))  \(check.detail)")
        }
        let failed = checks.filter { $0.verdict == .fail }.map(\.name)
        let warned = checks.filter { $0.verdict == .warn }.count
        print("")
        if failed.isEmpty {
            print("verdict: ok\(warned > 0 ? " (\(warned) warnings)" : "") (exit 0)")
        } else {
            print("verdict: \(failed.count) failed: \(failed.joined(separator: ", ")) (exit \(exitCode))")
        }
    }
}
