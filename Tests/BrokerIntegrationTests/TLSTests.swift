import Foundation
import LodeAMQP
import Testing

extension BrokerTests {
    /// Against the broker's TLS listener, whose test CA and certificates `scripts/broker` makes.
    @Suite("TLS")
    struct TLS {
        /// `amqps://guest:guest@localhost:PORT/%2F?cacertfile=DIR/ca.pem`, and the certificate folder.
        static func tlsURL() throws -> (url: String, directory: String) {
            _ = try BrokerFixture.settings()
            let url = try BrokerFixture.script("tls-url").trimmingCharacters(in: .whitespacesAndNewlines)
            let directory = try #require(url.components(separatedBy: "cacertfile=").last)
                .replacingOccurrences(of: "/ca.pem", with: "")
            return (url, directory)
        }

        static func connectOnce(_ url: String) async throws(AMQPError) -> Publisher {
            var settings = try ConnectionSettings(url: url)
            settings.connectionTimeout = .seconds(3)
            var options = PublisherOptions()
            options.reconnectTimeout = .zero
            let publisher = Publisher(settings: settings, options: options)
            do {
                try await publisher.connect()
            } catch {
                await publisher.close()
                throw error
            }
            return publisher
        }

        @Test func messagesTravelOverTLSWhenTheBrokerIsVerified() async throws {
            let (url, _) = try Self.tlsURL()
            let queue = BrokerFixture.uniqueName("tls")
            let publisher: Publisher
            do {
                publisher = try await Self.connectOnce(url)
            } catch {
                Issue.record("no TLS listener answers (\(error)); a broker started before TLS support needs `scripts/broker restart`")
                return
            }
            try await publisher.declare(Topology(queues: [.classic(queue)]))
            #expect(try await publisher.publish([OutgoingMessage(exchange: "", routingKey: queue, body: body("秘密"))]).allConfirmed)
            let consumer = Consumer(settings: try ConnectionSettings(url: url), queue: queue)
            let inbox = ConsumerInbox.following(consumer)
            try await consumer.start()
            #expect(await BrokerFixture.eventually { await inbox.count == 1 })
            #expect(await inbox.deliveries.first?.body == body("秘密"))
            await consumer.close()
            try await publisher.deleteQueue(queue)
            await publisher.close()
        }

        @Test func anUntrustedBrokerCertificateIsRefused() async throws {
            let (url, _) = try Self.tlsURL()
            // Without cacertfile the system CA bundle is trusted, which did not sign the test CA.
            let untrusted = url.components(separatedBy: "?").first!
            await #expect(throws: AMQPError.self) { try await Self.connectOnce(untrusted) }
        }

        @Test func theHostnameIsVerifiedUnlessDisabled() async throws {
            let (url, _) = try Self.tlsURL()
            // The server certificate names "localhost", not "127.0.0.1".
            let byAddress = url.replacingOccurrences(of: "@localhost:", with: "@127.0.0.1:")
            await #expect(throws: AMQPError.self) { try await Self.connectOnce(byAddress) }
            let publisher = try await Self.connectOnce(byAddress + "&server_name_indication=disable")
            await publisher.close()
        }

        @Test func aClientCertificateIsPresentedAndAMissingKeyFileNamed() async throws {
            let (url, directory) = try Self.tlsURL()
            let publisher = try await Self.connectOnce(url + "&certfile=\(directory)/client.pem&keyfile=\(directory)/client.key")
            await publisher.close()
            do {
                _ = try await Self.connectOnce(url + "&certfile=\(directory)/client.pem&keyfile=\(directory)/absent.key")
                Issue.record("a missing key file must fail")
            } catch {
                #expect(error.description.contains("absent.key"))
            }
        }
    }
}
