import CRabbitMQ
import Glibc

/// A bump allocator for the C structures handed to librabbitmq for the length of one call
/// (property strings, header tables). Memory is reused across calls and freed on `deinit`.
///
/// Confined to the thread that owns the connection: not Sendable.
final class CArena {
    private let chunkSize: Int
    private var chunks: [UnsafeMutableRawPointer] = []
    private var current: UnsafeMutableRawPointer?
    private var used = 0
    private var capacity = 0
    private var oversized: [UnsafeMutableRawPointer] = []

    init(chunkSize: Int = 64 * 1024) {
        self.chunkSize = chunkSize
    }

    deinit {
        for chunk in chunks { free(chunk) }
        for block in oversized { free(block) }
    }

    /// Forgets every allocation; the memory is reused by the next ones.
    func reset() {
        for block in oversized { free(block) }
        oversized.removeAll(keepingCapacity: true)
        if let first = chunks.first {
            for chunk in chunks.dropFirst() { free(chunk) }
            chunks.removeAll(keepingCapacity: true)
            chunks.append(first)
            current = first
            capacity = chunkSize
        }
        used = 0
    }

    func allocate(byteCount: Int, alignment: Int = 8) -> UnsafeMutableRawPointer {
        let size = max(byteCount, 1)
        if size > chunkSize / 4 {
            let block = malloc(size)!
            oversized.append(block)
            return block
        }
        var offset = (used + alignment - 1) & ~(alignment - 1)
        if current == nil || offset + size > capacity {
            let chunk = malloc(chunkSize)!
            chunks.append(chunk)
            current = chunk
            capacity = chunkSize
            offset = 0
        }
        used = offset + size
        return current! + offset
    }

    func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        allocate(byteCount: MemoryLayout<T>.stride * count, alignment: MemoryLayout<T>.alignment)
            .bindMemory(to: T.self, capacity: count)
    }

    /// The bytes of `string`, copied into the arena, as librabbitmq's `amqp_bytes_t`.
    func bytes(_ string: String) -> amqp_bytes_t {
        var string = string
        return string.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    func bytes(_ source: UnsafeRawBufferPointer) -> amqp_bytes_t {
        guard source.count > 0 else { return lode_empty_bytes() }
        let target = allocate(byteCount: source.count, alignment: 1)
        target.copyMemory(from: source.baseAddress!, byteCount: source.count)
        return amqp_bytes_t(len: source.count, bytes: target)
    }

    func bytes(_ source: [UInt8]) -> amqp_bytes_t {
        source.withUnsafeBytes { bytes($0) }
    }

    /// A NUL-terminated copy of `string`.
    func cString(_ string: String) -> UnsafePointer<CChar> {
        let utf8 = Array(string.utf8)
        let target = allocate(CChar.self, count: utf8.count + 1)
        for (index, byte) in utf8.enumerated() { target[index] = CChar(bitPattern: byte) }
        target[utf8.count] = 0
        return UnsafePointer(target)
    }
}
