import Foundation
import LodeAMQP

/// When the message at the head of a queue entered it, read by briefly holding that message.
///
/// RabbitMQ's management API gives `head_message_timestamp` for classic queues only; `lode.dead`
/// is a quorum queue, so the head is read over AMQP instead: a consumer with prefetch 1 on a
/// connection of its own receives the head message, cancels its subscription (so nothing else is
/// sent to it), and closes its connection without settling the message. The broker then returns
/// it to its place at the head of the queue; nothing is published, acknowledged or dropped, and
/// the message is held only for the few milliseconds this takes. (Rejecting it with `requeue`
/// would be the obvious way, but a quorum queue of RabbitMQ 3.10 puts a message rejected that
/// way at the back of the queue, so reading the head would reorder `lode.dead`; a message
/// returned by a closed connection keeps its place.)
///
/// The price: a quorum queue counts each such read as a delivery of the head message (its
/// `x-delivery-count` grows). Lodestone declares `lode.dead` without a delivery limit and
/// RabbitMQ 3.x sets none by default, so this never drops a dead letter there; RabbitMQ 4.x gives
/// quorum queues a default limit of 20, so there give `lode.dead` a policy without a limit before
/// reading its head often (see docs/status-page.md). Callers keep the reads rare: ``QueueReader``
/// remembers the head it read and reads again only when the queue shrank or its memo is old.
public enum DeadLetterHead {
    /// How long to wait for the head message before giving up (the queue may have been emptied
    /// since it was counted, or its messages are held by another consumer).
    public static let defaultTimeout: Duration = .seconds(2)

    /// When the head message of `queue` entered it, or `nil` when no message arrived within
    /// `timeout`. Throws when the broker cannot be reached.
    public static func enteredAt(queue: String, settings: ConnectionSettings,
                                 timeout: Duration = defaultTimeout) async throws(AMQPError) -> Date? {
        var options = ConsumerOptions()
        options.prefetch = 1
        options.maxBatch = 1
        options.startTimeout = .seconds(5)
        var connection = settings
        connection.connectionName = "lodestone: reading the head of \(queue)"
        let consumer = Consumer(settings: connection, queue: queue, options: options)
        do {
            try await consumer.start()
        } catch {
            await consumer.close()
            throw error
        }
        let head: Delivery? = await withTaskGroup(of: Delivery?.self) { group in
            group.addTask {
                for await event in consumer.events {
                    if case .deliveries(let deliveries) = event, let first = deliveries.first { return first }
                    if case .cancelledByBroker = event { return nil }
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        // Unsettled: closing the connection gives it back in its place (see above).
        try? await consumer.cancel()
        await consumer.close()
        return head.flatMap { enteredAt(of: $0.properties) }
    }

    /// When a message entered its dead-letter queue, from what it carries: Lodestone's
    /// `x-lode-first-failed-at` header (RFC 3339), else the broker's `x-death` record (the time
    /// of its first dead-lettering), else the AMQP `timestamp` property (when it was published).
    public static func enteredAt(of properties: MessageProperties) -> Date? {
        if let text = properties.headers?["x-lode-first-failed-at"]?.stringValue,
           let date = rfc3339(text) {
            return date
        }
        if case .array(let deaths)? = properties.headers?["x-death"] {
            let times = deaths.compactMap { death -> UInt64? in
                if case .table(let table) = death, case .timestamp(let time)? = table["time"] { return time }
                return nil
            }
            if let first = times.min() { return Date(amqpTimestamp: first) }
        }
        return properties.timestamp.map { Date(amqpTimestamp: $0) }
    }

    static func rfc3339(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}
