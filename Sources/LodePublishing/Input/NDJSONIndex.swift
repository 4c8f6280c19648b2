#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LodeEvents

/// The first pass of publishing an NDJSON file in constant memory: every line validated exactly
/// as ``NDJSONEventReader`` validates it (the same problems, at the same lines), keeping of
/// each event only where its text is (offset and length), its group (type and source, the
/// batching key) and, until duplicates are settled, a hash of its id: 24 bytes an event in the
/// first pass, 20 in the second, whatever the events' size.
///
/// Duplicates are found in a sorted array of id hashes; events whose hashes match are read
/// again and compared as decoded events, so a hash collision can never drop an event. As with
/// ``ReadEvents/deduplicated(fileName:)``: a repeated event (same source and id, same content)
/// is dropped, a source and id given to two different events is a problem at the later one's line.
///
/// The second pass is ``messages(in:batchSize:timestamp:exchange:userID:)``: the events read
/// again by position, group by group, into the messages `MessagePlan` would make of them.
public struct NDJSONIndex: Sendable {
    /// The hash of an event's identity (its source and id); injectable so that tests can force
    /// collisions.
    public typealias IDHash = @Sendable (_ source: String, _ id: String) -> UInt64

    /// The batching key of an event.
    public struct Group: Sendable, Hashable {
        public var type: EventType
        public var source: String
    }

    public let fileName: String
    /// Where each event's text starts in the file, in file order.
    var offsets: [UInt64] = []
    /// Its length (the line without surrounding spaces, tabs and the CR of a CRLF).
    var lengths: [UInt32] = []
    /// Its place in `groupKeys`, or `dropped` for a repeated event.
    var groups: [UInt32] = []
    /// The groups, in the order each first appears.
    public private(set) var groupKeys: [Group] = []
    /// The events to publish (repeats dropped).
    public private(set) var eventCount = 0

    static let dropped = UInt32.max
    /// Bytes read at a time in the first pass (a longer line is read whole).
    static let chunkSize = 1 << 20

    /// FNV-1a over the source's and the id's UTF-8 bytes (a 0 byte between), then mixed (a
    /// 64-bit finalizer), so that ids alike but for their last characters spread over the range.
    public static let defaultIDHash: IDHash = { source, id in
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in source.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        hash = hash &* 0x0000_0100_0000_01B3
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        hash ^= hash >> 33
        hash = hash &* 0xFF51_AFD7_ED55_8CCD
        hash ^= hash >> 33
        return hash
    }

    /// The offset and length of each kept event, in file order (for tests and diagnostics).
    public var eventRanges: [(offset: UInt64, length: Int)] {
        offsets.indices.filter { groups[$0] != Self.dropped }.map { (offsets[$0], Int(lengths[$0])) }
    }

    /// Reads and validates `file` (the first pass). Throws every problem of every line, or,
    /// when the lines are valid, every conflicting duplicate; nothing may be published then.
    public static func scan(_ file: InputFile, idHash: IDHash = defaultIDHash) throws(NDJSONScanError) -> NDJSONIndex {
        var index = NDJSONIndex(fileName: file.fileName)
        var problems: [InputProblem] = []
        // (id hash folded to 32 bits) << 32 | event ordinal: sorted afterwards, runs of one hash
        // are the candidate duplicates, in file order. 8 bytes an event; the shorter hash only
        // means more candidates read again (about n²/2³³ pairs: 116 for a million events).
        var keys: [UInt64] = []
        var reserved = false
        var groupIndex: [Group: UInt32] = [:]
        var line = 0

        var pending: [UInt8] = []
        pending.reserveCapacity(chunkSize)
        var readOffset: UInt64 = 0
        do {
            try file.append(at: 0, count: 3, to: &pending)
        } catch {
            throw .unreadable(error)
        }
        if pending.count == 3, pending == [0xEF, 0xBB, 0xBF] {
            pending.removeAll(keepingCapacity: true)
            readOffset = 3
        } else {
            readOffset = UInt64(pending.count)
        }
        // The file offset of pending[0]: after a byte order mark, which is no part of line 1.
        var pendingOffset: UInt64 = pending.isEmpty ? readOffset : 0
        var atEnd = false

        func take(_ buffer: UnsafeRawBufferPointer, _ start: Int, _ stop: Int, base: UInt64) {
            line += 1
            var last = stop
            while last > start, isSpace(buffer[last - 1]) { last -= 1 }
            var first = start
            while first < last, isSpace(buffer[first]) { first += 1 }
            guard first < last else { return }
            do throws(EventRejection) {
                let event = try Event.decode(UnsafeRawBufferPointer(rebasing: buffer[first..<last]))
                guard let length = UInt32(exactly: last - first), let ordinal = UInt32(exactly: index.offsets.count),
                      ordinal < dropped else {
                    problems.append(InputProblem(file: file.fileName, line: line,
                                                 message: "this line is longer than 4 GiB, or the file has more than 4 billion events"))
                    return
                }
                let key = Group(type: event.type, source: event.source)
                let group: UInt32
                if let known = groupIndex[key] {
                    group = known
                } else {
                    group = UInt32(index.groupKeys.count)
                    groupIndex[key] = group
                    index.groupKeys.append(key)
                }
                index.offsets.append(base + UInt64(first))
                index.lengths.append(length)
                index.groups.append(group)
                let hash = idHash(event.source, event.id)
                keys.append((hash >> 32 ^ hash & 0xFFFF_FFFF) << 32 | UInt64(ordinal))
            } catch {
                let messages = error.issues.isEmpty ? [error.message] : error.issues.map(\.description)
                problems += messages.map { InputProblem(file: file.fileName, line: line, message: $0) }
            }
        }

        while true {
            if !atEnd {
                do {
                    let got = try file.append(at: readOffset, count: chunkSize, to: &pending)
                    readOffset += UInt64(got)
                    atEnd = got == 0
                } catch {
                    throw .unreadable(error)
                }
            }
            let base = pendingOffset
            let consumed = pending.withUnsafeBytes { buffer -> Int in
                var start = 0
                while start < buffer.count {
                    guard let found = memchr(buffer.baseAddress! + start, 0x0A, buffer.count - start) else {
                        // A line not ended yet: read more, or, at the end, the last line.
                        if atEnd {
                            take(buffer, start, buffer.count, base: base)
                            start = buffer.count
                        }
                        break
                    }
                    let stop = buffer.baseAddress!.distance(to: UnsafeRawPointer(found))
                    take(buffer, start, stop, base: base)
                    start = stop + 1
                }
                return start
            }
            pending.removeSubrange(0..<consumed)
            pendingOffset += UInt64(consumed)
            if !reserved, !index.offsets.isEmpty, pendingOffset > 0 {
                // Room for the whole file at the first chunk's bytes per event, so that the
                // arrays do not double (and briefly triple) their way up.
                reserved = true
                let estimate = Int(clamping: file.size / max(1, pendingOffset / UInt64(index.offsets.count)))
                let capacity = estimate + estimate / 16 + 1_024
                index.offsets.reserveCapacity(capacity)
                index.lengths.reserveCapacity(capacity)
                index.groups.reserveCapacity(capacity)
                keys.reserveCapacity(capacity)
            }
            if atEnd && pending.isEmpty { break }
        }
        guard problems.isEmpty else { throw .invalid(InvalidInput(problems)) }
        // In place: a copy of the keys would be the first pass's largest allocation.
        try index.dropDuplicates(&keys, file: file)
        return index
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D
    }

    /// Marks repeated events dropped, or throws the ids given to two different events.
    private mutating func dropDuplicates(_ keys: inout [UInt64], file: InputFile) throws(NDJSONScanError) {
        keys.sort()
        var reader = WindowedReader(file: file, windowSize: 0)
        // (later ordinal, earlier ordinal, id)
        var conflicts: [(later: UInt32, earlier: UInt32, event: Event)] = []
        var start = 0
        while start < keys.count {
            var end = start + 1
            while end < keys.count, keys[end] >> 32 == keys[start] >> 32 { end += 1 }
            if end - start > 1 {
                // The first event of each distinct source and id in the run (a collision gives several).
                var firsts: [(ordinal: UInt32, event: Event)] = []
                for slot in start..<end {
                    let ordinal = UInt32(truncatingIfNeeded: keys[slot])
                    let event = try decodeAgain(ordinal, with: &reader)
                    if let earlier = firsts.first(where: { $0.event.id == event.id && $0.event.source == event.source }) {
                        groups[Int(ordinal)] = Self.dropped
                        if earlier.event != event { conflicts.append((ordinal, earlier.ordinal, event)) }
                    } else {
                        firsts.append((ordinal, event))
                    }
                }
            }
            start = end
        }
        eventCount = groups.count(where: { $0 != Self.dropped })
        guard conflicts.isEmpty else {
            conflicts.sort { $0.later < $1.later }
            let wanted = conflicts.flatMap { [offsets[Int($0.later)], offsets[Int($0.earlier)]] }
            let lines = try Self.lineNumbers(at: wanted, in: file)
            throw .invalid(InvalidInput(conflicts.map { conflict in
                InputProblem(file: fileName, line: lines[offsets[Int(conflict.later)]] ?? 0, message: ReadEvents.conflictMessage(
                    conflict.event, earlierPlace: "on line \(lines[offsets[Int(conflict.earlier)]] ?? 0)"))
            }))
        }
    }

    /// The event at `ordinal`, read and decoded again.
    private func decodeAgain(_ ordinal: UInt32, with reader: inout WindowedReader) throws(NDJSONScanError) -> Event {
        let offset = offsets[Int(ordinal)], length = Int(lengths[Int(ordinal)])
        let text: ArraySlice<UInt8>
        do {
            text = try reader.bytes(at: offset, count: length)
        } catch {
            throw .unreadable(error)
        }
        guard text.count == length, let event = try? text.withUnsafeBytes({ bytes throws(EventRejection) in try Event.decode(bytes) }) else {
            throw .changed(file: fileName, offset: offset)
        }
        return event
    }

    /// The 1-based line each offset is on (lines counted as the first pass counts them).
    static func lineNumbers(at offsets: [UInt64], in file: InputFile) throws(NDJSONScanError) -> [UInt64: Int] {
        let wanted = Set(offsets).sorted()
        var lines: [UInt64: Int] = [:]
        var next = 0
        var line = 1
        var chunk: [UInt8] = []
        var position: UInt64 = 0
        while next < wanted.count {
            chunk.removeAll(keepingCapacity: true)
            let got: Int
            do {
                got = try file.append(at: position, count: chunkSize, to: &chunk)
            } catch {
                throw .unreadable(error)
            }
            if got == 0 { break }
            for (index, byte) in chunk.enumerated() {
                while next < wanted.count, wanted[next] == position + UInt64(index) {
                    lines[wanted[next]] = line
                    next += 1
                }
                if byte == 0x0A { line += 1 }
            }
            position += UInt64(got)
        }
        return lines
    }

    /// The second pass: the events read again by position, group by group in the order each
    /// group first appears, into the same messages `MessagePlan.batched` makes of the in-memory
    /// events (with `batchSize` nil: one message an event in the file's order, as
    /// `MessagePlan.single`); pulled a chunk at a time.
    public func messages(in file: InputFile, batchSize: Int?, timestamp: UInt64,
                         exchange: String = MessagePlan.exchange, userID: String? = nil) -> NDJSONMessages {
        guard let batchSize else {
            // One message an event, in the file's order.
            let order = groups.indices.filter { groups[$0] != Self.dropped }.map { UInt32(truncatingIfNeeded: $0) }
            return NDJSONMessages(index: self, order: order, reader: WindowedReader(file: file), assembler: nil,
                                  timestamp: timestamp, exchange: exchange, userID: userID)
        }
        // Counting sort of the kept events by group: 4 bytes an event.
        var starts = [Int](repeating: 0, count: groupKeys.count + 1)
        for group in groups where group != Self.dropped { starts[Int(group) + 1] += 1 }
        for group in groupKeys.indices { starts[group + 1] += starts[group] }
        var order = [UInt32](repeating: 0, count: eventCount)
        var fill = starts
        for (ordinal, group) in groups.enumerated() where group != Self.dropped {
            order[fill[Int(group)]] = UInt32(truncatingIfNeeded: ordinal)
            fill[Int(group)] += 1
        }
        return NDJSONMessages(index: self, order: order, reader: WindowedReader(file: file),
                              assembler: BatchAssembler(batchSize: batchSize, timestamp: timestamp, exchange: exchange, userID: userID),
                              timestamp: timestamp, exchange: exchange, userID: userID)
    }
}

/// Why the first pass stopped: invalid input (exit 65), an unreadable file (66), or a file that
/// changed under the reader.
public enum NDJSONScanError: Error, Sendable, CustomStringConvertible {
    case invalid(InvalidInput)
    case unreadable(InputFileError)
    case changed(file: String, offset: UInt64)

    public var description: String {
        switch self {
        case .invalid(let input): input.description
        case .unreadable(let error): error.description
        case .changed(let file, let offset):
            "\(file) changed while it was being read: byte \(offset) no longer starts the event it started; publish it again when it is complete"
        }
    }
}

/// The second pass of ``NDJSONIndex``: messages made as they are pulled, so that only a chunk
/// of them is in memory at a time.
public struct NDJSONMessages {
    let index: NDJSONIndex
    let order: [UInt32]
    var reader: WindowedReader
    var assembler: BatchAssembler?
    let timestamp: UInt64
    let exchange: String
    let userID: String?
    var position = 0
    var currentGroup: UInt32?

    /// The events to publish.
    public var eventCount: Int { index.eventCount }

    /// The next messages: at most `maxMessages`, and no more once `maxBytes` of bodies are
    /// made; nil when every event is in a message. Throws when the file changed since the
    /// first pass (an event no longer where it was, or no longer valid).
    public mutating func next(maxMessages: Int, maxBytes: Int = 16 << 20) throws(NDJSONScanError) -> [PlannedMessage]? {
        var messages: [PlannedMessage] = []
        var bytes = 0
        func add(_ message: PlannedMessage) {
            bytes += message.message.body.count
            messages.append(message)
        }
        // Each turn makes at most one message.
        while messages.count < max(1, maxMessages), bytes < maxBytes {
            guard position < order.count else {
                if let last = assembler?.finish() { add(last) }
                break
            }
            let ordinal = Int(order[position])
            let group = index.groups[ordinal]
            if assembler != nil, let current = currentGroup, current != group {
                // A group's last batch: the next group's events start a batch of their own.
                currentGroup = group
                if let last = assembler?.finish() {
                    add(last)
                    continue
                }
            }
            currentGroup = group
            let key = index.groupKeys[Int(group)]
            let offset = index.offsets[ordinal], length = Int(index.lengths[ordinal])
            let text: ArraySlice<UInt8>
            do {
                text = try reader.bytes(at: offset, count: length)
            } catch {
                throw .unreadable(error)
            }
            guard text.count == length,
                  let event = try? text.withUnsafeBytes({ bytes throws(EventRejection) in try Event.decode(bytes) }),
                  event.type == key.type, event.source == key.source else {
                throw .changed(file: index.fileName, offset: offset)
            }
            position += 1
            if assembler != nil {
                if let full = assembler?.add(text, id: event.id, type: key.type, source: key.source) { add(full) }
            } else {
                add(MessagePlan.single(Array(text), id: event.id, type: key.type, source: key.source, timestamp: timestamp,
                                       exchange: exchange, userID: userID))
            }
        }
        return messages.isEmpty ? nil : messages
    }
}
