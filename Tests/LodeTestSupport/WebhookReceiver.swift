import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A real HTTP server on loopback that records every request it gets and answers as the test
/// says: the far end of a webhook or a group-chat robot.
public final class WebhookReceiver: Sendable {
    public struct Request: Sendable {
        public var path: String
        public var query: String
        public var headers: [String: String]
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// What to answer: a status and body, after an optional delay (a hanging receiver).
    public struct Answer: Sendable {
        public var status = 200
        public var body = #"{"errcode":0,"errmsg":"ok"}"#
        public var delay: Duration = .zero

        public init(status: Int = 200, body: String = #"{"errcode":0,"errmsg":"ok"}"#, delay: Duration = .zero) {
            self.status = status
            self.body = body
            self.delay = delay
        }
    }

    private let recorded = Mutex<[Request]>([])
    private let boundPort = Mutex<Int?>(nil)
    private let answer: @Sendable (Request) -> Answer
    private let task = Mutex<Task<Void, Never>?>(nil)

    public var requests: [Request] { recorded.withLock { $0 } }
    public var port: Int? { boundPort.withLock { $0 } }

    public init(answer: @escaping @Sendable (Request) -> Answer = { _ in Answer() }) {
        self.answer = answer
    }

    /// Starts listening on `port` (0: any free one) and returns the port once it listens.
    @discardableResult
    public func start(port: Int = 0) async throws -> Int {
        let router = Router()
        router.post("**") { request, _ -> Response in
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let buffer = try await request.body.collect(upTo: 1 << 20)
            let seen = Request(path: request.uri.path, query: request.uri.query ?? "", headers: headers,
                               body: Array(buffer.readableBytesView))
            let reply = self.answer(seen)
            if reply.delay > .zero { try await Task.sleep(for: reply.delay) }
            self.recorded.withLock { $0.append(seen) }
            return Response(status: HTTPResponse.Status(code: reply.status), headers: [.contentType: "application/json"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: reply.body)))
        }
        var quiet = Logger(label: "receiver")
        quiet.logLevel = .critical
        let application = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in self.boundPort.withLock { $0 = channel.localAddress?.port } }, logger: quiet)
        task.withLock { $0 = Task { try? await application.run() } }
        // Generous: under a loaded machine (tests in parallel, other builds) start-up can take seconds.
        let deadline = ContinuousClock.now + .seconds(60)
        while self.port == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        guard let bound = self.port else { throw ReceiverDidNotStart() }
        return bound
    }

    public func stop() async {
        let running = task.withLock { $0 }
        running?.cancel()
        await running?.value
    }

    public struct ReceiverDidNotStart: Error {}
}

/// Waits until `condition` holds, polling; false on timeout. The default is generous: it returns
/// as soon as the condition holds, and on CI's two loaded cores, with other suites running in
/// parallel on the same two cooperative threads, 30 s was once not enough for three retries.
public func eventually(timeout: Duration = .seconds(120), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// A TCP port on loopback where nothing listens (bound, then released).
public func unusedPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}
