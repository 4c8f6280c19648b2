import Foundation
import LodeStorage
import Logging
import Metrics
import PostgresNIO
import Synchronization

/// One PostgreSQL connection with one user at a time, used synchronously: each call blocks its
/// thread on postgres-nio's futures (which complete on NIO's event loop threads, never on Swift's
/// cooperative pool). postgres-nio runs one query at a time per connection, so a store keeps a
/// session for its batches and another for everything else.
///
/// A connection that fails (closed, reset, refused) is dropped; the next call connects again.
/// Every error is a ``StorageError`` whose message names the URL without its password.
final class PostgresSession: Sendable {
    let location: PostgresLocation
    private let password: String?
    let logger: Logger
    private let name: String
    private let connection = Mutex<PostgresConnection?>(nil)
    /// Transactions tried again after a serialization failure or a deadlock.
    let retries: CountingCounter

    init(location: PostgresLocation, password: String?, name: String, retries: CountingCounter, logger: Logger) {
        self.location = location
        self.password = password
        self.name = name
        self.retries = retries
        self.logger = logger
    }

    /// Runs `body` with this session's connection, connecting first when there is none; the
    /// connection is this call's alone until `body` returns.
    @discardableResult
    func withConnection<T: Sendable>(_ doing: String, _ body: (Transaction) throws -> T) throws(StorageError) -> T {
        let result: Result<T, StorageError> = connection.withLock { held in
            do {
                let current: PostgresConnection
                if let held_ = held, !held_.isClosed {
                    current = held_
                } else {
                    held = nil
                    current = try connect(doing)
                    held = current
                }
                do {
                    return .success(try body(Transaction(connection: current, session: self, doing: doing)))
                } catch {
                    let lifted = lift(error, doing: doing)
                    if lifted.connectionLost || current.isClosed {
                        try? current.close().wait()
                        held = nil
                    }
                    return .failure(lifted.error)
                }
            } catch {
                return .failure(lift(error, doing: doing).error)
            }
        }
        return try result.get()
    }

    /// Runs `body` in one transaction (`READ COMMITTED`, the default), committing when it
    /// returns and rolling back when it throws. A serialization failure or a deadlock rolls
    /// back and runs `body` again, up to `attempts` times, counted in ``retries``; after that
    /// it is ``StorageError/Kind/unavailable``.
    @discardableResult
    func transaction<T: Sendable>(_ doing: String, attempts: Int = 8, _ body: (Transaction) throws -> T) throws(StorageError) -> T {
        var attempt = 1
        while true {
            do throws(StorageError) {
                return try withConnection(doing) { transaction in
                    try transaction.execute("BEGIN")
                    do {
                        let result = try body(transaction)
                        try transaction.execute("COMMIT")
                        return result
                    } catch {
                        if !transaction.connection.isClosed { _ = try? transaction.connection.query("ROLLBACK", logger: logger).wait() }
                        throw error
                    }
                }
            } catch where error.sqlState == "40001" || error.sqlState == "40P01" {
                retries.increment()
                guard attempt < attempts else {
                    throw StorageError(
                        kind: .unavailable,
                        message: "\(error.message); still failing after \(attempts) attempts, the worker retries the batch",
                        path: location.redacted, sqlState: error.sqlState)
                }
                logger.debug("transaction retried", metadata: ["doing": "\(doing)", "sqlstate": "\(error.sqlState ?? "")"])
                // A short, growing, jittered wait, so two transactions that deadlocked do not meet again.
                Thread.sleep(forTimeInterval: Double.random(in: 0.001...0.005) * Double(attempt))
                attempt += 1
            }
        }
    }

    deinit {
        // A store that failed half-way through opening (or was dropped unclosed) closes its
        // connection too; without waiting, in case the last reference goes on an event loop.
        connection.withLock { held in
            if let held {
                let closing: EventLoopFuture<Void> = held.close()
                // Kept until closed: postgres-nio asserts that a connection is closed before it goes.
                closing.whenComplete { _ in withExtendedLifetime(held) {} }
            }
            held = nil
        }
    }

    /// Closes the connection; a later call opens another.
    func close() {
        connection.withLock { held in
            if let held { try? held.close().wait() }
            held = nil
        }
    }

    private func connect(_ doing: String) throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: password,
            database: location.database, tls: try tls())
        configuration.options.connectTimeout = .seconds(Int64(location.connectTimeoutSeconds))
        configuration.options.additionalStartupParameters = [("application_name", name)]
        let eventLoop = PostgresConnection.defaultEventLoopGroup.any()
        let connection = try PostgresConnection.connect(on: eventLoop, configuration: configuration, id: 1, logger: logger).wait()
        do {
            // The ack relies on the commit: a commit returns after its WAL is flushed.
            _ = try connection.query("SET synchronous_commit TO on", logger: logger).wait()
        } catch {
            try? connection.close().wait()
            throw error
        }
        return connection
    }

    private func tls() throws -> PostgresConnection.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch location.tls {
        case .disable: return .disable
        case .prefer, .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        if let file = location.rootCertificateFile { tls.trustRoots = .file(file) }
        let context = try NIOSSLContext(configuration: tls)
        return location.tls == .prefer ? .prefer(context) : .require(context)
    }

    /// Classifies an error of postgres-nio or NIO by what the worker should do.
    func lift(_ error: any Error, doing: String) -> (error: StorageError, connectionLost: Bool) {
        if let error = error as? StorageError { return (error, false) }
        let path = location.redacted
        guard let error = error as? PSQLError else {
            // NIO's connect errors (refused, timed out, no route, DNS): the server is not there now.
            return (StorageError(kind: .unavailable, message: "\(doing): cannot reach PostgreSQL at \(location.host):\(location.port): \(Self.describe(error)); retrying", path: path), true)
        }
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            let message = error.serverInfo?[.message] ?? "error"
            let detail = error.serverInfo?[.detail].map { " (\($0))" } ?? ""
            let (kind, advice) = Self.classify(sqlState: state)
            let lost = state.hasPrefix("08") || state.hasPrefix("57P")
            return (StorageError(kind: kind, message: "\(doing): PostgreSQL error \(state): \(message)\(detail)\(advice.isEmpty ? "" : " (\(advice))")",
                                 path: path, sqlState: state), lost)
        case .sslUnsupported:
            return (StorageError(kind: .configuration, message: "\(doing): the server does not offer TLS, which sslmode=\(location.tls.rawValue) requires; give sslmode=prefer or disable, or turn TLS on in the server", path: path), true)
        case .authMechanismRequiresPassword:
            return (StorageError(kind: .configuration, message: "\(doing): the server asks for a password: give it in LODE_DB_PASSWORD, --db-password-file or the config file's db.password_file", path: path), true)
        case .unsupportedAuthMechanism, .saslError:
            return (StorageError(kind: .configuration, message: "\(doing): authentication failed (\(error.code))", path: path), true)
        default:
            let underlying = error.underlying.map { ": \(Self.describe($0))" } ?? ""
            return (StorageError(kind: .unavailable, message: "\(doing): the connection to PostgreSQL at \(location.host):\(location.port) failed (\(error.code)\(underlying)); retrying", path: path), true)
        }
    }

    /// What a SQLSTATE means for the worker (PostgreSQL's appendix A, by class).
    static func classify(sqlState state: String) -> (StorageError.Kind, String) {
        switch state {
        case "40001", "40P01": return (.unavailable, "a concurrent transaction; retried")
        case "28000", "28P01": return (.configuration, "the user or password is wrong; check --db and LODE_DB_PASSWORD")
        case "3D000": return (.configuration, "the database does not exist; create it (createdb) or fix --db")
        case "42501": return (.configuration, "the user lacks a privilege on the database")
        case "53100": return (.unavailable, "the server's disk is full; free space, then it is retried")
        case "XX001", "XX002": return (.damaged, "the server reports damaged data; an operator restores it")
        default: break
        }
        switch state.prefix(2) {
        case "08", "53", "57", "58", "55", "25": return (.unavailable, "retrying")
        case "22", "23": return (.invalidData, "nothing of the batch was written")
        default: return (.internal, "this is a bug in Lodestone's PostgreSQL store")
        }
    }

    /// An error's text without anything that could be a secret (NIO's errors name addresses only).
    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOSSLError { return "TLS: \(error)" }
        return String(describing: error)
    }
}

/// One connection, in a transaction or not, for the duration of a ``PostgresSession`` call.
struct Transaction {
    let connection: PostgresConnection
    let session: PostgresSession
    let doing: String

    var logger: Logger { session.logger }

    /// Runs `query` and returns its rows.
    @discardableResult
    func query(_ query: PostgresQuery) throws -> [PostgresRow] {
        Array(try connection.query(query, logger: session.logger).wait().rows)
    }

    /// Runs SQL with no parameters.
    func execute(_ sql: String) throws {
        _ = try connection.query(PostgresQuery(unsafeSQL: sql), logger: session.logger).wait()
    }
}
