import Foundation
import Logging
import ServiceLifecycle

/// Keeps systemd's watchdog fed while the service makes progress, and its status line current.
///
/// Every ``WatchdogRequest/pingInterval`` it asks `sinceLastTurn` how long ago the service last
/// showed progress: under `stallLimit`, it sends `WATCHDOG=1`; over it, it sends none (so the
/// manager restarts a service stuck in one call after `WatchdogSec=`), logs that once, and says
/// so in `STATUS=`; while the service is not at work (`nil`), it sends none either. It sends
/// `STATUS=` lines from `status` whenever they change.
///
/// It runs until graceful shutdown or cancellation. Put it first in the `ServiceGroup`: the
/// group shuts services down in reverse order, so it keeps the watchdog fed while the others
/// finish their work.
public struct WatchdogService: Service {
    private let notifier: ServiceNotifier
    private let request: WatchdogRequest?
    private let stallLimit: Duration
    private let statusInterval: Duration
    private let sinceLastTurn: @Sendable () -> Duration?
    private let status: @Sendable () -> String
    private let logger: Logger

    /// - Parameters:
    ///   - request: the manager's watchdog, or `nil` for status lines only.
    ///   - stallFloor: the least time without progress that counts as stuck (see
    ///     ``WatchdogRequest/stallLimit(floor:)``).
    ///   - sinceLastTurn: how long ago the service last made progress; `nil` while it is not
    ///     doing its work (still starting, already stopping): no pings then, and the manager's
    ///     start and stop timeouts govern (its watchdog runs only once the service is ready).
    ///   - status: the status line now.
    public init(notifier: ServiceNotifier, request: WatchdogRequest?, stallFloor: Duration = .seconds(3),
                statusInterval: Duration = .seconds(2), logger: Logger,
                sinceLastTurn: @escaping @Sendable () -> Duration?, status: @escaping @Sendable () -> String) {
        self.notifier = notifier
        self.request = request
        self.stallLimit = request?.stallLimit(floor: stallFloor) ?? .seconds(Int64.max)
        self.statusInterval = statusInterval
        self.sinceLastTurn = sinceLastTurn
        self.status = status
        self.logger = logger
    }

    public func run() async throws {
        let interval = request.map { min($0.pingInterval, statusInterval) } ?? statusInterval
        await cancelWhenGracefulShutdown {
            var lastStatus = ""
            var stuck = false
            while !Task.isCancelled {
                let age = sinceLastTurn()
                var message: [String] = []
                if let age, age >= stallLimit {
                    if !stuck {
                        stuck = true
                        logger.error("no progress for \(Self.seconds(age)) s; no watchdog pings until there is", metadata: [
                            "stall_limit_s": "\(Self.seconds(stallLimit))",
                        ])
                    }
                } else {
                    if stuck {
                        logger.notice("progress again; watchdog pings resume")
                        stuck = false
                    }
                    if age != nil, request != nil { message.append("WATCHDOG=1") }
                }
                let line = stuck
                    ? "stuck: no progress for \(Int((age ?? .zero).components.seconds)) s (watchdog pings stopped)"
                    : ServiceNotifier.line(status())
                if line != lastStatus {
                    message.append("STATUS=\(line)")
                    lastStatus = line
                }
                if !message.isEmpty { notifier.send(message.joined(separator: "\n")) }
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// `2.5`: seconds with one decimal, for log lines.
    static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.1f", Double(seconds) + Double(attoseconds) / 1e18)
    }
}
