import Foundation
import LodeSettings
import Testing

@Suite("The metrics address: HOST:PORT or off, loopback by default")
struct MetricsAddressTests {
    @Test(arguments: [
        ("127.0.0.1:9464", MetricsAddress.listen(host: "127.0.0.1", port: 9464)),
        ("0.0.0.0:9100", .listen(host: "0.0.0.0", port: 9100)),
        ("localhost:0", .listen(host: "localhost", port: 0)),
        ("metrics.zone.internal:8080", .listen(host: "metrics.zone.internal", port: 8080)),
        ("[::1]:9464", .listen(host: "::1", port: 9464)),
        ("[::]:9464", .listen(host: "::", port: 9464)),
        ("off", .off),
        ("OFF", .off),
        (" 127.0.0.1:1 ", .listen(host: "127.0.0.1", port: 1)),
    ])
    func parsesHostAndPortOrOff(text: String, expected: MetricsAddress) throws {
        #expect(try MetricsAddress(parsing: text) == expected)
        // And reads back what it parsed.
        #expect(try MetricsAddress(parsing: expected.description) == expected)
    }

    @Test(arguments: [
        ("9464", "HOST:PORT"),
        (":9464", "give a host"),
        ("127.0.0.1:", "port must be a number"),
        ("127.0.0.1:65536", "port must be a number"),
        ("127.0.0.1:-1", "port must be a number"),
        ("127.0.0.1:94x", "port must be a number"),
        ("::1:9464", "in brackets"),
        ("[::1]9464", "in brackets"),
        ("[localhost]:9464", "not an IPv6 address"),
        ("local host:9464", "not a host name"),
        ("", "HOST:PORT"),
    ])
    func refusesWhatIsNotAnAddressAndSaysWhy(text: String, hint: String) {
        #expect {
            _ = try MetricsAddress(parsing: text)
        } throws: { error in
            (error as? MetricsAddress.Invalid)?.message.contains(hint) == true
        }
    }

    @Test func theDefaultIsLoopbackAndOtherAddressesAreNot() throws {
        #expect(MetricsAddress.default == .listen(host: "127.0.0.1", port: 9464))
        for loopback in ["127.0.0.1:1", "127.3.2.1:1", "localhost:1", "[::1]:1"] {
            #expect(try MetricsAddress(parsing: loopback).isLoopback, "\(loopback)")
        }
        for other in ["0.0.0.0:1", "10.0.0.7:1", "[::]:1", "zone.example:1", "127.0.0.256:1"] {
            #expect(try !MetricsAddress(parsing: other).isLoopback, "\(other)")
        }
    }

    func configFile(_ yaml: String) throws -> ConfigFile {
        try ConfigFile(path: "lodestone.yaml", yaml: yaml)
    }

    @Test func flagBeatsEnvironmentWhichBeatsTheConfigFileWhichBeatsTheDefault() throws {
        let config = try configFile("metrics:\n  address: 127.0.0.1:7001\n")
        let environment = ["LODE_METRICS_ADDRESS": "127.0.0.1:7002"]
        #expect(try MetricsAddress.resolve(flag: nil, environment: [:], config: nil) == .default)
        #expect(try MetricsAddress.resolve(flag: nil, environment: [:], config: config) == .listen(host: "127.0.0.1", port: 7001))
        #expect(try MetricsAddress.resolve(flag: nil, environment: environment, config: config) == .listen(host: "127.0.0.1", port: 7002))
        #expect(try MetricsAddress.resolve(flag: "off", environment: environment, config: config) == .off)
        // An empty variable is as if unset.
        #expect(try MetricsAddress.resolve(flag: nil, environment: ["LODE_METRICS_ADDRESS": ""], config: config)
                == .listen(host: "127.0.0.1", port: 7001))
    }

    @Test func aBadValueNamesWhereItCameFromWithItsExitCode() throws {
        let config = try configFile("db: zone.sqlite\nmetrics:\n  address: 9464\n")
        do {
            _ = try MetricsAddress.resolve(flag: nil, environment: [:], config: config)
            Issue.record("expected a config error")
        } catch {
            #expect(error.exitCode == 78)
            #expect(error.description.hasPrefix("Config error: lodestone.yaml:3: 'metrics.address' must be HOST:PORT"))
        }
        do {
            _ = try MetricsAddress.resolve(flag: nil, environment: ["LODE_METRICS_ADDRESS": "nine"], config: nil)
            Issue.record("expected a config error")
        } catch {
            #expect(error.exitCode == 78)
            #expect(error.description.hasPrefix("LODE_METRICS_ADDRESS "))
        }
        do {
            _ = try MetricsAddress.resolve(flag: "127.0.0.1:99999", environment: [:], config: nil)
            Issue.record("expected a usage error")
        } catch {
            #expect(error.exitCode == 64)
            #expect(error.description.hasPrefix("--metrics-address "))
        }
    }

    @Test func theConfigFileChecksTheMetricsSectionKeyByKey() {
        #expect {
            _ = try configFile("metrics:\n  adress: 127.0.0.1:9464\n")
        } throws: { error in
            (error as? SettingsError)?.description
                == "Config error: lodestone.yaml:2: unknown key 'metrics.adress' (did you mean 'address'?) (known: address, token_file)"
        }
        #expect {
            _ = try configFile("metrics: 127.0.0.1:9464\n")
        } throws: { error in
            (error as? SettingsError)?.description.contains("'metrics' must be a mapping with keys address") == true
        }
    }
}
