import LodePostgres
import Testing

/// `--db postgres://…` parsed; the password kept apart and never printed.
@Suite("PostgreSQL URLs")
struct PostgresLocationTests {
    @Test func aFullURLIsReadAndPrintedBack() throws {
        let location = try PostgresLocation(parsing: "postgres://lode@db.example:6543/zone_2024?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(location.user == "lode")
        #expect(location.host == "db.example")
        #expect(location.port == 6543)
        #expect(location.database == "zone_2024")
        #expect(location.tls == .verifyFull)
        #expect(location.rootCertificateFile == "/etc/ca.pem")
        #expect(location.redacted == "postgres://lode@db.example:6543/zone_2024?sslmode=verify-full&sslrootcert=/etc/ca.pem")
    }

    @Test func defaultsArePort5432TheUsersDatabaseAndPreferredTLS() throws {
        let location = try PostgresLocation(parsing: "postgresql://lode@[::1]")
        #expect(location.host == "::1")
        #expect(location.port == 5432)
        #expect(location.database == "lode")
        #expect(location.tls == .prefer)
        #expect(location.redacted == "postgres://lode@[::1]:5432/lode")
    }

    @Test func aPasswordInTheURLIsKeptApartAndNeverPrinted() throws {
        let location = try PostgresLocation(parsing: "postgres://lode:s%40cret-Pa55@127.0.0.1:55432/lode")
        #expect(location.passwordInURL == "s@cret-Pa55")
        #expect(!location.redacted.contains("cret"))
        #expect(!"\(location)".contains("cret"))
    }

    @Test(arguments: [
        ("postgres://127.0.0.1/lode", "no user"),
        ("postgres://lode@127.0.0.1:99999/lode", "port"),
        ("postgres://lode@127.0.0.1/lode?sslmode=sometimes", "sslmode"),
        ("postgres://lode@127.0.0.1/lode?pool=3", "unknown URL parameter"),
        ("mysql://lode@127.0.0.1/lode", "postgres://"),
    ])
    func aBadURLSaysWhatIsWrongWithoutRepeatingIt(url: String, says: String) {
        #expect {
            try PostgresLocation(parsing: url)
        } throws: { error in
            "\(error)".contains(says) && !"\(error)".contains("127.0.0.1")
        }
    }
}
