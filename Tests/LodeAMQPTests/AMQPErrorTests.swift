import Testing
@testable import LodeAMQP

@Suite struct AMQPErrorTests {
    static let endpoint = "amqp://lode@broker.example:5672/prod"

    /// Each kind, whether it means the connection is lost, whether retrying may help, and a
    /// phrase its description must hold.
    static let kinds: [(AMQPError.Kind, connectionLost: Bool, retryable: Bool, says: String)] = [
        (.invalidSettings("'prefetch' must be 1...65535, got 0"), false, false, "'prefetch' must be 1...65535, got 0"),
        (.library(status: -9, message: "socket error"), true, true, "socket error (librabbitmq status -9)"),
        (.connectionClosed(replyCode: 320, replyText: "CONNECTION_FORCED - broker shutdown"), true, true,
         "the broker closed the connection: 320 CONNECTION_FORCED - broker shutdown"),
        (.connectionClosed(replyCode: 541, replyText: "INTERNAL_ERROR"), true, true, "541 INTERNAL_ERROR"),
        (.connectionClosed(replyCode: 403, replyText: "ACCESS_REFUSED - Login was refused"), true, false, "403 ACCESS_REFUSED"),
        (.connectionClosed(replyCode: 530, replyText: "NOT_ALLOWED - vhost not found"), true, false, "530 NOT_ALLOWED"),
        (.connectionClosed(replyCode: 501, replyText: "FRAME_ERROR"), true, false, "501 FRAME_ERROR"),
        (.channelClosed(replyCode: 404, replyText: "NOT_FOUND - no exchange 'x'"), false, false,
         "the broker closed the channel: 404 NOT_FOUND - no exchange 'x'"),
        (.channelClosed(replyCode: 406, replyText: "PRECONDITION_FAILED"), false, false, "406 PRECONDITION_FAILED"),
        (.heartbeatTimeout(seconds: 60), true, true, "no data from the broker for 60 s (heartbeat timeout)"),
        (.stalled(seconds: 120), true, true, "the connection stalled for 120.0 s and was shut down"),
        (.blocked(reason: "low on memory"), true, true, "blocked publishing on this connection (low on memory)"),
        (.confirmTimeout(seconds: 30), true, true, "no publisher confirm arrived within 30.0 s"),
        (.unavailable(attempts: 1, lastError: "connection refused"), true, true,
         "the broker could not be reached after 1 attempt: connection refused"),
        (.unavailable(attempts: 7, lastError: "connection refused"), true, true, "after 7 attempts: connection refused"),
        (.closed, false, false, "closed by its owner"),
        (.staleDelivery, false, false, "the broker will redeliver it"),
    ]

    @Test func descriptionSaysWhatFailedWhileDoingWhatOnWhichBroker() {
        for (kind, _, _, says) in Self.kinds {
            let error = AMQPError(kind, operation: "declaring queue 'lode.work'", endpoint: Self.endpoint)
            #expect(error.description.hasPrefix("AMQP error while declaring queue 'lode.work' on \(Self.endpoint): "))
            #expect(error.description.contains(says), "\(error.description)")
            #expect("\(error)" == error.description)
        }
    }

    @Test func isConnectionLostForEachKind() {
        for (kind, connectionLost, _, _) in Self.kinds {
            let error = AMQPError(kind, operation: "publishing", endpoint: Self.endpoint)
            #expect(error.isConnectionLost == connectionLost, "\(kind)")
        }
    }

    @Test func isRetryableForEachKind() {
        for (kind, _, retryable, _) in Self.kinds {
            let error = AMQPError(kind, operation: "publishing", endpoint: Self.endpoint)
            #expect(error.isRetryable == retryable, "\(kind)")
        }
    }

    @Test func connectionForcedIsRetryableButAccessRefusedIsNot() {
        let forced = AMQPError(.connectionClosed(replyCode: 320, replyText: "CONNECTION_FORCED"), operation: "x", endpoint: "y")
        let refused = AMQPError(.connectionClosed(replyCode: 403, replyText: "ACCESS_REFUSED"), operation: "x", endpoint: "y")
        #expect(forced.isRetryable)
        #expect(!refused.isRetryable)
        #expect(forced.isConnectionLost)
        #expect(refused.isConnectionLost)
    }

    @Test func replyCodeOnlyForBrokerCloses() {
        for (kind, _, _, _) in Self.kinds {
            let error = AMQPError(kind, operation: "x", endpoint: "y")
            switch kind {
            case .connectionClosed(let code, _), .channelClosed(let code, _): #expect(error.replyCode == code)
            default: #expect(error.replyCode == nil, "\(kind)")
            }
        }
    }

    @Test func errorsCompareByKindOperationAndEndpoint() {
        let error = AMQPError(.closed, operation: "publishing", endpoint: Self.endpoint)
        #expect(error == AMQPError(.closed, operation: "publishing", endpoint: Self.endpoint))
        #expect(error != AMQPError(.staleDelivery, operation: "publishing", endpoint: Self.endpoint))
        #expect(error != AMQPError(.closed, operation: "consuming", endpoint: Self.endpoint))
        #expect(error != AMQPError(.closed, operation: "publishing", endpoint: "amqp://other"))
    }

    @Test func errorBuiltFromParsedSettingsCarriesNoPassword() throws {
        let settings = try ConnectionSettings(url: "amqp://lode:s3cr3t-PW@broker.example/prod")
        let error = AMQPError(.unavailable(attempts: 3, lastError: "connection refused"),
                              operation: "connecting", endpoint: settings.redactedURL)
        #expect(!error.description.contains("s3cr3t-PW"))
        #expect(error.description.contains("amqp://lode@broker.example:5672/prod"))
    }
}
