import Foundation
import LodeAMQP

/// Where `lode-worker` serves `/metrics` and `/healthz`: `HOST:PORT`, or `off`.
///
/// | flag | environment | config key | default |
/// | --- | --- | --- | --- |
/// | `--metrics-address` | `LODE_METRICS_ADDRESS` | `metrics.address` | `127.0.0.1:9464` |
///
/// `HOST` is an IPv4 address, a host name, or an IPv6 address in brackets (`[::1]:9464`); port 0
/// lets the system choose a free port (the worker logs the one it got). The default listens on
/// loopback only; any other address (`0.0.0.0:9464` for every interface) must be given.
public enum MetricsAddress: Sendable, Hashable, CustomStringConvertible {
    /// No HTTP endpoint.
    case off
    case listen(host: String, port: Int)

    public static let defaultPort = 9464
    public static let `default` = MetricsAddress.listen(host: "127.0.0.1", port: defaultPort)

    /// Parses `HOST:PORT` or `off`; the error says what is wrong, without the setting's name.
    public init(parsing text: String) throws(Invalid) {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text.lowercased() == "off" {
            self = .off
            return
        }
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw Invalid("an IPv6 address goes in brackets before the port, as [::1]:\(Self.defaultPort); got '\(text)'")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw Invalid("'\(host)' in brackets is not an IPv6 address")
            }
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw Invalid("must be HOST:PORT (such as 127.0.0.1:\(Self.defaultPort), or 0.0.0.0:\(Self.defaultPort) for every interface) or 'off', got '\(text)'")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else {
                throw Invalid("an IPv6 address goes in brackets, as [\(host)]:\(portText); got '\(text)'")
            }
            guard !host.isEmpty else {
                throw Invalid("give a host before the port (127.0.0.1\(text) for loopback only, 0.0.0.0\(text) for every interface), got '\(text)'")
            }
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") }) else {
                throw Invalid("'\(host)' is not a host name or an IP address")
            }
        }
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber),
              let port = Int(portText), port <= 65535 else {
            throw Invalid("the port must be a number 0...65535 (0: any free port), got '\(portText)'")
        }
        self = .listen(host: String(host), port: port)
    }

    /// Why a text is not a metrics address.
    public struct Invalid: Error, Sendable, Equatable {
        public let message: String
        init(_ message: String) { self.message = message }
    }

    /// `HOST:PORT` (an IPv6 host in brackets) or `off`: what ``init(parsing:)`` reads back.
    public var description: String {
        switch self {
        case .off: "off"
        case .listen(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    /// Reachable only from this machine: `localhost`, 127.0.0.0/8, `::1`.
    public var isLoopback: Bool {
        guard case .listen(let host, _) = self else { return true }
        return isLoopbackHost(host)
    }

    /// Resolves the address: the flag, else `LODE_METRICS_ADDRESS`, else the config file's
    /// `metrics.address`, else ``default``. A bad flag is a usage error (exit 64); a bad
    /// environment or config value a config error (exit 78), the config's with `FILE:LINE:`.
    public static func resolve(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                               config: ConfigFile?) throws(SettingsError) -> MetricsAddress {
        let origin: String, text: String, kind: SettingsError.Kind
        if let flag {
            (origin, text, kind) = ("--metrics-address", flag, .usage)
        } else if let value = environment["LODE_METRICS_ADDRESS"], !value.isEmpty {
            (origin, text, kind) = ("LODE_METRICS_ADDRESS", value, .config)
        } else if let config, let entry = config.entries["metrics.address"] {
            (origin, text, kind) = ("Config error: \(config.path):\(entry.line): 'metrics.address'", entry.value, .config)
        } else {
            return .default
        }
        do {
            return try MetricsAddress(parsing: text)
        } catch {
            throw SettingsError(kind, "\(origin) \(error.message)")
        }
    }
}
