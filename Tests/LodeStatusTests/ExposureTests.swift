import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LodeProjections
@testable import LodeStatus
import LodeTestSupport
import LodeWorker
import Logging
import Prometheus
import Synchronization
import Testing

/// Item 5 of issue 13: the page and /metrics apart, each behind an optional bearer token; each
/// page request cheap.
@Suite("Exposure of the page and the metrics")
struct ExposureTests {
    static func get(_ url: String, bearer: String? = nil, authorization: String? = nil) async throws
        -> (status: Int, body: String, challenge: String?) {
        let answer = try await HTTPProbe.get(url, bearer: bearer, authorization: authorization)
        return (answer.status, answer.body, answer.challenge)
    }

    @Test func theMetricsAndThePageOnAddressesOfTheirOwnEachAskForItsToken() async throws {
        let factory = DescribedPrometheusFactory(registry: PrometheusCollectorRegistry())
        // One of the worker's metrics, so that a scrape has something to show.
        factory.makeCounter(label: "lode_worker_events_applied_total", dimensions: [("type", "zone.project.registered")]).increment(by: 3)
        let metricsPort = Mutex<Int?>(nil), pagePort = Mutex<Int?>(nil)
        let metrics = StatusServer(
            host: "127.0.0.1", port: 0,
            metrics: StatusServer.Metrics(registry: factory.registry, health: { WorkerHealth() }, token: BearerToken("m-token")),
            page: nil, logger: Logger(label: "test")) { _, port in metricsPort.withLock { $0 = port } }
        let page = StatusServer(
            host: "127.0.0.1", port: 0, metrics: nil,
            page: StatusServer.Page(snapshot: { request in StatusPageTests.snapshot(report: StatusPageTests.report(targets: []), year: request.year ?? 2024) },
                                    token: BearerToken("p-token")),
            logger: Logger(label: "test")) { _, port in pagePort.withLock { $0 = port } }
        try await withThrowingTaskGroup { group in
            group.addTask { try await metrics.run() }
            group.addTask { try await page.run() }
            #expect(await eventually(timeout: .seconds(60)) { metricsPort.withLock { $0 } != nil && pagePort.withLock { $0 } != nil })
            let m = "http://127.0.0.1:\(try #require(metricsPort.withLock { $0 }))"
            let p = "http://127.0.0.1:\(try #require(pagePort.withLock { $0 }))"

            let bare = try await Self.get("\(m)/metrics")
            #expect(bare.status == 401)
            #expect(bare.challenge == #"Bearer realm="lodestone""#)
            #expect(!bare.body.contains("m-token"))
            #expect(try await Self.get("\(m)/metrics", bearer: "p-token").status == 401, "the page's token is not the metrics'")
            #expect(try await Self.get("\(m)/metrics", bearer: "m-toke").status == 401)
            #expect(try await Self.get("\(m)/metrics", authorization: "Basic bS10b2tlbg==").status == 401)
            let scraped = try await Self.get("\(m)/metrics", bearer: "m-token")
            #expect(scraped.status == 200 && scraped.body.contains("lode_worker_"))
            #expect(try await Self.get("\(m)/metrics", authorization: "bearer   m-token").status == 200, "the scheme in any case")
            #expect(try await Self.get("\(m)/healthz").status == 503, "health is open: it answers, with no token")
            #expect(try await Self.get("\(m)/").status == 404, "no page on the metrics address")

            #expect(try await Self.get("\(p)/").status == 401)
            #expect(try await Self.get("\(p)/status?year=2024").status == 401)
            let shown = try await Self.get("\(p)/status?year=2024", bearer: "p-token")
            #expect(shown.status == 200 && shown.body.contains("2024"))
            #expect(try await Self.get("\(p)/metrics", bearer: "p-token").status == 404, "no metrics on the page's address")
            group.cancelAll()
        }
    }

    @Test func aTokenIsComparedWholeAndNeverPrinted() {
        let token = BearerToken("s3cret")
        #expect(token.admits("Bearer s3cret"))
        #expect(token.admits("BEARER s3cret"))
        #expect(!token.admits(nil))
        #expect(!token.admits("Bearer s3cre"))
        #expect(!token.admits("Bearer s3cretX"))
        #expect(!token.admits("Bearers3cret"))
        #expect(!token.admits("Token s3cret"))
        #expect(!"\(token)".contains("s3cret"))
    }

    @Test func requestsWithinTheLifetimeShareOneSnapshotAndConcurrentOnesOneGathering() async throws {
        let cache = SnapshotCache(lifetime: .seconds(60))
        let gatherings = Mutex(0)
        let gather: @Sendable () async -> StatusSnapshot = {
            gatherings.withLock { $0 += 1 }
            try? await Task.sleep(for: .milliseconds(200))
            return StatusPageTests.snapshot(year: 2024)
        }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { _ = await cache.snapshot(for: StatusRequest(year: nil), gather: gather) } }
        }
        #expect(gatherings.withLock { $0 } == 1)
        _ = await cache.snapshot(for: StatusRequest(year: 2023), gather: gather)
        #expect(gatherings.withLock { $0 } == 2, "another year is another snapshot")
        for year in 1990..<2010 { _ = await cache.snapshot(for: StatusRequest(year: year), gather: gather) }
        #expect(await cache.entryCount <= cache.capacity, "?year= cannot grow the cache without bound")

        let short = SnapshotCache(lifetime: .milliseconds(50))
        _ = await short.snapshot(for: StatusRequest(), gather: gather)
        try await Task.sleep(for: .milliseconds(120))
        _ = await short.snapshot(for: StatusRequest(), gather: gather)
        #expect(await short.gathered == 2, "an old snapshot is gathered again")
    }
}
