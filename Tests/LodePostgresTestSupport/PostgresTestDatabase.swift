import Foundation
import LodeEvents
import LodeNotifications
import LodePostgres
import LodeStorage
import Logging
import PostgresNIO

/// A database of its own for one test, in the server `scripts/postgres` started (scripts/test
/// exports `LODE_TEST_POSTGRES_URL` and `LODE_TEST_POSTGRES_PASSWORD`); dropped by ``drop()``.
public final class PostgresTestDatabase: Sendable {
    public let location: PostgresLocation
    public let password: String
    private let server: PostgresLocation

    /// The server's URL and password, or a failure that says how to start the server.
    public static func server() throws -> (PostgresLocation, String) {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["LODE_TEST_POSTGRES_URL"], !url.isEmpty else {
            throw PostgresTestError.noServer("""
                LODE_TEST_POSTGRES_URL is not set: these tests need the PostgreSQL server of scripts/postgres. \
                Run them through scripts/test (it starts the server and exports the URL and password), or: \
                scripts/postgres start && export LODE_TEST_POSTGRES_URL=$(scripts/postgres url) \
                LODE_TEST_POSTGRES_PASSWORD=$(scripts/postgres password)
                """)
        }
        return (try PostgresLocation(parsing: url), environment["LODE_TEST_POSTGRES_PASSWORD"] ?? "")
    }

    public init() throws {
        let (server, password) = try Self.server()
        self.server = server
        self.password = password
        var location = server
        location.database = "lode_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        self.location = location
        try Self.administer(server, password: password, "CREATE DATABASE \(location.database)")
    }

    /// The database's URL, without the password.
    public var url: String { location.redacted }

    public func open(notifications: NotificationPolicy? = nil, claim: Duration = .seconds(60)) throws -> PostgresZoneStore {
        var configuration = PostgresStoreConfiguration(calendar: try ZoneCalendar())
        configuration.notifications = notifications
        configuration.deliveryClaim = claim
        return try PostgresZoneStore(location: location, password: password, configuration: configuration)
    }

    /// Runs one statement on the database itself.
    public func execute(_ sql: String) throws {
        try Self.administer(location, password: password, sql)
    }

    public func drop() {
        try? Self.administer(server, password: password, "DROP DATABASE IF EXISTS \(location.database) WITH (FORCE)")
    }

    static func administer(_ location: PostgresLocation, password: String, _ sql: String) throws {
        let configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: password,
            database: location.database, tls: .disable)
        let logger = Logger(label: "lode.tests.postgres")
        let connection = try PostgresConnection.connect(
            on: PostgresConnection.defaultEventLoopGroup.any(), configuration: configuration, id: 1, logger: logger).wait()
        defer { try? connection.close().wait() }
        _ = try connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).wait()
    }
}

/// Why a PostgreSQL test cannot run: the message says how to start the server.
public enum PostgresTestError: Error, CustomStringConvertible {
    case noServer(String)

    public var description: String {
        switch self {
        case .noServer(let message): message
        }
    }
}
