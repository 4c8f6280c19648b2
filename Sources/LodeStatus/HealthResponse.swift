import Foundation
import LodeWorker

/// The answer of `GET /healthz`: 200 with `{"status":"ok",...}` when the worker consumes and its
/// store takes batches, 503 with `{"status":"unavailable","problems":[...],...}` otherwise: while
/// it is paused because its store fails (`"store":"failing"`, or `"damaged"` for a database that
/// will not heal by itself) or the broker does not confirm its dead letters.
public struct HealthResponse: Sendable, Equatable {
    /// 200 or 503.
    public let statusCode: Int
    /// The JSON body, keys sorted, one line.
    public let body: String

    public init(_ health: WorkerHealth) {
        statusCode = health.isHealthy ? 200 : 503
        let document = Document(
            status: health.isHealthy ? "ok" : "unavailable",
            broker: health.broker.name,
            store: health.storeError == nil ? "ok" : health.storeDamaged ? "damaged" : "failing",
            problems: health.problems,
            lastAppliedAt: health.lastAppliedAt.map { $0.ISO8601Format() },
            storeFailingSince: health.storeFailingSince.map { $0.ISO8601Format() })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        body = (try? encoder.encode(document)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"status":"unavailable"}"#
    }

    private struct Document: Encodable {
        var status: String
        var broker: String
        var store: String
        var problems: [String]
        var lastAppliedAt: String?
        var storeFailingSince: String?

        enum CodingKeys: String, CodingKey {
            case status, broker, store, problems
            case lastAppliedAt = "last_applied_at"
            case storeFailingSince = "store_failing_since"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(status, forKey: .status)
            try container.encode(broker, forKey: .broker)
            try container.encode(store, forKey: .store)
            try container.encode(problems, forKey: .problems)
            // Always present, null when unknown: a script can rely on the keys.
            try container.encode(lastAppliedAt, forKey: .lastAppliedAt)
            try container.encode(storeFailingSince, forKey: .storeFailingSince)
        }
    }
}
