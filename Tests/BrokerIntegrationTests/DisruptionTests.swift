import Foundation
import LodeAMQP
import Synchronization
import Testing

extension BrokerTests {
    @Suite("Broker-side disruptions")
    struct Disruptions {
        @Test func aConsumerCancelledByTheBrokerIsReportedAndCanResume() async throws {
            let settings = try BrokerFixture.settings()
            let queue = BrokerFixture.uniqueName("cancelled")
            let topology = Topology(queues: [.classic(queue)])
            let publisher = Publisher(settings: settings, topology: topology)
            let consumer = Consumer(settings: settings, queue: queue, topology: topology)
            let inbox = ConsumerInbox.following(consumer)
            try await consumer.start()

            try await publisher.deleteQueue(queue)
            #expect(await BrokerFixture.eventually {
                await inbox.contains { if case .cancelledByBroker = $0 { true } else { false } }
            })

            try await consumer.resume()
            #expect(try await publisher.publish([OutgoingMessage(exchange: "", routingKey: queue, body: body("again"))]).allConfirmed)
            #expect(await BrokerFixture.eventually { await inbox.count == 1 })
            try await consumer.ack(await inbox.deliveries[0].tag)
            await consumer.close()
            try await publisher.deleteQueue(queue)
            await publisher.close()
        }

        @Test func aBlockedConnectionIsReportedNotHung() async throws {
            let settings = try BrokerFixture.settings()
            let queue = BrokerFixture.uniqueName("blocked")
            var options = PublisherOptions()
            options.blockedTimeout = .seconds(2)
            options.confirmTimeout = .seconds(20)
            let publisher = Publisher(settings: settings, topology: Topology(queues: [.classic(queue)]), options: options)
            let log = ConnectionEventLog.following(publisher.events)
            try await publisher.connect()
            let message = OutgoingMessage(exchange: "", routingKey: queue, body: body("under alarm"))

            try BrokerFixture.script("ctl", "set_vm_memory_high_watermark", "0.000001")
            defer { _ = try? BrokerFixture.script("ctl", "set_vm_memory_high_watermark", "0.4") }
            #expect(try await BrokerFixture.eventually {
                try BrokerFixture.script("ctl", "eval", "rabbit_alarm:get_alarms().").contains("memory")
            })

            // The broker blocks a connection when it publishes during the alarm.
            let started = ContinuousClock.now
            var report = try await publisher.publish([message])
            if report.interruption == nil {
                report = try await publisher.publish([message])
            }
            #expect(ContinuousClock.now - started < .seconds(15), "publishing while blocked returned, it did not hang")
            #expect(await log.contains { if case .blocked = $0 { true } else { false } })
            guard case .blocked(let reason)? = report.interruption?.kind else {
                Issue.record("expected a .blocked interruption, got \(String(describing: report.interruption))")
                return
            }
            #expect(reason.contains("memory"))
            #expect(report.unconfirmedCount == 1)

            try BrokerFixture.script("ctl", "set_vm_memory_high_watermark", "0.4")
            #expect(try await BrokerFixture.eventually {
                try !BrokerFixture.script("ctl", "eval", "rabbit_alarm:get_alarms().").contains("memory")
            })
            #expect(try await publisher.publish([message]).allConfirmed)
            try await publisher.deleteQueue(queue)
            await publisher.close()
        }

        @Test func publisherAndConsumerRecoverFromABrokerRestartLosingNothingConfirmed() async throws {
            let settings = try BrokerFixture.settings()
            let published = BrokerFixture.uniqueName("restart-published")
            let consumed = BrokerFixture.uniqueName("restart-consumed")
            var options = PublisherOptions()
            options.reconnectTimeout = .seconds(120)
            let publisher = Publisher(settings: settings, topology: Topology(queues: [.classic(published)]), options: options)
            let log = ConnectionEventLog.following(publisher.events)
            let watcher = Publisher(settings: settings, options: options)
            let consumer = Consumer(settings: settings, queue: consumed, topology: Topology(queues: [.classic(consumed)]))
            let inbox = ConsumerInbox.following(consumer)
            try await consumer.start()

            func message(_ n: Int) -> OutgoingMessage {
                OutgoingMessage(exchange: "", routingKey: published, body: body("event \(n)"),
                                properties: MessageProperties(deliveryMode: 2, messageID: "m-\(n)"))
            }

            // Long publish calls, one after another, until the restart interrupts one of them.
            let restarted = Mutex(false)
            let restart = Task {
                _ = await BrokerFixture.eventually(timeout: .seconds(60)) {
                    (try? await watcher.inspectQueue(published)?.messageCount ?? 0) ?? 0 >= 1_000
                }
                defer { restarted.withLock { $0 = true } }
                try BrokerFixture.script("restart")
            }
            var confirmed: Set<String> = []
            var unconfirmed: [Int] = []
            var next = 0
            var interrupted = false
            while !interrupted && !restarted.withLock({ $0 }) {
                let chunk = (next..<(next + 50_000)).map(message)
                let report = try await publisher.publish(chunk)
                for (index, outcome) in report.outcomes.enumerated() {
                    switch outcome {
                    case .confirmed: confirmed.insert("m-\(next + index)")
                    case .unconfirmed: unconfirmed.append(next + index)
                    default: Issue.record("unexpected outcome \(outcome)")
                    }
                }
                interrupted = report.interruption != nil
                if interrupted { #expect(report.interruption?.isConnectionLost == true) }
                next += chunk.count
            }
            try await restart.value
            #expect(interrupted && !unconfirmed.isEmpty, "the restart interrupted a publish call")
            #expect(await log.lostCount >= 1)

            // Resend what was not confirmed: the publisher reconnects by itself.
            let resent = try await publisher.publish(unconfirmed.map(message))
            #expect(resent.allConfirmed)
            for n in unconfirmed { confirmed.insert("m-\(n)") }

            // Every confirmed message survived the restart.
            let state = try #require(try await watcher.inspectQueue(published))
            #expect(state.messageCount >= confirmed.count)
            let reader = Consumer(settings: settings, queue: published)
            try await reader.start()
            var present: Set<String> = []
            var read = 0
            for await event in reader.events {
                guard case .deliveries(let batch) = event else { continue }
                read += batch.count
                for delivery in batch { if let id = delivery.properties.messageID { present.insert(id) } }
                try await reader.ack(batch.map(\.tag))
                if read >= state.messageCount { break }
            }
            #expect(confirmed.subtracting(present).isEmpty, "confirmed but lost: \(confirmed.subtracting(present).count)")
            await reader.close()

            // The consumer reconnected and subscribed again by itself.
            #expect(await BrokerFixture.eventually(timeout: .seconds(60)) {
                await inbox.events.count { if case .connection(.connected) = $0 { true } else { false } } >= 2
            })
            #expect(await inbox.contains { if case .connection(.connectionLost) = $0 { true } else { false } })
            #expect(try await watcher.publish([OutgoingMessage(exchange: "", routingKey: consumed, body: body("after"))]).allConfirmed)
            #expect(await BrokerFixture.eventually { await inbox.count == 1 })
            await consumer.close()
            try await watcher.deleteQueue(published)
            try await watcher.deleteQueue(consumed)
            await watcher.close()
            await publisher.close()
        }
    }
}
