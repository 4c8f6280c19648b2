import LodeJSON

extension Event {
    /// Decodes and validates the body of a single-event message
    /// (CloudEvents structured JSON mode).
    ///
    /// Throws an ``EventRejection`` whose reason is
    /// - `too_large` for a body over 64 KiB,
    /// - `invalid_json` for a body that is not strict JSON,
    /// - `unknown_type` for a `type` that is none of the seven,
    /// - `invalid_event` for anything else section 3 forbids; a JSON array
    ///   is one of those: a batch needs its own content type.
    ///
    /// The rejection carries the event's id when the body parsed far enough
    /// to have a valid one.
    public static func decode(_ body: UnsafeRawBufferPointer) throws(EventRejection) -> Event {
        try decode(body.assumingMemoryBound(to: UInt8.self))
    }

    /// Decodes and validates the body of a single-event message; see
    /// ``decode(_:)-(UnsafeRawBufferPointer)``.
    public static func decode(_ body: [UInt8]) throws(EventRejection) -> Event {
        try body.withUnsafeBufferPointer { buffer throws(EventRejection) in try decode(buffer) }
    }

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws(EventRejection) -> Event {
        if bytes.count > EventLimits.maxEventBytes {
            throw tooLarge(bytes.count, identity: identityOfOversizedBody(bytes))
        }
        var scanner = JSONScanner(event: bytes)
        do {
            try scanner.parseDocument()
        } catch {
            throw EventRejection(reason: .invalidJSON, message: "not valid JSON: \(error.message)")
        }
        return try scanner.tape.tokens.withUnsafeBufferPointer { tokens in
            EnvelopeRules.decode(JSONNode(bytes: bytes, tokens: tokens, index: 0))
        }.get()
    }

    static func tooLarge(_ byteCount: Int, identity: (id: String?, type: String?)) -> EventRejection {
        EventRejection(
            reason: .tooLarge,
            message: "event is \(byteCount) bytes; an event may be at most \(EventLimits.maxEventBytes) bytes (64 KiB) of UTF-8 JSON",
            eventID: identity.id, eventType: identity.type)
    }

    /// The id and type of an oversized body, when it is JSON at all: a dead
    /// letter is easier to trace with them. Very large bodies are not read.
    private static func identityOfOversizedBody(_ bytes: UnsafeBufferPointer<UInt8>) -> (id: String?, type: String?) {
        guard bytes.count <= 16 * 1_048_576 else { return (nil, nil) }
        var scanner = JSONScanner(event: bytes)
        guard (try? scanner.parseDocument()) != nil else { return (nil, nil) }
        return scanner.tape.tokens.withUnsafeBufferPointer { tokens in
            EnvelopeRules.identity(of: JSONNode(bytes: bytes, tokens: tokens, index: 0))
        }
    }
}
