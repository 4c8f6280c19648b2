import Foundation
import Glibc

/// A datagram socket bound where a service manager (systemd) would listen for a service's
/// notifications (`$NOTIFY_SOCKET`): what the service sends, message by message.
public final class NotifySocketListener: Sendable {
    /// As `$NOTIFY_SOCKET` names it: a path, or `@name` for an abstract socket.
    public let name: String
    private let fd: Int32

    /// `abstract`: an abstract socket (`@name`), else a path in the temporary directory.
    public init(abstract: Bool = false) throws {
        let unique = "lode-notify-\(UUID().uuidString.prefix(8))"
        name = abstract ? "@\(unique)" : NSTemporaryDirectory() + unique + ".sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard fd >= 0, bound == 0 else { throw POSIXError(.EADDRINUSE) }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(fd)
        if !name.hasPrefix("@") { unlink(name) }
    }

    /// What arrives until `enough` holds of it or `window` passes, read on a thread of its own
    /// (off the cooperative pool that the service runs on).
    public func collect(for window: Duration, until enough: @escaping @Sendable ([String]) -> Bool = { _ in false }) async -> [String] {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: self.receive(for: window, until: enough)) }.start()
        }
    }

    /// The messages that arrived within `window` (or until `enough` holds of them), each as sent.
    public func receive(for window: Duration, until enough: ([String]) -> Bool = { _ in false }) -> [String] {
        let deadline = ContinuousClock.now + window
        var messages: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline, !enough(messages) {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 { messages.append(String(decoding: buffer[0..<count], as: UTF8.self)) }
        }
        return messages
    }
}

