import Foundation
import LodeEvents
import LodeNotifications
import LodePostgres
import LodeProjections
import LodeStorage
import Logging

/// What a store is opened with: plain values the executables resolve from their flags, the
/// environment and the config file.
public struct StoreRequest: Sendable {
    /// A SQLite file's path, or a `postgres://USER@HOST:PORT/DBNAME[?sslmode=…]` URL; `nil`
    /// for the default file ``StoreFactory/defaultSQLitePath`` in the working directory.
    public var database: String?
    /// PostgreSQL's password (`LODE_DB_PASSWORD`, `--db-password-file`, config `db.password`).
    public var password: String?
    /// The zone's IANA time zone, for the year of recruitment events.
    public var timeZone: String
    /// The notification rules whose notifications each batch records; empty for tools that
    /// only read or rebuild.
    public var notificationRules: [NotificationRule]
    /// The config's targets per year, for target milestones.
    public var targets: [Int: [ReportTarget]]
    /// How the process names itself to PostgreSQL (`application_name`).
    public var applicationName: String
    /// The worker's: a SQLite store's commits return before their fsync, which
    /// ``ZoneStore/syncCommits()`` does (``SQLiteStoreConfiguration/defersSync``). PostgreSQL's
    /// commits are always durable when they return.
    public var defersSync = false

    public init(database: String?, password: String? = nil, timeZone: String = "Asia/Shanghai",
                notificationRules: [NotificationRule] = [], targets: [Int: [ReportTarget]] = [:],
                applicationName: String = "lodestone") {
        self.database = database
        self.password = password
        self.timeZone = timeZone
        self.notificationRules = notificationRules
        self.targets = targets
        self.applicationName = applicationName
    }

    /// The database as logs may show it: a URL without its password.
    public var redactedDatabase: String {
        let database = database ?? StoreFactory.defaultSQLitePath
        guard PostgresLocation.isPostgresURL(database) else { return database }
        return (try? PostgresLocation(parsing: database).redacted) ?? "postgres://…"
    }
}

/// Opens the store a `--db` names, behind the storage protocols: a SQLite file, or PostgreSQL
/// for a `postgres://` URL. The one place that knows both store types.
public enum StoreFactory {
    public static let defaultSQLitePath = "lodestone.sqlite"

    /// Opens (creating or migrating) the store of `request`.
    ///
    /// Throws ``StorageError/Kind/configuration`` for a bad URL, time zone, user, password or
    /// database name, ``StorageError/Kind/unavailable`` when the database cannot be reached now.
    public static func open(_ request: StoreRequest, logger: Logger = Logger(label: "lode.store")) throws(StorageError) -> any ZoneDatabase {
        let database = request.database ?? defaultSQLitePath
        let calendar: ZoneCalendar
        do {
            calendar = try ZoneCalendar(timeZoneIdentifier: request.timeZone)
        } catch {
            throw StorageError(kind: .configuration, message: "unknown time zone '\(request.timeZone)'", path: request.redactedDatabase)
        }
        let policy = request.notificationRules.isEmpty ? nil : NotificationPolicy(
            rules: NotificationRules(rules: request.notificationRules, calendar: calendar), targets: request.targets)
        if PostgresLocation.isPostgresURL(database) {
            let location: PostgresLocation
            do {
                location = try PostgresLocation(parsing: database)
            } catch {
                throw StorageError(kind: .configuration, message: "--db: \(error)", path: "postgres://…")
            }
            var configuration = PostgresStoreConfiguration(calendar: calendar)
            configuration.notifications = policy
            configuration.applicationName = request.applicationName
            return try PostgresZoneStore(location: location, password: request.password ?? location.passwordInURL,
                                         configuration: configuration, logger: logger)
        }
        var configuration = SQLiteStoreConfiguration(calendar: calendar)
        configuration.notifications = policy
        configuration.defersSync = request.defersSync
        return try SQLiteZoneStore(path: database, configuration: configuration)
    }
}

extension StoreFactory {
    /// Whether `database` (a `--db` value; `nil` for the default file) names PostgreSQL.
    public static func isPostgres(_ database: String?) -> Bool {
        PostgresLocation.isPostgresURL(database ?? defaultSQLitePath)
    }

    /// A consistent copy of a SQLite store at `destination`, taken while a worker may be writing
    /// it (SQLite's online backup, then checked). A PostgreSQL store is refused with
    /// ``StorageError/Kind/configuration``: `pg_dump` backs it up.
    public static func backup(_ database: String?, to destination: String) throws(StorageError) -> SQLiteBackupSummary {
        let source = database ?? defaultSQLitePath
        guard !isPostgres(source) else {
            throw StorageError(kind: .configuration, message: "the store is PostgreSQL: back it up with pg_dump (docs/operations.md)",
                               path: StoreRequest(database: source).redactedDatabase)
        }
        return try SQLiteZoneStore.backup(from: source, to: destination)
    }

    /// What `lodectl doctor` checks of a SQLite store without opening it for writing: readable,
    /// writable, its migrations. `nil` for PostgreSQL (checked by connecting).
    public static func inspect(_ database: String?) throws(StorageError) -> SQLiteStoreInspection? {
        let path = database ?? defaultSQLitePath
        guard !isPostgres(path) else { return nil }
        return try SQLiteZoneStore.inspect(path: path)
    }

    /// Why the SQLite file (or its directory) cannot be written, or `nil`.
    public static func whyNotWritable(_ database: String?) -> String? {
        let path = database ?? defaultSQLitePath
        return isPostgres(path) ? nil : SQLiteZoneStore.whyNotWritable(path)
    }
}
