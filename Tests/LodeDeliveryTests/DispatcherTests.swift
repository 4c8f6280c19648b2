import Crypto
import Foundation
import Synchronization
import LodeDelivery
import LodeEvents
import LodeNotifications
import LodeStorage
import LodeTestSupport
import Testing

/// The dispatcher against the real SQLite outbox and a real HTTP receiver on loopback.
@Suite("The notification dispatcher")
struct DispatcherTests {
    static let secret = "s3cr3t-不要外传"

    final class Fixture {
        let directory: String
        let store: SQLiteZoneStore

        init() throws {
            directory = NSTemporaryDirectory() + "lode-delivery-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            store = try SQLiteZoneStore(path: directory + "/zone.sqlite", configuration: SQLiteStoreConfiguration(calendar: try ZoneCalendar()))
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func notification(_ key: String, rule: String, channels: [String], text: String = "年产5万吨稀土永磁材料项目 开工") -> ZoneNotification {
        ZoneNotification(key: "event:\(rule):\(key)", rule: rule, channels: channels, title: "项目开工", text: text,
                         cause: .event(id: key, type: .projectStatusChanged), createdAt: Date())
    }

    static func options(requestTimeout: Duration = .seconds(20)) -> DispatcherOptions {
        var options = DispatcherOptions()
        options.retryBase = .milliseconds(50)
        options.retryCap = .milliseconds(200)
        options.pollInterval = .milliseconds(20)
        // Long enough that a loaded machine does not time out a request the receiver answers
        // (a retry would deliver it twice).
        options.requestTimeout = requestTimeout
        return options
    }

    /// The "office" webhook channel on loopback `port`, signed with ``secret``.
    static func signedWebhook(port: Int) throws -> ChannelConfiguration {
        try ChannelConfiguration(name: "office", kind: .webhook, url: SecretText("http://127.0.0.1:\(port)/hook"),
                                 secret: SecretText(secret))
    }

    /// Runs the dispatcher until `done` holds (or a timeout), then stops it.
    static func dispatch(_ dispatcher: NotificationDispatcher, until done: @escaping () async throws -> Bool) async rethrows -> Bool {
        let running = Task { await dispatcher.run() }
        defer { running.cancel() }
        return try await eventually(done)
    }

    @Test func aSignedWebhookIsVerifiedByTheReceiverAndEachRuleArrivesInOrder() async throws {
        let fixture = try Fixture()
        let receiver = WebhookReceiver()
        let port = try await receiver.start()
        defer { Task { await receiver.stop() } }
        let channel = try Self.signedWebhook(port: port)
        let notifications = (1...5).map { Self.notification("e\($0)", rule: "starts", channels: ["office"]) }
            + (1...3).map { Self.notification("a\($0)", rule: "agreements", channels: ["office"]) }
        #expect(try fixture.store.enqueue(notifications) == 8)

        let dispatcher = NotificationDispatcher(outbox: fixture.store, channels: [channel], options: Self.options())
        #expect(await Self.dispatch(dispatcher) { (try? fixture.store.outboxCounts()) == [.delivered: 8] })

        for request in receiver.requests {
            // What a receiver does (docs/notifications.md): HMAC-SHA256 of "<timestamp>.<body>".
            let timestamp = try #require(request.headers["x-lode-timestamp"])
            let expected = "sha256=" + HMAC<SHA256>.authenticationCode(for: Array((timestamp + ".").utf8) + request.body, using: SymmetricKey(data: Array(Self.secret.utf8))).hex
            #expect(request.headers["x-lode-signature"] == expected)
            #expect(abs(Double(timestamp)! - Date().timeIntervalSince1970) < 60)
        }
        let keys = receiver.requests.compactMap { $0.headers["x-lode-idempotency-key"] }
        #expect(Set(keys).count == 8)
        let order = receiver.requests.map { request in
            notifications.first { $0.idempotencyKey == request.headers["x-lode-idempotency-key"] }!.key
        }
        #expect(order.filter { $0.hasPrefix("event:starts") } == notifications.prefix(5).map(\.key))
        #expect(order.filter { $0.hasPrefix("event:agreements") } == notifications.suffix(3).map(\.key))
        #expect(receiver.requests.count == 8)
        // The outbox row is marked before the dispatcher's counter is: wait for the counter too.
        #expect(await eventually { dispatcher.totals.delivered == 8 })
    }

    @Test func aReceiverDownForAWhileGetsEverythingInOrderOnce() async throws {
        let fixture = try Fixture()
        // Nothing listens on the port at first: connection refused, retried with backoff.
        let receiver = WebhookReceiver()
        let port = unusedPort()
        let channel = try Self.signedWebhook(port: port)
        let notifications = (1...6).map { Self.notification("e\($0)", rule: "starts", channels: ["office"]) }
        _ = try fixture.store.enqueue(notifications)
        // The HTTP client tries a refused connection again until the request's deadline: a short
        // one, so that attempts fail and are retried quickly.
        let whileDown = NotificationDispatcher(outbox: fixture.store, channels: [channel], options: Self.options(requestTimeout: .seconds(2)))
        let running = Task { await whileDown.run() }
        #expect(await eventually { whileDown.totals.retried >= 3 })
        #expect(try fixture.store.outboxCounts()[.delivered] == nil)
        // The worker restarts with the usual deadline while the receiver comes back: a 2 s
        // deadline on a loaded machine can time out a request the receiver did get, and its
        // retry would then arrive twice (what the idempotency key is for; not this test's point).
        running.cancel()
        await running.value

        try await receiver.start(port: port)
        defer { Task { await receiver.stop() } }
        let dispatcher = NotificationDispatcher(outbox: fixture.store, channels: [channel], options: Self.options())
        #expect(await Self.dispatch(dispatcher) { (try? fixture.store.outboxCounts()) == [.delivered: 6] })
        let keys = receiver.requests.compactMap { $0.headers["x-lode-idempotency-key"] }
        #expect(keys == notifications.map(\.idempotencyKey), "every notification once, in order")
    }

    @Test func aBacklogOfOneRuleGoesOutOneAfterAnotherWithoutWaitingForThePoll() async throws {
        let fixture = try Fixture()
        let receiver = WebhookReceiver()
        let port = try await receiver.start()
        defer { Task { await receiver.stop() } }
        let channel = try Self.signedWebhook(port: port)
        let notifications = (1...20).map { Self.notification("e\($0)", rule: "starts", channels: ["office"]) }
        _ = try fixture.store.enqueue(notifications)
        var options = Self.options()
        // One look at the outbox at the start and none after on the clock: each next delivery
        // is found because the one before it finished.
        options.pollInterval = .seconds(3600)
        let dispatcher = NotificationDispatcher(outbox: fixture.store, channels: [channel], options: options)
        #expect(await Self.dispatch(dispatcher) { (try? fixture.store.outboxCounts()) == [.delivered: 20] })
        let keys = receiver.requests.compactMap { $0.headers["x-lode-idempotency-key"] }
        #expect(keys == notifications.map(\.idempotencyKey), "every notification once, in order")
    }

    @Test func aHangingChannelHoldsUpNoOtherChannel() async throws {
        let fixture = try Fixture()
        let receiver = WebhookReceiver { request in
            request.path == "/slow" ? .init(delay: .seconds(30)) : .init()
        }
        let port = try await receiver.start()
        defer { Task { await receiver.stop() } }
        let slow = try ChannelConfiguration(name: "slow", kind: .slack, url: SecretText("http://127.0.0.1:\(port)/slow"))
        let fast = try ChannelConfiguration(name: "fast", kind: .slack, url: SecretText("http://127.0.0.1:\(port)/fast"))
        _ = try fixture.store.enqueue((1...4).map { Self.notification("e\($0)", rule: "starts", channels: ["slow", "fast"]) })
        let dispatcher = NotificationDispatcher(outbox: fixture.store, channels: [slow, fast], options: Self.options())
        #expect(await Self.dispatch(dispatcher) { receiver.requests.filter { $0.path == "/fast" }.count == 4 })
        #expect(receiver.requests.filter { $0.path == "/slow" }.isEmpty)
    }

    @Test func eachGroupChatGetsItsOwnPayload() async throws {
        let fixture = try Fixture()
        let receiver = WebhookReceiver()
        let port = try await receiver.start()
        defer { Task { await receiver.stop() } }
        let base = "http://127.0.0.1:\(port)"
        let channels = [
            try ChannelConfiguration(name: "ding", kind: .dingtalk, url: SecretText(base + "/robot/send?access_token=t0k"),
                                     secret: SecretText("SECabc")),
            try ChannelConfiguration(name: "wecom", kind: .wecom, url: SecretText(base + "/cgi-bin/webhook/send?key=k3y")),
            try ChannelConfiguration(name: "slack", kind: .slack, url: SecretText(base + "/services/T/B/X")),
        ]
        _ = try fixture.store.enqueue([Self.notification("e1", rule: "starts", channels: ["ding", "wecom", "slack"])])
        let dispatcher = NotificationDispatcher(outbox: fixture.store, channels: channels, options: Self.options())
        #expect(await Self.dispatch(dispatcher) { (try? fixture.store.outboxCounts()) == [.delivered: 3] })

        let ding = try #require(receiver.requests.first { $0.path == "/robot/send" })
        let query = Dictionary(uniqueKeysWithValues: ding.query.split(separator: "&").map {
            let pair = $0.split(separator: "=", maxSplits: 1)
            return (String(pair[0]), String(pair[1]).removingPercentEncoding ?? "")
        })
        #expect(query["access_token"] == "t0k")
        let timestamp = try #require(query["timestamp"])
        let sign = Data(HMAC<SHA256>.authenticationCode(for: Array((timestamp + "\nSECabc").utf8), using: SymmetricKey(data: Array("SECabc".utf8))))
            .base64EncodedString()
        #expect(query["sign"] == sign)
        #expect(ding.text.contains(#""msgtype":"text""#) && ding.text.contains("年产5万吨稀土永磁材料项目 开工"))

        let wecom = try #require(receiver.requests.first { $0.path == "/cgi-bin/webhook/send" })
        #expect(wecom.query == "key=k3y")
        #expect(wecom.text.contains(#""msgtype":"text""#) && wecom.text.contains("开工"))
        let slack = try #require(receiver.requests.first { $0.path == "/services/T/B/X" })
        #expect(slack.text.contains(#""text":"#))
        #expect(receiver.requests.count == 3)
    }

    @Test func aRefusingChannelFailsTheDeliveryAtOnceAndARetrySendsItAgain() async throws {
        let fixture = try Fixture()
        let refusing = WebhookReceiverSwitch()
        let receiver = WebhookReceiver { _ in refusing.refuse ? .init(body: #"{"errcode":310000,"errmsg":"sign not match"}"#) : .init() }
        let port = try await receiver.start()
        defer { Task { await receiver.stop() } }
        let ding = try ChannelConfiguration(name: "ding", kind: .dingtalk, url: SecretText("http://127.0.0.1:\(port)/robot/send?access_token=t"))
        _ = try fixture.store.enqueue([Self.notification("e1", rule: "starts", channels: ["ding"])])
        let dispatcher = NotificationDispatcher(outbox: fixture.store, channels: [ding], options: Self.options())
        #expect(await Self.dispatch(dispatcher) { (try? fixture.store.outboxCounts()) == [.failed: 1] })
        let failed = try fixture.store.outboxEntries(failedOnly: true)
        #expect(failed.first?.lastError?.contains("310000") == true, "\(failed)")

        refusing.refuse = false
        #expect(try fixture.store.retryDelivery(try #require(failed.first?.id)))
        #expect(await Self.dispatch(dispatcher) { (try? fixture.store.outboxCounts()) == [.delivered: 1] })
    }
}

/// A flag the test flips between two phases and the receiver reads.
final class WebhookReceiverSwitch: Sendable {
    private let value = Mutex(true)
    var refuse: Bool {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
