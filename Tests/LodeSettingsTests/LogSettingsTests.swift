import Foundation
import LodeLogging
import LodeSettings
import Testing

@Suite("Log format and level, and where each setting came from")
struct LogSettingsTests {
    func configFile(_ yaml: String) throws -> String {
        let path = NSTemporaryDirectory() + "lode-log-settings-\(UUID().uuidString).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func resolve(_ flags: SettingsFlags = SettingsFlags(), _ environment: [String: String] = [:]) throws(SettingsError) -> CommonSettings {
        try CommonSettings.resolve(flags: flags, environment: environment) { _ in "from-a-file" }
    }

    @Test func textAndTheProgramsOwnLevelByDefault() throws {
        let settings = try resolve()
        #expect(settings.log.format == .text)
        #expect(settings.log.level == nil)
        #expect(settings.log.level(or: .info) == .info)
        #expect(settings.log.formatOrigin == "default")
    }

    @Test func flagsBeatTheEnvironmentWhichBeatsTheConfigFilesLogSection() throws {
        let config = try configFile("log:\n  format: json\n  level: debug\n")
        defer { unlink(config) }
        let fromConfig = try resolve(SettingsFlags(config: config))
        #expect(fromConfig.log.format == .json)
        #expect(fromConfig.log.level == .debug)
        #expect(fromConfig.log.formatOrigin == "\(config):2: log.format")
        let fromEnvironment = try resolve(SettingsFlags(config: config), ["LODE_LOG_FORMAT": "text", "LODE_LOG_LEVEL": "warn"])
        #expect(fromEnvironment.log.format == .text)
        #expect(fromEnvironment.log.level == .warning)
        #expect(fromEnvironment.log.levelOrigin == "LODE_LOG_LEVEL")
        let fromFlags = try resolve(SettingsFlags(config: config, logFormat: "json", logLevel: "error"),
                                    ["LODE_LOG_FORMAT": "text", "LODE_LOG_LEVEL": "warn"])
        #expect(fromFlags.log.format == .json)
        #expect(fromFlags.log.level == .error)
        #expect(fromFlags.log.formatOrigin == "--log-format")
    }

    @Test func aBadValueNamesWhereItWasGivenWithTheRightExitCode() throws {
        #expect(throws: SettingsError.self) { try resolve(SettingsFlags(logFormat: "xml")) }
        do {
            _ = try resolve(SettingsFlags(logFormat: "xml"))
        } catch {
            #expect(error.exitCode == 64)
            #expect(error.description == "--log-format: the log format must be json or text, got 'xml'")
        }
        do {
            _ = try resolve(SettingsFlags(), ["LODE_LOG_LEVEL": "loud"])
            Issue.record("LODE_LOG_LEVEL=loud accepted")
        } catch {
            #expect(error.exitCode == 78)
            #expect(error.description.hasPrefix("LODE_LOG_LEVEL: the log level must be one of trace, debug, info"))
        }
        let config = try configFile("log:\n  fromat: json\n")
        defer { unlink(config) }
        do {
            _ = try resolve(SettingsFlags(config: config))
            Issue.record("log.fromat accepted")
        } catch {
            #expect(error.exitCode == 78)
            #expect(error.description.contains("\(config):2: unknown key 'log.fromat' (did you mean 'format'?)"))
        }
    }

    @Test func originsNameTheSourceOfEachSettingNeverItsValue() throws {
        let config = try configFile("amqp:\n  url: amqp://lode@config-host/%2F\n  password: config-secret\ndb: /var/lib/lodestone/x.sqlite\n")
        defer { unlink(config) }
        let fromConfig = try resolve(SettingsFlags(config: config))
        #expect(fromConfig.origins["url"] == "\(config):2: amqp.url")
        #expect(fromConfig.origins["password"] == "\(config):3: amqp.password")
        #expect(fromConfig.origins["db"] == "\(config):4: db")
        #expect(fromConfig.origins["config"] == "--config")
        #expect(fromConfig.origins["timezone"] == "default")
        let fromEnvironment = try resolve(SettingsFlags(config: config, database: "flag.sqlite"), ["LODE_AMQP_PASSWORD": "env-secret"])
        #expect(fromEnvironment.origins["password"] == "LODE_AMQP_PASSWORD")
        #expect(fromEnvironment.origins["db"] == "--db")
        let fromFile = try resolve(SettingsFlags(passwordFile: "/etc/lodestone/amqp-password"))
        #expect(fromFile.origins["password"] == "--password-file /etc/lodestone/amqp-password")
        #expect(fromFile.origins["url"] == "default")
        for settings in [fromConfig, fromEnvironment, fromFile] {
            for origin in settings.origins.values {
                #expect(!origin.contains("secret") && !origin.contains("from-a-file"), "\(origin)")
            }
        }
    }
}
