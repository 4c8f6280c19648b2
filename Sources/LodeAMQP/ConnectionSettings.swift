/// One broker (a node of a cluster): where to open the TCP connection.
public struct BrokerEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, an IPv6 address in brackets.
    public var description: String { "\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}

/// Where and how to connect: parsed from an AMQP URI as RabbitMQ's URI spec defines it, or from
/// a comma-separated list of them, one per node of a cluster.
///
/// `amqp://user:pass@host:port/vhost?heartbeat=30&connection_timeout=5000`, with `amqps://`
/// for TLS. Every component is percent-decoded; no path means the default vhost `/`, a bare
/// `/` means the empty vhost name, and `%2F` is `/`. `description` never shows the password.
///
/// A list (`amqp://lode@node1:5672/%2F,amqp://lode@node2:5672/%2F`) names the brokers of one
/// cluster: the URLs must agree on everything but host and port (one set of credentials, one
/// vhost, one set of parameters). Connections try them in ``FailoverOrder``.
public struct ConnectionSettings: Sendable, CustomStringConvertible, CustomReflectable {
    public var useTLS: Bool
    /// The brokers, in the order given; never empty.
    public private(set) var brokers: [BrokerEndpoint]
    /// The first broker's host.
    public var host: String { brokers[0].host }
    /// The first broker's port.
    public var port: Int { brokers[0].port }
    public var vhost: String
    public var user: String
    public var password: String
    /// Requested heartbeat in seconds (0 disables); the broker may lower it. Default 60.
    public var heartbeat: Int
    /// TCP connect plus AMQP handshake limit. Default 10 s.
    public var connectionTimeout: Duration
    /// 0 lets the broker choose.
    public var channelMax: Int
    public var frameMax: Int
    public var tls: TLSSettings
    /// Shown in the management UI as the connection's name.
    public var connectionName: String?
    /// The longest any single call into the library may block before the socket is shut down.
    /// `nil`: twice the negotiated heartbeat, or 60 s without heartbeats.
    public var stallTimeout: Duration?
    /// Limit for one synchronous request (declare, qos, ...). Default 30 s.
    public var rpcTimeout: Duration

    /// Whether the URL itself carried a password (executables refuse that: it would show in `ps`).
    public private(set) var urlHadPassword = false

    public static let defaultURL = "amqp://guest:guest@127.0.0.1:5672/%2F"

    /// Parses one AMQP URL, or a comma-separated list of them (see the type's comment).
    public init(url: String) throws(AMQPError) {
        let texts = URLParser.splitList(url)
        guard texts.count > 1 else {
            self = try URLParser(url: url).parse()
            return
        }
        var parsed: [ConnectionSettings] = []
        for (index, text) in texts.enumerated() {
            let place = "broker \(index + 1) of \(texts.count) in the URL list"
            do throws(AMQPError) {
                parsed.append(try URLParser(url: text).parse())
            } catch {
                guard case .invalidSettings(let message) = error.kind else { throw error }
                throw URLParser.failure("\(place): \(message)")
            }
            let this = parsed[index]
            if let difference = parsed[0].differenceBesidesBrokers(from: this) {
                throw URLParser.failure("""
                    \(place) differs from broker 1 in its \(difference): the brokers of one cluster share \
                    the scheme, user, password, vhost and parameters; only host and port differ
                    """)
            }
            if let earlier = parsed[..<index].firstIndex(where: { $0.brokers == this.brokers }) {
                throw URLParser.failure("\(place) repeats broker \(earlier + 1) (\(this.brokers[0]))")
            }
        }
        self = parsed[0]
        brokers = parsed.flatMap(\.brokers)
        urlHadPassword = parsed.contains { $0.urlHadPassword }
    }

    init(useTLS: Bool, host: String, port: Int, vhost: String, user: String, password: String, urlHadPassword: Bool) {
        self.useTLS = useTLS
        brokers = [BrokerEndpoint(host: host, port: port)]
        self.vhost = vhost
        self.user = user
        self.password = password
        self.urlHadPassword = urlHadPassword
        heartbeat = 60
        connectionTimeout = .seconds(10)
        channelMax = 0
        frameMax = 131_072
        tls = TLSSettings()
        rpcTimeout = .seconds(30)
    }

    /// What weakens this connection's security, one sentence each, for the log at start (empty
    /// when nothing does): TLS without peer verification, or without the host name check.
    public var warnings: [String] {
        guard useTLS else { return [] }
        if !tls.verifyPeer {
            return ["TLS to \(redactedURL) does not verify the broker's certificate (verify=verify_none): anyone on the network path can pose as the broker and receive the password; use verify_peer with cacertfile"]
        }
        if !tls.verifyHostname {
            return ["TLS to \(redactedURL) does not check the broker's certificate against its host name (server_name_indication=disable): any certificate the CA signed is accepted"]
        }
        return []
    }

    /// The URL without its password (the list of them, comma-separated, for a cluster): safe
    /// for logs and error messages.
    public var redactedURL: String {
        brokers.map(redactedURL(of:)).joined(separator: ",")
    }

    /// One broker's URL without the password.
    public func redactedURL(of broker: BrokerEndpoint) -> String {
        "\(useTLS ? "amqps" : "amqp")://\(URLParser.encode(user))@\(broker)/\(URLParser.encode(vhost))"
    }

    /// What, besides the brokers, `other` sets differently (`nil`: nothing); never a value.
    func differenceBesidesBrokers(from other: ConnectionSettings) -> String? {
        let checks: [(Bool, String)] = [
            (useTLS == other.useTLS, "scheme"), (user == other.user, "user"), (password == other.password, "password"),
            (vhost == other.vhost, "vhost"), (heartbeat == other.heartbeat, "heartbeat"),
            (connectionTimeout == other.connectionTimeout, "connection_timeout"),
            (channelMax == other.channelMax, "channel_max"), (frameMax == other.frameMax, "frame_max"),
            (tls.caFile == other.tls.caFile, "cacertfile"), (tls.certificateFile == other.tls.certificateFile, "certfile"),
            (tls.keyFile == other.tls.keyFile, "keyfile"), (tls.verifyPeer == other.tls.verifyPeer, "verify"),
            (tls.verifyHostname == other.tls.verifyHostname, "server_name_indication"),
            (connectionName == other.connectionName, "connection_name"),
        ]
        return checks.first { !$0.0 }?.1
    }

    public var description: String { redactedURL }

    /// `dump` and debuggers show the settings without the password.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "url": redactedURL, "heartbeat": heartbeat, "connectionTimeout": connectionTimeout,
            "channelMax": channelMax, "frameMax": frameMax, "connectionName": connectionName as Any,
            "password": "(hidden)",
        ])
    }
}

/// TLS settings for `amqps://`. Peer and hostname verification are on by default.
public struct TLSSettings: Sendable {
    /// PEM file of the CA certificates to trust. librabbitmq 0.11 loads no system CA paths by
    /// itself, so when this is `nil` the system bundle (`/etc/ssl/certs/ca-certificates.crt`) is used.
    public var caFile: String?
    public var certificateFile: String?
    public var keyFile: String?
    public var verifyPeer = true
    public var verifyHostname = true

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
                verifyPeer: Bool = true, verifyHostname: Bool = true) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.verifyPeer = verifyPeer
        self.verifyHostname = verifyHostname
    }

    public static let systemCABundle = "/etc/ssl/certs/ca-certificates.crt"
}

/// Parses an AMQP URI. Error messages name the component but never repeat the URL, which may
/// hold a password.
struct URLParser {
    let url: String

    static let knownParameters = [
        "heartbeat", "connection_timeout", "channel_max", "frame_max",
        "cacertfile", "certfile", "keyfile", "verify", "server_name_indication", "connection_name",
    ]

    func fail(_ message: String) -> AMQPError {
        Self.failure(message)
    }

    static func failure(_ message: String) -> AMQPError {
        AMQPError(.invalidSettings(message), operation: "reading the broker URL", endpoint: "(not parsed)")
    }

    /// The URLs of a comma-separated list: a comma starts a new URL only where an `amqp://` or
    /// `amqps://` follows it (spaces around it allowed), so a comma inside a password or a
    /// parameter stays where it is. One URL gives a list of one.
    static func splitList(_ text: String) -> [String] {
        var urls: [String] = []
        var current = Substring(text)[...]
        var searchFrom = current.startIndex
        while let comma = current[searchFrom...].firstIndex(of: ",") {
            let after = current[current.index(after: comma)...].drop { $0 == " " }
            let lowered = after.prefix(8).lowercased()
            if lowered.hasPrefix("amqp://") || lowered.hasPrefix("amqps://") {
                urls.append(String(current[..<comma].trimmingSpaces))
                current = after
                searchFrom = current.startIndex
            } else {
                searchFrom = current.index(after: comma)
            }
        }
        urls.append(String(current.trimmingSpaces))
        return urls
    }

    func parse() throws(AMQPError) -> ConnectionSettings {
        guard let schemeEnd = url.range(of: "://") else {
            throw fail("the broker URL must start with amqp:// or amqps://")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let useTLS: Bool
        switch scheme {
        case "amqp": useTLS = false
        case "amqps": useTLS = true
        default:
            // Quote the scheme only when it looks like one: a malformed URL may hold credentials there.
            let looksLikeScheme = scheme.count <= 16 && scheme.allSatisfy { $0.isLetter || $0.isNumber || "+-.".contains($0) }
            throw fail("unsupported URL scheme\(looksLikeScheme ? " '\(scheme)'" : ""): use amqp:// or amqps://")
        }
        var rest = Substring(url[schemeEnd.upperBound...])
        var query: Substring?
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        if rest.contains("#") { throw fail("the broker URL must not have a fragment ('#')") }
        var authority = rest
        var path: Substring?
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }
        // `amqp://u:12/34@h`: an '@' after the authority ended means a user-info with a raw '/'
        // (or '?'): read literally, the password would become a host and port. Refused, unquoted.
        if path?.contains("@") == true || query?.contains("@") == true {
            throw fail("the broker URL has an '@' after its host part: a user name or password with '/', '?', '#' or '@' must be percent-encoded (%2F, %3F, %23, %40)")
        }

        var user = "guest"
        var password = "guest"
        var hadPassword = false
        var hostPort = authority
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = try decode(userInfo[..<colon], "user name")
                password = try decode(userInfo[userInfo.index(after: colon)...], "password")
                hadPassword = true
            } else {
                user = try decode(userInfo, "user name")
            }
        }

        var host: String
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw fail("unterminated IPv6 address in the broker URL") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw fail("unexpected text after the IPv6 address in the broker URL")
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = try decode(hostPort[..<colon], "host")
            portText = hostPort[hostPort.index(after: colon)...]
        } else {
            host = try decode(hostPort, "host")
        }
        if host.isEmpty { host = "localhost" }
        if host.contains(",") {
            throw fail("""
                a host in the broker URL holds a comma: give each broker of a cluster a whole URL, \
                comma-separated (amqp://user@node1:5672/%2F,amqp://user@node2:5672/%2F)
                """)
        }

        var port = useTLS ? 5671 : 5672
        if let portText, !portText.isEmpty {
            guard let value = Int(portText), (1...65535).contains(value) else {
                // Not quoted: in a malformed URL the "port" may be the password.
                throw fail("the port in the broker URL must be a number 1...65535 (a password with ':', '/', '?', '#' or '@' must be percent-encoded)")
            }
            port = value
        }

        var vhost = "/"
        if let path {
            if path.contains("/") {
                throw fail("the vhost in the broker URL must be one path segment; write '/' inside it as %2F")
            }
            vhost = try decode(path, "vhost")
        }

        var settings = ConnectionSettings(
            useTLS: useTLS, host: host, port: port, vhost: vhost,
            user: user, password: password, urlHadPassword: hadPassword)
        if let query, !query.isEmpty {
            for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = try decode(parts[0], "parameter name")
                let value = parts.count > 1 ? try decode(parts[1], "parameter '\(key)'") : ""
                try apply(key: key, value: value, to: &settings)
            }
        }
        return settings
    }

    private func apply(key: String, value: String, to settings: inout ConnectionSettings) throws(AMQPError) {
        func integer(_ range: ClosedRange<Int>) throws(AMQPError) -> Int {
            guard let number = Int(value), range.contains(number) else {
                throw fail("URL parameter '\(key)' must be an integer in \(range.lowerBound)...\(range.upperBound), got \(quoted(value))")
            }
            return number
        }
        switch key {
        case "heartbeat": settings.heartbeat = try integer(0...65535)
        case "connection_timeout": settings.connectionTimeout = .milliseconds(try integer(1...3_600_000))
        case "channel_max": settings.channelMax = try integer(0...65535)
        case "frame_max": settings.frameMax = try integer(4096...(1 << 31 - 1))
        case "cacertfile": settings.tls.caFile = value
        case "certfile": settings.tls.certificateFile = value
        case "keyfile": settings.tls.keyFile = value
        case "verify":
            switch value {
            case "verify_peer": settings.tls.verifyPeer = true
            case "verify_none": settings.tls.verifyPeer = false; settings.tls.verifyHostname = false
            default: throw fail("URL parameter 'verify' must be verify_peer or verify_none, got \(quoted(value))")
            }
        case "server_name_indication":
            if value == "disable" { settings.tls.verifyHostname = false }
        case "connection_name": settings.connectionName = value
        default:
            throw fail("unknown URL parameter \(quoted(key)) (known: \(Self.knownParameters.joined(separator: ", ")))")
        }
    }

    /// `text` in quotes, unless it appears in the URL's user-info part, where a password lives.
    private func quoted(_ text: String) -> String {
        guard let schemeEnd = url.range(of: "://"), let at = url.range(of: "@", options: .backwards),
              at.lowerBound > schemeEnd.upperBound
        else { return "'\(text)'" }
        let userInfo = url[schemeEnd.upperBound..<at.lowerBound]
        return userInfo.contains(text) ? "a value not shown (it may hold the password)" : "'\(text)'"
    }

    private func decode(_ text: Substring, _ what: String) throws(AMQPError) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%") {
                guard iterator.count >= 2,
                      let high = hexValue(iterator.popFirst()!), let low = hexValue(iterator.popFirst()!)
                else { throw fail("bad percent-encoding in the \(what) of the broker URL") }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw fail("the \(what) of the broker URL is not valid UTF-8 once decoded")
        }
        return string
    }

    private func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func encode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF")
                result.append("%")
                result.append(hex[Int(byte >> 4)])
                result.append(hex[Int(byte & 0xF)])
            }
        }
        return result
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        guard let first = firstIndex(where: { $0 != " " }), let last = lastIndex(where: { $0 != " " }) else { return "" }
        return self[first...last]
    }
}
