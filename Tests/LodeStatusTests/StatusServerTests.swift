import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LodeAMQP
import LodeStatus
import LodeTestSupport
@testable import LodeWorker
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing

@Suite("The status endpoint over HTTP")
struct StatusServerTests {
    /// GET `url` and return the status, the content type and the body.
    static func get(_ url: String) async throws -> (status: Int, contentType: String, body: String) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.connectionProxyDictionary = [:]
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await session.data(from: URL(string: url)!)
        let http = try #require(response as? HTTPURLResponse)
        return (http.statusCode, http.value(forHTTPHeaderField: "Content-Type") ?? "", String(decoding: data, as: UTF8.self))
    }

    @Test func servesMetricsAndHealthOnTheChosenLoopbackPort() async throws {
        let factory = DescribedPrometheusFactory(registry: PrometheusCollectorRegistry())
        let metrics = WorkerMetrics(factory: factory)
        let bound = Mutex<Int?>(nil)
        let server = StatusServer(host: "127.0.0.1", port: 0, registry: factory.registry, health: { metrics.health },
                                  logger: Logger(label: "test")) { _, port in bound.withLock { $0 = port } }
        try await withThrowingTaskGroup { group in
            group.addTask { try await server.run() }
            #expect(await eventually(timeout: .seconds(60)) { bound.withLock { $0 } != nil })
            let port = try #require(bound.withLock { $0 })
            #expect(port != 0)

            let scraped = try await Self.get("http://127.0.0.1:\(port)/metrics")
            #expect(scraped.status == 200)
            #expect(scraped.contentType == "text/plain; version=0.0.4; charset=utf-8")
            #expect(scraped.body.contains(#"lode_worker_events_applied_total{type="zone.project.registered"} 0"#))

            let starting = try await Self.get("http://127.0.0.1:\(port)/healthz")
            #expect(starting.status == 503)
            #expect(starting.contentType == "application/json")
            #expect(starting.body.contains("not connected to the broker yet"))

            metrics.record(.connection(.connected(heartbeat: 60)))
            let healthy = try await Self.get("http://127.0.0.1:\(port)/healthz")
            #expect(healthy.status == 200)
            #expect(healthy.body.contains(#""status":"ok""#))

            #expect(try await Self.get("http://127.0.0.1:\(port)/nothing-here").status == 404)
            group.cancelAll()
        }
    }

    @Test func anAddressInUseIsAnErrorThatSaysWhatToDo() async throws {
        let factory = DescribedPrometheusFactory(registry: PrometheusCollectorRegistry())
        let bound = Mutex<Int?>(nil)
        let first = StatusServer(host: "127.0.0.1", port: 0, registry: factory.registry, health: { WorkerHealth() },
                                 logger: Logger(label: "test")) { _, port in bound.withLock { $0 = port } }
        try await withThrowingTaskGroup { group in
            group.addTask { try await first.run() }
            #expect(await eventually(timeout: .seconds(60)) { bound.withLock { $0 } != nil })
            let port = try #require(bound.withLock { $0 })
            let second = StatusServer(host: "127.0.0.1", port: port, registry: factory.registry, health: { WorkerHealth() },
                                      logger: Logger(label: "test"))
            await #expect {
                try await second.run()
            } throws: { error in
                guard let error = error as? StatusServerError else { return false }
                return error.address == "127.0.0.1:\(port)" && error.description.contains("--metrics-address")
            }
            group.cancelAll()
        }
    }
}
