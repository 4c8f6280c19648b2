import LodeAMQP
import LodeQueues
import Testing

/// Issue 13, item 6: every management API request carries the broker user's password (Basic
/// authentication), so plain `http://` to another machine is warned about; loopback, `https://`
/// and `off` are not.
@Suite("The management API URL's warning")
struct ManagementURLWarningTests {
    static func warning(broker: String, management: String?) throws -> String? {
        var settings = try ConnectionSettings(url: broker)
        settings.password = "MGMTSECRET"
        return QueueReader(settings: settings, managementURL: management).insecureManagementURLWarning
    }

    @Test func plainHTTPToAnotherMachineIsWarnedAboutWithoutThePassword() throws {
        let warned = try #require(try Self.warning(broker: "amqp://lode-worker@broker.zone.example/lodestone", management: nil))
        #expect(warned.contains("broker.zone.example") && warned.contains("https://"))
        #expect(!warned.contains("MGMTSECRET"))
        let given = try #require(try Self.warning(broker: "amqp://u@127.0.0.1/", management: "http://admin:pw@10.0.0.7:15672/"))
        #expect(given.contains("10.0.0.7") && !given.contains("pw@"), "\(given)")
    }

    @Test func loopbackHTTPSAndOffAreNot() throws {
        #expect(try Self.warning(broker: "amqp://u@127.0.0.1:5672/", management: nil) == nil)
        #expect(try Self.warning(broker: "amqp://u@localhost/", management: "http://[::1]:15672") == nil)
        #expect(try Self.warning(broker: "amqp://u@broker.zone.example/", management: "https://broker.zone.example:15671") == nil)
        #expect(try Self.warning(broker: "amqp://u@broker.zone.example/", management: "off") == nil)
    }
}
