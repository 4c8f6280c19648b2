import LodeAMQP
import Logging
import Synchronization

/// How a worker shares `lode.work`, claimed on the broker before it consumes (contract section
/// 7: "a second worker that would split the figures across stores is refused").
///
/// A worker whose store is a SQLite file keeps the figures in that file alone: a second
/// consumer of `lode.work` would take half the events into another store, and each report
/// would be half the truth. So:
///
/// - A **sole** worker (SQLite) declares the exclusive queue ``soleQueue`` on a connection of
///   its own (the broker lets one connection hold it; another gets `RESOURCE_LOCKED`: two
///   SQLite workers never both pass), consumes ``soleRegistry`` (which receives nothing: its
///   consumer count says a SQLite worker is there), then checks that `lode.work` has no
///   consumer and ``sharedQueue`` no consumer either.
/// - A **shared** worker (PostgreSQL, where any number of workers keep one truth) consumes
///   ``sharedQueue`` (its consumer count is the number of shared workers), then checks that
///   ``soleRegistry`` has no consumer.
///
/// Each side registers before it looks for the other, so two workers starting at the same
/// time cannot both miss each other: at least one sees the other and refuses (both may
/// refuse, which is safe: nothing was consumed). While the worker runs, ``hold()`` looks
/// again every few seconds and re-registers after a reconnect; a claim lost to another
/// worker ends it.
public final class WorkQueueClaim: Sendable {
    public enum Kind: Sendable, Hashable {
        /// The only consumer of `lode.work` (a SQLite store).
        case sole
        /// One of any number of consumers, all on one shared store (PostgreSQL).
        case shared
    }

    /// Held (exclusively) by the one SQLite worker of a broker's `lode.work`.
    public static let soleQueue = "lode.work.sole-worker"
    /// Consumed by the SQLite worker, so that others can count it (an exclusive queue cannot be
    /// looked at from another connection).
    public static let soleRegistry = "lode.work.sole-workers"
    /// Consumed by every worker on a shared store.
    public static let sharedQueue = "lode.work.shared-workers"

    public let kind: Kind
    private let settings: ConnectionSettings
    /// Looks at the queues (passive declares) without registering anything.
    private let observer: Publisher
    /// This worker's registration while it holds one: for a sole worker the connection holding
    /// ``soleQueue`` too.
    private let registration = Mutex<(holder: Publisher?, consumer: Consumer)?>(nil)
    /// Conflicts seen by ``hold()`` in a row.
    private let conflictsInARow = Mutex(0)
    private let logger: Logger
    /// How often ``hold()`` looks again.
    public let interval: Duration

    public init(kind: Kind, settings: ConnectionSettings, interval: Duration = .seconds(5),
                logger: Logger = Logger(label: "lode.worker.claim")) {
        self.kind = kind
        self.interval = interval
        self.logger = logger
        var settings = settings
        settings.connectionName = (settings.connectionName ?? "lode-worker") + " (claim on lode.work)"
        self.settings = settings
        var options = PublisherOptions()
        options.reconnectTimeout = .seconds(10)
        observer = Publisher(settings: settings, options: options, logger: logger)
    }

    /// Registers this worker and looks for a conflicting one. Throws ``WorkQueueClaimError``:
    /// ``WorkQueueClaimError/Kind/refused`` with the reason and what to do instead, or
    /// ``WorkQueueClaimError/Kind/unavailable`` when the broker cannot be reached.
    ///
    /// A worker that has just died (killed, or its host gone) holds its claim and its
    /// subscription until the broker notices the connection is gone: a conflict is looked at
    /// again for up to `patience` before it is a refusal, so a worker restarted at once by its
    /// service manager starts. While it waits, this worker looks without registering, so that
    /// a running worker never counts it.
    public func acquire(patience: Duration = .seconds(10)) async throws(WorkQueueClaimError) {
        let deadline = ContinuousClock.now + patience
        while true {
            do throws(WorkQueueClaimError) {
                // A look first, unregistered: a worker that would be refused stays out of the counts.
                try await checkOthers(registered: false, consuming: false)
                try await register()
                do throws(WorkQueueClaimError) {
                    try await checkOthers(registered: true, consuming: false)
                } catch {
                    await unregister()
                    throw error
                }
                return
            } catch where error.kind == .refused && ContinuousClock.now < deadline {
                logger.info("lode.work is claimed by another worker; looking again", metadata: ["reason": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Looks again every ``interval`` until the task is cancelled; throws when another kind of
    /// worker consumes `lode.work` at two looks in a row (a worker being refused registers for
    /// a moment only), which can happen only if one started while this one was cut off from
    /// the broker.
    ///
    /// These looks count the registrations only, not `lode.work`'s own consumers: in a cluster,
    /// a quorum queue keeps the consumers of a node that went away (crashed, or cut off) as
    /// "suspected down" until that node is back, so after a failover `lode.work` counts this
    /// worker's old subscription beside its new one for as long as the node is gone. The
    /// registries are transient classic queues, deleted with their node, so they never count a
    /// consumer that is gone; every worker registers in one.
    public func hold() async throws(WorkQueueClaimError) {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            do throws(WorkQueueClaimError) {
                try await checkOthers(registered: true, consuming: nil)
                conflictsInARow.withLock { $0 = 0 }
            } catch where error.kind == .unavailable {
                // The broker is away: the worker's own consumer waits for it too; look again later.
                logger.debug("claim check deferred", metadata: ["error": "\(error)"])
            } catch {
                let seen = conflictsInARow.withLock { count in
                    count += 1
                    return count
                }
                if seen >= 2 { throw error }
                logger.warning("another kind of worker seems to consume lode.work; looking again", metadata: ["reason": "\(error)"])
            }
        }
    }

    /// Gives the claim back.
    public func release() async {
        await unregister()
        await observer.close()
    }

    private func register() async throws(WorkQueueClaimError) {
        var options = PublisherOptions()
        options.reconnectTimeout = .seconds(10)
        var holder: Publisher?
        if kind == .sole {
            // Re-declared on every reconnect: a claim lost while disconnected is seen then.
            let claim = Publisher(settings: settings, topology: Topology(queues: [
                QueueSpec(name: Self.soleQueue, durable: false, exclusive: true, autoDelete: true),
            ]), options: options, logger: logger)
            do {
                try await claim.connect()
            } catch {
                await claim.close()
                if error.replyCode == 405 || error.replyCode == 403 { throw WorkQueueClaimError(.refused, Self.soleTaken) }
                throw WorkQueueClaimError(.unavailable, "cannot claim lode.work on the broker: \(error)")
            }
            holder = claim
        }
        var consumerOptions = ConsumerOptions()
        consumerOptions.prefetch = 1
        let registry = kind == .sole ? Self.soleRegistry : Self.sharedQueue
        // Re-subscribed by the consumer after every reconnect.
        let consumer = Consumer(settings: settings, queue: registry, topology: Topology(queues: [
            QueueSpec(name: registry, durable: false, exclusive: false, autoDelete: true),
        ]), options: consumerOptions, logger: logger)
        do {
            try await consumer.start()
        } catch {
            await consumer.close()
            await holder?.close()
            throw WorkQueueClaimError(.unavailable, "cannot register on the broker: \(error)")
        }
        registration.withLock { $0 = (holder, consumer) }
    }

    private func unregister() async {
        let held = registration.withLock { held in
            defer { held = nil }
            return held
        }
        await held?.consumer.close()
        await held?.holder?.close()
    }

    /// Throws ``WorkQueueClaimError/Kind/refused`` when a worker of the other kind (or, for a
    /// sole worker, any other consumer of `lode.work`) is there; this worker's own registration
    /// and subscription are not counted. `consuming`: whether this worker consumes `lode.work`
    /// already, or nil not to count `lode.work`'s consumers at all (see ``hold()``).
    private func checkOthers(registered: Bool, consuming: Bool?) async throws(WorkQueueClaimError) {
        let ownRegistration = registered ? 1 : 0, ownConsumers = consuming == true ? 1 : 0
        let work: QueueState?, sole: QueueState?, shared: QueueState?
        do {
            work = consuming == nil ? nil : try await observer.inspectQueue(ZoneTopology.workQueue)
            sole = try await observer.inspectQueue(Self.soleRegistry)
            shared = try await observer.inspectQueue(Self.sharedQueue)
        } catch {
            throw WorkQueueClaimError(.unavailable, "cannot look at lode.work: \(error)")
        }
        switch kind {
        case .sole:
            if let sole, sole.consumerCount > ownRegistration { throw WorkQueueClaimError(.refused, Self.soleTaken) }
            if let shared, shared.consumerCount > 0 {
                throw WorkQueueClaimError(.refused, """
                    \(shared.consumerCount) worker(s) on a PostgreSQL store consume lode.work; this worker's store is a SQLite \
                    file, and its figures would be only part of the truth. Give this worker the same postgres:// --db as the \
                    others, or stop them
                    """)
            }
            if let work, work.consumerCount > ownConsumers {
                throw WorkQueueClaimError(.refused, """
                    lode.work already has \(work.consumerCount - ownConsumers) other consumer(s); a worker whose store is a SQLite \
                    file must be the only one (each would keep part of the events in its own file). To run several workers, \
                    give them all one PostgreSQL database (--db postgres://USER@HOST:PORT/DBNAME; see docs/scaling.md)
                    """)
            }
        case .shared:
            if let sole, sole.consumerCount > 0 {
                throw WorkQueueClaimError(.refused, """
                    a worker whose store is a SQLite file consumes lode.work and must be its only consumer; stop it and run \
                    every worker on this PostgreSQL database (docs/scaling.md says how to move the figures)
                    """)
            }
        }
    }

    private static let soleTaken = """
        another worker whose store is a SQLite file already consumes lode.work; two would split the events between \
        two files and each report would be part of the truth. Run one worker per SQLite file, or several workers on \
        one PostgreSQL database (--db postgres://USER@HOST:PORT/DBNAME; see docs/scaling.md)
        """
}

/// Why a worker may not consume `lode.work`.
public struct WorkQueueClaimError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Another worker would split the figures: this one must not start.
        case refused
        /// The broker could not be asked.
        case unavailable
    }

    public let kind: Kind
    public let message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
