import ArgumentParser
import Foundation

/// The command-line flags of the broker connection, shared by every executable
/// (`@OptionGroup var broker: BrokerOptions`).
public struct BrokerOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: ArgumentHelp(
        "Broker URL without a password, or a cluster's URLs comma-separated, tried in turn (env LODE_AMQP_URL, config amqp.url; default amqp://guest@127.0.0.1:5672/%2F).",
        valueName: "url"))
    public var url: String?

    @Option(name: .customLong("password-file"), help: ArgumentHelp(
        "File holding the broker password (or env LODE_AMQP_PASSWORD, config amqp.password).",
        valueName: "file"))
    public var passwordFile: String?

    @Option(name: .long, help: ArgumentHelp("YAML config file (env LODE_CONFIG).", valueName: "file"))
    public var config: String?

    @OptionGroup public var log: LogOptions
    @Option(name: .customLong("lang"), help: ArgumentHelp(
        "Language of what people read: zh-Hans (default), zh-Hant or en (env LODE_LANG, config language).",
        valueName: "lang"))
    public var language: String?

    public init() {}

    /// The flags as ``SettingsFlags``.
    public var flags: SettingsFlags {
        SettingsFlags(url: url, passwordFile: passwordFile, config: config, logFormat: log.format, logLevel: log.level,
                      language: language)
    }

    /// Resolves the common settings from these flags, the environment and the config file.
    public func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws(SettingsError) -> CommonSettings {
        try CommonSettings.resolve(flags: flags, environment: environment)
    }
}

/// The `--db` flag of the programs that keep the aggregates (`lode-worker`, `lodectl report`):
/// `@OptionGroup var database: DatabaseOptions`, then pass `database.db` as
/// `SettingsFlags.database`.
public struct DatabaseOptions: ParsableArguments, Sendable {
    @Option(name: .long, help: ArgumentHelp(
        "Database: a SQLite file, or postgres://USER@HOST:PORT/DBNAME[?sslmode=...] without a password (env LODE_DB, config db).",
        valueName: "db"))
    public var db: String?

    @Option(name: .customLong("db-password-file"), help: ArgumentHelp(
        "File holding PostgreSQL's password (or env LODE_DB_PASSWORD, config db.password_file / db.password).",
        valueName: "file"))
    public var dbPasswordFile: String?

    public init() {}

    /// Puts these flags into `flags`.
    public func apply(to flags: inout SettingsFlags) {
        flags.database = db
        flags.databasePasswordFile = dbPasswordFile
    }
}
