import Logging
import LodeSettings
import Synchronization
import Testing

/// A log line stays one line whatever an event puts in its message or metadata.
@Suite("One log event, one line")
struct OneLineLogHandlerTests {
    final class Box: Sendable { let events = Mutex<[LogEvent]>([]) }

    @Test func messageAndMetadataFromAnEventAreEscaped() throws {
        let box = Box()
        let logger = Logger(label: "test", factory: { _ in OneLineLogHandler(RecorderForwarding(box: box)) })
        logger.warning("dead-lettered \("id\nforged=1")", metadata: [
            "event_id": "e-1\r\nlevel=critical msg=\u{1B}[2J", "list": ["a\nb"], "nested": ["k\n": "v\u{7}"],
            "number": .stringConvertible(42),
        ])
        let event = try #require(box.events.withLock { $0.first })
        #expect(event.message.description == #"dead-lettered id\u{A}forged=1"#)
        #expect(event.metadata?["event_id"] == .string(#"e-1\u{D}\u{A}level=critical msg=\u{1B}[2J"#))
        #expect(event.metadata?["list"] == .array([.string(#"a\u{A}b"#)]))
        #expect(event.metadata?["nested"] == .dictionary([#"k\u{A}"#: .string(#"v\u{7}"#)]))
        #expect(event.metadata?["number"] == .string("42"))
    }

    /// A handler that keeps what it is given, in `box`.
    struct RecorderForwarding: LogHandler {
        let box: Box
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { box.events.withLock { $0.append(event) } }
    }
}
