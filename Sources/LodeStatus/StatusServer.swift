import Hummingbird
import LodeProjections
import LodeWorker
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization

/// The worker's HTTP status endpoint, a `Service` of the worker's `ServiceGroup`:
///
/// - `GET /metrics`: every metric of `registry` in the Prometheus text format (version 0.0.4).
/// - `GET /healthz`: ``HealthResponse``, 200 or 503.
/// - `GET /` and `GET /status` (when a `statusPage` provider is given): ``StatusPage``, the
///   HTML status page of the snapshot the provider gathers; `?year=Y` picks the report's year.
///
/// It logs `metrics listening address=HOST:PORT` once it listens (with the port the system chose
/// when asked for port 0) and calls `onListening` with it, and stops on graceful shutdown. A
/// failure to listen throws ``StatusServerError``.
public struct StatusServer: Service {
    public let host: String
    public let port: Int
    private let registry: PrometheusCollectorRegistry
    private let health: @Sendable () -> WorkerHealth
    private let statusPage: (@Sendable (StatusRequest) async -> StatusSnapshot)?
    private let logger: Logger
    private let onListening: @Sendable (_ host: String, _ port: Int) -> Void

    /// The content type of `/metrics`.
    public static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    public init(host: String, port: Int, registry: PrometheusCollectorRegistry,
                health: @escaping @Sendable () -> WorkerHealth,
                statusPage: (@Sendable (StatusRequest) async -> StatusSnapshot)? = nil, logger: Logger,
                onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void = { _, _ in }) {
        self.host = host
        self.port = port
        self.registry = registry
        self.health = health
        self.statusPage = statusPage
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let router = Router()
        let registry = registry, health = health
        router.get("metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: Self.metricsContentType],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("healthz") { _, _ -> Response in
            let answer = HealthResponse(health())
            return Response(status: HTTPResponse.Status(code: answer.statusCode),
                            headers: [.contentType: "application/json", .cacheControl: "no-store"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body + "\n")))
        }
        if let statusPage {
            let page: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
                var year: Int?
                if let text = request.uri.queryParameters["year"] {
                    guard let parsed = ZoneReport.year(parsing: text) else {
                        return Response(status: .badRequest, headers: [.contentType: "text/plain; charset=utf-8"],
                                        body: ResponseBody(byteBuffer: ByteBuffer(string: "?year=\(ZoneReport.yearProblem(text))\n")))
                    }
                    year = parsed
                }
                let html = StatusPage.html(await statusPage(StatusRequest(year: year)))
                return Response(status: .ok, headers: [.contentType: StatusPage.contentType, .cacheControl: "no-store"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
            }
            router.get("/", use: page)
            router.get("status", use: page)
        }
        // Hummingbird's own lines (it logs its start at info) would repeat ours.
        var serverLogger = logger
        serverLogger.logLevel = .warning
        let listening = Mutex(false)
        let logger = logger, host = host, onListening = onListening
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port)),
            onServerRunning: { channel in
                listening.withLock { $0 = true }
                let boundHost = channel.localAddress?.ipAddress ?? host
                let boundPort = channel.localAddress?.port ?? port
                logger.info("metrics listening", metadata: ["address": "\(Self.join(boundHost, boundPort))"])
                onListening(boundHost, boundPort)
            },
            logger: serverLogger)
        do {
            try await application.run()
        } catch where !listening.withLock({ $0 }) {
            throw StatusServerError(address: Self.join(host, port), reason: Self.reason(error))
        }
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

    public var description: String {
        "cannot serve /metrics and /healthz on \(address): \(reason). Choose another address with --metrics-address (env LODE_METRICS_ADDRESS, config metrics.address), or 'off'"
    }
}
