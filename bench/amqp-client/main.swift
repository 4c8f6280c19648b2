// The client layer's side of the foundation benchmark: the same jobs as
// bench/c-baseline/lode-c-baseline.c, through LodeAMQP. bench/amqp-client.sh runs both.
import ArgumentParser
import Foundation
import LodeAMQP
import Synchronization

struct CommonOptions: ParsableArguments {
    @Option(help: "Broker URL.") var url = ConnectionSettings.defaultURL
    @Option(help: "Queue to fill or drain.") var queue: String
    @Option(help: "Messages.") var count = 200_000
}

@main
struct LodeBenchAMQP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lode-bench-amqp",
        abstract: "Publish or consume N persistent messages through LodeAMQP and print one JSON line.",
        subcommands: [Publish.self, Consume.self])
}

struct Publish: AsyncParsableCommand {
    @OptionGroup var common: CommonOptions
    @Option(help: "Body size in bytes.") var size = 400
    @Option(help: "Publisher-confirm window.") var window = 1000
    @Option(help: "Messages handed to one publish call.") var chunk = 20_000
    @Option(help: "Delete and declare the queue first: classic or quorum.") var declare: String?

    func run() async throws {
        let settings = try ConnectionSettings(url: common.url)
        var options = PublisherOptions()
        options.window = window
        let publisher = Publisher(settings: settings, options: options)
        if let declare {
            try await publisher.deleteQueue(common.queue)
            try await publisher.declare(Topology(queues: [declare == "quorum" ? .quorum(common.queue) : .classic(common.queue)]))
        }
        try await publisher.connect()
        let message = OutgoingMessage(
            exchange: "", routingKey: common.queue, body: [UInt8](repeating: 0x61, count: size),
            properties: MessageProperties(contentType: "application/octet-stream", deliveryMode: 2))
        let started = ContinuousClock.now
        var nacked = 0
        var remaining = common.count
        while remaining > 0 {
            let n = min(chunk, remaining)
            let report = try await publisher.publish(Array(repeating: message, count: n))
            if let interruption = report.interruption { throw interruption }
            nacked += report.nackedCount
            remaining -= n
        }
        let seconds = (ContinuousClock.now - started).seconds
        await publisher.close()
        print(#"{"op":"publish","count":\#(common.count),"seconds":\#(seconds),"rate":\#(Double(common.count) / seconds),"nacked":\#(nacked)}"#)
    }
}

struct Consume: AsyncParsableCommand {
    @OptionGroup var common: CommonOptions
    @Option(help: "basic.qos prefetch.") var prefetch: UInt16 = 500
    @Option(help: "How deliveries reach the code: 'handler' (on the consumer's thread) or 'stream' (async events).")
    var mode = "handler"

    func run() async throws {
        let settings = try ConnectionSettings(url: common.url)
        var options = ConsumerOptions()
        options.prefetch = prefetch
        let target = common.count
        let (finished, done) = AsyncStream<Int>.makeStream()
        let consumer: Consumer
        if mode == "handler" {
            // One basic.ack per message, as the C baseline does.
            let counter = Counter()
            consumer = Consumer(settings: settings, queue: common.queue, options: options) { batch, acknowledgements in
                for delivery in batch { acknowledgements.ack(delivery.tag) }
                if counter.add(batch.count) >= target { done.yield(counter.value) }
            }
        } else {
            consumer = Consumer(settings: settings, queue: common.queue, options: options)
        }
        let started = ContinuousClock.now
        try await consumer.start()
        var received = 0
        if mode == "handler" {
            for await count in finished { received = count; break }
        } else {
            for await event in consumer.events {
                guard case .deliveries(let batch) = event else { continue }
                received += batch.count
                consumer.acknowledge(batch.map(\.tag))
                if received >= target { break }
            }
        }
        let seconds = (ContinuousClock.now - started).seconds
        await consumer.close()
        print(#"{"op":"consume","mode":"\#(mode)","count":\#(received),"seconds":\#(seconds),"rate":\#(Double(received) / seconds)}"#)
    }
}

/// Counts deliveries across handler calls (all on the consumer's thread, read by the main task).
final class Counter: Sendable {
    private let count = Mutex(0)
    func add(_ n: Int) -> Int { count.withLock { $0 += n; return $0 } }
    var value: Int { count.withLock { $0 } }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
