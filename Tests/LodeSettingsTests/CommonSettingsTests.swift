import Foundation
import LodeAMQP
import LodeSettings
import Testing

@Suite("Common settings: flags over environment over config file")
struct CommonSettingsTests {
    /// Writes `yaml` to a temporary config file and returns its path.
    func configFile(_ yaml: String) throws -> String {
        let path = NSTemporaryDirectory() + "lode-settings-\(UUID().uuidString).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func resolve(_ flags: SettingsFlags = SettingsFlags(), _ environment: [String: String] = [:],
                 files: [String: String] = [:]) throws(SettingsError) -> CommonSettings {
        try CommonSettings.resolve(flags: flags, environment: environment) { path in
            if let text = files[path] { return text }
            throw CocoaError(.fileReadNoSuchFile)
        }
    }

    @Test func defaults() throws {
        let settings = try resolve()
        #expect(settings.connection.redactedURL == "amqp://guest@127.0.0.1:5672/%2F")
        #expect(settings.connection.password == "guest")
        #expect(settings.timezone == "Asia/Shanghai")
        #expect(settings.database == nil)
    }

    @Test func flagsBeatEnvironmentWhichBeatsTheConfigFile() throws {
        let config = try configFile("amqp:\n  url: amqp://cfg@config-host:5672/cfg\ndb: config.sqlite\ntimezone: Asia/Urumqi\n")
        defer { unlink(config) }
        let fromConfig = try resolve(SettingsFlags(config: config))
        #expect(fromConfig.connection.host == "config-host")
        #expect(fromConfig.database == "config.sqlite")
        #expect(fromConfig.timezone == "Asia/Urumqi")
        let fromEnvironment = try resolve(SettingsFlags(config: config), ["LODE_AMQP_URL": "amqp://env@env-host/", "LODE_DB": "env.sqlite"])
        #expect(fromEnvironment.connection.host == "env-host")
        #expect(fromEnvironment.database == "env.sqlite")
        let fromFlags = try resolve(SettingsFlags(url: "amqp://flag@flag-host/", config: config, database: "flag.sqlite"),
                                    ["LODE_AMQP_URL": "amqp://env@env-host/", "LODE_DB": "env.sqlite"])
        #expect(fromFlags.connection.host == "flag-host")
        #expect(fromFlags.database == "flag.sqlite")
        // LODE_CONFIG names the file when --config does not.
        #expect(try resolve(SettingsFlags(), ["LODE_CONFIG": config]).connection.host == "config-host")
    }

    @Test func aClusterListTakesOnePasswordForEveryBroker() throws {
        let list = "amqp://lode@mq1:5672/%2F,amqp://lode@mq2:5672/%2F,amqp://lode@mq3:5672/%2F"
        let settings = try resolve(SettingsFlags(url: list), ["LODE_AMQP_PASSWORD": "from-env"])
        #expect(settings.connection.brokers.map(\.host) == ["mq1", "mq2", "mq3"])
        #expect(settings.connection.password == "from-env")
        #expect(settings.connection.redactedURL == list)
        let config = try configFile("amqp:\n  url: \(list)\n  password: from-config\n")
        defer { unlink(config) }
        let fromConfig = try resolve(SettingsFlags(config: config))
        #expect(fromConfig.connection.brokers.count == 3)
        #expect(fromConfig.connection.password == "from-config")
    }

    @Test func aPasswordInAnyURLOfAListFlagIsRefusedWithoutShowingIt() {
        do {
            _ = try resolve(SettingsFlags(url: "amqp://bob:s3cret-pw@mq1/,amqp://bob:s3cret-pw@mq2/"))
            Issue.record("expected a refusal")
        } catch {
            #expect(error.exitCode == 64)
            #expect(!error.description.contains("s3cret-pw"))
            #expect(error.description.contains("amqp://bob@mq1:5672/,amqp://bob@mq2:5672/"), "\(error)")
        }
    }

    @Test func aListWhoseBrokersDisagreeIsAUsageErrorFromTheFlagAndAConfigErrorFromTheFile() throws {
        do {
            _ = try resolve(SettingsFlags(url: "amqp://a/x,amqp://b/y"))
            Issue.record("expected a refusal")
        } catch {
            #expect(error.exitCode == 64)
            #expect(error.description.contains("--url: broker 2 of 2 in the URL list differs from broker 1 in its vhost"), "\(error)")
        }
        let config = try configFile("amqp:\n  url: amqp://a/x,amqp://b/y\n")
        defer { unlink(config) }
        do {
            _ = try resolve(SettingsFlags(config: config))
            Issue.record("expected a refusal")
        } catch {
            #expect(error.exitCode == 78)
            #expect(error.description.contains("\(config):2: amqp.url: broker 2 of 2"), "\(error)")
        }
    }

    @Test func theLanguageIsSimplifiedChineseUnlessAFlagTheEnvironmentOrTheConfigSaysOtherwise() throws {
        #expect(try resolve(SettingsFlags()).language == .simplifiedChinese)
        let config = try configFile("language: zh-Hant\n")
        defer { unlink(config) }
        #expect(try resolve(SettingsFlags(config: config)).language == .traditionalChinese)
        #expect(try resolve(SettingsFlags(config: config), ["LODE_LANG": "en"]).language == .english)
        #expect(try resolve(SettingsFlags(config: config, language: "zh-CN"), ["LODE_LANG": "en"]).language == .simplifiedChinese)
        #expect(throws: SettingsError.self) { try resolve(SettingsFlags(language: "fr")) }
        do {
            _ = try resolve(SettingsFlags(language: "fr"))
        } catch {
            #expect(error.kind == .usage)
            #expect(error.description.contains("--lang must be one of zh-Hans, zh-Hant, en, got 'fr'"))
        }
        let bad = try configFile("language: klingon\n")
        defer { unlink(bad) }
        do {
            _ = try resolve(SettingsFlags(config: bad))
            Issue.record("accepted")
        } catch {
            #expect(error.kind == .config)
            #expect(error.description.contains("\(bad):1: 'language' must be one of"))
        }
    }

    @Test func aPasswordInTheURLFlagIsRefusedWithoutShowingIt() {
        do {
            _ = try resolve(SettingsFlags(url: "amqp://bob:s3cret-pw@host/"))
            Issue.record("expected a refusal")
        } catch {
            #expect(error.exitCode == 64)
            #expect(!error.description.contains("s3cret-pw"))
            #expect(error.description.contains("LODE_AMQP_PASSWORD"))
            #expect(error.description.contains("--password-file"))
        }
    }

    @Test func thePasswordComesFromTheEnvironmentAFileOrTheConfig() throws {
        let config = try configFile("amqp:\n  password: from-config\n")
        defer { unlink(config) }
        #expect(try resolve(SettingsFlags(config: config)).connection.password == "from-config")
        #expect(try resolve(SettingsFlags(config: config), ["LODE_AMQP_PASSWORD": "from-env"]).connection.password == "from-env")
        let flags = SettingsFlags(url: "amqp://bob@host/", passwordFile: "/run/secret", config: config)
        let settings = try resolve(flags, ["LODE_AMQP_PASSWORD": "from-env"], files: ["/run/secret": "from-file\n"])
        #expect(settings.connection.password == "from-file")
        #expect(settings.connection.user == "bob")
        // A password inside LODE_AMQP_URL is allowed, and loses to LODE_AMQP_PASSWORD.
        #expect(try resolve(SettingsFlags(), ["LODE_AMQP_URL": "amqp://bob:in-url@host/"]).connection.password == "in-url")
        #expect(try resolve(SettingsFlags(), ["LODE_AMQP_URL": "amqp://bob:in-url@host/", "LODE_AMQP_PASSWORD": "env"])
            .connection.password == "env")
        // ...and beats the config file's password, a lower level.
        #expect(try resolve(SettingsFlags(config: config), ["LODE_AMQP_URL": "amqp://bob:in-url@host/"]).connection.password == "in-url")
    }

    @Test func anUnreadablePasswordFileIsReported() {
        #expect(throws: SettingsError.self) { try resolve(SettingsFlags(passwordFile: "/nonexistent")) }
        do {
            _ = try resolve(SettingsFlags(passwordFile: "/nonexistent"))
        } catch {
            #expect(error.exitCode == 66)
            #expect(error.description.contains("/nonexistent"))
        }
    }

    @Test func badConfigKeysAreReportedWithFileAndLine() throws {
        let config = try configFile("amqp:\n  url: amqp://x@h/\n  pasword: hunter2\ntimezon: UTC\ntargets: []\n")
        defer { unlink(config) }
        do {
            _ = try resolve(SettingsFlags(config: config))
            Issue.record("expected a config error")
        } catch {
            #expect(error.exitCode == 78)
            #expect(error.messages == [
                "Config error: \(config):3: unknown key 'amqp.pasword' (did you mean 'password'?) (known: url, password, password_file)",
                "Config error: \(config):4: unknown key 'timezon' (did you mean 'timezone'?)",
            ])
            #expect(!error.description.contains("hunter2"))
        }
    }

    @Test func anUnknownTimezoneIsAConfigError() throws {
        let config = try configFile("amqp:\n  url: amqp://x@h/\ntimezone: Asia/Baotou\n")
        defer { unlink(config) }
        do {
            _ = try resolve(SettingsFlags(config: config))
            Issue.record("expected a config error")
        } catch {
            #expect(error.messages == ["Config error: \(config):3: 'timezone' must be an IANA time zone such as Asia/Shanghai, got 'Asia/Baotou'"])
        }
    }

    @Test func invalidYAMLNamesItsLineButNotItsText() throws {
        let config = try configFile("amqp:\n  password: \"hunter2\n")
        defer { unlink(config) }
        do {
            _ = try resolve(SettingsFlags(config: config))
            Issue.record("expected a config error")
        } catch {
            #expect(error.description.hasPrefix("Config error: \(config):"))
            #expect(!error.description.contains("hunter2"))
        }
    }

    @Test func theRedactedURLNeverShowsThePassword() throws {
        let settings = try resolve(SettingsFlags(url: "amqp://bob@host/"), ["LODE_AMQP_PASSWORD": "pa55word"])
        #expect(!settings.connection.redactedURL.contains("pa55word"))
        #expect(!"\(settings.connection)".contains("pa55word"))
    }
}

@Suite("Commands that never connect")
struct SettingsWithoutBrokerTests {
    @Test func aPasswordFileThatCannotBeReadIsNoErrorWhenTheBrokerIsNotNeeded() throws {
        let path = NSTemporaryDirectory() + "lode-settings-\(UUID().uuidString).yaml"
        try "amqp:\n  password_file: /nonexistent/amqp-password\ndb: z.sqlite\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let flags = SettingsFlags(config: path)
        let settings = try CommonSettings.resolve(flags: flags, environment: [:], needsBroker: false)
        #expect(settings.database == "z.sqlite")
        #expect(throws: SettingsError.self) { try CommonSettings.resolve(flags: flags, environment: [:]) }
    }
}
