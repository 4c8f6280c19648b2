import LodeJSON
import Testing
@testable import LodeEvents

@Suite("Event batches")
struct EventBatchTests {
    static func visits(_ count: Int) -> [JSONValue] {
        (0..<count).map { Fixtures.envelope(.siteVisit, id: "v-\($0)") }
    }

    func batch(_ text: String) throws(EventRejection) -> EventBatch { try EventBatch.decode(Array(text.utf8)) }

    func rejection(_ body: [UInt8]) -> EventRejection? {
        do {
            _ = try EventBatch.decode(body)
            return nil
        } catch {
            return error
        }
    }

    @Test func decodesEveryEventOfABatch() throws {
        let decoded = try EventBatch.decode(Fixtures.body(.array(Self.visits(3))))
        #expect(decoded.events.map(\.id) == ["v-0", "v-1", "v-2"])
    }

    @Test func oneBadEventIsRejectedAloneAndTheOthersStillCount() throws {
        var elements = Self.visits(4)
        elements[2] = elements[2].settingData("visitors", .integer(-1))
        let decoded = try EventBatch.decode(Fixtures.body(.array(elements)))
        #expect(decoded.events.map(\.id) == ["v-0", "v-1", "v-3"])
        let bad = decoded.elements[2]
        #expect(bad.rejection?.reason == .invalidEvent)
        #expect(bad.rejection?.eventID == "v-2")
        #expect(bad.rejection?.message == "data.visitors: expected a whole number ≥ 0, found -1")
    }

    @Test func eachElementCarriesItsExactBytesAndItsCanonicalForm() throws {
        let text = #"[ {"b": 1,  "a": 2} ,{"specversion":"1.0"} ]"#
        let decoded = try batch(text)
        #expect(String(decoding: decoded.elements[0].bytes, as: UTF8.self) == #"{"b": 1,  "a": 2}"#)
        #expect(String(decoding: decoded.elements[0].canonicalBytes ?? [], as: UTF8.self) == #"{"a":2,"b":1}"#)
        #expect(String(decoding: decoded.elements[1].bytes, as: UTF8.self) == #"{"specversion":"1.0"}"#)
        #expect(decoded.elements[0].byteRange == 2..<19)
    }

    @Test func anElementThatBreaksAJSONRuleOfItsOwnIsRejectedAlone() throws {
        let good = Fixtures.envelope(.siteVisit, id: "ok").serializedText()
        let text = "[\(good), {\"id\": \"a\", \"id\": \"b\"}, {\"x\": tru}, \(good)]"
        let decoded = try batch(text)
        #expect(decoded.elements.count == 4)
        #expect(decoded.elements[0].event != nil)
        #expect(decoded.elements[1].rejection?.reason == .invalidJSON)
        #expect(decoded.elements[1].rejection?.message == "not valid JSON: duplicate key 'id' at byte 12 (byte \(good.utf8.count + 15) of the batch)")
        #expect(decoded.elements[2].rejection?.reason == .invalidJSON)
        #expect(decoded.elements[2].canonicalBytes == nil)
        #expect(decoded.elements[3].event != nil)
    }

    @Test func aBatchWhoseStructureIsBrokenIsRejectedWhole() {
        let broken = rejection(Fixtures.bytes(#"[{"id": "a"}, {"id": "b"#))
        #expect(broken?.reason == .invalidJSON)
        #expect(broken?.message.hasPrefix("batch is not valid JSON: ") == true)
        #expect(rejection(Fixtures.bytes(#"[{"a": 1} {"b": 2}]"#))?.reason == .invalidJSON)
        #expect(rejection(Fixtures.bytes(#"[{"a": 1}] trailing"#))?.reason == .invalidJSON)
        #expect(rejection(Fixtures.bytes(#"[{"a": [1}]"#))?.reason == .invalidJSON)
    }

    @Test func aBatchBodyThatIsNotAnArrayIsRejectedWhole() {
        let single = rejection(Fixtures.body(Fixtures.envelope()))
        #expect(single?.reason == .invalidEvent)
        #expect(single?.eventID == "evt-0001")
        #expect(single?.message == "expected a JSON array of events (content type application/cloudevents-batch+json), found an object; send a single event with content type application/cloudevents+json")
        #expect(rejection(Fixtures.bytes("{nope"))?.reason == .invalidJSON)
        #expect(rejection(Fixtures.bytes(""))?.reason == .invalidJSON)
    }

    @Test func aBatchOfMoreThan1000EventsIsTooLarge() throws {
        let small = #"{"specversion":"1.0"}"#
        let thousand = "[" + Array(repeating: small, count: 1000).joined(separator: ",") + "]"
        #expect(try batch(thousand).elements.count == 1000)
        let tooMany = "[" + Array(repeating: small, count: 1001).joined(separator: ",") + "]"
        let refused = rejection(Array(tooMany.utf8))
        #expect(refused?.reason == .tooLarge)
        #expect(refused?.message == "batch holds more than 1000 events; a batch may hold at most 1000")
    }

    @Test func aBatchOverOneMiBIsTooLarge() {
        let body = Fixtures.body(.array([.string(String(repeating: "x", count: 1_048_576))]))
        let refused = rejection(body)
        #expect(refused?.reason == .tooLarge)
        #expect(refused?.message == "batch is \(body.count) bytes; a batch may be at most 1048576 bytes (1 MiB)")
    }

    @Test func anElementOver64KiBIsTooLargeAlone() throws {
        let big = Fixtures.envelope(.siteVisit, id: "big").setting("padding", .string(String(repeating: "x", count: 70_000)))
        let decoded = try EventBatch.decode(Fixtures.body(.array([Fixtures.envelope(.siteVisit), big])))
        #expect(decoded.elements[0].event != nil)
        #expect(decoded.elements[1].rejection?.reason == .tooLarge)
        #expect(decoded.elements[1].rejection?.eventID == "big")
    }

    @Test func anEmptyBatchHoldsNoEvents() throws {
        #expect(try batch(" [ ] ").elements.isEmpty)
    }

    @Test func anEventOfAnotherTypeOrSourceIsRejectedAloneAsInvalid() throws {
        let elements = [
            Fixtures.envelope(.siteVisit, id: "bad-json").setting("time", .string("soon")),
            Fixtures.envelope(.siteVisit, id: "first"),
            Fixtures.envelope(.enterpriseContacted, id: "other-type"),
            Fixtures.envelope(.siteVisit, id: "other-source", source: "elsewhere"),
            Fixtures.envelope(.siteVisit, id: "same"),
        ]
        let decoded = try EventBatch.decode(Fixtures.body(.array(elements)))
        #expect(decoded.events.map(\.id) == ["first", "same"])
        #expect(decoded.elements[0].rejection?.message.hasPrefix("time:") == true)
        #expect(decoded.elements[2].rejection?.reason == .invalidEvent)
        #expect(decoded.elements[2].rejection?.message == "type: a batch holds events of one type: expected 'zone.recruitment.site_visit' (as event 1 of the batch has), found 'zone.recruitment.enterprise_contacted'")
        #expect(decoded.elements[3].rejection?.message == "source: a batch holds events of one source: expected 'bt-zone/projects' (as event 1 of the batch has), found 'elsewhere'")
        #expect(decoded.elements[3].rejection?.eventID == "other-source")
    }

    @Test func encodingABatchAndDecodingItGivesTheEventsBack() throws {
        let events = try EventBatch.decode(Fixtures.body(.array(Self.visits(5)))).events
        #expect(try EventBatch.decode(EventBatch.encode(events)).events == events)
        #expect(EventBatch.encode([]) == Array("[]".utf8))
    }

    @Test func packingKeepsToOneTypeAndSourceAndToTheLimits() throws {
        let visits = try EventBatch.decode(Fixtures.body(.array(Self.visits(7)))).events
        let contact = try Event.decode(Fixtures.body(Fixtures.envelope(.enterpriseContacted)))
        let packed = EventBatch.pack(visits + [contact], maxEvents: 3)
        #expect(packed.map(\.events.count) == [3, 3, 1, 1])
        #expect(packed.map(\.type) == [.siteVisit, .siteVisit, .siteVisit, .enterpriseContacted])
        for batch in packed {
            #expect(try EventBatch.decode(batch.body).events == batch.events)
        }
        let oneEventSize = visits[0].encoded().count
        let bySize = EventBatch.pack(visits, maxBytes: 2 * oneEventSize + 3)
        #expect(bySize.map(\.events.count) == [2, 2, 2, 1])
        #expect(bySize.allSatisfy { $0.body.count <= 2 * oneEventSize + 3 })
    }
}
