import Crypto
import Foundation
import LodeAMQP
import LodeJSON
import LodeWire

/// The broker users of Lodestone's own programs (config `broker_users:`): who publishes dead
/// letters, who operates (`lodectl`), who reads the broker's figures.
public struct BrokerUsers: Sendable, Hashable {
    /// `lode-worker`'s user: `lodectl dlq` trusts the `x-lode-*` headers of messages it published.
    public var worker: String?
    /// `lodectl`'s users: they set up the topology, sweep `lode.dead` and replay dead letters on a
    /// department's behalf.
    public var operators: [String]
    /// A user tagged `monitoring`, for Prometheus and `lodectl queues` through the management API.
    public var monitoring: String?

    public init(worker: String? = nil, operators: [String] = [], monitoring: String? = nil) {
        self.worker = worker
        self.operators = operators
        self.monitoring = monitoring
    }

    /// Every user named, each once, in the order worker, operators, monitoring.
    public var all: [String] {
        var seen: Set<String> = []
        return ([worker] + operators.map(Optional.some) + [monitoring]).compactMap { $0 }.filter { seen.insert($0).inserted }
    }
}

/// RabbitMQ's definitions (`rabbitmqctl import_definitions`) for a Lodestone vhost: the topology
/// of ``ZoneTopology``, the policy that keeps `lode.dead`'s messages on RabbitMQ 4.x, and one user
/// per department and per program with the least each needs:
///
/// | user | configure | write | read | topic (lode.events) | tags |
/// | --- | --- | --- | --- | --- | --- |
/// | a department | nothing | `lode.events` | nothing | routing keys = its types | none |
/// | the worker | `lode.*` | `lode.*`, the default exchange | `lode.*` | | `management` |
/// | an operator (`lodectl`) | `lode.*` | `lode.*`, the default exchange | `lode.*` | | `management` |
/// | monitoring | nothing | nothing | nothing | | `monitoring` |
///
/// A department can therefore publish to `lode.events` and nothing else: no declaring, binding,
/// reading or purging, and no publishing to the default exchange (so never into `lode.dead`).
/// Importing is additive and needs no restart: a new department is a new user and its
/// permissions; an existing user's password hash and tags are replaced.
public struct BrokerDefinitions: Sendable {
    public var vhost: String
    public var departments: [Department]
    public var users: BrokerUsers

    /// The policy that lifts RabbitMQ 4.x's default delivery limit (20) from `lode.dead`: reading
    /// its head counts a delivery on a quorum queue, and sweeps return messages; a dead letter
    /// must never be dropped for that. 3.x refuses RabbitMQ 4's "no limit" (-1), so the limit is
    /// the largest a policy takes on both: 2^31 - 1 deliveries.
    public static let deadLetterPolicy = "lode-dead-keep"
    public static let deadLetterDeliveryLimit = Int64(Int32.max)

    public init(vhost: String, departments: [Department], users: BrokerUsers) {
        self.vhost = vhost
        self.departments = departments
        self.users = users
    }

    /// The definitions as JSON. `passwordHashes` maps a user to its RabbitMQ password hash
    /// (``passwordHash(_:salt:)``); a user without one gets an empty hash: it cannot log in with
    /// a password until one is set (`rabbitmqctl change_password`, or a later import with it).
    public func json(passwordHashes: [String: String]) -> JSONValue {
        let topology = ZoneTopology.topology
        let serviceWrite = "^(lode\\..*|amq\\.default)$"
        var userEntries: [JSONValue] = []
        var permissions: [JSONValue] = []
        var topicPermissions: [JSONValue] = []
        var named: Set<String> = []
        func user(_ name: String, tags: [String]) {
            guard named.insert(name).inserted else { return }
            userEntries.append(.object([
                .init("name", .string(name)),
                .init("password_hash", .string(passwordHashes[name] ?? "")),
                .init("hashing_algorithm", .string("rabbit_password_hashing_sha256")),
                .init("tags", .array(tags.map { .string($0) })),
                .init("limits", .object([])),
            ]))
        }
        func permit(_ name: String, configure: String, write: String, read: String) {
            permissions.append(.object([
                .init("user", .string(name)), .init("vhost", .string(vhost)),
                .init("configure", .string(configure)), .init("write", .string(write)), .init("read", .string(read)),
            ]))
        }
        for department in departments {
            user(department.user, tags: [])
            permit(department.user, configure: "^$", write: "^\(Self.regexQuoted(ZoneTopology.exchange))$", read: "^$")
            // The broker refuses a routing key outside the department's types before the worker sees it.
            let keys = department.types.map { Self.regexQuoted($0.rawValue) }.joined(separator: "|")
            topicPermissions.append(.object([
                .init("user", .string(department.user)), .init("vhost", .string(vhost)),
                .init("exchange", .string(ZoneTopology.exchange)), .init("write", .string("^(\(keys))$")),
                .init("read", .string("^$")),
            ]))
        }
        for name in [users.worker].compactMap({ $0 }) + users.operators {
            user(name, tags: ["management"])
            permit(name, configure: "^lode\\.", write: serviceWrite, read: "^lode\\.")
        }
        if let monitoring = users.monitoring {
            user(monitoring, tags: ["monitoring"])
            permit(monitoring, configure: "^$", write: "^$", read: "^$")
        }
        let queues: [JSONValue] = topology.queues.map { queue in
            .object([
                .init("name", .string(queue.name)), .init("vhost", .string(vhost)), .init("durable", .bool(queue.durable)),
                .init("auto_delete", .bool(queue.autoDelete)), .init("arguments", Self.json(queue.arguments)),
            ])
        }
        let exchanges: [JSONValue] = topology.exchanges.map { exchange in
            .object([
                .init("name", .string(exchange.name)), .init("vhost", .string(vhost)), .init("type", .string(exchange.kind)),
                .init("durable", .bool(exchange.durable)), .init("auto_delete", .bool(exchange.autoDelete)),
                .init("internal", .bool(exchange.isInternal)), .init("arguments", Self.json(exchange.arguments)),
            ])
        }
        let bindings: [JSONValue] = topology.bindings.map { binding in
            .object([
                .init("source", .string(binding.exchange)), .init("vhost", .string(vhost)),
                .init("destination", .string(binding.queue)), .init("destination_type", .string("queue")),
                .init("routing_key", .string(binding.routingKey)), .init("arguments", Self.json(binding.arguments)),
            ])
        }
        let policies: [JSONValue] = [
            .object([
                .init("vhost", .string(vhost)), .init("name", .string(Self.deadLetterPolicy)),
                .init("pattern", .string("^\(Self.regexQuoted(ZoneTopology.deadLetterQueue))$")),
                .init("apply-to", .string("queues")),
                .init("definition", .object([.init("delivery-limit", .integer(Self.deadLetterDeliveryLimit))])),
                .init("priority", .integer(10)),
            ]),
        ]
        return .object([
            .init("users", .array(userEntries)),
            .init("vhosts", .array([.object([.init("name", .string(vhost))])])),
            .init("permissions", .array(permissions)),
            .init("topic_permissions", .array(topicPermissions)),
            .init("policies", .array(policies)),
            .init("queues", .array(queues)),
            .init("exchanges", .array(exchanges)),
            .init("bindings", .array(bindings)),
        ])
    }

    /// RabbitMQ's `rabbit_password_hashing_sha256` hash of `password`: base64 of the 4-byte salt
    /// followed by SHA-256(salt + password).
    public static func passwordHash(_ password: String, salt: [UInt8]) -> String {
        var hash = SHA256()
        hash.update(data: salt)
        hash.update(data: Array(password.utf8))
        return Data(salt + Array(hash.finalize())).base64EncodedString()
    }

    /// A fresh random salt for ``passwordHash(_:salt:)``.
    public static func randomSalt() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// `text` with the regular expression's special characters escaped.
    static func regexQuoted(_ text: String) -> String {
        var quoted = ""
        for character in text {
            if "\\^$.|?*+()[]{}".contains(character) { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted
    }

    static func json(_ table: FieldTable) -> JSONValue {
        .object(table.entries.map { JSONMember($0.key, json($0.value)) })
    }

    static func json(_ value: FieldValue) -> JSONValue {
        if let integer = value.integerValue { return .integer(integer) }
        switch value {
        case .bool(let flag): return .bool(flag)
        case .string(let text): return .string(text)
        case .array(let values): return .array(values.map(json))
        case .table(let table): return json(table)
        default: return .null
        }
    }
}
