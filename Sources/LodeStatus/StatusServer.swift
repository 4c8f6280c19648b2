import Hummingbird
import LodeProjections
import LodeWorker
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization

/// The worker's HTTP status endpoint, a `Service` of the worker's `ServiceGroup`. One server
/// listens on one address and serves what it is given:
///
/// - ``Metrics``: `GET /metrics`, every metric of the registry in the Prometheus text format
///   (version 0.0.4), and `GET /healthz`, ``HealthResponse``, 200 or 503.
/// - ``Page``: `GET /` and `GET /status`, ``StatusPage``, the HTML status page of the snapshot
///   its provider gathers; `?year=Y` picks the report's year.
///
/// The worker runs one server for both, or one for each on addresses of their own (metrics for
/// Prometheus on the network, the page on loopback or behind a proxy). Either may require a
/// bearer token (``BearerToken``): without `Authorization: Bearer TOKEN` its routes answer 401.
/// `/healthz` never asks for one.
///
/// It logs `metrics listening address=HOST:PORT` (or `status page listening`, for a page alone)
/// once it listens (with the port the system chose when asked for port 0) and calls
/// `onListening` with it, and stops on graceful shutdown. A failure to listen throws
/// ``StatusServerError``.
public struct StatusServer: Service {
    /// `/metrics` and `/healthz`.
    public struct Metrics: Sendable {
        public var registry: PrometheusCollectorRegistry
        public var health: @Sendable () -> WorkerHealth
        /// Required for `/metrics` when set.
        public var token: BearerToken?

        public init(registry: PrometheusCollectorRegistry, health: @escaping @Sendable () -> WorkerHealth, token: BearerToken? = nil) {
            self.registry = registry
            self.health = health
            self.token = token
        }
    }

    /// `/` and `/status`.
    public struct Page: Sendable {
        public var snapshot: @Sendable (StatusRequest) async -> StatusSnapshot
        /// Required when set.
        public var token: BearerToken?

        public init(snapshot: @escaping @Sendable (StatusRequest) async -> StatusSnapshot, token: BearerToken? = nil) {
            self.snapshot = snapshot
            self.token = token
        }
    }

    public let host: String
    public let port: Int
    private let metrics: Metrics?
    private let page: Page?
    private let logger: Logger
    private let onListening: @Sendable (_ host: String, _ port: Int) -> Void

    /// The content type of `/metrics`.
    public static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    public init(host: String, port: Int, metrics: Metrics?, page: Page?, logger: Logger,
                onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void = { _, _ in }) {
        self.host = host
        self.port = port
        self.metrics = metrics
        self.page = page
        self.logger = logger
        self.onListening = onListening
    }

    /// One server for `/metrics`, `/healthz` and, when `statusPage` is given, the page; no tokens.
    public init(host: String, port: Int, registry: PrometheusCollectorRegistry,
                health: @escaping @Sendable () -> WorkerHealth,
                statusPage: (@Sendable (StatusRequest) async -> StatusSnapshot)? = nil, logger: Logger,
                onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void = { _, _ in }) {
        self.init(host: host, port: port, metrics: Metrics(registry: registry, health: health),
                  page: statusPage.map { Page(snapshot: $0) }, logger: logger, onListening: onListening)
    }

    public func run() async throws {
        let router = Router()
        if let metrics {
            let registry = metrics.registry, health = metrics.health, token = metrics.token
            router.get("metrics") { request, _ -> Response in
                if let refusal = Self.refusal(request, token) { return refusal }
                return Response(status: .ok, headers: [.contentType: Self.metricsContentType],
                                body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
            }
            router.get("healthz") { _, _ -> Response in
                let answer = HealthResponse(health())
                return Response(status: HTTPResponse.Status(code: answer.statusCode),
                                headers: [.contentType: "application/json", .cacheControl: "no-store"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body + "\n")))
            }
        }
        if let page {
            let snapshot = page.snapshot, token = page.token
            let handler: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
                if let refusal = Self.refusal(request, token) { return refusal }
                var year: Int?
                if let text = request.uri.queryParameters["year"] {
                    guard let parsed = ZoneReport.year(parsing: text) else {
                        return Response(status: .badRequest, headers: [.contentType: "text/plain; charset=utf-8"],
                                        body: ResponseBody(byteBuffer: ByteBuffer(string: "?year=\(ZoneReport.yearProblem(text))\n")))
                    }
                    year = parsed
                }
                let html = StatusPage.html(await snapshot(StatusRequest(year: year)))
                return Response(status: .ok, headers: [.contentType: StatusPage.contentType, .cacheControl: "no-store"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
            }
            router.get("/", use: handler)
            router.get("status", use: handler)
        }
        // Hummingbird's own lines (it logs its start at info) would repeat ours.
        var serverLogger = logger
        serverLogger.logLevel = .warning
        let listening = Mutex(false)
        let logger = logger, host = host, onListening = onListening
        let what = metrics == nil ? "status page listening" : "metrics listening"
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                listening.withLock { $0 = true }
                let boundHost = channel.localAddress?.ipAddress ?? host
                let boundPort = channel.localAddress?.port ?? port
                logger.info("\(what)", metadata: ["address": "\(Self.join(boundHost, boundPort))"])
                onListening(boundHost, boundPort)
            },
            logger: serverLogger)
        do {
            try await application.run()
        } catch where !listening.withLock({ $0 }) {
            throw StatusServerError(address: Self.join(host, port), reason: Self.reason(error),
                                    setting: metrics == nil ? "--status-address (env LODE_STATUS_ADDRESS, config status.address)"
                                        : "--metrics-address (env LODE_METRICS_ADDRESS, config metrics.address)")
        }
    }

    /// 401 with a `WWW-Authenticate` challenge when `token` is set and the request does not carry
    /// it; `nil` when the request may go on.
    static func refusal(_ request: Request, _ token: BearerToken?) -> Response? {
        guard let token, !token.admits(request.headers[.authorization]) else { return nil }
        return Response(status: .unauthorized,
                        headers: [.contentType: "text/plain; charset=utf-8", .wwwAuthenticate: #"Bearer realm="lodestone""#,
                                  .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: "a bearer token is required: Authorization: Bearer TOKEN\n")))
    }

    /// `HOST:PORT`, the IPv6 host in brackets.
    static func join(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? IOError { return error.description }
        return "\(error)"
    }
}

/// The status endpoint cannot listen on its address (in use, not an address of this machine, a
/// host name that does not resolve).
public struct StatusServerError: Error, Sendable, CustomStringConvertible {
    public let address: String
    public let reason: String
    /// The setting that chose the address.
    public var setting = "--metrics-address (env LODE_METRICS_ADDRESS, config metrics.address)"

    public var description: String {
        let what = setting.hasPrefix("--status") ? "the status page" : "/metrics and /healthz"
        return "cannot serve \(what) on \(address): \(reason). Choose another address with \(setting), or 'off'"
    }
}

/// A bearer token (RFC 6750) an endpoint requires: `Authorization: Bearer TOKEN`, the scheme in
/// any case, the token compared in constant time. Never printed.
public struct BearerToken: Sendable, CustomStringConvertible {
    private let token: [UInt8]

    public init(_ token: String) {
        self.token = Array(token.utf8)
    }

    /// Whether an `Authorization` header value carries the token.
    public func admits(_ header: String?) -> Bool {
        guard let header else { return false }
        let bytes = Array(header.utf8)
        let scheme = Array("bearer ".utf8)
        guard bytes.count > scheme.count,
              zip(bytes.prefix(scheme.count), scheme).allSatisfy({ ($0 | 0x20) == $1 || ($0 == $1) }) else { return false }
        var given = bytes[scheme.count...].drop { $0 == 0x20 }
        while given.last == 0x20 { given = given.dropLast() }
        var difference = UInt8(given.count == token.count ? 0 : 1)
        for (index, byte) in token.enumerated() {
            let other = index < given.count ? given[given.startIndex + index] : 0
            difference |= byte ^ other
        }
        return difference == 0
    }

    public var description: String { "(bearer token, not shown)" }
}
