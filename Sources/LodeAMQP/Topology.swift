/// An exchange to declare.
public struct ExchangeSpec: Sendable, Hashable {
    public var name: String
    /// `direct`, `topic`, `fanout`, `headers`, `x-consistent-hash`, ...
    public var kind: String
    public var durable: Bool
    public var autoDelete: Bool
    public var isInternal: Bool
    public var arguments: FieldTable

    public init(name: String, kind: String = "topic", durable: Bool = true, autoDelete: Bool = false,
                isInternal: Bool = false, arguments: FieldTable = [:]) {
        self.name = name
        self.kind = kind
        self.durable = durable
        self.autoDelete = autoDelete
        self.isInternal = isInternal
        self.arguments = arguments
    }
}

/// A queue to declare. `arguments` carry `x-queue-type`, `x-max-length`, `x-overflow`, ...
public struct QueueSpec: Sendable, Hashable {
    public var name: String
    public var durable: Bool
    public var exclusive: Bool
    public var autoDelete: Bool
    public var arguments: FieldTable

    public init(name: String, durable: Bool = true, exclusive: Bool = false, autoDelete: Bool = false,
                arguments: FieldTable = [:]) {
        self.name = name
        self.durable = durable
        self.exclusive = exclusive
        self.autoDelete = autoDelete
        self.arguments = arguments
    }

    /// A durable classic queue.
    public static func classic(_ name: String, arguments: FieldTable = [:]) -> QueueSpec {
        var arguments = arguments
        arguments["x-queue-type"] = .string("classic")
        return QueueSpec(name: name, arguments: arguments)
    }

    /// A durable quorum queue (replicated, always durable, never exclusive).
    public static func quorum(_ name: String, arguments: FieldTable = [:]) -> QueueSpec {
        var arguments = arguments
        arguments["x-queue-type"] = .string("quorum")
        return QueueSpec(name: name, arguments: arguments)
    }
}

/// A binding of a queue to an exchange.
public struct BindingSpec: Sendable, Hashable {
    public var queue: String
    public var exchange: String
    public var routingKey: String
    public var arguments: FieldTable

    public init(queue: String, exchange: String, routingKey: String, arguments: FieldTable = [:]) {
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
        self.arguments = arguments
    }
}

/// Exchanges, queues and bindings declared on every (re)connect, in that order.
public struct Topology: Sendable, Hashable {
    public var exchanges: [ExchangeSpec]
    public var queues: [QueueSpec]
    public var bindings: [BindingSpec]

    public init(exchanges: [ExchangeSpec] = [], queues: [QueueSpec] = [], bindings: [BindingSpec] = []) {
        self.exchanges = exchanges
        self.queues = queues
        self.bindings = bindings
    }

    public var isEmpty: Bool { exchanges.isEmpty && queues.isEmpty && bindings.isEmpty }
}

/// What a passive declare reports about an existing queue.
public struct QueueState: Sendable, Hashable {
    public var name: String
    /// Messages ready for delivery (not counting unacknowledged ones).
    public var messageCount: Int
    public var consumerCount: Int
}
