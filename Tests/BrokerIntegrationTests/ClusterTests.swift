import Foundation
import LodeAMQP
import LodeEvents
import LodeProjections
import LodeStorage
import LodeWire
import Testing

/// The cluster that `scripts/cluster` started, for the tests that stop its nodes.
///
/// `scripts/test-cluster` starts it and exports `LODE_TEST_CLUSTER_URLS` (the URL list) and the
/// `LODE_CLUSTER_*` settings that `scripts/cluster` reads; without them the cluster suite is
/// skipped, so a plain `swift test` needs only the single test broker.
enum ClusterFixture {
    static var urls: String? {
        guard let value = ProcessInfo.processInfo.environment["LODE_TEST_CLUSTER_URLS"], !value.isEmpty else { return nil }
        return value
    }

    static var isConfigured: Bool { urls != nil }

    /// Settings for the whole list; fails the test clearly when the list does not parse.
    static func settings(name: String = #function) throws -> ConnectionSettings {
        var settings = try ConnectionSettings(url: try #require(urls, "LODE_TEST_CLUSTER_URLS is not set"))
        settings.connectionName = "test: \(name)"
        return settings
    }

    /// Runs `scripts/cluster ARGS...`; its standard output.
    @discardableResult
    static func script(_ arguments: String...) throws -> String {
        try BrokerFixture.run(script: "scripts/cluster", arguments)
    }

    /// The zone's topology declared through the list, its queues emptied; every node running.
    static func emptyZoneQueues() async throws -> Publisher {
        try script("start")
        return try await BrokerFixture.emptyZoneQueues(url: try #require(urls), settings: try settings())
    }

    /// The URL list with node `node`'s URL first: every client connects to that node.
    static func urls(startingWith node: Int) throws -> String {
        var list = try #require(urls).split(separator: ",").map(String.init)
        try #require(list.indices.contains(node - 1), "no node \(node) in \(list)")
        list.insert(list.remove(at: node - 1), at: 0)
        return list.joined(separator: ",")
    }

    /// The number of the node that leads quorum queue `queue` now.
    static func leader(of queue: String) throws -> Int {
        let output = try script("leader", queue).trimmingCharacters(in: .whitespacesAndNewlines)
        return try #require(Int(output), "scripts/cluster leader \(queue) printed '\(output)'")
    }

    /// The names of the connections node `node` holds (`connection_name` as the clients gave it).
    static func connectionNames(onNode node: Int) throws -> [String] {
        try script("ctl", "\(node)", "-q", "list_connections", "client_properties", "--no-table-headers")
            .split(separator: "\n").compactMap { line in
                line.firstMatch(of: /\{"connection_name","([^"]*)"\}/).map { String($0.1) }
            }
    }

    /// Each quorum queue's members, from node `node`: queue name -> node names.
    static func members(fromNode node: Int) throws -> [String: [String]] {
        var members: [String: [String]] = [:]
        let output = try script("ctl", "\(node)", "-q", "list_queues", "name", "type", "members", "--no-table-headers")
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: "\t", maxSplits: 2)
            guard fields.count == 3, fields[1] == "quorum" else { continue }
            members[String(fields[0])] = fields[2].split(whereSeparator: { "[], ".contains($0) }).map(String.init)
        }
        return members
    }
}

@Suite("A RabbitMQ cluster (scripts/test-cluster)", .serialized,
       .enabled(if: ClusterFixture.isConfigured,
                "needs a RabbitMQ cluster: LODE_TEST_CLUSTER_URLS is not set; scripts/test-cluster starts one and runs these"))
struct ClusterTests {
    /// The demo set, then `extra` site visits and contacts of 2024 (every 10th one twice, as a
    /// re-sent spreadsheet row would be): one NDJSON file.
    static func largeFile(extra: Int) throws -> (path: String, lines: [String]) {
        var lines = try String(contentsOfFile: BrokerTests.WorkerThroughTheBroker.demoFile, encoding: .utf8)
            .split(separator: "\n").map(String.init)
        for index in 0..<extra {
            let minute = index % 60, hour = (index / 60) % 24, day = 1 + (index / 1440) % 28
            let time = String(format: "2024-06-%02dT%02d:%02d:00+08:00", day, hour, minute)
            let line = index.isMultiple(of: 2)
                ? #"{"specversion":"1.0","id":"cluster-visit-\#(index)","source":"bt-dept/recruitment","type":"zone.recruitment.site_visit","time":"\#(time)","data":{"enterprise":"企业-\#(index % 997)","campaign":"集群-\#(index % 7)","visitors":3}}"#
                : #"{"specversion":"1.0","id":"cluster-contact-\#(index)","source":"bt-dept/recruitment","type":"zone.recruitment.enterprise_contacted","time":"\#(time)","data":{"enterprise":"企业-\#(index % 1499)","campaign":"集群-\#(index % 7)"}}"#
            lines.append(line)
            if index.isMultiple(of: 10) { lines.append(line) }
        }
        let path = try PublishProcess.file(lines.joined(separator: "\n") + "\n", extension: "ndjson")
        return (path, lines)
    }

    @Test func lodestonesQueuesAreQuorumQueuesWithAReplicaOnEveryNode() async throws {
        let admin = try await ClusterFixture.emptyZoneQueues()
        await admin.close()
        let nodes = Set(try ClusterFixture.settings().brokers.indices.map { "rabbit-c\($0 + 1)@localhost" })
        let members = try ClusterFixture.members(fromNode: 2)
        for queue in [ZoneTopology.workQueue, ZoneTopology.deadLetterQueue] {
            let replicas = try #require(members[queue], "\(queue) is a quorum queue: \(members)")
            #expect(replicas.count == nodes.count, "\(queue): \(replicas)")
            #expect(Set(replicas.map { $0.replacingOccurrences(of: "rabbit-c", with: "") }).count == nodes.count)
        }
    }

    /// The node that leads `lode.work` goes away while a worker and `lode-publish` are connected
    /// to it, in the middle of a large file. `stop`: a clean shutdown (the node closes its
    /// connections with 320 CONNECTION_FORCED); `kill`: SIGKILL, a crash (the sockets just close).
    @Test(arguments: ["stop", "kill"])
    func losingTheLeadersNodeUnderAPublisherAndAWorkerLosesNothingConfirmedAndTheReportIsExact(how: String) async throws {
        let admin = try await ClusterFixture.emptyZoneQueues()
        defer { _ = try? ClusterFixture.script("start") }
        let directory = try BrokerFixture.temporaryDirectory("lode-cluster")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let db = directory + "/zone.sqlite"
        // Long enough that the publisher is still mid-file when the node goes: lode-publish
        // --no-batch sends ~16k events/s here, and finding the leader's connections takes a
        // rabbitmqctl call or two.
        let (input, lines) = try Self.largeFile(extra: 160_000)
        defer { unlink(input) }
        let leader = try ClusterFixture.leader(of: ZoneTopology.workQueue)
        let environment = ["LODE_AMQP_URL": try ClusterFixture.urls(startingWith: leader)]

        // Both connect to the first broker of the list that answers: the leader's node.
        let worker = try ServiceProcess("lode-worker", ["--db", db, "--metrics-address", "127.0.0.1:0"], environment: environment)
        let monitored = MonitoredWorker(process: worker, base: try await worker.metricsBase())
        let publish = try ServiceProcess("lode-publish", ["--no-batch", "--json", input], environment: environment)

        // Mid-file: the worker has applied a few thousand events, the publisher is far from done.
        #expect(try await monitored.await(timeout: .seconds(120)) { ($0.applied ?? 0) >= 3_000 }, "\(worker.stderr)")
        let onLeader = try ClusterFixture.connectionNames(onNode: leader)
        #expect(onLeader.contains("lode-publish"), "node \(leader)'s connections: \(onLeader)")
        #expect(onLeader.contains { $0.hasPrefix("lode-worker on ") }, "node \(leader)'s connections: \(onLeader)")
        // Finding the leader's connections takes rabbitmqctl calls of seconds on a loaded machine;
        // the publisher may have sent its last chunk by then, and then nothing is interrupted.
        let publisherWasRunning = publish.isRunning
        try ClusterFixture.script(how, "\(leader)")

        // The publisher either finishes through another node (0) or says a re-run completes (75).
        let firstStatus = await publish.exitStatus()
        #expect(firstStatus == 0 || firstStatus == 75, "\(publish.stderr)")
        // Interrupted with messages unconfirmed, it publishes them again through another node;
        // between two chunks it just connects again. Either way every event arrives (below).
        if publisherWasRunning && publish.stderr.contains("again") {
            #expect(publish.stderr.contains("publishing"), "\(publish.stderr)")
        }
        if firstStatus == 75 {
            let rerun = try await PublishProcess.run(["--no-batch", "--json", input], environment: environment)
            #expect(rerun.status == 0, "\(rerun.stderr)")
        }

        // The worker goes on through another node and applies every event once.
        let distinct = Set(lines).count
        #expect(try await monitored.await(timeout: .seconds(300)) { ($0.applied ?? 0) >= Double(distinct) },
                "applied all \(distinct): \(worker.stderr.suffix(3000))")
        #expect(await BrokerFixture.eventually(timeout: .seconds(120)) {
            (try? await admin.inspectQueue(ZoneTopology.workQueue)?.messageCount) == 0
        })
        worker.signal(SIGTERM)
        #expect(await worker.exitStatus() == 0, "\(worker.stderr.suffix(3000))")
        #expect(worker.stderr.components(separatedBy: "consumer connected").count - 1 >= 2, "it reconnected")

        let calendar = try ZoneCalendar()
        let store = try SQLiteZoneStore(path: db, configuration: SQLiteStoreConfiguration(calendar: calendar))
        #expect(try store.loggedEventCount() == distinct)
        var projection = ZoneProjection(calendar: calendar)
        for line in lines { projection.apply(try Event.decode(Array(line.utf8))) }
        for year in [2023, 2024] {
            #expect(try store.report(year: year, targets: []).jsonText() == projection.report(year: year).jsonText())
        }
        #expect(try await admin.inspectQueue(ZoneTopology.deadLetterQueue)?.messageCount == 0)
        let newLeader = try ClusterFixture.leader(of: ZoneTopology.workQueue)
        #expect(newLeader != leader, "lode.work has a new leader")
        await admin.close()
    }
}
