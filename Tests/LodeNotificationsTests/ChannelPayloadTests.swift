import Crypto
import Foundation
import LodeEvents
import LodeNotifications
import LodeProjections
import Testing

@Suite("Channel payloads and signatures")
struct ChannelPayloadTests {
    static let notification = ZoneNotification(
        key: "event:project-started:evt-1", rule: "project-started", channels: ["office"],
        title: "项目开工", text: "稀土永磁电机项目（BT-17）已开工", cause: .event(id: "evt-1", type: .projectStatusChanged),
        createdAt: Date(timeIntervalSince1970: 1_700_000_000.5))
    /// 2023-11-14T22:13:20.123Z
    static let sentAt = Date(timeIntervalSince1970: 1_700_000_000.123)

    @Test func theIdempotencyKeyIsTheSHA256OfTheKey() {
        // Computed with Python: hashlib.sha256(b"event:project-started:evt-1").hexdigest().
        #expect(Self.notification.idempotencyKey == "21489f852a688a4153896f49e3011cbb3281e9e018ee2d33b42d987735375f0d")
    }

    @Test func theWebhookIsSignedOverTimestampDotBody() throws {
        let channel = try ChannelConfiguration(name: "erp", kind: .webhook, url: SecretText("https://erp.example.com/hooks/lode"), secret: SecretText("whsec-test"))
        let request = try #require(channel.delivery(of: Self.notification, timestamp: Self.sentAt, idempotencyKey: "idem-1").request)
        #expect(request.method == "POST")
        #expect(request.url == "https://erp.example.com/hooks/lode")
        #expect(request.header("content-type") == "application/json; charset=utf-8")
        #expect(request.header("X-Lode-Timestamp") == "1700000000")
        #expect(request.header("X-Lode-Idempotency-Key") == "idem-1")
        // What a receiver does: HMAC over the header's timestamp, ".", and the raw body.
        let expected = "sha256=" + HMAC<SHA256>.authenticationCode(for: Array("1700000000.".utf8) + request.body, using: SymmetricKey(data: Array("whsec-test".utf8))).hex
        #expect(request.header("X-Lode-Signature") == expected)
        let body = try json(request.body)
        #expect(body["idempotency_key"] == .string("idem-1"))
        #expect(body["key"] == .string("event:project-started:evt-1"))
        #expect(body["rule"] == .string("project-started"))
        #expect(body["title"] == .string("项目开工"))
        #expect(body["text"] == .string("稀土永磁电机项目（BT-17）已开工"))
        #expect(body["cause"]?["kind"] == .string("event"))
        #expect(body["cause"]?["event_id"] == .string("evt-1"))
        #expect(body["cause"]?["event_type"] == .string("zone.project.status_changed"))
        #expect(body["created_at"] == .string("2023-11-14T22:13:20.5Z"))
    }

    @Test func aWebhookBodyDescribesACrossing() throws {
        let target = try ReportTarget(name: "签约企业", path: "recruitment.agreements_signed", target: 20)
        var notification = Self.notification
        notification.cause = .milestone(year: 2024, target: target, milestone: 80, threshold: 16, value: 17)
        let channel = try ChannelConfiguration(name: "erp", kind: .webhook, url: SecretText("https://erp.example.com/"), secret: SecretText("s"))
        let request = try #require(channel.delivery(of: notification, timestamp: Self.sentAt, idempotencyKey: "k").request)
        let cause = try json(request.body)["cause"]
        #expect(cause?["kind"] == .string("milestone"))
        #expect(cause?["year"] == .integer(2024))
        #expect(cause?["figure"] == .string("recruitment.agreements_signed"))
        #expect(cause?["target_name"] == .string("签约企业"))
        #expect(cause?["milestone"] == .integer(80))
        #expect(cause?["threshold"] == .integer(16))
        #expect(cause?["value"] == .integer(17))
    }

    @Test func dingTalkSignsItsURLWithMillisecondsAndTheSecret() throws {
        let secret = "SECb6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0"
        let channel = try ChannelConfiguration(
            name: "office", kind: .dingtalk, url: SecretText("https://oapi.dingtalk.com/robot/send?access_token=TOKEN"), secret: SecretText(secret))
        let request = try #require(channel.delivery(of: Self.notification, timestamp: Self.sentAt, idempotencyKey: "k").request)
        // The sign was computed independently with Python (see SigningTests).
        #expect(request.url == "https://oapi.dingtalk.com/robot/send?access_token=TOKEN&timestamp=1700000000123&sign=RM6vcYCa%2FDC8lGNwg4qs7bKxCSKAg8CXrP67XxmACh8%3D")
        #expect(String(decoding: request.body, as: UTF8.self) == #"{"msgtype":"text","text":{"content":"稀土永磁电机项目（BT-17）已开工"}}"#)
        #expect(!request.description.contains("TOKEN") && !request.description.contains("sign="))
    }

    @Test func dingTalkWithoutASecretSendsToItsURLAsIsAndMarkdownHasATitle() throws {
        let channel = try ChannelConfiguration(
            name: "office", kind: .dingtalk, url: SecretText("https://oapi.dingtalk.com/robot/send?access_token=TOKEN"), format: .markdown)
        let request = try #require(channel.delivery(of: Self.notification, timestamp: Self.sentAt, idempotencyKey: "k").request)
        #expect(request.url == "https://oapi.dingtalk.com/robot/send?access_token=TOKEN")
        #expect(String(decoding: request.body, as: UTF8.self)
            == #"{"msgtype":"markdown","markdown":{"title":"项目开工","text":"稀土永磁电机项目（BT-17）已开工"}}"#)
    }

    @Test func weComSendsTextOrMarkdownAndCutsAtItsLimit() throws {
        let url = SecretText("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY")
        let text = try ChannelConfiguration(name: "wx", kind: .wecom, url: url)
        let request = try #require(text.delivery(of: Self.notification, timestamp: Self.sentAt, idempotencyKey: "k").request)
        #expect(request.url == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY")
        #expect(String(decoding: request.body, as: UTF8.self) == #"{"msgtype":"text","text":{"content":"稀土永磁电机项目（BT-17）已开工"}}"#)

        let markdown = try ChannelConfiguration(name: "wx", kind: .wecom, url: url, format: .markdown)
        var long = Self.notification
        long.text = String(repeating: "签", count: 2000)  // 6000 bytes of UTF-8
        let cut = try #require(markdown.delivery(of: long, timestamp: Self.sentAt, idempotencyKey: "k").request)
        guard case .string(let content)? = try json(cut.body)["markdown"]?["content"] else {
            Issue.record("no markdown content")
            return
        }
        #expect(content.utf8.count <= ChannelConfiguration.wecomMarkdownLimit)
        #expect(content.hasSuffix("…") && content.hasPrefix("签签"))
    }

    @Test func slackGetsItsTextAndALogChannelALine() throws {
        let slack = try ChannelConfiguration(name: "s", kind: .slack, url: SecretText("https://hooks.slack.com/services/T0/B0/XYZ"))
        let request = try #require(slack.delivery(of: Self.notification, timestamp: Self.sentAt, idempotencyKey: "k").request)
        #expect(String(decoding: request.body, as: UTF8.self) == #"{"text":"稀土永磁电机项目（BT-17）已开工"}"#)

        let log = try ChannelConfiguration(name: "audit", kind: .log)
        #expect(log.delivery(of: Self.notification, timestamp: Self.sentAt, idempotencyKey: "k")
            == .log("notification project-started [event:project-started:evt-1]: 项目开工: 稀土永磁电机项目（BT-17）已开工"))
    }

    @Test func answersAreReadPerChannel() throws {
        let dingtalk = try ChannelConfiguration(name: "d", kind: .dingtalk, url: SecretText("https://oapi.dingtalk.com/robot/send?access_token=T"))
        #expect(dingtalk.outcome(status: 200, body: Array(#"{"errcode":0,"errmsg":"ok"}"#.utf8)) == .delivered)
        #expect(dingtalk.outcome(status: 200, body: Array(#"{"errcode":310000,"errmsg":"sign not match"}"#.utf8))
            == .rejected("errcode 310000: sign not match"))
        #expect(dingtalk.outcome(status: 200, body: Array(#"{"errcode":130101,"errmsg":"send too fast"}"#.utf8))
            == .retry("errcode 130101: send too fast"))
        #expect(dingtalk.outcome(status: 502, body: []) == .retry("HTTP 502"))
        let webhook = try ChannelConfiguration(name: "w", kind: .webhook, url: SecretText("https://x.example/"), secret: SecretText("s"))
        #expect(webhook.outcome(status: 204, body: []) == .delivered)
        #expect(webhook.outcome(status: 429, body: []) == .retry("HTTP 429"))
        #expect(webhook.outcome(status: 401, body: []) == .rejected("HTTP 401"))
    }

    @Test func aChannelsDescriptionAndErrorsShowNoTokenOrSecret() throws {
        let channel = try ChannelConfiguration(
            name: "office", kind: .dingtalk, url: SecretText("https://oapi.dingtalk.com/robot/send?access_token=TOKEN"), secret: SecretText("SECRET"))
        #expect("\(channel)" == "dingtalk channel 'office' to oapi.dingtalk.com")
        var dumped = ""
        dump(channel, to: &dumped)
        #expect(!dumped.contains("TOKEN") && !dumped.contains("SECRET"))
        #expect {
            try ChannelConfiguration(name: "w", kind: .webhook, url: SecretText("ftp://TOKEN@x"), secret: SecretText("SECRET"))
        } throws: { error in
            "\(error)".contains("'url' must be an http:// or https:// URL") && !"\(error)".contains("TOKEN")
        }
    }

    @Test func eachKindRequiresWhatItNeeds() {
        #expect(throws: NotificationConfigError.self) { try ChannelConfiguration(name: "w", kind: .webhook, url: SecretText("https://x.example/")) }
        #expect(throws: NotificationConfigError.self) { try ChannelConfiguration(name: "w", kind: .wecom) }
        #expect(throws: NotificationConfigError.self) {
            try ChannelConfiguration(name: "w", kind: .wecom, url: SecretText("https://x.example/"), secret: SecretText("s"))
        }
        #expect(throws: NotificationConfigError.self) { try ChannelConfiguration(name: "l", kind: .log, url: SecretText("https://x.example/")) }
        #expect(throws: NotificationConfigError.self) {
            try ChannelConfiguration(name: "s", kind: .slack, url: SecretText("https://x.example/"), format: .markdown)
        }
    }
}
