import Foundation
import LodeAMQP

/// The bad-input corpus of `Tests/Corpus` (written by `Tests/Corpus/generate.py`): message
/// bodies as files, and in `manifest.json` each case's content type, properties, headers and
/// expected outcome. The unit tests, the publisher's and the worker's broker tests all read it.
public struct BadInputCorpus: Sendable {
    /// What should become of one event (or of a whole message that is not split into events).
    public enum Outcome: Sendable, Equatable, CustomStringConvertible {
        case applied
        /// Dead-lettered (or refused by the publisher) with `reason`, its error text holding
        /// each of `mentions`.
        case rejected(reason: String, mentions: [String])

        public var description: String {
            switch self {
            case .applied: "applied"
            case .rejected(let reason, let mentions): "\(reason) mentioning \(mentions)"
            }
        }
    }

    /// What is expected of a whole message.
    public enum Expectation: Sendable, Equatable {
        /// A single-event message, or a whole batch rejected at once.
        case message(Outcome)
        /// A batch split into events: one outcome per element.
        case elements([Outcome])
    }

    /// What `lode-publish --check` must do with the body written as an NDJSON file.
    public enum PublisherExpectation: Sendable, Equatable {
        case same(Outcome)
        case skip
    }

    public struct Case: Sendable {
        public var name: String
        public var bodyPath: String
        public var body: [UInt8]
        public var routingKey: String?
        public var properties: MessageProperties
        public var expectation: Expectation
        public var publisher: PublisherExpectation
        /// Set when RabbitMQ itself refuses the message (closes the publisher's channel): it
        /// never reaches the worker.
        public var brokerRefuses: Bool

        /// Whether the worker dead-letters this message, or some event of it.
        public var deadLetterCount: Int {
            switch expectation {
            case .message(.applied): 0
            case .message(.rejected): 1
            case .elements(let outcomes): outcomes.count { $0 != .applied }
            }
        }
    }

    public var cases: [Case]

    /// `Tests/Corpus` of this checkout.
    public static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Corpus")

    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads the manifest and every body it names.
    public static func load() throws -> BadInputCorpus {
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let entries = root["cases"] as? [[String: Any]] else {
            throw Malformed(description: "manifest.json: expected an object with 'cases'")
        }
        return BadInputCorpus(cases: try entries.map(readCase))
    }

    private static func readCase(_ entry: [String: Any]) throws -> Case {
        guard let name = entry["name"] as? String, let bodyPath = entry["body"] as? String, let expect = entry["expect"] else {
            throw Malformed(description: "manifest.json: a case without name, body or expect: \(entry)")
        }
        let body = [UInt8](try Data(contentsOf: directory.appendingPathComponent(bodyPath)))
        var properties = MessageProperties(contentType: entry["content_type"] as? String, deliveryMode: 2)
        properties.correlationID = "corpus:\(name)"
        if let given = entry["properties"] as? [String: Any] {
            for (key, value) in given {
                let text = try propertyText(value, in: name)
                switch key {
                case "type": properties.type = text
                case "app_id": properties.appID = text
                case "message_id": properties.messageID = text
                case "timestamp":
                    guard let seconds = UInt64(text) else { throw Malformed(description: "\(name): timestamp '\(text)'") }
                    properties.timestamp = seconds
                default: throw Malformed(description: "\(name): unknown property '\(key)'")
                }
            }
        }
        if let headers = entry["headers"] as? [[String: Any]] {
            properties.headers = FieldTable(try headers.map { try header($0, in: name) })
        }
        let expectation: Expectation
        if let elements = (expect as? [String: Any])?["elements"] as? [Any] {
            expectation = .elements(try elements.map { try outcome($0, in: name) })
        } else {
            expectation = .message(try outcome(expect, in: name))
        }
        let publisher: PublisherExpectation
        switch entry["publisher"] {
        case nil:
            guard case .message(let outcome) = expectation else {
                throw Malformed(description: "\(name): a batch case needs publisher 'skip'")
            }
            publisher = .same(outcome)
        case let text as String where text == "skip": publisher = .skip
        case let other?: publisher = .same(try outcome(other, in: name))
        }
        return Case(name: name, bodyPath: bodyPath, body: body, routingKey: entry["routing_key"] as? String,
                    properties: properties, expectation: expectation, publisher: publisher,
                    brokerRefuses: entry["broker"] as? String == "refuses")
    }

    private static func outcome(_ value: Any, in name: String) throws -> Outcome {
        if let text = value as? String, text == "applied" { return .applied }
        guard let object = value as? [String: Any], let reason = object["reason"] as? String else {
            throw Malformed(description: "\(name): an outcome is 'applied' or {reason, mentions}, found \(value)")
        }
        return .rejected(reason: reason, mentions: object["mentions"] as? [String] ?? [])
    }

    private static func propertyText(_ value: Any, in name: String) throws -> String {
        if let text = value as? String { return text }
        if let object = value as? [String: Any], let unit = object["repeat_text"] as? String, let count = object["count"] as? Int {
            return String(repeating: unit, count: count)
        }
        throw Malformed(description: "\(name): a property is a string or {repeat_text, count}, found \(value)")
    }

    private static func header(_ entry: [String: Any], in name: String) throws -> FieldTable.Entry {
        guard let key = entry["key"] as? String, let value = entry["value"] else {
            throw Malformed(description: "\(name): a header needs key and value")
        }
        return FieldTable.Entry(key, try fieldValue(value, in: name))
    }

    /// A typed header value: `{"int64": "…"}`, `{"string": …}`, `{"table": [{key, value}]}`, …,
    /// or a generated one: `{"nested_tables": N}`, `{"repeat": N, "of": VALUE}`,
    /// `{"string_bytes": N}`.
    static func fieldValue(_ value: Any, in name: String) throws -> FieldValue {
        guard let object = value as? [String: Any], object.count <= 2, let (kind, raw) = object.first(where: { $0.key != "of" }) else {
            throw Malformed(description: "\(name): a header value is an object with one kind, found \(value)")
        }
        func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
            if let text = raw as? String, let number = T(text) { return number }
            if let number = raw as? Int, let exact = T(exactly: number) { return exact }
            throw Malformed(description: "\(name): \(kind) value \(raw)")
        }
        func floating() throws -> Double {
            switch raw {
            case let text as String where text == "nan": return .nan
            case let text as String where text == "-inf": return -.infinity
            case let text as String where text == "inf": return .infinity
            case let number as Double: return number
            default: throw Malformed(description: "\(name): \(kind) value \(raw)")
            }
        }
        switch kind {
        case "bool": return .bool(raw as? Bool ?? false)
        case "int8": return .int8(try integer(Int8.self))
        case "uint8": return .uint8(try integer(UInt8.self))
        case "int16": return .int16(try integer(Int16.self))
        case "uint16": return .uint16(try integer(UInt16.self))
        case "int32": return .int32(try integer(Int32.self))
        case "uint32": return .uint32(try integer(UInt32.self))
        case "int64": return .int64(try integer(Int64.self))
        case "uint64": return .uint64(try integer(UInt64.self))
        case "timestamp": return .timestamp(try integer(UInt64.self))
        case "float": return .float(Float(try floating()))
        case "double": return .double(try floating())
        case "decimal":
            guard let parts = raw as? [Int], parts.count == 2, let scale = UInt8(exactly: parts[0]),
                  let digits = UInt32(exactly: parts[1]) else { throw Malformed(description: "\(name): decimal \(raw)") }
            return .decimal(scale: scale, value: digits)
        case "string":
            guard let text = raw as? String else { throw Malformed(description: "\(name): string \(raw)") }
            return .string(text)
        case "string_bytes": return .string(String(repeating: "s", count: try integer(Int.self)))
        case "bytes_hex":
            guard let hex = raw as? String, hex.count.isMultiple(of: 2) else { throw Malformed(description: "\(name): bytes_hex \(raw)") }
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                guard let byte = UInt8(hex[index..<next], radix: 16) else { throw Malformed(description: "\(name): bytes_hex \(hex)") }
                bytes.append(byte)
                index = next
            }
            return .bytes(bytes)
        case "void": return .void
        case "array":
            guard let items = raw as? [Any] else { throw Malformed(description: "\(name): array \(raw)") }
            return .array(try items.map { try fieldValue($0, in: name) })
        case "table":
            guard let items = raw as? [[String: Any]] else { throw Malformed(description: "\(name): table \(raw)") }
            return .table(FieldTable(try items.map { try header($0, in: name) }))
        case "nested_tables":
            var nested = FieldValue.table(["leaf": .int32(1)])
            for _ in 1..<max(1, try integer(Int.self)) { nested = .table(["t": nested]) }
            return nested
        case "repeat":
            guard let element = object["of"] else { throw Malformed(description: "\(name): repeat without 'of'") }
            return .array(Array(repeating: try fieldValue(element, in: name), count: try integer(Int.self)))
        default:
            throw Malformed(description: "\(name): unknown header value kind '\(kind)'")
        }
    }
}
