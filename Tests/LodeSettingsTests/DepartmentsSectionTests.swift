import Foundation
import LodeEvents
import LodeJSON
import LodePermissions
import LodeSettings
import Testing

@Suite("departments:, broker_users: and the status page's exposure in the config file")
struct DepartmentsSectionTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func config(_ yaml: String) throws -> ConfigFile {
        try ConfigFile(path: "zone.yaml", yaml: yaml)
    }

    @Test func departmentsAreReadWithTheirUsersTypesAndSources() throws {
        let file = try config("""
            broker_users:
              worker: lode-worker
              operators: [lode-ctl]
            departments:
              reform:
                user: lode-reform
                types: [zone.project.registered]
                sources: [dev-reform, "dev-reform/*"]
              invest:
                user: lode-invest
                types: zone.recruitment.site_visit
                sources: "invest/*"
            """)
        let departments = try #require(try file.departments())
        #expect(departments.departments.map(\.name) == ["reform", "invest"])
        #expect(departments.departments[0].sources == [.exact("dev-reform"), .prefix("dev-reform/")])
        #expect(departments.departments[1].types == [.siteVisit])
        #expect(departments.replayUsers == ["lode-ctl"])
        #expect(try file.brokerUsers() == BrokerUsers(worker: "lode-worker", operators: ["lode-ctl"]))
        #expect(try config("timezone: Asia/Shanghai").departments() == nil, "no section: every producer is accepted")
    }

    @Test func everyProblemIsReportedWithItsLine() throws {
        let error = try #require(throws: SettingsError.self) {
            try config("""
                departments:
                  reform:
                    user: lode-reform
                    types: [zone.project.registerd]
                    sources: ["*"]
                    colour: red
                  invest:
                    types: [zone.recruitment.site_visit]
                """).departments()
        }
        #expect(error.kind == .config)
        let text = error.description
        #expect(text.contains("zone.yaml:4:") && text.contains("did you mean 'zone.project.registered'"), "\(text)")
        #expect(text.contains("zone.yaml:5:") && text.contains("every source"), "\(text)")
        #expect(text.contains("zone.yaml:6:") && text.contains("unknown key 'departments.reform.colour'"), "\(text)")
        #expect(text.contains("zone.yaml:8:") && text.contains("department 'invest' lacks user, sources"), "\(text)")
    }

    @Test func overlappingSourcesAndSharedUsersAreConfigErrors() throws {
        let overlap = try #require(throws: SettingsError.self) {
            try config("""
                departments:
                  a: {user: ua, types: [zone.recruitment.site_visit], sources: ["park/*"]}
                  b: {user: ub, types: [zone.recruitment.site_visit], sources: ["park/north"]}
                """).departments()
        }
        #expect(overlap.description.contains("'park/*' and 'park/north' overlap"), "\(overlap)")
        let replay = try #require(throws: SettingsError.self) {
            try config("""
                broker_users: {operators: [ua]}
                departments:
                  a: {user: ua, types: [zone.recruitment.site_visit], sources: [a]}
                """).departments()
        }
        #expect(replay.description.contains("'ua' replays dead letters"), "\(replay)")
    }

    @Test func theStatusPageGoesWithTheMetricsApartOrNowhereAndTokensComeFromFilesOrTheEnvironment() throws {
        #expect(try StatusExposure.resolve(flag: nil, environment: [:], config: nil) == StatusExposure())
        #expect(try StatusExposure.resolve(flag: "off", environment: [:], config: nil).page == .off)
        #expect(try StatusExposure.resolve(flag: "127.0.0.1:9465", environment: [:], config: nil).page
            == .listen(host: "127.0.0.1", port: 9465))
        let file = try config("""
            metrics: {address: "0.0.0.0:9464", token_file: /etc/lodestone/metrics.token}
            status: {address: "127.0.0.1:9465", token_file: /etc/lodestone/status.token}
            """)
        let files = ["/etc/lodestone/metrics.token": "m-token\n", "/etc/lodestone/status.token": "s-token"]
        let read: (String) throws -> String = { path in
            guard let text = files[path] else { throw CocoaError(.fileReadNoSuchFile) }
            return text
        }
        let resolved = try StatusExposure.resolve(flag: nil, environment: [:], config: file, readFile: read)
        #expect(resolved == StatusExposure(page: .listen(host: "127.0.0.1", port: 9465), pageToken: "s-token", metricsToken: "m-token"))
        let byEnvironment = try StatusExposure.resolve(
            flag: nil, environment: ["LODE_STATUS_TOKEN": "env-token", "LODE_STATUS_ADDRESS": "off"], config: file, readFile: read)
        #expect(byEnvironment.pageToken == "env-token" && byEnvironment.page == .off)

        let badFlag = try #require(throws: SettingsError.self) { try StatusExposure.resolve(flag: "nowhere", environment: [:], config: nil) }
        #expect(badFlag.kind == .usage)
        let missing = try #require(throws: SettingsError.self) {
            try StatusExposure.resolve(flag: nil, environment: ["LODE_METRICS_TOKEN_FILE": "/no/such/file"], config: nil, readFile: read)
        }
        #expect(missing.exitCode == 66)
        let spaced = try #require(throws: SettingsError.self) {
            try StatusExposure.resolve(flag: nil, environment: ["LODE_STATUS_TOKEN": "two words"], config: nil)
        }
        #expect(!spaced.description.contains("two words"), "a token is never shown")
    }

    /// deploy/rabbitmq/definitions.example.json is what `lodectl definitions` writes from
    /// deploy/rabbitmq/lodestone.example.yaml (without passwords): the two cannot drift apart.
    @Test func theExampleDefinitionsAreTheGeneratorsOutputForTheExampleConfig() throws {
        let deploy = Self.repositoryRoot.appendingPathComponent("deploy/rabbitmq")
        let file = try ConfigFile.load(path: deploy.appendingPathComponent("lodestone.example.yaml").path)
        let settings = try CommonSettings.resolve(flags: SettingsFlags(config: file.path), environment: [:], needsBroker: false)
        let generated = BrokerDefinitions(vhost: settings.connection.vhost, departments: try file.departments()?.departments ?? [],
                                          users: try file.brokerUsers()).json(passwordHashes: [:])
        let text = try #require(FileManager.default.contents(atPath: deploy.appendingPathComponent("definitions.example.json").path))
        let checkedIn = try JSONParser.parse([UInt8](text))
        #expect(generated == checkedIn, "regenerate it: lodectl definitions --config deploy/rabbitmq/lodestone.example.yaml --output deploy/rabbitmq/definitions.example.json")
    }
}
