import Dispatch
import Foundation
import LodeEvents
import Synchronization

/// A logged event as a rebuild reads it: its `seq` (to name it if it no longer decodes) and its
/// bytes.
struct LoggedBody: Sendable {
    let seq: Int64
    let body: Data
}

/// Decodes a rebuild's logged events a chunk at a time on a thread of its own, so that the
/// rebuild's thread reads the next chunk and projects the last one meanwhile: decoding and
/// validating is about as costly as projecting, and the two no longer add up.
final class LoggedEventDecoder: Sendable {
    /// Events read per chunk: a few hundred KiB of bodies.
    static let chunkSize = 2_000

    private let queue = DispatchQueue(label: "lodestone.rebuild.decode")
    private let finished = DispatchSemaphore(value: 0)
    private let decoded = Mutex<[Result<Event, EventRejection>]>([])

    /// Starts decoding `chunk`; one chunk at a time: ``take()`` before the next `start`.
    func start(_ chunk: [LoggedBody]) {
        queue.async { [self] in
            let events = chunk.map { logged in
                logged.body.withUnsafeBytes { bytes -> Result<Event, EventRejection> in
                    do throws(EventRejection) {
                        return .success(try Event.decode(bytes))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            decoded.withLock { $0 = events }
            finished.signal()
        }
    }

    /// The started chunk's events, in its order, once decoded.
    func take() -> [Result<Event, EventRejection>] {
        finished.wait()
        return decoded.withLock { events in
            defer { events = [] }
            return events
        }
    }
}
