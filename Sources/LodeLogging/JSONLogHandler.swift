import Foundation
import Glibc
import LodeJSON
import Logging

/// A swift-log handler that writes each log event as one JSON object on one line:
/// `time` (RFC 3339, UTC, milliseconds), `level`, `logger` (the logger's label), `message`,
/// `metadata` (the handler's, the provider's and the event's metadata, as swift-log merges them
/// for text lines: the same keys and values) and `error` when the event carries one.
///
/// A line is written with a single `write(2)`, so lines of concurrent loggers never interleave.
public struct JSONLogHandler: LogHandler {
    /// Where the lines go.
    public struct Sink: Sendable {
        let write: @Sendable (String) -> Void

        /// Standard error, unbuffered.
        public static let standardError = Sink { line in
            var line = line
            line.withUTF8 { bytes in
                guard let base = bytes.baseAddress else { return }
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(2, base + offset, bytes.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return  // nowhere to report a failing standard error
                    }
                    offset += written
                }
            }
        }

        /// Hands each line (with its trailing newline) to `write`: for tests.
        public init(write: @escaping @Sendable (String) -> Void) {
            self.write = write
        }
    }

    public let label: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let sink: Sink
    private let now: @Sendable () -> Date

    public init(label: String, sink: Sink, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider,
                now: @escaping @Sendable () -> Date = Date.init) {
        self.label = label
        self.sink = sink
        self.metadataProvider = metadataProvider
        self.now = now
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        var members = [
            JSONMember("time", .string(Self.timestamp(now()))), JSONMember("level", .string(event.level.rawValue)),
            JSONMember("logger", .string(label)), JSONMember("message", .string(event.message.description)),
        ]
        if !merged.isEmpty { members.append(JSONMember("metadata", Self.json(.dictionary(merged)))) }
        if let error = event.error { members.append(JSONMember("error", .string("\(error)"))) }
        sink.write(JSONValue.object(members).serializedText() + "\n")
    }

    /// A metadata value as JSON: strings as strings, lists as arrays, dictionaries as objects
    /// with their keys sorted (as the text handler prints them).
    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let string): .string(string)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let elements): .array(elements.map(json))
        case .dictionary(let members): .object(members.keys.sorted().compactMap { key in members[key].map { JSONMember(key, json($0)) } })
        }
    }

    /// `2026-12-06T08:00:00.123Z`.
    static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = Int(((milliseconds % 1000) + 1000) % 1000)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), millis)
    }
}
