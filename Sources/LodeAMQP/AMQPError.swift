/// Every failure of the client layer: what went wrong, what was being done, and on which broker.
///
/// Never contains a password: `endpoint` is the redacted URL, and no message is built
/// from the raw URL or the credentials.
public struct AMQPError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The URL or another setting is wrong; nothing was attempted.
        case invalidSettings(String)
        /// librabbitmq returned a status code (`AMQP_STATUS_*`) with its message.
        case library(status: Int32, message: String)
        /// The broker closed the connection (`connection.close`), e.g. 320 CONNECTION_FORCED.
        case connectionClosed(replyCode: UInt16, replyText: String)
        /// The broker closed the channel (`channel.close`), e.g. 404 NOT_FOUND, 406 PRECONDITION_FAILED.
        case channelClosed(replyCode: UInt16, replyText: String)
        /// Nothing arrived from the broker for two heartbeat intervals.
        case heartbeatTimeout(seconds: Int)
        /// One call into the library did not return within the stall limit; the socket was shut down.
        case stalled(seconds: Double)
        /// The broker blocked the connection (resource alarm) for longer than allowed.
        case blocked(reason: String)
        /// Published messages were not confirmed within the confirm timeout.
        case confirmTimeout(seconds: Double)
        /// The connection could not be (re)established within the allowed time.
        case unavailable(attempts: Int, lastError: String)
        /// A message breaks an AMQP limit (e.g. a header name over 255 bytes); nothing was sent.
        case invalidMessage(index: Int, reason: String)
        /// The object was closed by its owner.
        case closed
        /// An ack or nack for a delivery whose connection has since been lost; the broker
        /// requeues such deliveries itself.
        case staleDelivery
    }

    public var kind: Kind
    /// What was being done, e.g. `declaring queue 'lode.work'`.
    public var operation: String
    /// The broker, as a URL without its password.
    public var endpoint: String

    public init(_ kind: Kind, operation: String, endpoint: String) {
        self.kind = kind
        self.operation = operation
        self.endpoint = endpoint
    }

    /// Whether the connection is gone and must be re-established (as opposed to a
    /// channel-level refusal such as a missing exchange, or a bad setting).
    public var isConnectionLost: Bool {
        switch kind {
        case .library, .connectionClosed, .heartbeatTimeout, .stalled, .blocked, .confirmTimeout, .unavailable:
            true
        case .invalidSettings, .invalidMessage, .channelClosed, .closed, .staleDelivery:
            false
        }
    }

    /// Whether trying again later may succeed: the network or the broker failed, not the request.
    public var isRetryable: Bool {
        switch kind {
        case .library, .heartbeatTimeout, .stalled, .blocked, .confirmTimeout, .unavailable: true
        // 320 CONNECTION_FORCED (broker shutting down), 541 INTERNAL_ERROR.
        case .connectionClosed(let code, _): code == 320 || code == 541
        case .invalidSettings, .invalidMessage, .channelClosed, .closed, .staleDelivery: false
        }
    }

    /// The AMQP reply code, when the broker gave one.
    public var replyCode: UInt16? {
        switch kind {
        case .connectionClosed(let code, _), .channelClosed(let code, _): code
        default: nil
        }
    }

    public var description: String {
        "AMQP error while \(operation) on \(endpoint): \(reason)"
    }

    /// What went wrong, without the operation and the endpoint.
    public var reason: String {
        let what: String
        switch kind {
        case .invalidSettings(let message): what = message
        case .library(let status, let message): what = "\(message) (librabbitmq status \(status))"
        case .connectionClosed(let code, let text): what = "the broker closed the connection: \(code) \(text)"
        case .channelClosed(let code, let text): what = "the broker closed the channel: \(code) \(text)"
        case .heartbeatTimeout(let seconds): what = "no data from the broker for \(seconds) s (heartbeat timeout)"
        case .stalled(let seconds): what = "the connection stalled for \(seconds) s and was shut down"
        case .blocked(let reason): what = "the broker has blocked publishing on this connection (\(reason))"
        case .confirmTimeout(let seconds): what = "no publisher confirm arrived within \(seconds) s"
        case .unavailable(let attempts, let last):
            what = "the broker could not be reached after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(last)"
        case .invalidMessage(let index, let reason): what = "message \(index) was refused before sending: \(reason)"
        case .closed: what = "the connection was closed by its owner"
        case .staleDelivery: what = "the delivery belongs to a lost connection; the broker will redeliver it"
        }
        return what
    }
}
