import LodeEvents

/// Reads newline-delimited JSON: one CloudEvents event per line, LF or CRLF; blank lines are
/// skipped and a leading byte order mark is ignored. Each event is validated as the worker
/// validates a received one.
public struct NDJSONEventReader: Sendable {
    public let fileName: String

    public init(fileName: String) {
        self.fileName = fileName
    }

    /// The events, or every problem of every line.
    public func read(_ bytes: [UInt8]) throws(InvalidInput) -> ReadEvents {
        var result = ReadEvents()
        var problems: [InputProblem] = []
        var start = 0
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { start = 3 }
        var line = 0
        bytes.withUnsafeBytes { buffer in
            let end = buffer.count
            while start < end {
                line += 1
                var stop = start
                while stop < end, buffer[stop] != UInt8(ascii: "\n") { stop += 1 }
                var last = stop
                while last > start, isSpace(buffer[last - 1]) { last -= 1 }
                var first = start
                while first < last, isSpace(buffer[first]) { first += 1 }
                if first < last {
                    do throws(EventRejection) {
                        let event = try Event.decode(UnsafeRawBufferPointer(rebasing: buffer[first..<last]))
                        result.events.append(event)
                        result.lines.append(line)
                        result.texts.append(bytes[first..<last])
                    } catch {
                        let messages = error.issues.isEmpty ? [error.message] : error.issues.map(\.description)
                        problems += messages.map { InputProblem(file: fileName, line: line, message: $0) }
                    }
                }
                start = stop + 1
            }
        }
        guard problems.isEmpty else { throw InvalidInput(problems) }
        return result
    }

    private func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D
    }
}

extension ReadEvents {
    /// Drops repeated copies of an event (same source and id, same content: the worker would
    /// apply it once anyway) and reports a source and id used by two different events, at the
    /// later one's line. An event's identity is its source and id: the same id from two sources
    /// is two events.
    public func deduplicated(fileName: String) throws(InvalidInput) -> ReadEvents {
        var firstIndex: [SourceAndID: Int] = [:]
        firstIndex.reserveCapacity(events.count)
        var kept = ReadEvents()
        kept.sheet = sheet
        kept.events.reserveCapacity(events.count)
        kept.lines.reserveCapacity(events.count)
        kept.texts.reserveCapacity(texts.count)
        var problems: [InputProblem] = []
        for (index, event) in events.enumerated() {
            let identity = SourceAndID(source: event.source, id: event.id)
            if let earlier = firstIndex[identity] {
                if events[earlier] != event {
                    let earlierPlace = sheet.map { "in row \(lines[earlier]) of \($0)" } ?? "on line \(lines[earlier])"
                    problems.append(InputProblem(file: fileName, line: lines[index], cell: sheet.map { "\($0)!A\(lines[index])" },
                                                 message: Self.conflictMessage(event, earlierPlace: earlierPlace)))
                }
                continue
            }
            firstIndex[identity] = index
            kept.events.append(event)
            kept.lines.append(lines[index])
            if !texts.isEmpty { kept.texts.append(texts[index]) }
        }
        guard problems.isEmpty else { throw InvalidInput(problems) }
        return kept
    }
}

extension ReadEvents {
    /// The problem of an event whose source and id name a different, earlier event.
    static func conflictMessage(_ event: Event, earlierPlace: String) -> String {
        """
        id '\(event.id)' from source '\(event.source)' is also the id of a different event \
        from that source \(earlierPlace); an id must name one event of its source \
        (the worker would dead-letter this one as a conflicting duplicate)
        """
    }
}

/// An event's identity: its source and id.
struct SourceAndID: Hashable {
    let source: String
    let id: String
}
