import Foundation
import Glibc

/// Tells the service manager how the service is doing, through systemd's notify protocol: one
/// datagram per message to the `AF_UNIX` socket named in `$NOTIFY_SOCKET` (a path, or an
/// abstract name written with a leading `@`), each message newline-separated `KEY=value` lines:
/// `READY=1`, `STATUS=...`, `WATCHDOG=1`, `STOPPING=1`. No libsystemd: the protocol is a
/// datagram, and systemd documents it as stable.
///
/// A notifier exists only when the service manager asked for notifications (`Type=notify` sets
/// `NOTIFY_SOCKET`); sending never blocks and never fails the service.
public final class ServiceNotifier: Sendable {
    /// Where the datagrams go, as `$NOTIFY_SOCKET` names it.
    public let socketName: String
    private let fd: Int32
    private let address: sockaddr_un
    private let addressLength: socklen_t

    /// The notifier `$NOTIFY_SOCKET` asks for, or `nil` when it is unset or names no usable
    /// socket (too long, not a path or an abstract name).
    public convenience init?(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let name = environment["NOTIFY_SOCKET"], !name.isEmpty else { return nil }
        self.init(socketName: name)
    }

    /// A notifier for the socket `socketName` (a path, or `@name` for an abstract socket).
    public init?(socketName: String) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(socketName.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        guard abstract || bytes.first == UInt8(ascii: "/") else { return nil }
        if abstract { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // A path needs room for its terminating zero; an abstract name is counted by the length.
        guard bytes.count < capacity || (abstract && bytes.count <= capacity) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            path.copyBytes(from: bytes)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        self.socketName = socketName
        self.fd = fd
        self.address = address
        self.addressLength = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
    }

    deinit {
        close(fd)
    }

    /// Sends one message (`READY=1`, or several lines at once); false when it could not be sent
    /// (the manager went away, the socket is full): the service goes on either way.
    @discardableResult
    public func send(_ message: String) -> Bool {
        var address = address
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bytes.withUnsafeBytes { buffer in
                    sendto(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT), socketAddress, addressLength)
                }
            }
        }
        return sent == bytes.count
    }

    /// `READY=1`: start-up is finished (for the worker: it consumes), with a status line.
    @discardableResult
    public func ready(status: String) -> Bool { send("READY=1\nSTATUS=\(Self.line(status))") }

    /// `STOPPING=1`: shutdown has begun, with a status line.
    @discardableResult
    public func stopping(status: String) -> Bool { send("STOPPING=1\nSTATUS=\(Self.line(status))") }

    /// `STATUS=...`: one line the manager shows (`systemctl status`).
    @discardableResult
    public func status(_ status: String) -> Bool { send("STATUS=\(Self.line(status))") }

    /// `WATCHDOG=1`: the service is alive; without one within `WatchdogSec=` the manager restarts it.
    @discardableResult
    public func watchdog() -> Bool { send("WATCHDOG=1") }

    /// A status on one line: a newline would start another `KEY=value`.
    static func line(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}

/// What `WatchdogSec=` asks of the service: `$WATCHDOG_USEC`, for this process (`$WATCHDOG_PID`,
/// when set, must be ours).
public struct WatchdogRequest: Sendable, Equatable {
    /// The manager's timeout: a service that sends no `WATCHDOG=1` for this long is restarted.
    public var timeout: Duration

    /// The request in `environment`, or `nil` when the manager asked for no watchdog (or asked
    /// another process).
    public init?(environment: [String: String] = ProcessInfo.processInfo.environment,
                 processID: Int32 = getpid()) {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = UInt64(text), microseconds > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], !pid.isEmpty, Int32(pid) != processID { return nil }
        timeout = .microseconds(Int64(clamping: microseconds))
    }

    public init(timeout: Duration) {
        self.timeout = timeout
    }

    /// How often to ping: a quarter of the timeout (systemd advises at most half), at least every 50 ms.
    public var pingInterval: Duration { max(timeout / 4, .milliseconds(50)) }

    /// How long the service may go without showing progress before pings stop: half the timeout,
    /// but never under `floor` (what one normal step may take), so a slow step is not a hang.
    public func stallLimit(floor: Duration) -> Duration { max(timeout / 2, floor) }
}
