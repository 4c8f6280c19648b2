import ArgumentParser
import Foundation
import AsyncHTTPClient
import LodeAMQP
import LodeEvents
import LodeWire

/// One queue's figures as `lodectl queues` prints them.
struct QueueFigures: Sendable {
    var name: String
    var ready: Int?
    var unacked: Int?
    var consumers: Int?
    var publishRate: Double?
    var deliverRate: Double?
    var ackRate: Double?
    /// Where the figures came from: `management` (RabbitMQ's HTTP API) or `passive` (a passive
    /// queue.declare: ready and consumers only).
    var source: String

    var json: JSONValue {
        func number(_ value: Int?) -> JSONValue { value.map { .integer($0) } ?? .null }
        func rate(_ value: Double?) -> JSONValue {
            value.map { .number(JSONNumber(text: String(format: "%.1f", $0)) ?? JSONNumber(0)) } ?? .null
        }
        return .object([
            .init("name", .string(name)), .init("ready", number(ready)), .init("unacked", number(unacked)),
            .init("consumers", number(consumers)), .init("publish_rate", rate(publishRate)),
            .init("deliver_rate", rate(deliverRate)), .init("ack_rate", rate(ackRate)), .init("source", .string(source)),
        ])
    }
}

/// `lodectl queues`: ready, unacknowledged and consumers of every Lodestone queue, with rates.
struct Queues: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every Lodestone queue: ready, unacknowledged, consumers, and rates.",
        discussion: """
            Reads RabbitMQ's management HTTP API when it answers (ready, unacknowledged, consumers, \
            publish/deliver/ack rates per second); otherwise a passive queue.declare over AMQP \
            (ready and consumers only: unacked is null and `source` says "passive"). A quorum \
            queue's management figures are refreshed every few seconds by the broker.

            Examples:
              lodectl queues
              lodectl queues --json
              lodectl queues --management-url http://127.0.0.1:15672 --watch
            """)

    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "The contract's JSON: {\"queues\": [{\"name\", \"ready\", \"unacked\", \"consumers\", ...}]}.")
    var json = false
    @Option(help: "RabbitMQ's management API (default: http://HOST:15672 of the broker URL); 'off' to use AMQP only.")
    var managementURL: String?
    @Flag(help: "Refresh every two seconds, in place, until interrupted.")
    var watch = false

    func run() async throws {
        connection.bootstrapLogging()
        let settings = try connection.settings()
        repeat {
            let figures = try await Self.figures(settings: settings, managementURL: managementURL)
            if watch { print("\u{1B}[H\u{1B}[2J", terminator: "") }
            if json {
                print(String(decoding: JSONValue.object([.init("queues", .array(figures.map(\.json)))]).serializedBytes(), as: UTF8.self))
            } else {
                print(Self.table(figures))
            }
            if watch { try await Task.sleep(for: .seconds(2)) }
        } while watch
    }

    static let names = [ZoneTopology.workQueue, ZoneTopology.deadLetterQueue]

    static func figures(settings: ConnectionSettings, managementURL: String?) async throws -> [QueueFigures] {
        if managementURL != "off" {
            let base = managementURL ?? "\(settings.useTLS ? "https" : "http")://\(settings.host):15672"
            if let figures = try? await management(base: base, settings: settings) { return figures }
        }
        let publisher = Publisher(settings: settings)
        defer { Task { await publisher.close() } }
        var figures: [QueueFigures] = []
        for name in names {
            let state: QueueState?
            do {
                state = try await publisher.inspectQueue(name)
            } catch {
                FileHandle.standardError.write(Data("lodectl: \(error)\n".utf8))
                throw ExitCode(ExitStatus.unavailable)
            }
            figures.append(QueueFigures(name: name, ready: state.map { Int($0.messageCount) }, unacked: nil,
                                        consumers: state.map { Int($0.consumerCount) }, source: "passive"))
        }
        return figures
    }

    /// The figures from `GET /api/queues/VHOST/NAME`, or nil when the API does not answer.
    static func management(base: String, settings: ConnectionSettings) async throws -> [QueueFigures]? {
        let vhost = settings.vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "%2F"
        let credentials = Data("\(settings.user):\(settings.password)".utf8).base64EncodedString()
        var figures: [QueueFigures] = []
        for name in names {
            // async-http-client keeps the path as written: the vhost "/" must stay "%2F".
            var request = HTTPClientRequest(url: "\(base)/api/queues/\(vhost)/\(name)")
            request.headers.add(name: "Authorization", value: "Basic \(credentials)")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(3))
            let data = try await response.body.collect(upTo: 4 << 20)
            let status = Int(response.status.code)
            if status == 404 {
                figures.append(QueueFigures(name: name, source: "management"))
                continue
            }
            guard status == 200, let body = try? JSONParser.parse(Array(data.readableBytesView)) else { return nil }
            func int(_ value: JSONValue?) -> Int? {
                if case .number(let number)? = value { number.int64Value.map { Int($0) } } else { nil }
            }
            func rate(_ key: String) -> Double? {
                if case .number(let number)? = body["message_stats"]?[key]?["rate"] { number.doubleValue } else { nil }
            }
            figures.append(QueueFigures(
                name: name, ready: int(body["messages_ready"]), unacked: int(body["messages_unacknowledged"]),
                consumers: int(body["consumers"]), publishRate: rate("publish_details"),
                deliverRate: rate("deliver_get_details"), ackRate: rate("ack_details"), source: "management"))
        }
        return figures
    }

    static func table(_ figures: [QueueFigures]) -> String {
        func cell(_ value: Int?) -> String { value.map(String.init) ?? "–" }
        func rate(_ value: Double?) -> String { value.map { String(format: "%.1f/s", $0) } ?? "–" }
        var lines = ["queue       ready  unacked  consumers  publish   deliver   ack       (from \(figures.first?.source ?? "-"))"]
        for figure in figures {
            lines.append([
                figure.name.padding(toLength: 10, withPad: " ", startingAt: 0), cell(figure.ready).leftPadded(6),
                cell(figure.unacked).leftPadded(8), cell(figure.consumers).leftPadded(10), "  " + rate(figure.publishRate).padding(toLength: 9, withPad: " ", startingAt: 0),
                rate(figure.deliverRate).padding(toLength: 9, withPad: " ", startingAt: 0), rate(figure.ackRate),
            ].joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
