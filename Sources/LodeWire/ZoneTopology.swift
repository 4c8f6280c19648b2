import LodeAMQP

/// What Lodestone declares on the broker (`lodectl setup`; the worker ensures it at start):
/// the contract's `lode.events` exchange, the worker's queue that takes everything published
/// there, and the dead-letter queue `lode.dead`.
public enum ZoneTopology {
    /// The durable topic exchange every producer publishes to, routing key = event type.
    public static let exchange = "lode.events"
    /// The worker's durable quorum queue, bound to `lode.events` with `#` so that no routing key
    /// is dropped: what the worker cannot apply it moves to `lode.dead` itself.
    public static let workQueue = "lode.work"
    /// Dead letters, one event each, with `x-lode-reason` and the other headers of the contract.
    public static let deadLetterQueue = "lode.dead"
    /// Deliveries of one message before the broker gives up on it (quorum queues count them);
    /// RabbitMQ 3.10 sets no limit by itself, so a poison message would loop forever. Past the
    /// limit the broker moves the message to `lode.dead` (its `x-death` reason `delivery_limit`).
    public static let deliveryLimit: Int32 = 10

    public static var topology: Topology {
        Topology(
            exchanges: [ExchangeSpec(name: exchange, kind: "topic", durable: true)],
            queues: [
                .quorum(workQueue, arguments: [
                    "x-delivery-limit": .int32(deliveryLimit),
                    "x-dead-letter-exchange": .string(""),
                    "x-dead-letter-routing-key": .string(deadLetterQueue),
                    // A quorum queue dead-letters at most once unless told otherwise, and 3.10
                    // accepts at-least-once only with reject-publish overflow.
                    "x-dead-letter-strategy": .string("at-least-once"),
                    "x-overflow": .string("reject-publish"),
                ]),
                .quorum(deadLetterQueue),
            ],
            bindings: [BindingSpec(queue: workQueue, exchange: exchange, routingKey: "#")])
    }
}
