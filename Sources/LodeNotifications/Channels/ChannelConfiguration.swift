import Foundation

/// Where notifications go: one entry of the config's `channels:` section.
///
/// Its URL and secret are ``SecretText``s (a robot URL carries its access
/// token): ``description`` shows the kind, the name and the URL's host only.
public struct ChannelConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// How a channel is delivered to.
    public enum Kind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// A JSON POST signed with HMAC-SHA256 (`X-Lode-Signature`), with an
        /// idempotency key; any receiver.
        case webhook
        /// A DingTalk (钉钉) group's custom robot, optionally signed (加签).
        case dingtalk
        /// A WeCom (企业微信) group robot.
        case wecom
        /// A Slack incoming webhook.
        case slack
        /// A line in the worker's log; nothing is sent.
        case log

        public var description: String { rawValue }
    }

    /// How a chat robot shows the text.
    public enum ChatFormat: String, Sendable, Hashable, CaseIterable {
        case text
        /// The message is Markdown (DingTalk and WeCom render a subset).
        case markdown
    }

    public let name: String
    public let kind: Kind
    /// The URL to POST to; `nil` for `log`.
    public let url: SecretText?
    /// The signing secret: required for `webhook`, optional for `dingtalk`
    /// (its 加签 mode), refused for the others, which sign nothing.
    public let secret: SecretText?
    public let format: ChatFormat

    /// Checks that the kind has what it needs. Messages never hold the URL or
    /// the secret.
    public init(name: String, kind: Kind, url: SecretText? = nil, secret: SecretText? = nil, format: ChatFormat = .text)
        throws(NotificationConfigError)
    {
        guard !name.isEmpty else { throw NotificationConfigError("a channel needs a name") }
        if kind == .log {
            guard url == nil else { throw NotificationConfigError("channel '\(name)': a log channel takes no 'url'") }
        } else {
            guard let url else { throw NotificationConfigError("channel '\(name)': a \(kind) channel needs a 'url'") }
            guard let parsed = URL(string: url.revealed), let scheme = parsed.scheme?.lowercased(),
                  scheme == "https" || scheme == "http", let host = parsed.host, !host.isEmpty else {
                throw NotificationConfigError("channel '\(name)': 'url' must be an http:// or https:// URL (not shown: it may hold a token)")
            }
        }
        switch kind {
        case .webhook:
            guard let secret, !secret.revealed.isEmpty else {
                throw NotificationConfigError("channel '\(name)': a webhook channel needs a signing secret ('secret', 'secret_file' or 'secret_env')")
            }
        case .dingtalk:
            if let secret, secret.revealed.isEmpty { throw NotificationConfigError("channel '\(name)': the secret is empty") }
        case .wecom, .slack, .log:
            guard secret == nil else {
                throw NotificationConfigError("channel '\(name)': a \(kind) channel signs nothing: remove its secret")
            }
        }
        if format == .markdown, kind != .dingtalk, kind != .wecom {
            throw NotificationConfigError("channel '\(name)': 'format: markdown' is for dingtalk and wecom channels")
        }
        self.name = name
        self.kind = kind
        self.url = url
        self.secret = secret
        self.format = format
    }

    /// `dingtalk channel 'ops' to oapi.dingtalk.com`: no path, query or secret.
    public var description: String {
        let host = url.flatMap { URL(string: $0.revealed)?.host }
        return "\(kind) channel '\(name)'" + (host.map { " to \($0)" } ?? "")
    }
}
