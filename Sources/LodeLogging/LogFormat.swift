import Logging

/// How the executables write their log lines to standard error.
public enum LogFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    /// swift-log's text lines: `2026-12-06T08:00:00+0000 info lode.worker: queue=lode.work consuming`.
    case text
    /// One JSON object per line, for log systems (journald's JSON export, Loki, Elasticsearch):
    /// `{"time":"2026-12-06T08:00:00.123Z","level":"info","logger":"lode.worker","message":"consuming","metadata":{"queue":"lode.work"}}`.
    case json

    public var description: String { rawValue }
}

/// Sets up the process's logging: the one place an executable bootstraps swift-log.
public enum LogOutput {
    /// Bootstraps swift-log once for the process: `format` lines to standard error, at `level`
    /// and above. Libraries log through the `Logger`s they are given.
    ///
    /// - Parameter textLine: wraps each text handler (the caller's escaping of what goes into a
    ///   line; a JSON line escapes by itself).
    public static func bootstrap(format: LogFormat, level: Logger.Level,
                                 textLine: @escaping @Sendable (any LogHandler) -> any LogHandler = { $0 }) {
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return textLine(handler)
            case .json:
                var handler = JSONLogHandler(label: label, sink: .standardError)
                handler.logLevel = level
                return handler
            }
        }
    }

    /// Parses a level name as swift-log spells them (`trace`, `debug`, `info`, `notice`, `warning`,
    /// `error`, `critical`); `warn` is taken for `warning`.
    public static func level(named name: String) -> Logger.Level? {
        let lowered = name.lowercased()
        if lowered == "warn" { return .warning }
        return Logger.Level(rawValue: lowered)
    }

    /// The level names, in increasing severity.
    public static let levelNames = Logger.Level.allCases.map(\.rawValue)
}
