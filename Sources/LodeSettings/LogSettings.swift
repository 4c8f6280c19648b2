import ArgumentParser
import LodeLogging
import Logging

/// How an executable logs (contract section 2): `--log-format json|text` and `--log-level`, or
/// `LODE_LOG_FORMAT` and `LODE_LOG_LEVEL`, or the config file's `log.format` and `log.level`;
/// flags over environment over config file.
///
/// | setting | flag | environment | config key | default |
/// | --- | --- | --- | --- | --- |
/// | format | `--log-format` | `LODE_LOG_FORMAT` | `log.format` | `text` |
/// | level | `--log-level` | `LODE_LOG_LEVEL` | `log.level` | the program's own (`info` for the worker) |
public struct LogSettings: Sendable, Equatable {
    public var format: LogFormat
    /// `nil`: the program's own default.
    public var level: Logger.Level?
    /// Where each came from (`--log-format`, `LODE_LOG_LEVEL`, `FILE:LINE: log.format`, `the default`).
    public var formatOrigin: String
    public var levelOrigin: String

    public init(format: LogFormat = .text, level: Logger.Level? = nil,
                formatOrigin: String = SettingOrigin.builtIn, levelOrigin: String = SettingOrigin.builtIn) {
        self.format = format
        self.level = level
        self.formatOrigin = formatOrigin
        self.levelOrigin = levelOrigin
    }

    /// The level to log at: the one given, else `programDefault`.
    public func level(or programDefault: Logger.Level) -> Logger.Level { level ?? programDefault }

    /// Bootstraps swift-log for the process (once, in an executable's `run()`).
    public func bootstrap(defaultLevel: Logger.Level) {
        // Text lines are kept to one line whatever events put into them (OneLineLogHandler).
        LogOutput.bootstrap(format: format, level: level(or: defaultLevel), textLine: { OneLineLogHandler($0) })
    }

    /// Resolves the format and level; a bad value is a usage error for a flag (exit 64) and a
    /// configuration error otherwise (exit 78), naming where it was given.
    static func resolve(formatFlag: String?, levelFlag: String?, environment: (String) -> String?,
                        config: ConfigFile?) throws(SettingsError) -> LogSettings {
        var settings = LogSettings()
        func pick(_ flag: String?, _ flagName: String, _ variable: String, _ key: String)
            -> (value: String, origin: String, kind: SettingsError.Kind)? {
            if let flag { return (flag, flagName, .usage) }
            if let value = environment(variable) { return (value, variable, .config) }
            if let config, let entry = config.entries[key] {
                return (entry.value, "Config error: \(config.path):\(entry.line): \(key)", .config)
            }
            return nil
        }
        if let format = pick(formatFlag, "--log-format", "LODE_LOG_FORMAT", "log.format") {
            guard let value = LogFormat(rawValue: format.value.lowercased()) else {
                throw SettingsError(format.kind, "\(format.origin): the log format must be json or text, got '\(format.value)'")
            }
            settings.format = value
            settings.formatOrigin = SettingOrigin.strip(format.origin)
        }
        if let level = pick(levelFlag, "--log-level", "LODE_LOG_LEVEL", "log.level") {
            guard let value = LogOutput.level(named: level.value) else {
                throw SettingsError(level.kind, """
                    \(level.origin): the log level must be one of \(LogOutput.levelNames.joined(separator: ", ")), got '\(level.value)'
                    """)
            }
            settings.level = value
            settings.levelOrigin = SettingOrigin.strip(level.origin)
        }
        return settings
    }
}

/// Where a setting's value came from, as `lodectl doctor` prints it.
public enum SettingOrigin {
    public static let builtIn = "default"

    /// `Config error: FILE:LINE: key` → `FILE:LINE: key`.
    static func strip(_ origin: String) -> String {
        origin.hasPrefix("Config error: ") ? String(origin.dropFirst("Config error: ".count)) : origin
    }
}

/// The `--log-format` and `--log-level` flags every executable takes (part of ``BrokerOptions``).
public struct LogOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("log-format"), help: ArgumentHelp(
        "Log lines as text or json, one JSON object per line (env LODE_LOG_FORMAT, config log.format; default text).",
        valueName: "json|text"))
    public var format: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp(
        "Least severe level logged: trace, debug, info, notice, warning, error, critical (env LODE_LOG_LEVEL, config log.level).",
        valueName: "level"))
    public var level: String?

    public init() {}
}
