import Crypto
import LodeJSON
import Foundation
import LodeEvents

/// An HTTP request to send, as plain data: the dispatcher hands it to its
/// HTTP client as is.
public struct ChannelRequest: Sendable, Hashable, CustomStringConvertible {
    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var method: String
    /// The full URL, with any token and signature: never log it (``description`` does not show it).
    public var url: String
    public var headers: [Header]
    public var body: [UInt8]

    /// The value of the first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// `POST https://host/… (123 bytes)`: no path, query or secret.
    public var description: String {
        let host = URL(string: url)?.host ?? "?"
        return "\(method) https://\(host)/… (\(body.count) bytes)"
    }
}

/// What delivering a notification to one channel means.
public enum ChannelDelivery: Sendable, Hashable {
    /// Send this request; see ``ChannelConfiguration/outcome(status:body:)``.
    case http(ChannelRequest)
    /// Write this line to the log (a `log` channel).
    case log(String)
}

/// What a channel's answer means for the outbox.
public enum DeliveryOutcome: Sendable, Hashable {
    case delivered
    /// Try again later, with backoff (a server error, a rate limit).
    case retry(String)
    /// The channel refuses the request as it is (a bad token or signature,
    /// a malformed payload): retrying the same request cannot help; an
    /// operator has to fix the channel's settings.
    case rejected(String)
}

extension ChannelConfiguration {
    /// The header names of the generic webhook.
    public enum WebhookHeader {
        /// Unix time in seconds when the request was signed.
        public static let timestamp = "X-Lode-Timestamp"
        /// `sha256=` and the lowercase hex HMAC-SHA256, under the channel's
        /// secret, of `<timestamp>.<body>`.
        public static let signature = "X-Lode-Signature"
        /// ``ZoneNotification/idempotencyKey``: the same on every retry.
        public static let idempotencyKey = "X-Lode-Idempotency-Key"
    }

    /// WeCom's limits on a message's content, in UTF-8 bytes.
    public static let wecomTextLimit = 2048
    public static let wecomMarkdownLimit = 4096

    /// What to send for `notification` on this channel.
    ///
    /// - Parameters:
    ///   - timestamp: when the request is sent (signatures carry it and
    ///     receivers reject old ones: DingTalk after an hour), so compute it
    ///     at each attempt, not when the notification was recorded.
    ///   - idempotencyKey: normally ``ZoneNotification/idempotencyKey``.
    public func delivery(of notification: ZoneNotification, timestamp: Date, idempotencyKey: String) -> ChannelDelivery {
        let json = [ChannelRequest.Header("Content-Type", "application/json; charset=utf-8")]
        switch kind {
        case .log:
            return .log("notification \(notification.rule) [\(notification.key)]: \(notification.title): \(notification.text)")
        case .webhook:
            let body = Self.webhookBody(notification, idempotencyKey: idempotencyKey)
            let seconds = String(Int64(timestamp.timeIntervalSince1970.rounded(.down)))
            let signature = Self.webhookSignature(timestamp: seconds, body: body, secret: secret?.revealed ?? "")
            return .http(ChannelRequest(
                method: "POST", url: url?.revealed ?? "",
                headers: json + [
                    .init(WebhookHeader.timestamp, seconds),
                    .init(WebhookHeader.signature, signature),
                    .init(WebhookHeader.idempotencyKey, idempotencyKey),
                ],
                body: body))
        case .dingtalk:
            let body: JSONValue = switch format {
            case .text:
                .object([.init("msgtype", .string("text")), .init("text", .object([.init("content", .string(notification.text))]))])
            case .markdown:
                .object([.init("msgtype", .string("markdown")), .init("markdown", .object([
                    .init("title", .string(notification.title)), .init("text", .string(notification.text)),
                ]))])
            }
            var address = url?.revealed ?? ""
            if let secret {
                let milliseconds = String(Int64((timestamp.timeIntervalSince1970 * 1000).rounded()))
                let sign = Self.dingTalkSign(timestamp: milliseconds, secret: secret.revealed)
                address += (address.contains("?") ? "&" : "?") + "timestamp=\(milliseconds)&sign=\(PercentEncoding.queryValue(sign))"
            }
            return .http(ChannelRequest(method: "POST", url: address, headers: json, body: body.serializedBytes()))
        case .wecom:
            let body: JSONValue = switch format {
            case .text:
                .object([.init("msgtype", .string("text")), .init("text", .object([
                    .init("content", .string(Self.truncated(notification.text, toUTF8Bytes: Self.wecomTextLimit))),
                ]))])
            case .markdown:
                .object([.init("msgtype", .string("markdown")), .init("markdown", .object([
                    .init("content", .string(Self.truncated(notification.text, toUTF8Bytes: Self.wecomMarkdownLimit))),
                ]))])
            }
            return .http(ChannelRequest(method: "POST", url: url?.revealed ?? "", headers: json, body: body.serializedBytes()))
        case .slack:
            let body: JSONValue = .object([.init("text", .string(notification.text))])
            return .http(ChannelRequest(method: "POST", url: url?.revealed ?? "", headers: json, body: body.serializedBytes()))
        }
    }

    /// What an HTTP answer of this channel means. DingTalk and WeCom answer
    /// 200 with `{"errcode":0,...}` on success and a non-zero `errcode` on
    /// failure; a webhook and Slack succeed with any 2xx.
    public func outcome(status: Int, body: [UInt8]) -> DeliveryOutcome {
        if status == 429 || status == 408 || (500...599).contains(status) { return .retry("HTTP \(status)") }
        guard (200...299).contains(status) else { return .rejected("HTTP \(status)") }
        guard kind == .dingtalk || kind == .wecom else { return .delivered }
        guard let answer = try? JSONParser.parse(body), case .number(let number)? = answer["errcode"],
              let code = number.int64Value else {
            return .retry("HTTP \(status) without an errcode")
        }
        if code == 0 { return .delivered }
        var message = "errcode \(code)"
        if case .string(let text)? = answer["errmsg"] { message += ": \(text)" }
        // Rate limits (DingTalk 130101, WeCom 45009) and system busy (-1) pass with time.
        return [130101, 45009, -1].contains(code) ? .retry(message) : .rejected(message)
    }

    /// `sha256=<hex>`: HMAC-SHA256 under `secret` of the ASCII `timestamp`,
    /// a `.`, then the body bytes. What a receiver recomputes.
    public static func webhookSignature(timestamp: String, body: [UInt8], secret: String) -> String {
        "sha256=" + HMAC<SHA256>.authenticationCode(for: Array(timestamp.utf8) + [UInt8(ascii: ".")] + body, using: SymmetricKey(data: Array(secret.utf8))).hex
    }

    /// DingTalk's 加签: base64 of HMAC-SHA256 under `secret` of
    /// `<timestamp ms>\n<secret>` (not yet URL-encoded).
    public static func dingTalkSign(timestamp milliseconds: String, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array((milliseconds + "\n" + secret).utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return Data(code).base64EncodedString()
    }

    /// The webhook's JSON body.
    static func webhookBody(_ notification: ZoneNotification, idempotencyKey: String) -> [UInt8] {
        let body: JSONValue = .object([
            .init("idempotency_key", .string(idempotencyKey)),
            .init("key", .string(notification.key)),
            .init("rule", .string(notification.rule)),
            .init("title", .string(notification.title)),
            .init("text", .string(notification.text)),
            .init("cause", notification.cause.json),
            .init("created_at", .string(rfc3339(notification.createdAt))),
        ])
        return body.serializedBytes()
    }

    static func rfc3339(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let instant = EventInstant(secondsSinceEpoch: seconds, nanoseconds: Int32(milliseconds - seconds * 1000) * 1_000_000)
        return (try? EventTime(instant: instant).text) ?? ""
    }

    /// `text` cut to at most `limit` UTF-8 bytes at a character boundary,
    /// ending in `…` when cut.
    static func truncated(_ text: String, toUTF8Bytes limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        let ellipsis = "…"
        var result = ""
        var used = 0
        for character in text {
            let size = character.utf8.count
            if used + size + ellipsis.utf8.count > limit { break }
            result.append(character)
            used += size
        }
        return result + ellipsis
    }
}
