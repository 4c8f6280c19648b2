import LodeJSON
import ArgumentParser
import Foundation
import LodeEvents
import LodeQueues

/// `lodectl queues`: ready, unacknowledged and consumers of every Lodestone queue, with rates and
/// the age of `lode.dead`'s oldest message. The reading itself is `LodeQueues.QueueReader`,
/// shared with the worker's status page.
struct Queues: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every Lodestone queue: ready, unacknowledged, consumers, rates, and the oldest dead letter's age.",
        discussion: """
            Reads RabbitMQ's management HTTP API when it answers (ready, unacknowledged, consumers, \
            publish/deliver/ack rates per second); otherwise a passive queue.declare over AMQP \
            (ready and consumers only: unacked is null and `source` says "passive"). A quorum \
            queue's management figures are refreshed every few seconds by the broker.

            The age of lode.dead's oldest message (`oldest_age_seconds`, null when empty or \
            unknown) is read from that message's x-lode-first-failed-at header: the head message \
            is received, held for a few milliseconds and given back in its place by closing the \
            connection (nothing is removed or reordered; it counts one delivery). --watch reads it again only when \
            lode.dead shrank or after a minute.

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
        let reader = QueueReader(settings: try connection.settings(), managementURL: managementURL,
                                 headMemoLifetime: watch ? .seconds(60) : .zero)
        do {
            repeat {
                let figures = try await reader.read()
                if watch { print("\u{1B}[H\u{1B}[2J", terminator: "") }
                if json {
                    print(String(decoding: JSONValue.object([.init("queues", .array(figures.map(\.json)))]).serializedBytes(), as: UTF8.self))
                } else {
                    print(Self.table(figures))
                }
                if watch { try await Task.sleep(for: .seconds(2)) }
            } while watch
        } catch let error as QueueReadError {
            await reader.close()
            FileHandle.standardError.write(Data("lodectl: \(error)\n".utf8))
            throw ExitCode(ExitStatus.unavailable)
        } catch {
            await reader.close()
            throw error
        }
        await reader.close()
    }

    static func table(_ figures: [QueueFigures]) -> String {
        func cell(_ value: Int?) -> String { value.map(String.init) ?? "–" }
        func rate(_ value: Double?) -> String { value.map { String(format: "%.1f/s", $0) } ?? "–" }
        func age(_ figure: QueueFigures) -> String { figure.oldestAgeSeconds.map { humanDuration(seconds: $0) } ?? "–" }
        var lines = ["queue       ready  unacked  consumers  publish   deliver   ack       oldest   (from \(figures.first?.source.rawValue ?? "-"))"]
        for figure in figures {
            lines.append([
                figure.name.padding(toLength: 10, withPad: " ", startingAt: 0), cell(figure.ready).leftPadded(6),
                cell(figure.unacked).leftPadded(8), cell(figure.consumers).leftPadded(10), "  " + rate(figure.publishRate).padding(toLength: 9, withPad: " ", startingAt: 0),
                rate(figure.deliverRate).padding(toLength: 9, withPad: " ", startingAt: 0),
                rate(figure.ackRate).padding(toLength: 9, withPad: " ", startingAt: 0), age(figure),
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
