import LodeAMQP
import LodeEvents
import LodePublishing
import Testing

func statusEvent(_ index: Int, source: String = "dept", status: String = "started") -> String {
    #"{"specversion":"1.0","id":"evt-\#(index)","source":"\#(source)","type":"zone.project.status_changed","time":"2024-05-05T10:00:00+08:00","data":{"project_id":"BT-\#(index)","status":"\#(status)"}}"#
}

@Suite("NDJSON input")
struct NDJSONTests {
    func read(_ text: String) throws(InvalidInput) -> ReadEvents {
        try NDJSONEventReader(fileName: "in.ndjson").read(Array(text.utf8))
    }

    @Test func oneEventPerLineWithCRLFBlankLinesAndABOM() throws {
        let text = "\u{FEFF}" + statusEvent(1) + "\r\n\r\n   \n" + statusEvent(2) + "\n"
        let read = try read(text)
        #expect(read.events.map(\.id) == ["evt-1", "evt-2"])
        #expect(read.lines == [1, 4])
    }

    @Test func eachBadLineIsReportedWithItsLineNumber() {
        let text = [statusEvent(1), "{not json", statusEvent(3, status: "done"), statusEvent(4)].joined(separator: "\n")
        do {
            _ = try read(text)
            Issue.record("expected problems")
        } catch {
            #expect(error.problems.map(\.line) == [2, 3])
            #expect(error.problems[1].description.hasPrefix("in.ndjson:3: data.status:"))
        }
    }

    @Test func anIdUsedByTwoDifferentEventsIsAnError() throws {
        let text = statusEvent(1) + "\n" + statusEvent(1) + "\n" + statusEvent(1, status: "completed") + "\n"
        let read = try read(text)
        #expect(throws: InvalidInput.self) { try read.deduplicated(fileName: "in.ndjson") }
        #expect(try self.read(statusEvent(1) + "\n" + statusEvent(1)).deduplicated(fileName: "x").events.count == 1)
    }

    /// An event's identity is its source and id: the same id from two sources is two events; the
    /// error for one source's id used twice names the line, the id and the source.
    @Test func theSameIDFromTwoSourcesIsTwoEvents() throws {
        let text = statusEvent(1, source: "dept-a") + "\n" + statusEvent(1, source: "dept-b", status: "completed") + "\n"
        #expect(try read(text).deduplicated(fileName: "in.ndjson").events.map(\.source) == ["dept-a", "dept-b"])
        let twice = text + statusEvent(1, source: "dept-a", status: "suspended") + "\n"
        do {
            _ = try read(twice).deduplicated(fileName: "in.ndjson")
            Issue.record("accepted one source's id for two events")
        } catch {
            #expect("\(error)".contains("in.ndjson:3: id 'evt-1' from source 'dept-a' is also the id of a different event from that source on line 1"), "\(error)")
        }
    }
}

@Suite("Messages on the wire")
struct MessagePlanTests {
    func events(_ count: Int, sources: [String] = ["dept"]) throws -> [Event] {
        let text = (0..<count).map { statusEvent($0, source: sources[$0 % sources.count]) }.joined(separator: "\n")
        return try NDJSONEventReader(fileName: "x").read(Array(text.utf8)).events
    }

    @Test func aSingleEventMessageCarriesTheContractsProperties() throws {
        let plan = MessagePlan.single(try events(1), timestamp: 1_700_000_000)
        let message = try #require(plan.first?.message)
        #expect(message.exchange == "lode.events")
        #expect(message.routingKey == "zone.project.status_changed")
        #expect(message.mandatory)
        #expect(message.properties == MessageProperties(
            contentType: "application/cloudevents+json", deliveryMode: 2, messageID: "evt-0",
            timestamp: 1_700_000_000, type: "zone.project.status_changed", appID: "dept"))
        #expect(try Event.decode(message.body).id == "evt-0")
    }

    @Test func batchesHoldOneTypeAndSourceAndAtMostTheBatchSize() throws {
        let plan = MessagePlan.batched(try events(2_500, sources: ["a", "b"]), batchSize: 500, timestamp: 1)
        #expect(plan.map(\.eventCount).reduce(0, +) == 2_500)
        #expect(plan.allSatisfy { $0.eventCount <= 500 })
        #expect(plan.count == 6)  // 1,250 per source: 500 + 500 + 250, twice
        for planned in plan {
            let batch = try EventBatch.decode(planned.message.body)
            #expect(batch.events.count == planned.eventCount)
            #expect(Set(batch.events.map(\.source)) == [planned.message.properties.appID!])
            #expect(planned.message.properties.contentType == "application/cloudevents-batch+json")
            #expect(planned.message.properties.deliveryMode == 2)
            #expect(planned.message.properties.messageID?.hasPrefix("batch:") == true)
            #expect(planned.message.mandatory)
        }
        #expect(Set(plan.compactMap(\.message.properties.messageID)).count == plan.count)
    }

    @Test func theBatchSizeIsCappedAtTheContractsThousand() throws {
        let plan = MessagePlan.batched(try events(2_001), batchSize: 5_000, timestamp: 1)
        #expect(plan.map(\.eventCount) == [1_000, 1_000, 1])
    }

    @Test func eventsAreSentAsWrittenInTheInput() throws {
        let line = #"{"specversion":"1.0","id":"x-1","source":"d","type":"zone.project.status_changed","time":"2024-05-05T10:00:00+08:00","data":{"status":"started","project_id":"BT-1"},"traceparent":"00-ab"}"#
        let read = try NDJSONEventReader(fileName: "x").read(Array((line + "\r\n").utf8))
        #expect(read.texts.map { Array($0) } == [Array(line.utf8)])
        let single = MessagePlan.single(read.events, texts: read.texts, timestamp: 1)
        #expect(single.first?.message.body == Array(line.utf8))
        let batched = MessagePlan.batched(read.events, texts: read.texts, batchSize: 10, timestamp: 1)
        #expect(batched.first?.message.body == Array("[\(line)]".utf8))
    }

    @Test func batchesFromInputTextMatchThoseWrittenAfresh() throws {
        let text = (0..<1_200).map { statusEvent($0, source: $0 % 3 == 0 ? "a" : "b") }.joined(separator: "\n")
        let read = try NDJSONEventReader(fileName: "x").read(Array(text.utf8))
        let fromText = MessagePlan.batched(read.events, texts: read.texts, batchSize: 500, timestamp: 1)
        let written = MessagePlan.batched(read.events, batchSize: 500, timestamp: 1)
        // The same batches of the same events (the input's text lacks `datacontenttype`).
        #expect(fromText.map(\.message.properties) == written.map(\.message.properties))
        let decoded = try fromText.map { try EventBatch.decode($0.message.body).events }
        let decodedWritten = try written.map { try EventBatch.decode($0.message.body).events }
        #expect(decoded == decodedWritten)
        let sameAsLibrary = written.map(\.message.body) == EventBatch.pack(read.events, maxEvents: 500).map(\.body)
        #expect(sameAsLibrary)
    }

    @Test func aBatchStaysUnderOneMebibyte() throws {
        let note = String(repeating: "进", count: 990)
        let text = (0..<1_000).map { n in
            #"{"specversion":"1.0","id":"big-\#(n)","source":"d","type":"zone.project.status_changed","time":"2024-05-05T10:00:00+08:00","data":{"project_id":"BT-1","status":"started","note":"\#(note)"}}"#
        }.joined(separator: "\n")
        let read = try NDJSONEventReader(fileName: "x").read(Array(text.utf8))
        let plan = MessagePlan.batched(read.events, texts: read.texts, batchSize: 1_000, timestamp: 1)
        #expect(plan.count > 1)
        #expect(plan.allSatisfy { $0.message.body.count <= EventLimits.maxBatchBytes })
        #expect(plan.map(\.eventCount).reduce(0, +) == 1_000)
        for planned in plan { #expect(try EventBatch.decode(planned.message.body).events.count == planned.eventCount) }
    }

    @Test func batchIdsAreTheSameOnEveryRun() throws {
        let first = MessagePlan.batched(try events(10), batchSize: 5, timestamp: 1).map(\.message.properties.messageID)
        let second = MessagePlan.batched(try events(10), batchSize: 5, timestamp: 2).map(\.message.properties.messageID)
        #expect(first == second)
    }
}
