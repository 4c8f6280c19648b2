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

    func workerDeadLetter(deliveryCount: Int32? = nil, headers extra: FieldTable = [:]) -> OutgoingMessage {
        var headers = extra
        if let deliveryCount { headers["x-delivery-count"] = .int32(deliveryCount) }
        let properties = MessageProperties(contentType: "application/cloudevents+json", headers: headers.isEmpty ? nil : headers,
                                           deliveryMode: 2, messageID: "e-1", type: "zone.project.status_changed")
        let delivery = Delivery(unreceived: Self.body, properties: properties)
        return DeadLetter.message(for: Rejected(body: Self.body, reason: "invalid_event", error: "data.status: bad", eventID: "e-1"),
                                  of: delivery, publisherUser: nil)
    }

    @Test func theWorkersDeadLetterCarriesTheIdTheIndexKnowsItBy() {
        let message = workerDeadLetter()
        let letter = DeadLetterMessage(properties: message.properties, body: message.body)
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
        let properties = MessageProperties(contentType: "application/cloudevents+json", headers: ["x-death": .array([.table(death)])],
                                           deliveryMode: 2, messageID: "e-1")
        let letter = DeadLetterMessage(properties: properties, body: Self.body)
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
        let replay = DeadLetterMessage(properties: message.properties, body: message.body).replay
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
        let replayed = DeadLetterMessage(properties: first.properties, body: first.body).replay
        var headers = replayed.properties.headers ?? [:]
        headers["x-lode-first-failed-at"] = .string("2024-01-01T00:00:00Z")
        let again = workerDeadLetter(headers: headers)
        #expect(again.properties.headers?["x-lode-attempts"] == .int32(4))
        #expect(again.properties.headers?["x-lode-first-failed-at"] == .string("2024-01-01T00:00:00Z"))
        #expect(again.properties.headers?[DeadLetterMessage.idHeader] == first.properties.headers?[DeadLetterMessage.idHeader],
                "the same dead letter again: the same row in the index")
    }
}
