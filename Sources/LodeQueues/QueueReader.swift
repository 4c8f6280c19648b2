import LodeDeadLetters
import LodeJSON
import AsyncHTTPClient
import Foundation
import LodeAMQP
import LodeEvents
import LodeWire
import Synchronization

/// Reads the figures of Lodestone's queues (`lode.work`, `lode.dead`): from RabbitMQ's
/// management HTTP API when it answers (ready, unacknowledged, consumers, rates), otherwise from
/// passive declares over AMQP (ready and consumers; `unacked` is `nil`, `source` says
/// `passive`). For `lode.dead` it adds the age of the oldest message (``DeadLetterHead``).
///
/// One reader keeps one AMQP connection for its passive declares (opened at the first need,
/// re-opened after a failure) and remembers the dead-letter head it read, so that a page or a
/// `--watch` that asks every few seconds does not hold the head message every time: it reads
/// the head again only when `lode.dead` shrank (a replay or a purge took the head away) or
/// when ``headMemoLifetime`` has passed. Close it with ``close()``.
public final class QueueReader: Sendable {
    /// The queues read, in the order they are shown.
    public static let queueNames = [ZoneTopology.workQueue, ZoneTopology.deadLetterQueue]

    public let settings: ConnectionSettings
    /// The management API's base URLs, tried in order (`http://HOST:15672` of each broker host
    /// of the URL list, or the one given); empty for AMQP only.
    public let managementBases: [String]
    /// How long a dead-letter head once read is trusted while `lode.dead` does not shrink.
    public let headMemoLifetime: Duration
    private let publisher: Publisher
    private let head = Mutex(HeadState())

    /// What was read of `lode.dead`'s head, and when.
    private struct HeadMemo {
        var enteredAt: Date
        var readyWhenRead: Int
        var readAt: ContinuousClock.Instant
    }

    /// The memo, and whether a read of the head is under way: one at a time, so that two pages
    /// asked at once do not hold two messages (the second would be the head's successor).
    private struct HeadState {
        var memo: HeadMemo?
        var reading = false
    }

    /// A warning for the log when the management API is reached over plain `http://` on another
    /// machine: every request carries the broker user's password (Basic authentication).
    public var insecureManagementURLWarning: String? {
        for base in managementBases where base.lowercased().hasPrefix("http://") {
            let afterScheme = base.dropFirst("http://".count)
            let authority = afterScheme.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            let hostPort = authority.split(separator: "@").last.map(String.init) ?? ""
            let host: String
            if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
                host = String(hostPort[...close])
            } else {
                host = String(hostPort.prefix { $0 != ":" })
            }
            if isLoopbackHost(host) { continue }
            return "the management API at http://\(host)/ is reached over plain HTTP from another machine: the broker user's password crosses the network readable; use https:// (--management-url) or 'off'"
        }
        return nil
    }

    /// - Parameter managementURL: the management API's base URL; `nil` for
    ///   `http(s)://HOST:15672` of each broker host of the URL list, `"off"` for AMQP only.
    /// - Parameter headMemoLifetime: zero reads the dead-letter head at every ``read()``.
    public init(settings: ConnectionSettings, managementURL: String? = nil, headMemoLifetime: Duration = .zero) {
        self.settings = settings
        if managementURL == "off" {
            managementBases = []
        } else if let managementURL {
            managementBases = [managementURL.hasSuffix("/") ? String(managementURL.dropLast()) : managementURL]
        } else {
            var hosts: [String] = []
            for broker in settings.brokers where !hosts.contains(broker.host) { hosts.append(broker.host) }
            managementBases = hosts.map { host in
                "\(settings.useTLS ? "https" : "http")://\(host.contains(":") ? "[\(host)]" : host):15672"
            }
        }
        self.headMemoLifetime = headMemoLifetime
        var connection = settings
        connection.connectionName = connection.connectionName ?? "lodestone: reading queues"
        var options = PublisherOptions()
        options.reconnectTimeout = .seconds(3)
        publisher = Publisher(settings: connection, options: options)
    }

    /// Every Lodestone queue's figures, `lode.dead`'s with the age of its oldest message.
    /// Throws ``QueueReadError`` when neither the management API nor AMQP answers.
    public func read(now: Date = Date()) async throws(QueueReadError) -> [QueueFigures] {
        var figures: [QueueFigures]
        var answered: [QueueFigures]?
        for base in managementBases where answered == nil {
            answered = await management(base: base)
        }
        if let answered {
            figures = answered
        } else {
            figures = try await passive()
        }
        if let index = figures.firstIndex(where: { $0.name == ZoneTopology.deadLetterQueue }),
           figures[index].oldestAgeSeconds == nil {
            figures[index].oldestAgeSeconds = await deadLetterAge(ready: figures[index].ready, now: now)
        }
        return figures
    }

    /// Closes the AMQP connection.
    public func close() async {
        await publisher.close()
    }

    private func passive() async throws(QueueReadError) -> [QueueFigures] {
        var figures: [QueueFigures] = []
        for name in Self.queueNames {
            let state: QueueState?
            do {
                state = try await publisher.inspectQueue(name)
            } catch {
                throw QueueReadError(queue: name, endpoint: settings.redactedURL, reason: "\(error)")
            }
            figures.append(QueueFigures(name: name, ready: state.map { Int($0.messageCount) }, unacked: nil,
                                        consumers: state.map { Int($0.consumerCount) }, source: .passive))
        }
        return figures
    }

    /// The figures from `GET /api/queues/VHOST/NAME`, or nil when the API does not answer.
    private func management(base: String) async -> [QueueFigures]? {
        let vhost = settings.vhost.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "%2F"
        let credentials = Data("\(settings.user):\(settings.password)".utf8).base64EncodedString()
        var figures: [QueueFigures] = []
        for name in Self.queueNames {
            // async-http-client keeps the path as written: the vhost "/" must stay "%2F".
            var request = HTTPClientRequest(url: "\(base)/api/queues/\(vhost)/\(name)")
            request.headers.add(name: "Authorization", value: "Basic \(credentials)")
            guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(3)),
                  let data = try? await response.body.collect(upTo: 4 << 20) else { return nil }
            let status = Int(response.status.code)
            if status == 404 {
                figures.append(QueueFigures(name: name, source: .management))
                continue
            }
            guard status == 200, let body = try? JSONParser.parse(Array(data.readableBytesView)) else { return nil }
            figures.append(Self.figures(name: name, managementBody: body))
        }
        return figures
    }

    /// One queue's figures from the management API's JSON object for it.
    static func figures(name: String, managementBody body: JSONValue, now: Date = Date()) -> QueueFigures {
        func int(_ value: JSONValue?) -> Int? {
            if case .number(let number)? = value { number.int64Value.map { Int($0) } } else { nil }
        }
        func rate(_ key: String) -> Double? {
            if case .number(let number)? = body["message_stats"]?[key]?["rate"] { number.doubleValue } else { nil }
        }
        var figures = QueueFigures(
            name: name, ready: int(body["messages_ready"]), unacked: int(body["messages_unacknowledged"]),
            consumers: int(body["consumers"]), publishRate: rate("publish_details"),
            deliverRate: rate("deliver_get_details"), ackRate: rate("ack_details"), source: .management)
        // Classic queues only (Unix seconds of the head message's `timestamp` property).
        if let stamp = int(body["head_message_timestamp"]), figures.ready ?? 0 > 0 {
            figures.oldestAgeSeconds = max(0, now.timeIntervalSince1970 - Double(stamp))
        }
        return figures
    }

    /// The age of `lode.dead`'s head: remembered while the queue has not shrunk and the memo is
    /// young, otherwise read again (``DeadLetterHead``). `nil` when empty or unknown.
    private func deadLetterAge(ready: Int?, now: Date) async -> Double? {
        guard let ready, ready > 0 else {
            head.withLock { $0.memo = nil }
            return nil
        }
        let clock = ContinuousClock()
        let lifetime = headMemoLifetime
        enum Next { case remembered(Date?), read }
        let next = head.withLock { state -> Next in
            if let known = state.memo, ready >= known.readyWhenRead, clock.now - known.readAt < lifetime {
                // Growth adds at the tail; the count to compare the next read with is today's.
                state.memo?.readyWhenRead = ready
                return .remembered(known.enteredAt)
            }
            if state.reading { return .remembered(state.memo?.enteredAt) }
            state.reading = true
            return .read
        }
        switch next {
        case .remembered(let entered):
            return entered.map { max(0, now.timeIntervalSince($0)) }
        case .read:
            let entered = try? await DeadLetterHead.enteredAt(queue: ZoneTopology.deadLetterQueue, settings: settings)
            head.withLock { state in
                state.reading = false
                state.memo = entered.map { HeadMemo(enteredAt: $0, readyWhenRead: ready, readAt: clock.now) }
            }
            return entered.map { max(0, now.timeIntervalSince($0)) }
        }
    }
}

/// Neither the management API nor AMQP gave a queue's figures.
public struct QueueReadError: Error, Sendable, CustomStringConvertible {
    public let queue: String
    public let endpoint: String
    public let reason: String

    public var description: String {
        // `reason` (an AMQPError) names the endpoint already.
        "cannot read queue '\(queue)': \(reason). Is the broker running, and the URL right (--url, LODE_AMQP_URL)?"
    }
}
