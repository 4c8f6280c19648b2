import Foundation
import LodeStatus
import LodeWorker
import Testing

@Suite("/healthz: 200 when consuming and the store takes batches, 503 with the reason otherwise")
struct HealthTests {
    @Test func aConnectedWorkerWhoseStoreWorksIsHealthy() throws {
        let health = WorkerHealth(broker: .connected, lastAppliedAt: Date(timeIntervalSince1970: 1_717_200_000))
        #expect(health.isHealthy)
        let answer = HealthResponse(health)
        #expect(answer.statusCode == 200)
        #expect(answer.body == #"{"broker":"connected","last_applied_at":"2024-06-01T00:00:00Z","problems":[],"status":"ok","store":"ok","store_failing_since":null}"#)
    }

    @Test func aWorkerThatIsNotConsumingIsUnavailableAndSaysWhy() {
        let cases: [(WorkerHealth.Broker, String)] = [
            (.starting, "not connected to the broker yet"),
            (.disconnected(reason: "connection reset"), "broker connection lost (reconnecting): connection reset"),
            (.cancelledByBroker, "the broker cancelled the subscription to lode.work"),
            (.stopping, "shutting down"),
        ]
        for (broker, problem) in cases {
            let answer = HealthResponse(WorkerHealth(broker: broker))
            #expect(answer.statusCode == 503, "\(broker)")
            #expect(answer.body.contains(#""status":"unavailable""#))
            #expect(answer.body.contains(#""broker":"\#(broker.name)""#))
            #expect(answer.body.contains(problem), "\(answer.body)")
        }
    }

    @Test func aFailingStoreIsUnavailableEvenWhenConnected() {
        let since = Date(timeIntervalSince1970: 1_717_200_000)
        let health = WorkerHealth(broker: .connected, storeError: "storage error (unavailable) on zone.sqlite: disk I/O error",
                                  storeFailingSince: since)
        #expect(!health.isHealthy)
        let answer = HealthResponse(health)
        #expect(answer.statusCode == 503)
        #expect(answer.body.contains(#""store":"failing""#))
        #expect(answer.body.contains(#""store_failing_since":"2024-06-01T00:00:00Z""#))
        #expect(answer.body.contains("store failing since 2024-06-01T00:00:00Z; consuming paused"))
        #expect(answer.body.contains("storage error (unavailable) on zone.sqlite: disk I/O error"))
    }

    @Test func aBlockedConnectionStillConsumes() {
        // A resource alarm stops the broker reading from the connection; deliveries still arrive.
        let answer = HealthResponse(WorkerHealth(broker: .blocked(reason: "low on memory")))
        #expect(answer.statusCode == 200)
        #expect(answer.body.contains(#""broker":"blocked""#))
    }
}
