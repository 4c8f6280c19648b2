import LodeDeadLetters
import LodeAMQP
import LodeWorker
import Testing

/// What the worker makes of each delivery before the store sees it: the events to apply, and
/// what goes to `lode.dead` with which reason.
@Suite("Deliveries split into events and dead letters")
struct DeliveryDecodingTests {
    static let single = MessageProperties(contentType: "application/cloudevents+json", deliveryMode: 2)
    static let batch = MessageProperties(contentType: "application/cloudevents-batch+json", deliveryMode: 2)

    static func event(id: String? = "e-1", time: String = "2024-05-05T10:00:00+08:00",
                      data: String = #"{"project_id":"BT-17","status":"started"}"#) -> String {
        let idField = id.map { #""id":"\#($0)","# } ?? ""
        return #"{"specversion":"1.0",\#(idField)"source":"bt-dept/projects","type":"zone.project.status_changed","time":"\#(time)","data":\#(data)}"#
    }

    func decode(_ bodies: [[UInt8]], properties: MessageProperties = single) -> DecodedDeliveries {
        DecodedDeliveries(bodies.enumerated().map { Delivery(unreceived: $1, properties: properties, tag: UInt64($0 + 1)) })
    }

    /// The one rejection of a single bad message, with its reason and error text.
    func rejection(of body: [UInt8], properties: MessageProperties = single) -> Rejected? {
        let decoded = decode([body], properties: properties)
        #expect(decoded.events.isEmpty)
        #expect(decoded.rejected.count == 1)
        return decoded.rejected.first?.rejected
    }

    @Test func aValidEventIsAppliedWithItsExactBytes() {
        let body = Array(Self.event().utf8)
        let decoded = decode([body])
        #expect(decoded.rejected.isEmpty)
        #expect(decoded.events.map(\.body) == [body])
        #expect(decoded.eventDelivery == [0])
    }

    @Test(arguments: [
        ("not json", "invalid_json", "JSON"),
        ("[]", "invalid_event", "array"),
        (event(id: nil), "invalid_event", "id"),
        (event(data: #"{"project_id":"bt 17!","status":"started"}"#), "invalid_event", "project_id"),
        (event(time: "2024-05-05T10:00:00"), "invalid_event", "time"),
        (event(data: #"{"project_id":"BT-17","status":"rumoured"}"#), "invalid_event", "status"),
    ])
    func aBadEventIsRejectedWithItsReasonAndTheFieldItNames(body: String, reason: String, mentions: String) {
        let rejected = rejection(of: Array(body.utf8))
        #expect(rejected?.reason == reason)
        #expect(rejected?.error.contains(mentions) == true, "\(rejected?.error ?? "-")")
        #expect(rejected?.body == Array(body.utf8), "the dead letter keeps the bytes as received")
    }

    @Test func aNegativeAmountIsRejectedNamingTheField() {
        let body = #"{"specversion":"1.0","id":"inv-1","source":"bt-dept/finance","type":"zone.project.investment_reported","time":"2024-05-05T10:00:00+08:00","data":{"project_id":"BT-17","period":"2024-04","completed_investment":-5}}"#
        let rejected = rejection(of: Array(body.utf8))
        #expect(rejected?.reason == "invalid_event")
        #expect(rejected?.error.contains("completed_investment") == true, "\(rejected?.error ?? "-")")
        #expect(rejected?.eventID == "inv-1")
    }

    @Test func invalidUTF8IsRejectedAsInvalidJSON() {
        var body = Array(Self.event().utf8)
        body.insert(contentsOf: [0xC3, 0x28], at: body.count - 10)
        let rejected = rejection(of: body)
        #expect(rejected?.reason == "invalid_json")
        #expect(rejected?.error.contains("UTF-8") == true, "\(rejected?.error ?? "-")")
    }

    @Test func aTwoMegabyteBodyIsRejectedAsTooLarge() {
        let padding = String(repeating: "x", count: 2 << 20)
        let body = Array(Self.event(data: #"{"project_id":"BT-17","status":"started","note":"\#(padding)"}"#).utf8)
        let rejected = rejection(of: body)
        #expect(rejected?.reason == "too_large")
        #expect(rejected?.body.count == body.count)
    }

    @Test func anUnknownTypeIsRejectedAsUnknownType() {
        let body = #"{"specversion":"1.0","id":"x-1","source":"s","type":"zone.unknown","time":"2024-01-01T00:00:00Z","data":{}}"#
        #expect(rejection(of: Array(body.utf8))?.reason == "unknown_type")
    }

    @Test func oneBadEventInABatchCostsTheOthersNothing() {
        var events = (1...999).map { Self.event(id: "e-\($0)", data: #"{"project_id":"BT-\#($0)","status":"started"}"#) }
        events.insert(Self.event(id: "bad", data: #"{"project_id":"BT-1","status":"rumoured"}"#), at: 500)
        let body = Array("[\(events.joined(separator: ","))]".utf8)
        let decoded = decode([body], properties: Self.batch)
        #expect(decoded.events.count == 999)
        #expect(decoded.rejected.count == 1)
        #expect(decoded.rejected.first?.rejected.eventID == "bad")
        #expect(decoded.rejected.first?.rejected.body == Array(events[500].utf8), "the bad event alone, as its own bytes")
    }

    @Test func aBatchThatIsNotAnArrayIsRejectedWhole() {
        let body = Array(Self.event().utf8)
        let rejected = rejection(of: body, properties: Self.batch)
        #expect(rejected?.reason == "invalid_json" || rejected?.reason == "invalid_event")
        #expect(rejected?.body == body)
    }

    @Test func eachDeliveryIsDecodedOnItsOwn() {
        let decoded = decode([Array(Self.event(id: "a").utf8), Array("{".utf8), Array(Self.event(id: "b").utf8)])
        #expect(decoded.events.map(\.event.id) == ["a", "b"])
        #expect(decoded.eventDelivery == [0, 2])
        #expect(decoded.rejected.map(\.delivery) == [1])
    }
}
