@testable import LodeAMQP
import LodeEvents
@testable import LodePublishing
import Testing

/// What each way publishing can fail means for the exit status and the message.
@Suite("Publish failures and their exit codes")
struct PublishFailureTests {
    let run = PublishRun()
    let broker = "amqp://guest@127.0.0.1:5672/%2F"

    func plan(_ count: Int) throws -> ArraySlice<PlannedMessage> {
        let text = (0..<count).map { statusEvent($0) }.joined(separator: "\n")
        let read = try NDJSONEventReader(fileName: "x").read(Array(text.utf8))
        return MessagePlan.single(read.events, texts: read.texts, timestamp: 1)[...]
    }

    @Test func anUnreachableBrokerBeforeAnythingWasConfirmedIs69() {
        let error = AMQPError(.unavailable(attempts: 3, lastError: "connection refused"), operation: "connecting", endpoint: broker)
        let failure = run.failure(for: error, confirmedEvents: 0, total: 10, broker: broker)
        #expect(failure.exitCode == 69)
        #expect(failure.message.contains("nothing was published"))
    }

    @Test func losingTheBrokerPartWayIs75AndSaysARerunIsSafe() {
        let error = AMQPError(.unavailable(attempts: 3, lastError: "connection refused"), operation: "connecting", endpoint: broker)
        let failure = run.failure(for: error, confirmedEvents: 4_000, total: 10_000, broker: broker)
        #expect(failure.exitCode == 75)
        #expect(failure.message.contains("4000 of 10000"))
        #expect(failure.message.contains("Re-running the same input is safe"))
    }

    @Test func unconfirmedMessagesAre75() throws {
        let lost = AMQPError(.library(status: -9, message: "a socket error occurred"), operation: "publishing", endpoint: broker)
        let report = PublishReport(outcomes: [.confirmed, .unconfirmed, .unconfirmed], interruption: lost)
        let failure = run.failure(for: report, chunk: try plan(3), confirmedEvents: 1, total: 3)
        #expect(failure.exitCode == 75)
        #expect(failure.message.contains("safe"))
    }

    @Test func aReturnedMessageIs69AndSaysToRunSetup() throws {
        let report = PublishReport(outcomes: [.confirmed, .returned(replyCode: 312, replyText: "NO_ROUTE")], interruption: nil)
        let failure = run.failure(for: report, chunk: try plan(2), confirmedEvents: 1, total: 2)
        #expect(failure.exitCode == 69)
        #expect(failure.message.contains("lodectl setup"))
        #expect(failure.message.contains("'zone.project.status_changed'"))
    }

    @Test func aMissingExchangeIs69AndSaysToRunSetup() throws {
        let closed = AMQPError(.channelClosed(replyCode: 404, replyText: "NOT_FOUND - no exchange 'lode.events'"),
                               operation: "publishing", endpoint: broker)
        let report = PublishReport(outcomes: [.unconfirmed], interruption: closed)
        let failure = run.failure(for: report, chunk: try plan(1), confirmedEvents: 0, total: 1)
        #expect(failure.exitCode == 69)
        #expect(failure.message.contains("lodectl setup"))
    }

    @Test func aRoutingKeyTheUserMayNotWriteIs77AndSaysARerunWillNotHelp() throws {
        let closed = AMQPError(.channelClosed(replyCode: 403, replyText: "ACCESS_REFUSED - access to topic 'zone.project.status_changed' in exchange 'lode.events' in vhost 'lodestone' refused for user 'lode-invest'"),
                               operation: "publishing", endpoint: broker)
        let report = PublishReport(outcomes: [.confirmed, .unconfirmed], interruption: closed)
        let failure = run.failure(for: report, chunk: try plan(2), confirmedEvents: 1, total: 2)
        #expect(failure.exitCode == 77)
        #expect(failure.message.contains("lode-invest") && failure.message.contains("will not help"))
        #expect(!failure.message.contains("is safe"))
    }

    @Test func aNackIs75() throws {
        let report = PublishReport(outcomes: [.nacked, .confirmed], interruption: nil)
        let failure = run.failure(for: report, chunk: try plan(2), confirmedEvents: 1, total: 2)
        #expect(failure.exitCode == 75)
        #expect(failure.message.contains("refused 1 message"))
    }

    @Test func noMessageShowsAPassword() {
        let error = AMQPError(.unavailable(attempts: 1, lastError: "refused"), operation: "connecting", endpoint: broker)
        for confirmed in [0, 5] {
            #expect(!run.failure(for: error, confirmedEvents: confirmed, total: 10, broker: broker).message.contains("guest:"))
        }
    }

    // MARK: Publishing again what the broker did not take

    @Test func unconfirmedMessagesOfALostConnectionArePublishedAgainAtOnce() {
        let lost = AMQPError(.library(status: -9, message: "a socket error occurred"), operation: "publishing", endpoint: broker)
        let report = PublishReport(outcomes: [.confirmed, .unconfirmed, .confirmed, .unconfirmed], interruption: lost)
        let again = PublishRun.republishable(report)
        #expect(again == PublishRun.Republish(indexes: [1, 3], refused: false))
        #expect(again?.reason(lost) == "the connection was lost (a socket error occurred (librabbitmq status -9))")
        let forced = AMQPError(.connectionClosed(replyCode: 320, replyText: "CONNECTION_FORCED - broker forced connection closure"),
                               operation: "publishing", endpoint: broker)
        #expect(PublishRun.republishable(PublishReport(outcomes: [.unconfirmed], interruption: forced))?.indexes == [0])
        let silent = AMQPError(.heartbeatTimeout(seconds: 20), operation: "publishing", endpoint: broker)
        #expect(PublishRun.republishable(PublishReport(outcomes: [.unconfirmed], interruption: silent))?.indexes == [0])
    }

    @Test func refusedMessagesArePublishedAgainAfterAPause() {
        // A quorum queue nacks publishes while it elects a new leader (a node of the cluster went away).
        let report = PublishReport(outcomes: [.confirmed, .nacked, .nacked], interruption: nil)
        #expect(PublishRun.republishable(report) == PublishRun.Republish(indexes: [1, 2], refused: true))
        let lost = AMQPError(.library(status: -9, message: "a socket error occurred"), operation: "publishing", endpoint: broker)
        #expect(PublishRun.republishable(PublishReport(outcomes: [.nacked, .unconfirmed], interruption: lost))
                == PublishRun.Republish(indexes: [0, 1], refused: true))
    }

    @Test func nothingIsPublishedAgainAfterAReturnABlockOrAMissingExchange() {
        let lost = AMQPError(.library(status: -9, message: "a socket error occurred"), operation: "publishing", endpoint: broker)
        // A return says the topology is missing: publishing again cannot help.
        #expect(PublishRun.republishable(PublishReport(
            outcomes: [.returned(replyCode: 312, replyText: "NO_ROUTE"), .unconfirmed], interruption: lost)) == nil)
        let blocked = AMQPError(.blocked(reason: "low on memory"), operation: "publishing", endpoint: broker)
        #expect(PublishRun.republishable(PublishReport(outcomes: [.unconfirmed], interruption: blocked)) == nil)
        let missing = AMQPError(.channelClosed(replyCode: 404, replyText: "NOT_FOUND - no exchange 'lode.events'"),
                                operation: "publishing", endpoint: broker)
        #expect(PublishRun.republishable(PublishReport(outcomes: [.unconfirmed], interruption: missing)) == nil)
        let refused = AMQPError(.connectionClosed(replyCode: 403, replyText: "ACCESS_REFUSED"), operation: "publishing", endpoint: broker)
        #expect(PublishRun.republishable(PublishReport(outcomes: [.unconfirmed], interruption: refused)) == nil)
        #expect(PublishRun.republishable(PublishReport(outcomes: [.confirmed], interruption: nil)) == nil)
    }
}
