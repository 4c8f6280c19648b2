import Foundation
import LodeAMQP
import LodeEvents

/// The settings every Lodestone executable shares, resolved from flags, the environment and the
/// config file, in that order of precedence (contract section 2).
///
/// | setting | flag | environment | config key |
/// | --- | --- | --- | --- |
/// | broker URL | `--url` | `LODE_AMQP_URL` | `amqp.url` |
/// | broker password | `--password-file` | `LODE_AMQP_PASSWORD`, `LODE_AMQP_PASSWORD_FILE` | `amqp.password`, `amqp.password_file` |
/// | database | `--db` | `LODE_DB` | `db` (or `db.url`) |
/// | database password (PostgreSQL) | `--db-password-file` | `LODE_DB_PASSWORD`, `LODE_DB_PASSWORD_FILE` | `db.password`, `db.password_file` |
/// | config file | `--config` | `LODE_CONFIG` | |
/// | log format, level | `--log-format`, `--log-level` | `LODE_LOG_FORMAT`, `LODE_LOG_LEVEL` | `log.format`, `log.level` |
/// | language people read | `--lang` | `LODE_LANG` | `language` |
///
/// A password written inside the `--url` or `--db` flag is refused (it would show in `ps` and in
/// shell history); in `LODE_AMQP_URL`, `LODE_DB` or the config file it is accepted, at that
/// source's precedence.
public struct CommonSettings: Sendable {
    /// Where and how to reach the broker, password included (never printed: see
    /// `ConnectionSettings.redactedURL`).
    public var connection: ConnectionSettings
    /// `--db` / `LODE_DB` / `db`, when given; the program chooses its default otherwise.
    public var database: String?
    /// PostgreSQL's password, read only when ``database`` is a `postgres://` URL; never printed.
    public var databasePassword: String?
    /// The zone's time zone (config `timezone`), default `Asia/Shanghai`.
    public var timezone: String
    /// The config file read, if any.
    public var config: ConfigFile?
    /// How the program logs (``LogSettings``).
    public var log = LogSettings()
    /// Where each value came from, for `lodectl doctor`: keys `url`, `password`, `db`, `config`,
    /// `timezone`; values such as `--url`, `LODE_AMQP_PASSWORD`, `/etc/lodestone/lodestone.yaml:3: amqp.url`
    /// or `default`. Never a value itself.
    public var origins: [String: String] = [:]
    /// What people read is written in (`--lang` / `LODE_LANG` / `language`), default Simplified Chinese.
    public var language: ZoneLanguage = .default

    public static let defaultTimezone = "Asia/Shanghai"
}

/// The flag values of the common settings, as given on the command line (`nil`: not given).
public struct SettingsFlags: Sendable, Equatable {
    public var url: String?
    public var passwordFile: String?
    public var config: String?
    public var database: String?
    public var databasePasswordFile: String?
    public var logFormat: String?
    public var logLevel: String?
    public var language: String?

    public init(url: String? = nil, passwordFile: String? = nil, config: String? = nil, database: String? = nil,
                databasePasswordFile: String? = nil, logFormat: String? = nil, logLevel: String? = nil,
                language: String? = nil) {
        self.url = url
        self.passwordFile = passwordFile
        self.config = config
        self.database = database
        self.databasePasswordFile = databasePasswordFile
        self.logFormat = logFormat
        self.logLevel = logLevel
        self.language = language
    }
}

extension CommonSettings {
    /// Where a value came from, in increasing precedence.
    enum Level: Int, Comparable {
        case builtIn, configFile, environment, flag
        static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    /// Resolves the settings: flags over environment over config file over built-in defaults.
    ///
    /// - Parameters:
    ///   - needsBroker: false for commands that never connect (a report from the database):
    ///     the broker's password is then not read, so a password file they cannot read is no error.
    ///   - readFile: reads a password file (injectable for tests).
    public static func resolve(
        flags: SettingsFlags, environment: [String: String] = ProcessInfo.processInfo.environment,
        needsBroker: Bool = true,
        readFile: (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
    ) throws(SettingsError) -> CommonSettings {
        func env(_ name: String) -> String? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        }
        let configPath = flags.config ?? env("LODE_CONFIG")
        let config = try configPath.map { path throws(SettingsError) in try ConfigFile.load(path: path) }

        // The URL.
        let url: (text: String, level: Level, origin: String)
        if let flag = flags.url {
            url = (flag, .flag, "--url")
        } else if let value = env("LODE_AMQP_URL") {
            url = (value, .environment, "LODE_AMQP_URL")
        } else if let config, let entry = config.entries["amqp.url"] {
            url = (entry.value, .configFile, "\(config.path):\(entry.line): amqp.url")
        } else {
            url = (ConnectionSettings.defaultURL, .builtIn, "the default URL")
        }
        var connection: ConnectionSettings
        do {
            connection = try ConnectionSettings(url: url.text)
        } catch {
            // The parser's messages never repeat the URL or its password.
            let kind: SettingsError.Kind = url.level == .flag ? .usage : .config
            let message: String
            if case .invalidSettings(let text) = error.kind { message = text } else { message = error.description }
            throw SettingsError(kind, "\(url.origin): \(message)")
        }
        if url.level == .flag, connection.urlHadPassword {
            throw SettingsError(.usage, """
                --url must not contain a password: command lines show in `ps` and in shell history. \
                Give the URL without it (\(connection.redactedURL)) and the \
                password in the environment variable LODE_AMQP_PASSWORD, in a file named by --password-file \
                (or LODE_AMQP_PASSWORD_FILE), or as amqp.password in the config file.
                """)
        }

        // The password: the source of highest precedence wins; at one level an explicit
        // password beats one inside that level's URL.
        func readPassword(_ path: String, _ origin: String, _ kind: SettingsError.Kind) throws(SettingsError) -> String {
            let text: String
            do {
                text = try readFile(path)
            } catch {
                throw SettingsError(kind == .usage ? .unreadableFile : kind,
                                    "\(origin): cannot read password file \(path): \(ConfigFile.reason(error))")
            }
            var password = Substring(text)
            while let last = password.last, last == "\n" || last == "\r" { password.removeLast() }
            guard !password.isEmpty else {
                throw SettingsError(kind == .usage ? .usage : kind, "\(origin): password file \(path) is empty")
            }
            return String(password)
        }
        var password: String?
        var passwordOrigin = connection.urlHadPassword ? url.origin : SettingOrigin.builtIn
        if !needsBroker {
            // Nothing below runs: the connection keeps the URL's password, if any.
        } else if let path = flags.passwordFile {
            password = try readPassword(path, "--password-file", .usage)
            passwordOrigin = "--password-file \(path)"
        }
        // A URL's own password counts at its URL's level: a password in LODE_AMQP_URL beats
        // amqp.password in the config file, and loses to LODE_AMQP_PASSWORD.
        if password == nil, needsBroker {
            if let value = env("LODE_AMQP_PASSWORD") {
                password = value
                passwordOrigin = "LODE_AMQP_PASSWORD"
            } else if let path = env("LODE_AMQP_PASSWORD_FILE") {
                password = try readPassword(path, "LODE_AMQP_PASSWORD_FILE", .config)
                passwordOrigin = "LODE_AMQP_PASSWORD_FILE \(path)"
            }
        }
        if password == nil, needsBroker, url.level <= .configFile || !connection.urlHadPassword, let config {
            if let entry = config.entries["amqp.password"] {
                password = entry.value
                passwordOrigin = "\(config.path):\(entry.line): amqp.password"
            } else if let entry = config.entries["amqp.password_file"] {
                password = try readPassword(entry.value, "Config error: \(config.path):\(entry.line): amqp.password_file", .config)
                passwordOrigin = "\(config.path):\(entry.line): amqp.password_file \(entry.value)"
            }
        }
        if let password { connection.password = password }

        let database: String? = flags.database ?? env("LODE_DB") ?? config?.entries["db"]?.value
        var databasePassword: String?
        if let database, Self.isPostgresURL(database) {
            if flags.database != nil, Self.postgresURLHasPassword(database) {
                throw SettingsError(.usage, """
                    --db must not contain a password: command lines show in `ps` and in shell history. \
                    Give the URL without it (postgres://USER@HOST:PORT/DBNAME) and the password in the environment \
                    variable LODE_DB_PASSWORD, in a file named by --db-password-file (or LODE_DB_PASSWORD_FILE), or as \
                    db.password_file or db.password in the config file.
                    """)
            }
            if let path = flags.databasePasswordFile {
                databasePassword = try readPassword(path, "--db-password-file", .usage)
            } else if let value = env("LODE_DB_PASSWORD") {
                databasePassword = value
            } else if let path = env("LODE_DB_PASSWORD_FILE") {
                databasePassword = try readPassword(path, "LODE_DB_PASSWORD_FILE", .config)
            } else if let config, let entry = config.entries["db.password"] {
                databasePassword = entry.value
            } else if let config, let entry = config.entries["db.password_file"] {
                databasePassword = try readPassword(entry.value, "Config error: \(config.path):\(entry.line): db.password_file", .config)
            }
        }
        let timezone = config?.entries["timezone"]?.value ?? defaultTimezone
        if let config, let entry = config.entries["timezone"] {
            do {
                _ = try ZoneCalendar(timeZoneIdentifier: entry.value)
            } catch {
                throw SettingsError(.config, """
                    Config error: \(config.path):\(entry.line): 'timezone' must be an IANA time zone such as \
                    Asia/Shanghai, got '\(entry.value)'
                    """)
            }
        }
        var settings = CommonSettings(connection: connection, database: database, databasePassword: databasePassword,
                                      timezone: timezone, config: config)
        settings.language = try resolveLanguage(flags: flags, environment: env, config: config)
        settings.log = try LogSettings.resolve(formatFlag: flags.logFormat, levelFlag: flags.logLevel, environment: env,
                                               config: config)
        func configOrigin(_ key: String) -> String? {
            config.flatMap { config in config.entries[key].map { "\(config.path):\($0.line): \(key)" } }
        }
        settings.origins = [
            "url": url.level == .builtIn ? SettingOrigin.builtIn : SettingOrigin.strip(url.origin),
            "password": SettingOrigin.strip(passwordOrigin),
            "config": flags.config != nil ? "--config" : env("LODE_CONFIG") != nil ? "LODE_CONFIG" : "none",
            "db": flags.database != nil ? "--db" : env("LODE_DB") != nil ? "LODE_DB" : configOrigin("db") ?? SettingOrigin.builtIn,
            "timezone": configOrigin("timezone") ?? SettingOrigin.builtIn,
        ]
        return settings
    }

    /// Whether `text` names a PostgreSQL database.
    static func isPostgresURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// Whether a `postgres://` URL holds a password (`USER:PASSWORD@`).
    static func postgresURLHasPassword(_ text: String) -> Bool {
        guard let scheme = text.range(of: "://") else { return false }
        let rest = text[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@") else { return false }
        return authority[..<at].contains(":")
    }
}

extension CommonSettings {
    /// `--lang` over `LODE_LANG` over the config file's `language`, default `zh-Hans`.
    static func resolveLanguage(flags: SettingsFlags, environment env: (String) -> String?,
                                config: ConfigFile?) throws(SettingsError) -> ZoneLanguage {
        let given: (text: String, kind: SettingsError.Kind, origin: String)
        if let flag = flags.language {
            given = (flag, .usage, "--lang")
        } else if let value = env("LODE_LANG") {
            given = (value, .config, "LODE_LANG")
        } else if let config, let entry = config.entries["language"] {
            given = (entry.value, .config, "Config error: \(config.path):\(entry.line): 'language'")
        } else {
            return .default
        }
        guard let language = ZoneLanguage(tag: given.text) else {
            throw SettingsError(given.kind, "\(given.origin) must be one of \(ZoneLanguage.tags), got '\(given.text)'")
        }
        return language
    }
}
