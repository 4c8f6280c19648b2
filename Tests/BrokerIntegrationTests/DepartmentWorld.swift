import Foundation
import LodeAMQP
import LodeJSON
import LodePermissions
import Testing

/// A vhost of the test broker provisioned as production is (docs/security.md): `lodectl
/// definitions` writes the definitions from a config's `departments:` and `broker_users:`, and
/// `scripts/broker load-definitions` loads them. Users and vhost names carry a fresh suffix, so
/// worlds never meet; ``remove()`` deletes them.
///
/// The four departments are the demo set's sources: development and reform registers projects,
/// investment promotion records recruitment, the construction office changes statuses, the
/// statistics bureau reports investment.
struct DepartmentWorld {
    let id: String
    let vhost: String
    let directory: String
    let port: Int
    let reform: String, invest: String, construction: String, statistics: String
    let worker: String, ctl: String, monitor: String
    /// Every user's password (random, made for this world).
    let passwords: [String: String]
    /// The config file: amqp.url (the worker's), broker_users, departments.
    let config: String

    static let sources = [
        "reform": "bt-hitech/development-reform-bureau", "invest": "bt-hitech/investment-promotion-bureau",
        "construction": "bt-hitech/project-construction-office", "statistics": "bt-hitech/statistics-bureau",
    ]

    static func make(_ label: String) async throws -> DepartmentWorld {
        let id = String(UUID().uuidString.prefix(8)).lowercased()
        let base = try BrokerFixture.settings()
        let directory = try BrokerFixture.temporaryDirectory("lode-\(label)")
        let names = ["reform", "invest", "construction", "statistics", "worker", "ctl", "monitor"]
        let users = Dictionary(uniqueKeysWithValues: names.map { ($0, "lode-\($0)-\(id)") })
        var passwords: [String: String] = [:]
        let passwordDirectory = directory + "/broker-passwords"
        try FileManager.default.createDirectory(atPath: passwordDirectory, withIntermediateDirectories: true)
        for user in users.values {
            let password = "pw-\(UUID().uuidString)"
            passwords[user] = password
            try (password + "\n").write(toFile: passwordDirectory + "/" + user, atomically: true, encoding: .utf8)
        }
        let world = DepartmentWorld(
            id: id, vhost: "lode-test-\(id)", directory: directory, port: base.port, reform: users["reform"]!,
            invest: users["invest"]!, construction: users["construction"]!, statistics: users["statistics"]!,
            worker: users["worker"]!, ctl: users["ctl"]!, monitor: users["monitor"]!, passwords: passwords,
            config: directory + "/lodestone.yaml")
        try world.configText().write(toFile: world.config, atomically: true, encoding: .utf8)

        let definitions = directory + "/definitions.json"
        let written = try await PublishProcess.run(
            ["definitions", "--config", world.config, "--passwords", passwordDirectory, "--output", definitions],
            program: "lodectl")
        #expect(written.status == 0, "\(written.stderr)")
        let mode = try FileManager.default.attributesOfItem(atPath: definitions)[.posixPermissions] as? Int
        #expect(mode == 0o600, "the definitions hold password hashes")
        try BrokerFixture.script("load-definitions", definitions)
        return world
    }

    func configText() -> String {
        """
        amqp:
          url: amqp://\(worker)@127.0.0.1:\(port)/\(vhost)
        broker_users:
          worker: \(worker)
          operators: [\(ctl)]
          monitoring: \(monitor)
        departments:
          development_and_reform:
            user: \(reform)
            types: [zone.project.registered]
            sources: [\(Self.sources["reform"]!)]
          investment_promotion:
            user: \(invest)
            types: [zone.recruitment.enterprise_contacted, zone.recruitment.site_visit, zone.recruitment.agreement_signed, zone.recruitment.project_introduced]
            sources: ["\(Self.sources["invest"]!)", "\(Self.sources["invest"]!)/*"]
          construction:
            user: \(construction)
            types: [zone.project.status_changed]
            sources: [\(Self.sources["construction"]!)]
          statistics:
            user: \(statistics)
            types: [zone.project.investment_reported]
            sources: [\(Self.sources["statistics"]!)]

        """
    }

    /// The URL of `user` in this world's vhost, without a password.
    func url(_ user: String) -> String { "amqp://\(user)@127.0.0.1:\(port)/\(vhost)" }

    /// Connection settings of `user`, password included.
    func settings(_ user: String) throws -> ConnectionSettings {
        var settings = try ConnectionSettings(url: url(user))
        settings.password = passwords[user] ?? ""
        settings.connectionName = "test: \(user)"
        return settings
    }

    /// The environment of a program logging in as `user` (the password in LODE_AMQP_PASSWORD).
    func environment(_ user: String) -> [String: String] {
        ["LODE_AMQP_URL": url(user), "LODE_AMQP_PASSWORD": passwords[user] ?? "", "LODE_CONFIG": config]
    }

    /// Writes the demo set's events of `source` to a file of their own; returns its path.
    func demoPart(_ department: String) throws -> String {
        let source = Self.sources[department]!
        let lines = try String(contentsOfFile: BrokerTests.WorkerThroughTheBroker.demoFile, encoding: .utf8)
            .split(separator: "\n").filter { $0.contains(#""source":"\#(source)""#) }
        let path = directory + "/\(department).ndjson"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Deletes the vhost (its queues and messages) and the users.
    func remove() {
        _ = try? BrokerFixture.script("ctl", "delete_vhost", vhost)
        for user in [reform, invest, construction, statistics, worker, ctl, monitor] {
            _ = try? BrokerFixture.script("ctl", "delete_user", user)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
