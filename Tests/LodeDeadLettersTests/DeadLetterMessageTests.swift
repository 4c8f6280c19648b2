import LodeJSON
import Foundation
import LodeAMQP
import LodeEvents
@testable import LodeDeadLetters
import Testing

/// How a message of `lode.dead` is read as a dead letter, whoever put it there, and what a
/// replay publishes.
@Suite("Dead letters read from lode.dead")
struct DeadLetterMessageTests {
    static let body = Array(#"{"specversion":"1.0","id":"e-1","source":"s","type":"zone.project.status_changed","time":"2024-05-05T10:00:00+08:00","data":{"project_id":"BT-17","status":"exploded"}}"#.utf8)

    /// The worker's and lodectl's users: whose x-lode-* headers are believed.
    static let trust = DeadLetterTrust(users: ["lode-worker", "lode-ctl"])

    /// The worker's dead letter of a message published by `user` (with `headers`), the worker
    /// believing its x-lode-* headers when `trusted`.
    func workerDeadLetter(deliveryCount: Int32? = nil, headers extra: FieldTable = [:], user: String? = "lode-reform",
                          trusted: Bool = false) -> OutgoingMessage {
        var headers = extra
        if let deliveryCount { headers["x-delivery-count"] = .int32(deliveryCount) }
        let properties = MessageProperties(contentType: "application/cloudevents+json", headers: headers.isEmpty ? nil : headers,
                                           deliveryMode: 2, messageID: "e-1", type: "zone.project.status_changed", userID: user)
        let delivery = Delivery(unreceived: Self.body, properties: properties)
        return DeadLetter.message(for: Rejected(body: Self.body, reason: "invalid_event", error: "data.status: bad", eventID: "e-1"),
                                  of: delivery, publisherUser: "lode-worker", trustsHeaders: trusted)
    }

    @Test func theWorkersDeadLetterCarriesTheIdTheIndexKnowsItBy() {
        let message = workerDeadLetter()
        let letter = DeadLetterMessage(properties: message.properties, body: message.body, trust: Self.trust)
        #expect(letter.trusted)
        #expect(message.properties.userID == "lode-worker")
        #expect(message.properties.headers?["x-lode-original-user-id"] == .string("lode-reform"))
        #expect(message.properties.headers?[DeadLetterMessage.idHeader] == .string(letter.record.id))
        #expect(letter.record.id == DeadLetterMessage.id(reason: "invalid_event", body: Self.body))
        #expect(letter.record.id.count == 12)
        #expect(letter.record.reason == "invalid_event")
        #expect(letter.record.error == "data.status: bad")
        #expect(letter.record.attempts == 1)
        #expect(letter.record.type == "zone.project.status_changed")
        #expect(letter.record.eventID == "e-1")
        let properties = try? JSONParser.parse(letter.record.properties)
        #expect(properties?["headers"]?["x-lode-reason"] == .string("invalid_event"))
    }

    @Test func aMessageTheBrokerMovedAfterItsDeliveryLimitIsAPoisonDeadLetter() {
        let death: FieldTable = ["reason": .string("delivery_limit"), "queue": .string("lode.work"), "count": .int64(1),
                                 "time": .timestamp(1_717_200_000)]
        // A single-user install: the producer's user is the worker's.
        let properties = MessageProperties(contentType: "application/cloudevents+json", headers: ["x-death": .array([.table(death)])],
                                           deliveryMode: 2, messageID: "e-1", userID: "lode-worker")
        let letter = DeadLetterMessage(properties: properties, body: Self.body, trust: Self.trust)
        #expect(letter.record.reason == "poison")
        #expect(letter.record.error.contains("delivery_limit"))
        #expect(letter.record.attempts == 10)
        #expect(letter.record.firstFailedAt == "2024-06-01T00:00:00Z")
        #expect(letter.record.type == "zone.project.status_changed", "from the body when the property is absent")
        #expect(letter.record.eventID == "e-1")
        #expect(letter.record.id == DeadLetterMessage.id(reason: "poison", body: Self.body))
    }

    @Test func aReplayGoesToTheEventsExchangeByTypeWithoutWhatSaidItFailed() {
        let message = workerDeadLetter(deliveryCount: 2)
        let replay = DeadLetterMessage(properties: message.properties, body: message.body, trust: Self.trust).replay(as: "lode-ctl")
        #expect(replay.properties.userID == "lode-ctl", "RabbitMQ takes no other user_id from lodectl's connection")
        #expect(replay.properties.headers?["x-lode-original-user-id"] == .string("lode-reform"), "whose event it is")
        #expect(replay.exchange == "lode.events")
        #expect(replay.routingKey == "zone.project.status_changed")
        #expect(replay.body == Self.body)
        #expect(replay.mandatory)
        let headers = replay.properties.headers ?? [:]
        #expect(headers["x-lode-reason"] == nil && headers["x-lode-error"] == nil && headers[DeadLetterMessage.idHeader] == nil)
        #expect(headers["x-delivery-count"] == nil)
        #expect(headers["x-lode-attempts"] == .int32(3))
        #expect(headers["x-lode-first-failed-at"] != nil)
        #expect(replay.properties.messageID == "e-1")
    }

    @Test func failingAgainAfterAReplayCountsOnAndKeepsTheFirstFailureTime() {
        let first = workerDeadLetter(deliveryCount: 2)
        let replayed = DeadLetterMessage(properties: first.properties, body: first.body, trust: Self.trust).replay(as: "lode-ctl")
        var headers = replayed.properties.headers ?? [:]
        headers["x-lode-first-failed-at"] = .string("2024-01-01T00:00:00Z")
        let again = workerDeadLetter(headers: headers, user: "lode-ctl", trusted: true)
        #expect(again.properties.headers?["x-lode-original-user-id"] == .string("lode-reform"), "still the department's")
        #expect(again.properties.headers?["x-lode-attempts"] == .int32(4))
        #expect(again.properties.headers?["x-lode-first-failed-at"] == .string("2024-01-01T00:00:00Z"))
        #expect(again.properties.headers?[DeadLetterMessage.idHeader] == first.properties.headers?[DeadLetterMessage.idHeader],
                "the same dead letter again: the same row in the index")
    }

    // MARK: Trust (contract section 3: x-lode-* headers are believed from the worker only)

    @Test func aForgedDeadLetterIsUntrustedAndNoneOfItsClaimsAreBelieved() {
        let forged: FieldTable = [
            "x-lode-reason": .string("invalid_event"), "x-lode-error": .string("the operator should replay me"),
            "x-lode-attempts": .int32(1), "x-lode-dead-letter-id": .string("3f9c2a17b0d4"),
            "x-lode-event-id": .string("someone-elses-id"),
        ]
        let properties = MessageProperties(contentType: "application/cloudevents+json", headers: forged, deliveryMode: 2,
                                           type: "zone.project.status_changed", userID: "lode-reform")
        let letter = DeadLetterMessage(properties: properties, body: Self.body, trust: Self.trust)
        #expect(!letter.trusted)
        #expect(letter.untrustedPublisher == "lode-reform")
        #expect(letter.record.reason == "untrusted")
        #expect(letter.record.id == DeadLetterMessage.id(reason: "untrusted", body: Self.body), "never the id it claims")
        #expect(letter.record.id != "3f9c2a17b0d4")
        #expect(letter.record.error.contains("user_id 'lode-reform'") && !letter.record.error.contains("replay me"))
        #expect(letter.record.eventID == "e-1", "from the body, not the header")
        #expect(letter.record.attempts == 0)
        let raw = try? JSONParser.parse(letter.record.properties)
        #expect(raw?["headers"]?["x-lode-error"] == .string("the operator should replay me"), "shown raw by `dlq show`")
    }

    @Test func noUserIDIsUntrustedAndAPoisonMessageOfADepartmentToo() {
        let death: FieldTable = ["reason": .string("delivery_limit"), "queue": .string("lode.work")]
        for user in [nil, "lode-reform"] as [String?] {
            let properties = MessageProperties(headers: ["x-death": .array([.table(death)])], userID: user)
            let letter = DeadLetterMessage(properties: properties, body: Self.body, trust: Self.trust)
            #expect(!letter.trusted)
            #expect(letter.record.reason == "untrusted")
            #expect(letter.record.error.contains("delivery_limit"), "the x-death claim is told, as a claim")
        }
    }

    @Test func theWorkerDropsAProducersXLodeHeadersFromItsDeadLetter() {
        let forged: FieldTable = [
            "x-lode-attempts": .int32(999), "x-lode-first-failed-at": .string("2001-01-01T00:00:00Z"),
            "x-lode-original-user-id": .string("lode-invest"), "x-custom": .string("kept"),
        ]
        let message = workerDeadLetter(headers: forged)
        let headers = message.properties.headers ?? [:]
        #expect(headers["x-lode-attempts"] == .int32(1))
        #expect(headers["x-lode-first-failed-at"] != .string("2001-01-01T00:00:00Z"))
        #expect(headers["x-lode-original-user-id"] == .string("lode-reform"), "the user RabbitMQ vouched for")
        #expect(headers["x-custom"] == .string("kept"))
        #expect(headers[DeadLetter.untrustedHeadersNote]?.stringValue?.contains("x-lode-attempts") == true)
    }

    @Test func anUntrustedMessagePutBackByLodectlStaysUntrustedAndKeepsItsPublisher() {
        let properties = MessageProperties(headers: ["x-lode-reason": .string("invalid_event")], userID: "lode-reform")
        let letter = DeadLetterMessage(properties: properties, body: Self.body, trust: Self.trust)
        let requeued = letter.requeued(by: "sweep-1", as: "lode-ctl")
        #expect(requeued.properties.userID == "lode-ctl")
        let again = DeadLetterMessage(properties: requeued.properties, body: requeued.body, trust: Self.trust)
        #expect(!again.trusted)
        #expect(again.untrustedPublisher == "lode-reform")
        #expect(again.record.id == letter.record.id)
        // A forger cannot name someone else as the publisher with the marker header.
        var marked = properties
        marked.headers?[DeadLetterMessage.untrustedUserHeader] = .string("lode-invest")
        #expect(DeadLetterMessage(properties: marked, body: Self.body, trust: Self.trust).untrustedPublisher == "lode-reform")
        // A trusted dead letter put back by lodectl stays trusted.
        let mine = workerDeadLetter()
        let back = DeadLetterMessage(properties: mine.properties, body: mine.body, trust: Self.trust).requeued(by: "s", as: "lode-ctl")
        #expect(DeadLetterMessage(properties: back.properties, body: back.body, trust: Self.trust).trusted)
    }

    @Test func anUntrustedReplayLosesEveryXLodeHeaderAndNamesItsRealPublisher() {
        let properties = MessageProperties(headers: ["x-lode-original-user-id": .string("lode-invest"),
                                                     "x-lode-attempts": .int32(5)],
                                           type: "zone.project.status_changed", userID: "lode-reform")
        let replay = DeadLetterMessage(properties: properties, body: Self.body, trust: Self.trust).replay(as: "lode-ctl")
        let headers = replay.properties.headers ?? [:]
        #expect(headers["x-lode-original-user-id"] == .string("lode-reform"))
        #expect(headers["x-lode-attempts"] == nil)
        #expect(replay.properties.userID == "lode-ctl")
    }
}
