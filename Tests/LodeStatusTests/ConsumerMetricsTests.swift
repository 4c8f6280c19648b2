import Foundation
@testable import LodeAMQP
import LodeNotifications
import LodeStatus
@testable import LodeWorker
import Prometheus
import Testing

@Suite("The worker's queue, outbox and connection metrics")
struct ConsumerMetricsTests {
    @Test func everyNewSeriesShowsFromTheStartAtZero() {
        let factory = DescribedPrometheusFactory(registry: PrometheusCollectorRegistry())
        _ = WorkerMetrics(factory: factory)
        let lines = Set(factory.registry.emitToString().split(separator: "\n").map(String.init))
        for expected in [
            #"lode_worker_queue_ready_messages{queue="lode.work"} 0.0"#,
            #"lode_worker_queue_ready_messages{queue="lode.dead"} 0.0"#,
            #"lode_worker_queue_consumers{queue="lode.work"} 0.0"#,
            #"lode_worker_queue_consumers{queue="lode.dead"} 0.0"#,
            "lode_worker_oldest_unapplied_age_seconds 0.0",
            #"lode_worker_outbox_notifications{state="pending"} 0.0"#,
            #"lode_worker_outbox_notifications{state="failed"} 0.0"#,
            "lode_worker_broker_connected 0.0",
            #"lode_worker_reconnects_total{cause="connection_lost"} 0"#,
            #"lode_worker_reconnects_total{cause="consumer_stalled"} 0"#,
            #"lode_worker_reconnects_total{cause="consumer_cancelled"} 0"#,
            "lode_worker_consumer_stalls_total 0",
            "# TYPE lode_worker_reconnects_total counter",
            "# TYPE lode_worker_queue_ready_messages gauge",
        ] {
            #expect(lines.contains(expected), "missing: \(expected)")
        }
    }

    @Test func connectionEventsSetTheConnectedGaugeAndCountReconnectsByCause() {
        let factory = DescribedPrometheusFactory(registry: PrometheusCollectorRegistry())
        let metrics = WorkerMetrics(factory: factory)
        func text() -> String { factory.registry.emitToString() }
        metrics.record(.connection(.connected(heartbeat: 60)))
        #expect(text().contains("lode_worker_broker_connected 1.0\n"))
        metrics.record(.connection(.connectionLost(AMQPError(.connectionClosed(replyCode: 320, replyText: "CONNECTION_FORCED"), operation: "reading", endpoint: "amqp://x"))))
        #expect(text().contains("lode_worker_broker_connected 0.0\n"))
        metrics.record(.connection(.connected(heartbeat: 60)))
        metrics.record(.cancelledByBroker(consumerTag: "amq.ctag-1"))
        #expect(metrics.health.broker == .cancelledByBroker)
        #expect(text().contains("lode_worker_broker_connected 1.0\n"), "the connection is still open")
        metrics.recordResubscribed()
        #expect(metrics.health.broker == .connected)
        metrics.recordStall("no deliveries")
        #expect(metrics.health.broker.name == "disconnected")
        let scraped = text()
        #expect(scraped.contains(#"lode_worker_reconnects_total{cause="connection_lost"} 1"#), "\(scraped)")
        #expect(scraped.contains(#"lode_worker_reconnects_total{cause="consumer_cancelled"} 1"#), "\(scraped)")
        #expect(scraped.contains(#"lode_worker_reconnects_total{cause="consumer_stalled"} 1"#), "\(scraped)")
        #expect(scraped.contains("lode_worker_consumer_stalls_total 1"), "\(scraped)")
    }

    @Test func aPollSetsTheQueueAndOutboxGaugesAndAMissingQueueShowsZero() {
        let factory = DescribedPrometheusFactory(registry: PrometheusCollectorRegistry())
        let metrics = WorkerMetrics(factory: factory)
        let now = Date()
        metrics.recordQueue("lode.work", QueueState(name: "lode.work", messageCount: 17, consumerCount: 1), at: now)
        metrics.recordQueue("lode.dead", QueueState(name: "lode.dead", messageCount: 3, consumerCount: 0), at: now)
        metrics.recordOutbox([.pending: 4, .failed: 2, .delivered: 90])
        var scraped = factory.registry.emitToString()
        for expected in [
            #"lode_worker_queue_ready_messages{queue="lode.work"} 17.0"#, #"lode_worker_queue_consumers{queue="lode.work"} 1.0"#,
            #"lode_worker_queue_ready_messages{queue="lode.dead"} 3.0"#, #"lode_worker_outbox_notifications{state="pending"} 4.0"#,
            #"lode_worker_outbox_notifications{state="failed"} 2.0"#,
        ] {
            #expect(scraped.contains(expected), "missing: \(expected)\n\(scraped)")
        }
        #expect(!scraped.contains(#"state="delivered""#))
        metrics.recordQueue("lode.work", nil, at: now)
        scraped = factory.registry.emitToString()
        #expect(scraped.contains(#"lode_worker_queue_ready_messages{queue="lode.work"} 0.0"#))
    }

    @Test func theAgeGaugeFollowsTheBatchInHand() {
        let factory = DescribedPrometheusFactory(registry: PrometheusCollectorRegistry())
        let metrics = WorkerMetrics(factory: factory)
        metrics.record(.connection(.connected(heartbeat: 60)))
        let published = UInt64(Date().timeIntervalSince1970) - 120
        metrics.read([Delivery(tag: DeliveryTag(value: 1, connection: 1), redelivered: false, exchange: "lode.events",
                               routingKey: "x", consumerTag: "t", properties: MessageProperties(timestamp: published), body: [])])
        let (age, stalled) = metrics.updateProgress(stallTimeout: .seconds(30), at: Date())
        #expect(age >= 119 && age < 180)
        #expect(!stalled)
        let line = factory.registry.emitToString().split(separator: "\n").first { $0.hasPrefix("lode_worker_oldest_unapplied_age_seconds ") }
        #expect(line.flatMap { Double($0.split(separator: " ")[1]) }.map { $0 >= 119 } == true)
    }
}
