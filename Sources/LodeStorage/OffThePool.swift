import Dispatch

/// Runs `body`, a blocking call (a store read: every ``ZoneStore`` call blocks its thread on
/// database I/O), on a global dispatch queue and waits for it without holding a thread of Swift's
/// cooperative pool, which must never block.
public func offTheCooperativePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
