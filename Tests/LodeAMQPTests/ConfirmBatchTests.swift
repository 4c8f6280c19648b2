import Testing
@testable import LodeAMQP

/// The publisher's confirm bookkeeping, driven as the broker would drive it.
@Suite struct ConfirmBatchTests {
    static func message(_ id: String?, exchange: String = "lode.events", routingKey: String = "project.created",
                        body: [UInt8]? = nil) -> OutgoingMessage {
        OutgoingMessage(exchange: exchange, routingKey: routingKey, body: body ?? Array((id ?? "none").utf8),
                        properties: MessageProperties(deliveryMode: 2, messageID: id), mandatory: true)
    }

    /// A batch of `count` distinct messages (ids m0, m1, ...), all sent, sequence numbers from `firstSequence`.
    static func sentBatch(_ count: Int, firstSequence: UInt64 = 1) -> ConfirmBatch {
        var batch = ConfirmBatch(messages: (0..<count).map { message("m\($0)") })
        batch.firstSequence = firstSequence
        batch.sent = count
        return batch
    }

    static let noRoute = PublishOutcome.returned(replyCode: 312, replyText: "NO_ROUTE")

    @Test func newBatchIsAllUnconfirmed() {
        let batch = ConfirmBatch(messages: (0..<3).map { Self.message("m\($0)") })
        #expect(batch.outcomes == [.unconfirmed, .unconfirmed, .unconfirmed])
        #expect(batch.sent == 0)
        #expect(batch.inFlight == 0)
        #expect(!batch.isSettled)
        #expect(batch.report.unconfirmedCount == 3)
        #expect(batch.report.interruption == nil)
    }

    @Test func emptyBatchIsSettledAndAllConfirmed() {
        let batch = ConfirmBatch(messages: [])
        #expect(batch.isSettled)
        #expect(batch.report.outcomes.isEmpty)
        #expect(batch.report.allConfirmed)
    }

    @Test func singleAcksSettleOneMessageEachInAnyOrder() {
        var batch = Self.sentBatch(3)
        #expect(batch.inFlight == 3)
        batch.settle(tag: 2, multiple: false, as: .confirmed)
        #expect(batch.outcomes == [.unconfirmed, .confirmed, .unconfirmed])
        #expect(batch.inFlight == 2)
        #expect(batch.lowestUnsettled == 0)
        batch.settle(tag: 1, multiple: false, as: .confirmed)
        #expect(batch.lowestUnsettled == 2)
        #expect(!batch.isSettled)
        batch.settle(tag: 3, multiple: false, as: .confirmed)
        #expect(batch.outcomes == [.confirmed, .confirmed, .confirmed])
        #expect(batch.isSettled)
        #expect(batch.inFlight == 0)
        #expect(batch.lowestUnsettled == 3)
    }

    @Test func multipleAckSettlesEverythingUpToItsTag() {
        var batch = Self.sentBatch(5)
        batch.settle(tag: 3, multiple: true, as: .confirmed)
        #expect(batch.outcomes == [.confirmed, .confirmed, .confirmed, .unconfirmed, .unconfirmed])
        #expect(batch.settledCount == 3)
        #expect(batch.lowestUnsettled == 3)
        batch.settle(tag: 5, multiple: true, as: .confirmed)
        #expect(batch.isSettled)
        #expect(batch.report.allConfirmed)
    }

    @Test func multipleNackSettlesEverythingUpToItsTagAsNacked() {
        var batch = Self.sentBatch(4)
        batch.settle(tag: 2, multiple: true, as: .nacked)
        #expect(batch.outcomes == [.nacked, .nacked, .unconfirmed, .unconfirmed])
        batch.settle(tag: 4, multiple: false, as: .nacked)
        #expect(batch.outcomes == [.nacked, .nacked, .unconfirmed, .nacked])
        #expect(batch.inFlight == 1)
    }

    @Test func multipleAckLeavesAlreadySettledMessagesAsTheyWere() {
        var batch = Self.sentBatch(6)
        batch.settle(tag: 2, multiple: false, as: .confirmed)
        batch.settle(tag: 4, multiple: false, as: .nacked)
        batch.settle(tag: 5, multiple: true, as: .confirmed)
        #expect(batch.outcomes == [.confirmed, .confirmed, .confirmed, .nacked, .confirmed, .unconfirmed])
        #expect(batch.settledCount == 5)
        #expect(batch.inFlight == 1)
        #expect(batch.lowestUnsettled == 5)
    }

    @Test func repeatedAckCountsOnce() {
        var batch = Self.sentBatch(2)
        batch.settle(tag: 1, multiple: false, as: .confirmed)
        batch.settle(tag: 1, multiple: false, as: .confirmed)
        batch.settle(tag: 1, multiple: true, as: .nacked)
        #expect(batch.settledCount == 1)
        #expect(batch.outcomes == [.confirmed, .unconfirmed])
    }

    @Test func tagsFromBeforeTheBatchAreIgnored() {
        // A late confirm of the previous batch on the same channel (sequence 1...10).
        var batch = Self.sentBatch(3, firstSequence: 11)
        batch.settle(tag: 10, multiple: true, as: .confirmed)
        batch.settle(tag: 1, multiple: false, as: .nacked)
        batch.settle(tag: 0, multiple: true, as: .nacked)
        #expect(batch.settledCount == 0)
        #expect(batch.outcomes == [.unconfirmed, .unconfirmed, .unconfirmed])
        batch.settle(tag: 11, multiple: false, as: .confirmed)
        #expect(batch.outcomes == [.confirmed, .unconfirmed, .unconfirmed])
    }

    @Test func multipleAckReachingBackBeforeTheBatchSettlesOnlyThisBatch() {
        var batch = Self.sentBatch(3, firstSequence: 11)
        batch.settle(tag: 12, multiple: true, as: .confirmed)
        #expect(batch.outcomes == [.confirmed, .confirmed, .unconfirmed])
        #expect(batch.settledCount == 2)
    }

    @Test func tagsOfMessagesNotYetSentAreIgnored() {
        var batch = Self.sentBatch(4)
        batch.sent = 2
        batch.settle(tag: 3, multiple: false, as: .confirmed)
        batch.settle(tag: 4, multiple: true, as: .confirmed)
        #expect(batch.settledCount == 0)
        batch.settle(tag: 2, multiple: true, as: .confirmed)
        #expect(batch.outcomes == [.confirmed, .confirmed, .unconfirmed, .unconfirmed])
        #expect(batch.lowestUnsettled == 2)
        #expect(!batch.isSettled)
    }

    @Test func settlingWhileSendingKeepsInFlightRight() {
        var batch = ConfirmBatch(messages: (0..<4).map { Self.message("m\($0)") })
        batch.sent = 1
        batch.settle(tag: 1, multiple: false, as: .confirmed)
        #expect(batch.inFlight == 0)
        #expect(batch.lowestUnsettled == 1)
        batch.sent = 3
        #expect(batch.inFlight == 2)
        batch.settle(tag: 3, multiple: true, as: .confirmed)
        #expect(batch.inFlight == 0)
        batch.sent = 4
        batch.settle(tag: 4, multiple: false, as: .nacked)
        #expect(batch.isSettled)
        #expect(batch.outcomes == [.confirmed, .confirmed, .confirmed, .nacked])
    }

    /// A tag past `Int.max` can only come from a broken or hostile peer, but must not crash.
    @Test
    func absurdTagIsIgnoredWithoutCrashing() {
        var batch = Self.sentBatch(2)
        batch.settle(tag: .max, multiple: true, as: .confirmed)
        #expect(batch.settledCount == 0)
    }

    // MARK: Returns

    @Test func returnMatchesTheEarliestUnsettledMessageAndStaysReturnedAfterTheAck() {
        let messages = [Self.message("a"), Self.message("b"), Self.message("a"), Self.message("c")]
        var batch = ConfirmBatch(messages: messages)
        batch.sent = 4
        let matched = batch.returnOf("a")
        #expect(matched)
        #expect(batch.outcomes == [Self.noRoute, .unconfirmed, .unconfirmed, .unconfirmed])
        // The broker acks a returned message right after returning it.
        batch.settle(tag: 1, multiple: false, as: .confirmed)
        #expect(batch.outcomes[0] == Self.noRoute)
        // The second, identical message is returned next.
        let matchedAgain = batch.returnOf("a")
        #expect(matchedAgain)
        #expect(batch.outcomes[2] == Self.noRoute)
        batch.settle(tag: 4, multiple: true, as: .confirmed)
        #expect(batch.outcomes == [Self.noRoute, .confirmed, Self.noRoute, .confirmed])
        #expect(batch.isSettled)
        #expect(batch.report.returnedCount == 2)
        #expect(batch.report.confirmedCount == 2)
        #expect(!batch.report.allConfirmed)
    }

    @Test func returnedMessageStaysReturnedWhenAMultipleAckCoversIt() {
        var batch = Self.sentBatch(3)
        let matched = batch.returnOf("m1")
        #expect(matched)
        batch.settle(tag: 3, multiple: true, as: .confirmed)
        #expect(batch.outcomes == [.confirmed, Self.noRoute, .confirmed])
    }

    @Test func returnMustMatchExchangeRoutingKeyMessageIDAndBody() {
        var batch = Self.sentBatch(1)
        let mismatches: [(String, String, [UInt8], String?)] = [
            ("other", "project.created", Array("m0".utf8), "m0"),
            ("lode.events", "project.deleted", Array("m0".utf8), "m0"),
            ("lode.events", "project.created", Array("m1".utf8), "m0"),
            ("lode.events", "project.created", Array("m0".utf8), "m1"),
            ("lode.events", "project.created", Array("m0".utf8), nil),
        ]
        for (exchange, routingKey, body, id) in mismatches {
            let matched = batch.markReturned(exchange: exchange, routingKey: routingKey, body: body, messageID: id,
                                             code: 312, text: "NO_ROUTE")
            #expect(!matched)
        }
        #expect(batch.outcomes == [.unconfirmed])
    }

    @Test func returnWithoutMessageIDMatchesAMessageWithoutOne() {
        var batch = ConfirmBatch(messages: [Self.message("x"), Self.message(nil, body: [1, 2, 3])])
        batch.sent = 2
        let matched = batch.returnOf(nil, body: [1, 2, 3])
        #expect(matched)
        #expect(batch.outcomes == [.unconfirmed, Self.noRoute])
    }

    @Test func returnSkipsSettledMessages() {
        var batch = ConfirmBatch(messages: [Self.message("a"), Self.message("a")])
        batch.sent = 2
        batch.settle(tag: 1, multiple: false, as: .confirmed)
        let matched = batch.returnOf("a")
        #expect(matched)
        #expect(batch.outcomes == [.confirmed, Self.noRoute])
    }

    @Test func returnSkipsAMessageAlreadySettledOutOfOrder() {
        var batch = ConfirmBatch(messages: [Self.message("z"), Self.message("a"), Self.message("a")])
        batch.sent = 3
        batch.settle(tag: 2, multiple: false, as: .confirmed)
        #expect(batch.lowestUnsettled == 0)
        let matched = batch.returnOf("a")
        #expect(matched)
        #expect(batch.outcomes == [.unconfirmed, .confirmed, Self.noRoute])
    }

    @Test func returnOfAMessageNotYetSentMatchesNothing() {
        var batch = Self.sentBatch(2)
        batch.sent = 1
        let matched = batch.returnOf("m1")
        #expect(!matched)
        var empty = ConfirmBatch(messages: [])
        let matchedEmpty = empty.returnOf("m1")
        #expect(!matchedEmpty)
    }

    @Test func returnKeepsTheReplyCodeAndText() {
        var batch = Self.sentBatch(1)
        _ = batch.markReturned(exchange: "lode.events", routingKey: "project.created", body: Array("m0".utf8),
                               messageID: "m0", code: 313, text: "NO_CONSUMERS")
        #expect(batch.outcomes == [.returned(replyCode: 313, replyText: "NO_CONSUMERS")])
    }

    // MARK: Report

    @Test func reportCountsEachOutcome() {
        var batch = Self.sentBatch(6)
        _ = batch.markReturned(exchange: "lode.events", routingKey: "project.created", body: Array("m0".utf8),
                               messageID: "m0", code: 312, text: "NO_ROUTE")
        batch.settle(tag: 1, multiple: false, as: .confirmed)
        batch.settle(tag: 2, multiple: false, as: .confirmed)
        batch.settle(tag: 3, multiple: false, as: .nacked)
        batch.settle(tag: 5, multiple: false, as: .confirmed)
        batch.interruption = AMQPError(.heartbeatTimeout(seconds: 60), operation: "publishing", endpoint: "amqp://guest@h:5672/%2F")
        let report = batch.report
        #expect(report.outcomes == [Self.noRoute, .confirmed, .nacked, .unconfirmed, .confirmed, .unconfirmed])
        #expect(report.confirmedCount == 2)
        #expect(report.nackedCount == 1)
        #expect(report.returnedCount == 1)
        #expect(report.unconfirmedCount == 2)
        #expect(!report.allConfirmed)
        #expect(report.indexes { $0 == .unconfirmed } == [3, 5])
        #expect(report.indexes { $0 == .nacked } == [2])
        #expect(report.indexes { if case .returned = $0 { true } else { false } } == [0])
        #expect(report.interruption?.kind == .heartbeatTimeout(seconds: 60))
    }

    @Test func reportAllConfirmedOnlyWhenEveryMessageIsConfirmed() {
        #expect(PublishReport(outcomes: [.confirmed, .confirmed]).allConfirmed)
        #expect(PublishReport(outcomes: []).allConfirmed)
        #expect(!PublishReport(outcomes: [.confirmed, .nacked]).allConfirmed)
        #expect(!PublishReport(outcomes: [.confirmed, .unconfirmed]).allConfirmed)
        #expect(!PublishReport(outcomes: [Self.noRoute]).allConfirmed)
        #expect(PublishReport(outcomes: [.confirmed]).indexes { _ in false } == [])
    }
}

private extension ConfirmBatch {
    /// A `basic.return` (312 NO_ROUTE) of the message `ConfirmBatchTests.message(id)` would build.
    mutating func returnOf(_ id: String?, body: [UInt8]? = nil) -> Bool {
        markReturned(exchange: "lode.events", routingKey: "project.created", body: body ?? Array((id ?? "none").utf8),
                     messageID: id, code: 312, text: "NO_ROUTE")
    }
}
