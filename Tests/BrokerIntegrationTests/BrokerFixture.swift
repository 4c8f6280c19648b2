import Foundation
import LodeAMQP
import LodeWire
import Testing

/// The broker the project's script started (`scripts/broker start`), and helpers to disturb it.
///
/// Tests start nothing themselves: a missing broker fails the test with a message that says
/// how to start one.
enum BrokerFixture {
    static var url: String {
        ProcessInfo.processInfo.environment["LODE_BROKER_URL"]
            ?? ProcessInfo.processInfo.environment["LODE_TEST_AMQP_URL"] ?? ConnectionSettings.defaultURL
    }

    /// The user of ``url`` (`guest` for the project's broker): what RabbitMQ takes as `user_id`
    /// from a connection of the tests.
    static var user: String { (try? ConnectionSettings(url: url).user) ?? "guest" }

    static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Settings for the test broker; fails the test clearly when no broker answers.
    static func settings(heartbeat: Int? = nil, name: String = #function) throws -> ConnectionSettings {
        var settings = try ConnectionSettings(url: url)
        if let heartbeat { settings.heartbeat = heartbeat }
        settings.connectionName = "test: \(name)"
        guard canConnect(host: settings.host, port: settings.port) else {
            Issue.record("""
                No RabbitMQ answers at \(settings.redactedURL). Start the project's broker with \
                `scripts/broker start` (or run the tests with `scripts/test`), or point \
                LODE_BROKER_URL at one.
                """)
            throw BrokerMissing()
        }
        return settings
    }

    struct BrokerMissing: Error {}

    /// A queue name no other test uses.
    static func uniqueName(_ prefix: String) -> String {
        "test.\(prefix).\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs `scripts/broker ARGS...` and returns its standard output; throws on a non-zero exit.
    ///
    /// posix_spawn and waitpid rather than Foundation's `Process`, whose `waitUntilExit` was seen
    /// to miss the exit of a script that starts a daemon. Output goes through a file, not a pipe,
    /// so a daemon that inherits it cannot hold the read open.
    @discardableResult
    static func script(_ arguments: String...) throws -> String {
        try run(script: "scripts/broker", arguments)
    }

    /// Runs one of the project's scripts (`scripts/broker`, `scripts/cluster`) with `arguments`
    /// and returns its standard output; throws on a non-zero exit.
    @discardableResult
    static func run(script: String, _ arguments: [String]) throws -> String {
        let executable = repositoryRoot.appendingPathComponent(script).path
        let (exitCode, output) = try run(executable, arguments)
        guard exitCode == 0 else {
            throw ScriptFailed(script: script, arguments: arguments, status: exitCode, output: output)
        }
        return output
    }

    /// Runs `executable ARGS...` (an absolute path) to its end; its exit status (128 + the signal
    /// that ended it) and what it wrote to standard output.
    static func run(_ executable: String, _ arguments: String...) throws -> (status: Int32, output: String) {
        try run(executable, arguments)
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let outputPath = NSTemporaryDirectory() + "lode-broker-\(UUID().uuidString).out"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw ScriptFailed(script: executable, arguments: arguments, status: spawned, output: "posix_spawn failed")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return ((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
    }

    struct ScriptFailed: Error, CustomStringConvertible {
        var script = "scripts/broker"
        var arguments: [String]
        var status: Int32
        var output: String
        var description: String { "\(script) \(arguments.joined(separator: " ")) exited \(status): \(output)" }
    }

    /// The messages `queue` holds, ready and unacknowledged together, asked of the queue itself
    /// through `rabbitmqctl` (a passive declare counts only the ready ones, the management API
    /// lags by its statistics interval); nil when the queue is not listed.
    static func messagesHeld(by queue: String) throws -> Int? {
        let listing = try script("ctl", "-q", "list_queues", "name", "messages", "--no-table-headers")
        for line in listing.split(separator: "\n") {
            let fields: [Substring] = line.split(separator: "\t")
            if fields.count == 2, fields[0] == queue { return Int(fields[1]) }
        }
        return nil
    }

    /// Polls `condition` until it holds or `timeout` passes; returns whether it held.
    static func eventually(timeout: Duration = .seconds(30), poll: Duration = .milliseconds(50),
                           _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: poll)
        }
        return try await condition()
    }

    private static func canConnect(host: String, port: Int) -> Bool {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else { return false }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0
    }
}

/// Records everything a consumer reports, from a background task, for tests to wait on.
actor ConsumerInbox {
    private(set) var deliveries: [Delivery] = []
    private(set) var events: [ConsumerEvent] = []

    static func following(_ consumer: Consumer) -> ConsumerInbox {
        let inbox = ConsumerInbox()
        Task {
            for await event in consumer.events { await inbox.record(event) }
        }
        return inbox
    }

    private func record(_ event: ConsumerEvent) {
        if case .deliveries(let batch) = event { deliveries += batch } else { events.append(event) }
    }

    var count: Int { deliveries.count }

    func contains(_ predicate: (ConsumerEvent) -> Bool) -> Bool { events.contains(where: predicate) }

    func removeAll() { deliveries.removeAll() }
}

/// Records a publisher's connection events.
actor ConnectionEventLog {
    private(set) var events: [ConnectionEvent] = []

    static func following(_ stream: AsyncStream<ConnectionEvent>) -> ConnectionEventLog {
        let log = ConnectionEventLog()
        Task {
            for await event in stream { await log.record(event) }
        }
        return log
    }

    private func record(_ event: ConnectionEvent) { events.append(event) }

    func contains(_ predicate: (ConnectionEvent) -> Bool) -> Bool { events.contains(where: predicate) }

    var lostCount: Int { events.count { if case .connectionLost = $0 { true } else { false } } }
}

extension BrokerFixture {
    /// The zone's topology as `lodectl setup` declares it, with `lode.work` and `lode.dead`
    /// emptied: where every worker test starts. Returns a publisher on the broker (close it).
    /// `url` and `settings` name another broker (a cluster's URL list) than the test broker.
    static func emptyZoneQueues(url: String = BrokerFixture.url, settings: ConnectionSettings? = nil) async throws -> Publisher {
        let setup = try await PublishProcess.run(["setup"], environment: ["LODE_AMQP_URL": url], program: "lodectl")
        #expect(setup.status == 0, "\(setup.stderr)")
        let admin = Publisher(settings: try settings ?? Self.settings())
        try await admin.purgeQueue(ZoneTopology.workQueue)
        try await admin.purgeQueue(ZoneTopology.deadLetterQueue)
        return admin
    }

    /// A new directory under the temporary directory (for a worker's database); remove it after.
    static func temporaryDirectory(_ prefix: String) throws -> String {
        let directory = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }
}
