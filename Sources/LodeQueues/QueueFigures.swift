import LodeJSON
import Foundation
import LodeEvents

/// One queue's figures as an operator sees them (`lodectl queues`, the worker's status page).
public struct QueueFigures: Sendable, Hashable {
    /// Where the figures came from.
    public enum Source: String, Sendable, Hashable {
        /// RabbitMQ's management HTTP API: every figure, rates included.
        case management
        /// A passive `queue.declare` over AMQP: ready and consumers only.
        case passive
    }

    public var name: String
    public var ready: Int?
    public var unacked: Int?
    public var consumers: Int?
    public var publishRate: Double?
    public var deliverRate: Double?
    public var ackRate: Double?
    /// Seconds since the oldest ready message entered the queue (for `lode.dead`: since its
    /// first failure); `nil` when unknown or when the queue is empty. See ``DeadLetterHead``.
    public var oldestAgeSeconds: Double?
    public var source: Source

    public init(name: String, ready: Int? = nil, unacked: Int? = nil, consumers: Int? = nil, publishRate: Double? = nil,
                deliverRate: Double? = nil, ackRate: Double? = nil, oldestAgeSeconds: Double? = nil, source: Source) {
        self.name = name
        self.ready = ready
        self.unacked = unacked
        self.consumers = consumers
        self.publishRate = publishRate
        self.deliverRate = deliverRate
        self.ackRate = ackRate
        self.oldestAgeSeconds = oldestAgeSeconds
        self.source = source
    }

    /// The object of `lodectl queues --json`: the contract's keys (`name`, `ready`, `unacked`,
    /// `consumers`), then rates, `oldest_age_seconds` and `source`; unknown figures are `null`.
    public var json: JSONValue {
        func number(_ value: Int?) -> JSONValue { value.map { .integer($0) } ?? .null }
        func decimal(_ value: Double?) -> JSONValue {
            value.map { .number(JSONNumber(text: String(format: "%.1f", $0)) ?? JSONNumber(0)) } ?? .null
        }
        return .object([
            .init("name", .string(name)), .init("ready", number(ready)), .init("unacked", number(unacked)),
            .init("consumers", number(consumers)), .init("publish_rate", decimal(publishRate)),
            .init("deliver_rate", decimal(deliverRate)), .init("ack_rate", decimal(ackRate)),
            .init("oldest_age_seconds", decimal(oldestAgeSeconds)), .init("source", .string(source.rawValue)),
        ])
    }
}

/// A duration for people: `45s`, `3m12s`, `5h02m`, `3d04h`.
public func humanDuration(seconds: Double) -> String {
    let total = max(0, Int(seconds.rounded(.down)))
    let (days, hours, minutes, secs) = (total / 86_400, total % 86_400 / 3600, total % 3600 / 60, total % 60)
    if days > 0 { return "\(days)d" + String(format: "%02dh", hours) }
    if hours > 0 { return "\(hours)h" + String(format: "%02dm", minutes) }
    if minutes > 0 { return "\(minutes)m" + String(format: "%02ds", secs) }
    return "\(secs)s"
}
