#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What ``InputFile/append(at:count:to:)`` grows a buffer with before reading into it.
private let zeroBlock = [UInt8](repeating: 0, count: 1 << 16)

/// Why an input file cannot be opened or read: the file as the user named it and the system's
/// reason (`strerror`).
public struct InputFileError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var reason: String

    public var description: String { "cannot read input file \(file): \(reason)" }

    init(file: String, errno code: Int32) {
        self.file = file
        reason = String(cString: strerror(code))
    }
}

/// An input read by position (`pread`), so a reader can go through it twice without holding
/// it: a regular file as named, or standard input spooled first to an unlinked temporary file
/// in `$TMPDIR` (gone when the process ends, whatever way it ends).
///
/// Not `Sendable`: one task reads it (the descriptor is closed when the value goes away).
public final class InputFile {
    /// The name used in problems: the path, or `<stdin>`.
    public let fileName: String
    /// The size when opened (spooled), in bytes.
    public let size: UInt64
    private let descriptor: Int32

    /// Opens a regular file.
    public init(path: String, fileName: String? = nil) throws(InputFileError) {
        let name = fileName ?? path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw InputFileError(file: name, errno: errno) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            let code = errno
            close(fd)
            throw InputFileError(file: name, errno: code)
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw InputFileError(file: name, errno: EISDIR)
        }
        descriptor = fd
        self.fileName = name
        size = UInt64(max(0, status.st_size))
    }

    /// Opens `path`: a regular file as it is; anything that cannot be read by position (a
    /// pipe such as `<(command)`, a FIFO, a character device) spooled as standard input is.
    public static func opening(_ path: String) throws(InputFileError) -> InputFile {
        let file = try InputFile(path: path)
        var status = stat()
        guard fstat(file.descriptor, &status) == 0, (status.st_mode & S_IFMT) != S_IFREG else { return file }
        return try spooling(from: file.descriptor, fileName: path)
    }

    private init(descriptor: Int32, fileName: String, size: UInt64) {
        self.descriptor = descriptor
        self.fileName = fileName
        self.size = size
    }

    /// Copies everything readable from `source` (standard input by default) to a temporary
    /// file in `$TMPDIR` (or /tmp), unlinked at once, and opens that.
    public static func spooling(from source: Int32 = 0, fileName: String = "<stdin>") throws(InputFileError) -> InputFile {
        let directory = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(directory)/lode-publish-stdin-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw InputFileError(file: fileName, errno: errno) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var total: UInt64 = 0
        while true {
            let got = chunk.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                throw InputFileError(file: fileName, errno: code)
            }
            if got == 0 { break }
            var written = 0
            while written < got {
                let count = chunk.withUnsafeBytes { write(fd, $0.baseAddress! + written, got - written) }
                if count < 0 {
                    if errno == EINTR { continue }
                    let code = errno
                    close(fd)
                    throw InputFileError(file: fileName, errno: code)
                }
                written += count
            }
            total += UInt64(got)
        }
        return InputFile(descriptor: fd, fileName: fileName, size: total)
    }

    deinit { close(descriptor) }

    /// Appends up to `count` bytes read at `offset` to `buffer`; returns how many (0 at the end).
    @discardableResult
    public func append(at offset: UInt64, count: Int, to buffer: inout [UInt8]) throws(InputFileError) -> Int {
        guard count > 0 else { return 0 }
        let before = buffer.count
        // Grown in place from a block of zeros, as an append grows (doubling): `repeatElement(0,
        // count:)` was a generic loop per byte in a debug build (200 ms a MiB, most of a test's
        // publish), and reading into a separate array first costs a second window of memory.
        var grown = 0
        while grown < count {
            let step = min(count - grown, zeroBlock.count)
            buffer.append(contentsOf: zeroBlock[..<step])
            grown += step
        }
        var filled = 0
        while filled < count {
            let got = buffer.withUnsafeMutableBytes { bytes in
                pread(descriptor, bytes.baseAddress! + before + filled, count - filled, off_t(offset) + off_t(filled))
            }
            if got < 0 {
                if errno == EINTR { continue }
                let code = errno
                buffer.removeSubrange(before...)
                throw InputFileError(file: fileName, errno: code)
            }
            if got == 0 { break }
            filled += got
        }
        buffer.removeSubrange((before + filled)...)
        return filled
    }

    /// The whole file (for the readers that need all of it: CSV, workbooks).
    public func readAll() throws(InputFileError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(clamping: size))
        var offset: UInt64 = 0
        while true {
            let got = try append(at: offset, count: 1 << 20, to: &bytes)
            if got == 0 { return bytes }
            offset += UInt64(got)
        }
    }
}

/// Reads ranges of an `InputFile` through a window of `windowSize` bytes, so events read in
/// file order cost one `pread` per window rather than one each.
struct WindowedReader {
    let file: InputFile
    let windowSize: Int
    private var window: [UInt8] = []
    private var windowOffset: UInt64 = 0

    init(file: InputFile, windowSize: Int = 1 << 20) {
        self.file = file
        self.windowSize = windowSize
    }

    /// The `count` bytes at `offset`; fewer when the file ended sooner (it changed).
    mutating func bytes(at offset: UInt64, count: Int) throws(InputFileError) -> ArraySlice<UInt8> {
        let end = offset + UInt64(count)
        if offset < windowOffset || end > windowOffset + UInt64(window.count) {
            window.removeAll(keepingCapacity: true)
            windowOffset = offset
            try file.append(at: offset, count: max(count, windowSize), to: &window)
        }
        let start = Int(offset - windowOffset)
        return window[start..<min(window.count, start + count)]
    }
}
