import Foundation
@testable import LodeAMQP
import LodeEvents
import LodeStatus
import LodeStorage
@testable import LodeWorker
import Prometheus
import Testing

@Suite("The worker's metrics in the Prometheus text format")
struct MetricsTests {
    static func delivery(_ body: String, tag: UInt64) -> Delivery {
        Delivery(tag: DeliveryTag(value: tag, connection: 1), redelivered: false, exchange: "lode.events",
                 routingKey: "zone.project.status_changed", consumerTag: "test",
                 properties: MessageProperties(contentType: "application/cloudevents+json", deliveryMode: 2),
                 body: Array(body.utf8))
    }

    static func statusChanged(_ id: String) -> String {
        #"{"specversion":"1.0","id":"\#(id)","source":"bt-dept/projects","type":"zone.project.status_changed","time":"2024-05-05T10:00:00+08:00","data":{"project_id":"BT-1","status":"started"}}"#
    }

    @Test func aBatchIsCountedByTypeWithHelpTextsAndHistograms() throws {
        let factory = DescribedPrometheusFactory(registry: PrometheusCollectorRegistry())
        let metrics = WorkerMetrics(factory: factory)
        let decoded = DecodedDeliveries([
            Self.delivery(Self.statusChanged("a"), tag: 1),
            Self.delivery(Self.statusChanged("b"), tag: 2),
            Self.delivery("not json", tag: 3),
            Self.delivery(#"{"specversion":"1.0","id":"c","source":"s","type":"zone.project.registered","time":"2024-01-01T00:00:00Z","data":{}}"#, tag: 4),
        ])
        metrics.received(decoded)
        var step = BatchStep(events: decoded.events, eventDelivery: decoded.eventDelivery, rejected: decoded.rejected,
                             transactionEvents: 100, backoff: Backoff())
        #expect(step.next() == .apply(0..<2))
        step.applied(BatchOutcome(outcomes: [.applied(changedProjection: true), .duplicate]))
        metrics.committed(in: .milliseconds(3), cpu: .milliseconds(1))
        let before = Date().timeIntervalSince1970
        metrics.finished(step)
        let text = factory.registry.emitToString()
        let lines = Set(text.split(separator: "\n").map(String.init))

        for expected in [
            #"lode_worker_events_consumed_total{type="zone.project.status_changed"} 2"#,
            #"lode_worker_events_consumed_total{type="zone.project.registered"} 1"#,
            #"lode_worker_events_consumed_total{type="unknown"} 1"#,
            #"lode_worker_events_applied_total{type="zone.project.status_changed"} 1"#,
            #"lode_worker_events_duplicate_total{type="zone.project.status_changed"} 1"#,
            #"lode_worker_events_dead_lettered_total{type="unknown",reason="invalid_json"} 1"#,
            #"lode_worker_events_dead_lettered_total{type="zone.project.registered",reason="invalid_event"} 1"#,
            // Every type shows from the start, at zero.
            #"lode_worker_events_applied_total{type="zone.recruitment.site_visit"} 0"#,
            #"lode_worker_events_retried_total{type="zone.project.registered",cause="store_unavailable"} 0"#,
            "lode_worker_batch_events_count 1",
            #"lode_worker_stage_seconds_total{stage="apply"} 0.001"#,
            #"lode_worker_stage_seconds_total{stage="commit_wait"} 0.002"#,
            #"lode_worker_stage_seconds_total{stage="receive"} 0"#,
            "lode_worker_apply_seconds_count 1",
            "# TYPE lode_worker_events_applied_total counter",
            "# TYPE lode_worker_batch_events histogram",
            "# TYPE lode_worker_apply_seconds histogram",
            "# TYPE lode_worker_last_applied_timestamp_seconds gauge",
        ] {
            #expect(lines.contains(expected), "missing: \(expected)\n\(text)")
        }
        // Every metric has its help line.
        for description in WorkerMetrics.descriptions {
            #expect(lines.contains("# HELP \(description.name) \(description.help)"), "\(description.name)")
        }
        #expect(lines.contains(#"lode_worker_batch_events_bucket{le="5.0"} 1"#) || lines.contains(#"lode_worker_batch_events_bucket{le="5"} 1"#), "\(text)")
        let stamp = try #require(lines.first { $0.hasPrefix("lode_worker_last_applied_timestamp_seconds ") })
        let seconds = try #require(Double(stamp.split(separator: " ")[1]))
        #expect(abs(seconds - before) < 60)
    }

    @Test func storeFailuresAreCountedByKindAndTheWaitingEventsAsRetried() throws {
        let factory = DescribedPrometheusFactory(registry: PrometheusCollectorRegistry())
        let metrics = WorkerMetrics(factory: factory)
        let decoded = DecodedDeliveries([Self.delivery(Self.statusChanged("a"), tag: 1)])
        let locked = StorageError(kind: .unavailable, message: "database is locked", path: "zone.sqlite")
        metrics.paused(.store(locked), events: decoded.events[...], at: Date())
        metrics.paused(.store(locked), events: decoded.events[...], at: Date())
        metrics.paused(.store(StorageError(kind: .damaged, message: "malformed", path: "zone.sqlite")), events: [], at: Date())
        var text = factory.registry.emitToString()
        #expect(text.contains(#"lode_worker_events_retried_total{type="zone.project.status_changed",cause="store_unavailable"} 2"#), "\(text)")
        #expect(text.contains(#"lode_worker_store_failures_total{kind="unavailable"} 2"#), "\(text)")
        #expect(text.contains(#"lode_worker_store_failures_total{kind="damaged"} 1"#), "\(text)")
        #expect(text.contains("lode_worker_paused 1"), "\(text)")
        metrics.resumed()
        text = factory.registry.emitToString()
        #expect(text.contains("lode_worker_paused 0"), "\(text)")
    }

    @Test func aPauseShowsInHealthUntilItPasses() throws {
        let metrics = WorkerMetrics(factory: DescribedPrometheusFactory(registry: PrometheusCollectorRegistry()))
        metrics.record(.connection(.connected(heartbeat: 60)))
        #expect(metrics.health.isHealthy)
        metrics.paused(.store(StorageError(kind: .unavailable, message: "database is locked", path: "zone.sqlite")), events: [], at: Date())
        #expect(!metrics.health.isHealthy)
        #expect(metrics.health.storeError?.contains("database is locked") == true)
        #expect(metrics.health.storeFailingSince != nil)
        #expect(metrics.health.problems.first?.contains("consuming paused") == true)
        metrics.paused(.store(StorageError(kind: .damaged, message: "file is not a database", path: "zone.sqlite")), events: [], at: Date())
        #expect(metrics.health.storeDamaged)
        #expect(metrics.health.problems.contains { $0.contains("will not heal by itself") })
        metrics.paused(.deadLetterPublish("1 of 1: 1 nacked"), events: [], at: Date())
        #expect(metrics.health.storeError == nil && metrics.health.deadLetterError?.contains("nacked") == true)
        metrics.resumed()
        #expect(metrics.health.isHealthy)
        #expect(metrics.health.storeFailingSince == nil)
        metrics.record(.connection(.connectionLost(AMQPError(.connectionClosed(replyCode: 320, replyText: "CONNECTION_FORCED"), operation: "reading", endpoint: "amqp://x"))))
        #expect(metrics.health.broker.name == "disconnected")
        metrics.recordStopping()
        #expect(metrics.health.problems == ["shutting down"])
    }
}
