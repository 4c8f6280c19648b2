import LodeJSON

/// A batch message (`application/cloudevents-batch+json`): a JSON array of
/// at most 1,000 events in at most 1 MiB, all of one type and one source.
///
/// Each element is decoded and validated on its own, so one bad event never
/// affects the others: every ``Element`` has its own result and its own
/// bytes, to be applied or dead-lettered alone.
///
/// One type and one source: the batch's type and source are those of its
/// first element that is a valid event. A valid element of another type or
/// source is rejected alone, as `invalid_event`; the others still count.
public struct EventBatch: Sendable {
    /// One element of the batch.
    public struct Element: Sendable {
        /// The element's position in the batch, from 0.
        public let index: Int
        /// Where the element's bytes are in the batch body.
        public let byteRange: Range<Int>
        /// The event, or why the element was rejected.
        public let result: Result<Event, EventRejection>
        private let body: [UInt8]

        init(index: Int, byteRange: Range<Int>, result: Result<Event, EventRejection>, body: [UInt8]) {
            self.index = index
            self.byteRange = byteRange
            self.result = result
            self.body = body
        }

        /// The element exactly as it appears in the batch body: the body of
        /// a dead letter for this event alone.
        public var bytes: [UInt8] { Array(body[byteRange]) }

        /// The element as canonical JSON (see ``JSONValue/canonicalBytes()``),
        /// or `nil` when the element is not valid JSON.
        public var canonicalBytes: [UInt8]? {
            body.withUnsafeBufferPointer { buffer in
                try? JSONParser.parse(UnsafeBufferPointer(rebasing: buffer[byteRange])).canonicalBytes()
            }
        }

        public var event: Event? {
            if case .success(let event) = result { event } else { nil }
        }

        public var rejection: EventRejection? {
            if case .failure(let rejection) = result { rejection } else { nil }
        }
    }

    public let elements: [Element]

    /// The valid events, in batch order.
    public var events: [Event] { elements.compactMap(\.event) }

    /// Splits and validates a batch body. Throws one ``EventRejection`` for
    /// the whole message when it cannot be split into events: over 1 MiB or
    /// 1,000 events (`too_large`), not JSON whose array structure can be
    /// followed (`invalid_json`), or JSON that is not an array
    /// (`invalid_event`). An empty array is a batch of no events.
    public static func decode(_ body: [UInt8]) throws(EventRejection) -> EventBatch {
        guard body.count <= EventLimits.maxBatchBytes else {
            throw EventRejection(
                reason: .tooLarge,
                message: "batch is \(body.count) bytes; a batch may be at most \(EventLimits.maxBatchBytes) bytes (1 MiB)")
        }
        let elements = try body.withUnsafeBufferPointer { bytes throws(EventRejection) in
            var split = try splitBody(bytes)
            return decodeElements(&split, body: body)
        }
        return EventBatch(elements: elements)
    }

    /// Splits and validates a batch body; see ``decode(_:)-([UInt8])``.
    public static func decode(_ body: UnsafeRawBufferPointer) throws(EventRejection) -> EventBatch {
        try decode(Array(body))
    }

    /// The scanner after splitting the body, with the elements' tokens on
    /// its tape.
    private static func splitBody(_ bytes: UnsafeBufferPointer<UInt8>) throws(EventRejection) -> (scanner: JSONScanner, elements: [SplitElement]) {
        var scanner = JSONScanner(event: bytes)
        scanner.skipWhitespace()
        guard !scanner.isAtEnd, bytes[scanner.position] == UInt8(ascii: "[") else {
            var documentScanner = JSONScanner(event: bytes)
            do {
                try documentScanner.parseDocument()
            } catch {
                throw EventRejection(reason: .invalidJSON, message: "batch is not valid JSON: \(error.message)")
            }
            let (found, identity) = documentScanner.tape.tokens.withUnsafeBufferPointer { tokens in
                let root = JSONNode(bytes: bytes, tokens: tokens, index: 0)
                return (Found.describe(root), EnvelopeRules.identity(of: root))
            }
            throw EventRejection(
                reason: .invalidEvent,
                message: "expected a JSON array of events (content type \(MessageFormat.batchContentType)), found \(found); send a single event with content type \(MessageFormat.singleContentType)",
                eventID: identity.id, eventType: identity.type)
        }
        scanner = JSONScanner(event: bytes)
        let split: ArraySplit
        do {
            split = try scanner.splitArray(maxElements: EventLimits.maxBatchEvents)
        } catch {
            throw EventRejection(reason: .invalidJSON, message: "batch is not valid JSON: \(error.message)")
        }
        switch split {
        case .elements(let elements):
            return (scanner, elements)
        case .tooManyElements(let limit):
            throw EventRejection(
                reason: .tooLarge, message: "batch holds more than \(limit) events; a batch may hold at most \(limit)")
        }
    }

    private static func decodeElements(_ split: inout (scanner: JSONScanner, elements: [SplitElement]), body: [UInt8]) -> [Element] {
        let bytes = split.scanner.bytes
        return split.scanner.tape.tokens.withUnsafeBufferPointer { tokens in
            var elements: [Element] = []
            elements.reserveCapacity(split.elements.count)
            var reference: (index: Int, type: EventType, source: String)?
            for (index, part) in split.elements.enumerated() {
                var result: Result<Event, EventRejection>
                switch part.parsed {
                case .failure(let error):
                    let relative = error.relative(to: part.range.lowerBound)
                    result = .failure(EventRejection(
                        reason: .invalidJSON,
                        message: "not valid JSON: \(relative.message) (byte \(error.offset) of the batch)"))
                case .success(let root):
                    let node = JSONNode(bytes: bytes, tokens: tokens, index: root)
                    if part.range.count > EventLimits.maxEventBytes {
                        result = .failure(Event.tooLarge(part.range.count, identity: EnvelopeRules.identity(of: node)))
                    } else {
                        result = EnvelopeRules.decode(node)
                    }
                }
                if case .success(let event) = result {
                    if let reference {
                        if event.type != reference.type || event.source != reference.source {
                            result = .failure(mismatch(event, reference: reference))
                        }
                    } else {
                        reference = (index, event.type, event.source)
                    }
                }
                elements.append(Element(index: index, byteRange: part.range, result: result, body: body))
            }
            return elements
        }
    }

    /// The rejection of a valid event whose type or source differs from the
    /// batch's (those of its first valid event).
    private static func mismatch(_ event: Event, reference: (index: Int, type: EventType, source: String)) -> EventRejection {
        var issues: [EventIssue] = []
        if event.type != reference.type {
            issues.append(EventIssue(
                path: "type",
                message: "a batch holds events of one type: expected '\(reference.type.rawValue)' (as event \(reference.index) of the batch has), found '\(event.type.rawValue)'"))
        }
        if event.source != reference.source {
            issues.append(EventIssue(
                path: "source",
                message: "a batch holds events of one source: expected \(Found.quoted(reference.source)) (as event \(reference.index) of the batch has), found \(Found.quoted(event.source))"))
        }
        return EventRejection(reason: .invalidEvent, issues: issues, eventID: event.id, eventType: event.type.rawValue)
    }

    /// Writes `events` as a batch body: a JSON array of their
    /// ``Event/encoded()`` forms. It does not split or check limits; see
    /// ``EventBatch/pack(_:maxEvents:maxBytes:)`` for that.
    public static func encode(_ events: [Event]) -> [UInt8] {
        var body: [UInt8] = [UInt8(ascii: "[")]
        for (index, event) in events.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: event.encoded())
        }
        body.append(UInt8(ascii: "]"))
        return body
    }
}
