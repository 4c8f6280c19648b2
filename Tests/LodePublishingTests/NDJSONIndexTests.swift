import Foundation
import LodeAMQP
import LodeEvents
import LodePublishing
import Testing

/// The two-pass reader against the in-memory one: the same events, problems and messages.
@Suite("NDJSON in two passes")
struct NDJSONIndexTests {
    /// A file holding `text`, removed when the returned value is released.
    final class TemporaryFile {
        let path: String
        init(_ bytes: [UInt8]) throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("ndjson-index-\(UUID().uuidString).ndjson").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    func scan(_ bytes: [UInt8], idHash: @escaping NDJSONIndex.IDHash = NDJSONIndex.defaultIDHash) throws -> (NDJSONIndex, InputFile) {
        let temporary = try TemporaryFile(bytes)
        let file = try InputFile(path: temporary.path, fileName: "in.ndjson")
        return (try NDJSONIndex.scan(file, idHash: idHash), file)
    }

    func problems(_ bytes: [UInt8], idHash: @escaping NDJSONIndex.IDHash = NDJSONIndex.defaultIDHash) throws -> [String] {
        do {
            _ = try scan(bytes, idHash: idHash)
            return []
        } catch let error as NDJSONScanError {
            guard case .invalid(let invalid) = error else { throw error }
            return invalid.problems.map(\.description)
        }
    }

    /// The problems of the in-memory path (read, then deduplicated).
    func inMemoryProblems(_ bytes: [UInt8]) -> [String] {
        do {
            _ = try NDJSONEventReader(fileName: "in.ndjson").read(bytes).deduplicated(fileName: "in.ndjson")
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    /// Where each event's text is, found by searching the file for it.
    func ranges(of texts: [String], in bytes: [UInt8]) -> [(offset: UInt64, length: Int)] {
        var from = 0
        return texts.map { text in
            let needle = Array(text.utf8)
            var at = from
            while !bytes[at...].starts(with: needle) { at += 1 }
            from = at + needle.count
            return (UInt64(at), needle.count)
        }
    }

    /// A line of the demo data set whose text is Chinese (multi-byte UTF-8).
    func demoEventWithChineseText() throws -> String {
        let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../demo/baotou-2024.ndjson")
        let text = try String(contentsOf: demo, encoding: .utf8)
        return try #require(text.split(separator: "\n").first { !$0.allSatisfy(\.isASCII) }.map(String.init))
    }

    @Test func offsetsSkipTheBOMCRLFBlankLinesAndSpacesAndTakeALastLineWithoutNewline() throws {
        let chinese = try demoEventWithChineseText()
        let text = "\u{FEFF}" + statusEvent(1) + "\r\n\r\n \t \n  " + statusEvent(2) + "\t\r\n" + chinese
        let bytes = Array(text.utf8)
        let (index, _) = try scan(bytes)
        let expected = ranges(of: [statusEvent(1), statusEvent(2), chinese], in: bytes)
        #expect(index.eventRanges.map(\.offset) == expected.map(\.offset))
        #expect(index.eventRanges.map(\.length) == expected.map(\.length))
        #expect(index.eventCount == 3)
        #expect(index.groupKeys.map(\.source) == ["dept", "bt-hitech/development-reform-bureau"])
    }

    @Test func linesLongerThanTheReadChunkAndAcrossItsBoundaryAreWhole() throws {
        // About 2.6 MB: lines cross the 1 MiB read boundaries.
        let lines = (0..<12_000).map { statusEvent($0) }
        let bytes = Array(lines.joined(separator: "\n").utf8)
        let (index, _) = try scan(bytes)
        let expected = ranges(of: lines, in: bytes)
        #expect(index.eventRanges.map(\.offset) == expected.map(\.offset))
        #expect(index.eventCount == 12_000)
    }

    @Test func badLinesGiveTheSameProblemsAsTheInMemoryReader() throws {
        let text = [statusEvent(1), "{not json", statusEvent(3, status: "done"), "", statusEvent(4) + "\r"].joined(separator: "\n")
        let bytes = Array(text.utf8)
        let found = try problems(bytes)
        #expect(found.count >= 2)
        #expect(found == inMemoryProblems(bytes))
        #expect(found.first?.hasPrefix("in.ndjson:2: ") == true)
    }

    @Test func aRepeatedEventIsPublishedOnceAndAnIDOfTwoEventsIsTheSameError() throws {
        let same = Array((statusEvent(1) + "\n" + statusEvent(2) + "\n" + statusEvent(1) + "\n").utf8)
        let (index, _) = try scan(same)
        #expect(index.eventCount == 2)
        #expect(index.eventRanges.map(\.offset) == ranges(of: [statusEvent(1), statusEvent(2)], in: same).map(\.offset))

        let conflicting = Array((statusEvent(1) + "\n\n" + statusEvent(2) + "\n" + statusEvent(1, status: "completed") + "\n"
                                 + statusEvent(1) + "\n").utf8)
        let found = try problems(conflicting)
        #expect(found == inMemoryProblems(conflicting))
        #expect(found == ["in.ndjson:4: id 'evt-1' from source 'dept' is also the id of a different event from that source on line 1; an id must name one event of its source (the worker would dead-letter this one as a conflicting duplicate)"])
        // The same id from another source is another event.
        let twoSources = Array((statusEvent(1) + "\n" + statusEvent(1, source: "other", status: "completed")).utf8)
        #expect(try scan(twoSources).0.eventCount == 2)
        #expect(try scan(twoSources, idHash: { _, _ in 1 }).0.eventCount == 2)
    }

    @Test func aHashCollisionNeverDropsAnEvent() throws {
        // Every id hashes alike: only reading the events again tells them apart.
        let colliding: NDJSONIndex.IDHash = { _, _ in 42 }
        let lines = (0..<50).map { statusEvent($0) } + [statusEvent(7), statusEvent(3)]
        let bytes = Array(lines.joined(separator: "\n").utf8)
        let (index, _) = try scan(bytes, idHash: colliding)
        #expect(index.eventCount == 50)
        let conflicting = Array((lines + [statusEvent(9, status: "completed")]).joined(separator: "\n").utf8)
        #expect(try problems(conflicting, idHash: colliding) == inMemoryProblems(conflicting))
        #expect(try problems(conflicting, idHash: colliding).count == 1)
    }

    /// The second pass gives the messages the in-memory plan gives, byte for byte.
    @Test(arguments: [nil, 1, 7, 500] as [Int?])
    func theSecondPassMakesTheInMemoryPlansMessages(batchSize: Int?) throws {
        let sources = ["dept", "bt-hitech/investment-bureau", "other"]
        var lines = (0..<400).map { statusEvent($0, source: sources[$0 % 3]) }
        lines.insert(statusEvent(5, source: sources[2]), at: 100)  // a repeat: dropped by both
        let bytes = Array(("\u{FEFF}" + lines.joined(separator: "\r\n") + "\n").utf8)
        let read = try NDJSONEventReader(fileName: "in.ndjson").read(bytes).deduplicated(fileName: "in.ndjson")
        let expected = batchSize.map {
            MessagePlan.batched(read.events, texts: read.texts, batchSize: $0, timestamp: 7, exchange: "x", userID: "u")
        } ?? MessagePlan.single(read.events, texts: read.texts, timestamp: 7, exchange: "x", userID: "u")

        let (index, file) = try scan(bytes)
        var messages = index.messages(in: file, batchSize: batchSize, timestamp: 7, exchange: "x", userID: "u")
        var streamed: [PlannedMessage] = []
        // Small chunks, so that chunk ends fall inside groups and batches.
        while let chunk = try messages.next(maxMessages: 3, maxBytes: 2_000) {
            #expect(chunk.count <= 3)
            streamed += chunk
        }
        #expect(streamed.count == expected.count)
        #expect(streamed.map(\.message.body) == expected.map(\.message.body))
        #expect(streamed.map(\.message.properties) == expected.map(\.message.properties))
        #expect(streamed.map(\.message.routingKey) == expected.map(\.message.routingKey))
        #expect(streamed.map(\.eventCount) == expected.map(\.eventCount))
    }

    @Test func aFileChangedBetweenThePassesStopsTheSecondPass() throws {
        let bytes = Array((statusEvent(1) + "\n" + statusEvent(2) + "\n").utf8)
        let temporary = try TemporaryFile(bytes)
        let file = try InputFile(path: temporary.path)
        let index = try NDJSONIndex.scan(file)
        try Data(("xx" + statusEvent(1) + "\n").utf8).write(to: URL(fileURLWithPath: temporary.path))
        var messages = index.messages(in: file, batchSize: nil, timestamp: 1)
        #expect(throws: NDJSONScanError.self) { while try messages.next(maxMessages: 10) != nil {} }
    }

    @Test func standardInputIsSpooledToAnUnlinkedFile() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let text = Array((statusEvent(1) + "\n" + statusEvent(2)).utf8)
        _ = text.withUnsafeBytes { write(ends[1], $0.baseAddress, $0.count) }
        close(ends[1])
        let file = try InputFile.spooling(from: ends[0])
        close(ends[0])
        #expect(file.fileName == "<stdin>")
        #expect(file.size == UInt64(text.count))
        #expect(try file.readAll() == text)
        let index = try NDJSONIndex.scan(file)
        #expect(index.eventCount == 2)
    }

    @Test func aMissingFileOrADirectoryIsNamedWithTheSystemsReason() {
        #expect(throws: InputFileError.self) { try InputFile(path: "/nonexistent/events.ndjson") }
        do {
            _ = try InputFile(path: NSTemporaryDirectory())
            Issue.record("a directory opened as input")
        } catch {
            #expect(error.description.hasPrefix("cannot read input file"))
        }
    }
}
