import Foundation
import Logging
import Synchronization
import Testing

@testable import LodeLogging

/// Collects what a handler writes.
final class CapturedLines: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    var sink: JSONLogHandler.Sink { JSONLogHandler.Sink { line in self.lines.withLock { $0.append(line) } } }
}

private func object(_ line: String) throws -> [String: Any] {
    let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8))
    return try #require(parsed as? [String: Any], "not a JSON object: \(line)")
}

@Test func aLogEventIsOneJSONObjectOnOneLineWithTheTextHandlersFields() throws {
    let captured = CapturedLines()
    let fixed = Date(timeIntervalSince1970: 1_765_008_000.125)
    var handler = JSONLogHandler(label: "lode.worker", sink: captured.sink, metadataProvider: nil, now: { fixed })
    handler.metadata["connection"] = "consumer"
    let configured = handler
    let logger = Logger(label: "lode.worker") { _ in configured }
    logger.info("consuming", metadata: ["queue": "lode.work", "prefetch": .stringConvertible(1000),
                                         "channels": .array(["a", "b"]), "nested": ["k": "v"]])
    let lines = captured.all
    #expect(lines.count == 1)
    let line = try #require(lines.first)
    #expect(line.hasSuffix("}\n"))
    #expect(line.dropLast().contains("\n") == false)
    let event = try object(line)
    #expect(event["time"] as? String == "2025-12-06T08:00:00.125Z")
    #expect(event["level"] as? String == "info")
    #expect(event["logger"] as? String == "lode.worker")
    #expect(event["message"] as? String == "consuming")
    let metadata = try #require(event["metadata"] as? [String: Any])
    #expect(metadata["queue"] as? String == "lode.work")
    #expect(metadata["prefetch"] as? String == "1000")
    #expect(metadata["connection"] as? String == "consumer")
    #expect(metadata["channels"] as? [String] == ["a", "b"])
    #expect((metadata["nested"] as? [String: String]) == ["k": "v"])
}

@Test func quotesBackslashesAndControlCharactersAreEscapedSoEveryLineStillParses() throws {
    let captured = CapturedLines()
    let handler = JSONLogHandler(label: "lode.test", sink: captured.sink, metadataProvider: nil)
    let logger = Logger(label: "lode.test") { _ in handler }
    let nasty = "a \"quoted\" \\path\\ with\nnewline\r\tand \u{01}\u{1F} and 中文 and \u{2028}"
    logger.warning("\(nasty)", metadata: ["error": "\(nasty)", nasty: "key too"])
    let line = try #require(captured.all.first)
    #expect(line.filter { $0 == "\n" }.count == 1, "one line: \(line)")
    let event = try object(line)
    #expect(event["message"] as? String == nasty)
    let metadata = try #require(event["metadata"] as? [String: Any])
    #expect(metadata["error"] as? String == nasty)
    #expect(metadata[nasty] as? String == "key too")
}

@Test func eventsBelowTheLevelAreNotWrittenAndWithoutMetadataThereIsNoMetadataField() throws {
    let captured = CapturedLines()
    var handler = JSONLogHandler(label: "lode.test", sink: captured.sink, metadataProvider: nil)
    handler.logLevel = .warning
    let configured = handler
    let logger = Logger(label: "lode.test") { _ in configured }
    logger.info("not written")
    logger.debug("not written either")
    logger.error("written")
    #expect(captured.all.count == 1)
    let event = try object(try #require(captured.all.first))
    #expect(event["message"] as? String == "written")
    #expect(event["level"] as? String == "error")
    #expect(event["metadata"] == nil)
}

@Test func levelNamesAreSwiftLogsWithWarnForWarning() {
    #expect(LogOutput.level(named: "debug") == .debug)
    #expect(LogOutput.level(named: "WARNING") == .warning)
    #expect(LogOutput.level(named: "warn") == .warning)
    #expect(LogOutput.level(named: "verbose") == nil)
    #expect(LogFormat(rawValue: "json") == .json)
    #expect(LogFormat(rawValue: "yaml") == nil)
}
