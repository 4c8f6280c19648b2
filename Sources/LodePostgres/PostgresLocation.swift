import Foundation

/// Where a PostgreSQL store is: `postgres://USER@HOST:PORT/DBNAME[?sslmode=…]` (or
/// `postgresql://`), parsed.
///
/// The password never comes from here when the URL was typed on a command line (the settings
/// refuse it there); a URL from the environment or the config file may carry one, which is
/// kept apart and never printed: ``redacted`` is what logs and errors show.
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
    /// How the connection uses TLS, as libpq's `sslmode` names it.
    public enum TLSMode: String, Sendable, Hashable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without checking its certificate; plain otherwise
        /// (libpq's `allow` is the same here).
        case prefer
        /// TLS or nothing, without checking the certificate.
        case require
        /// TLS with a certificate signed by a trusted root (`sslrootcert`, or the system's),
        /// any host name.
        case verifyCA = "verify-ca"
        /// TLS with a trusted certificate for the URL's host name.
        case verifyFull = "verify-full"
    }

    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode
    /// `sslrootcert`: a PEM file of the roots to trust (`verify-ca`, `verify-full`).
    public var rootCertificateFile: String?
    /// `connect_timeout`, seconds.
    public var connectTimeoutSeconds: Int
    /// The password written in the URL, if any (see the type's note).
    public var passwordInURL: String?

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    public static func isPostgresURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// Parses `text`; the error never repeats the URL (it may hold a password).
    public init(parsing text: String) throws(PostgresLocationError) {
        guard let schemeEnd = text.range(of: "://"), Self.isPostgresURL(text) else {
            throw PostgresLocationError("a PostgreSQL URL starts with postgres:// or postgresql://")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        guard let at = rest.lastIndex(of: "@") else {
            throw PostgresLocationError("the URL names no user: write postgres://USER@HOST:PORT/DBNAME")
        }
        let userInfo = rest[..<at]
        let hostPort = rest[rest.index(after: at)...]
        if let colon = userInfo.firstIndex(of: ":") {
            user = try Self.decode(userInfo[..<colon], "user")
            passwordInURL = try Self.decode(userInfo[userInfo.index(after: colon)...], "password")
        } else {
            user = try Self.decode(userInfo, "user")
            passwordInURL = nil
        }
        guard !user.isEmpty else { throw PostgresLocationError("the URL's user is empty: write postgres://USER@HOST:PORT/DBNAME") }

        var hostText = hostPort
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else {
                throw PostgresLocationError("the URL's host: an IPv6 address in [ ] is not closed")
            }
            hostText = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw PostgresLocationError("the URL's host: unexpected text after the IPv6 address")
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            hostText = hostPort[..<colon]
            portText = hostPort[hostPort.index(after: colon)...]
        }
        host = try Self.decode(hostText, "host")
        guard !host.isEmpty else { throw PostgresLocationError("the URL names no host: write postgres://USER@HOST:PORT/DBNAME") }
        if let portText {
            guard let number = Int(portText), (1...65_535).contains(number) else {
                throw PostgresLocationError("the URL's port must be a number from 1 to 65535, got '\(portText)'")
            }
            port = number
        } else {
            port = 5432
        }
        let name = try Self.decode(path, "database name")
        guard !name.contains("/") else { throw PostgresLocationError("the URL's database name must not contain '/'") }
        database = name.isEmpty ? user : name

        tls = .prefer
        rootCertificateFile = nil
        connectTimeoutSeconds = 10
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let value = parts.count > 1 ? try Self.decode(parts[1], key) : ""
            switch key {
            case "sslmode":
                if value == "allow" {
                    tls = .prefer
                } else if let mode = TLSMode(rawValue: value) {
                    tls = mode
                } else {
                    throw PostgresLocationError(
                        "sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full; got '\(value)'")
                }
            case "sslrootcert":
                rootCertificateFile = value
            case "connect_timeout":
                guard let seconds = Int(value), (1...3_600).contains(seconds) else {
                    throw PostgresLocationError("connect_timeout must be a number of seconds from 1 to 3600, got '\(value)'")
                }
                connectTimeoutSeconds = seconds
            default:
                throw PostgresLocationError("unknown URL parameter '\(key)' (known: sslmode, sslrootcert, connect_timeout)")
            }
        }
    }

    /// The URL without its password: what logs and errors show.
    public var redacted: String {
        let hostText = host.contains(":") ? "[\(host)]" : host
        var text = "postgres://\(Self.encode(user))@\(hostText):\(port)/\(Self.encode(database))"
        var parameters: [String] = []
        if tls != .prefer { parameters.append("sslmode=\(tls.rawValue)") }
        if let rootCertificateFile { parameters.append("sslrootcert=\(Self.encode(rootCertificateFile, keeping: "/"))") }
        if connectTimeoutSeconds != 10 { parameters.append("connect_timeout=\(connectTimeoutSeconds)") }
        if !parameters.isEmpty { text += "?" + parameters.joined(separator: "&") }
        return text
    }

    public var description: String { redacted }

    private static func decode(_ text: Substring, _ what: String) throws(PostgresLocationError) -> String {
        guard let decoded = String(text).removingPercentEncoding else {
            throw PostgresLocationError("the URL's \(what) has a bad percent-escape")
        }
        return decoded
    }

    private static func encode(_ text: String, keeping kept: String = "") -> String {
        var allowed = CharacterSet.urlUserAllowed
        allowed.remove(charactersIn: ":@/?#[]&=+")
        allowed.insert(charactersIn: kept)
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// A PostgreSQL URL that cannot be used; its message never repeats the URL.
public struct PostgresLocationError: Error, Sendable, CustomStringConvertible {
    public let message: String

    init(_ message: String) { self.message = message }

    public var description: String { message }
}
