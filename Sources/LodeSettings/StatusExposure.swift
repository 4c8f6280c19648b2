import Foundation

/// Where `lode-worker` serves its status page and who may read it and `/metrics` (contract
/// section 2; docs/security.md):
///
/// | setting | flag | environment | config key | default |
/// | --- | --- | --- | --- | --- |
/// | the page's address | `--status-address` | `LODE_STATUS_ADDRESS` | `status.address` | `metrics`: with `/metrics` |
/// | the page's bearer token | | `LODE_STATUS_TOKEN`, `LODE_STATUS_TOKEN_FILE` | `status.token_file` | none |
/// | `/metrics`' bearer token | | `LODE_METRICS_TOKEN`, `LODE_METRICS_TOKEN_FILE` | `metrics.token_file` | none |
///
/// A token is never a flag (it would show in `ps`); a file's trailing line breaks are dropped.
/// `/healthz` is never behind a token: it says only whether the worker works, and why not.
public struct StatusExposure: Sendable, Equatable {
    /// Where the page is served.
    public enum PageAddress: Sendable, Hashable {
        /// With `/metrics`, on the metrics address.
        case withMetrics
        /// Not at all.
        case off
        /// On an address of its own.
        case listen(host: String, port: Int)
    }

    public var page: PageAddress
    /// Required as `Authorization: Bearer TOKEN` for `/` and `/status`, when set.
    public var pageToken: String?
    /// Required as `Authorization: Bearer TOKEN` for `/metrics`, when set.
    public var metricsToken: String?

    public init(page: PageAddress = .withMetrics, pageToken: String? = nil, metricsToken: String? = nil) {
        self.page = page
        self.pageToken = pageToken
        self.metricsToken = metricsToken
    }

    /// The keys of the config file's `status` section.
    public static let configKeys = ["address", "token_file"]

    /// Resolves the page's address (flag over environment over config) and both tokens
    /// (environment over config). A bad flag is a usage error (64), a bad environment or config
    /// value a config error (78), an unreadable token file exit 66 (the config's with its line).
    public static func resolve(
        flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment, config: ConfigFile?,
        readFile: (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
    ) throws(SettingsError) -> StatusExposure {
        func env(_ name: String) -> String? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        }
        let section = try config?.scalars(of: "status", keys: configKeys) ?? [:]
        var exposure = StatusExposure()

        let origin: String, text: String, kind: SettingsError.Kind
        if let flag {
            (origin, text, kind) = ("--status-address", flag, .usage)
        } else if let value = env("LODE_STATUS_ADDRESS") {
            (origin, text, kind) = ("LODE_STATUS_ADDRESS", value, .config)
        } else if let config, let entry = section["address"] {
            (origin, text, kind) = ("Config error: \(config.path):\(entry.line): 'status.address'", entry.value, .config)
        } else {
            (origin, text, kind) = ("", "metrics", .config)
        }
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "metrics", "same": exposure.page = .withMetrics
        case "off": exposure.page = .off
        default:
            do {
                switch try MetricsAddress(parsing: text) {
                case .off: exposure.page = .off
                case .listen(let host, let port): exposure.page = .listen(host: host, port: port)
                }
            } catch {
                throw SettingsError(kind, "\(origin) \(error.message), or 'metrics' to serve the page with /metrics")
            }
        }

        func token(variable: String, fileVariable: String, configKey: String, entry: ConfigFile.Entry?) throws(SettingsError) -> String? {
            if let value = env(variable) { return try checked(value, variable) }
            let path: String, where_: String, fileKind: SettingsError.Kind
            if let value = env(fileVariable) {
                (path, where_, fileKind) = (value, fileVariable, .unreadableFile)
            } else if let config, let entry {
                (path, where_, fileKind) = (entry.value, "Config error: \(config.path):\(entry.line): \(configKey)", .unreadableFile)
            } else {
                return nil
            }
            let text: String
            do {
                text = try readFile(path)
            } catch {
                throw SettingsError(fileKind, "\(where_): cannot read token file \(path): \(ConfigFile.reason(error))")
            }
            var token = Substring(text)
            while let last = token.last, last == "\n" || last == "\r" { token.removeLast() }
            guard !token.isEmpty else { throw SettingsError(.config, "\(where_): token file \(path) is empty") }
            return try checked(String(token), where_)
        }
        /// A bearer token (RFC 6750) is visible ASCII: one that is not could never match a header.
        func checked(_ token: String, _ where_: String) throws(SettingsError) -> String {
            guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw SettingsError(.config, "\(where_): the token must be visible ASCII characters, without spaces (not shown)")
            }
            return token
        }
        exposure.pageToken = try token(variable: "LODE_STATUS_TOKEN", fileVariable: "LODE_STATUS_TOKEN_FILE",
                                       configKey: "status.token_file", entry: section["token_file"])
        exposure.metricsToken = try token(variable: "LODE_METRICS_TOKEN", fileVariable: "LODE_METRICS_TOKEN_FILE",
                                          configKey: "metrics.token_file", entry: config?.entries["metrics.token_file"])
        return exposure
    }
}
