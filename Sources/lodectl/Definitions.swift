import ArgumentParser
import Foundation
import LodeAMQP
import LodeJSON
import LodePermissions
import LodeSettings

/// `lodectl definitions`: RabbitMQ definitions for the config's departments and programs, to load
/// with `rabbitmqctl import_definitions` (or `scripts/broker load-definitions`).
struct Definitions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write RabbitMQ definitions (users, permissions, topology, policies) from the config's departments.",
        discussion: """
            Reads departments: and broker_users: from the config file and prints RabbitMQ \
            definitions as JSON: the vhost (--vhost, default the vhost of the broker URL), \
            lode.events, lode.work and lode.dead as `lodectl setup` declares them, the policy that \
            keeps lode.dead's messages on RabbitMQ 4.x, and one user per department (write to \
            lode.events only, routing keys = its event types), for the worker and each operator \
            (lode.* and the default exchange, tag management) and for monitoring (tag monitoring, \
            no permissions).

            Passwords: --passwords DIR holds one file per user, named as the user, with its \
            password (a trailing line break is dropped); the definitions carry only RabbitMQ's \
            salted SHA-256 of it. A user without a file gets no password (it cannot log in until \
            one is set). The output holds password hashes: --output writes it readable by its \
            owner only.

            Loading is additive and needs no restart: a new department is a new user with its \
            permissions; an existing user gets the hash and tags given here.

            Examples:
              lodectl definitions --config /etc/lodestone/lodestone.yaml --passwords /etc/lodestone/broker-passwords \\
                  --output /etc/lodestone/definitions.json
              rabbitmqctl import_definitions /etc/lodestone/definitions.json
              scripts/broker load-definitions /etc/lodestone/definitions.json     # the development broker
            """)

    @OptionGroup var broker: BrokerOptions

    @Option(help: ArgumentHelp("The vhost (default: the vhost of the broker URL).", valueName: "name"))
    var vhost: String?

    @Option(help: ArgumentHelp("A directory with one password file per broker user.", valueName: "dir"))
    var passwords: String?

    @Option(name: .shortAndLong, help: ArgumentHelp("Write to this file (mode 0600) instead of standard output.", valueName: "file"))
    var output: String?

    func run() throws {
        let settings: CommonSettings
        let departments: [Department]
        let users: BrokerUsers
        do throws(SettingsError) {
            settings = try CommonSettings.resolve(flags: broker.flags, needsBroker: false)
            guard let config = settings.config else {
                throw SettingsError(.usage, "definitions are made from a config file's departments: and broker_users:; give --config (or LODE_CONFIG)")
            }
            departments = try config.departments()?.departments ?? []
            users = try config.brokerUsers()
        } catch {
            fail("\(error)", status: error.exitCode)
        }
        let everyone = departments.map(\.user) + users.all
        guard !everyone.isEmpty else {
            fail("the config names no broker user: add departments: and broker_users: (see docs/security.md)", status: 78)
        }
        var hashes: [String: String] = [:]
        var withoutPassword: [String] = []
        for user in everyone where hashes[user] == nil {
            guard let directory = passwords else {
                withoutPassword.append(user)
                continue
            }
            let path = (directory as NSString).appendingPathComponent(user)
            guard FileManager.default.fileExists(atPath: path) else {
                withoutPassword.append(user)
                continue
            }
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                fail("cannot read the password file \(path): \(ConfigFile.reason(error))", status: 66)
            }
            var password = Substring(text)
            while let last = password.last, last == "\n" || last == "\r" { password.removeLast() }
            guard !password.isEmpty else { fail("the password file \(path) is empty", status: 78) }
            hashes[user] = BrokerDefinitions.passwordHash(String(password), salt: BrokerDefinitions.randomSalt())
        }
        let definitions = BrokerDefinitions(vhost: vhost ?? settings.connection.vhost, departments: departments, users: users)
        let text = PrettyJSON.text(of: definitions.json(passwordHashes: hashes).serializedBytes(), indent: "") + "\n"
        if let output {
            let created = FileManager.default.createFile(atPath: output, contents: Data(text.utf8),
                                                         attributes: [.posixPermissions: 0o600])
            guard created else { fail("cannot write \(output)", status: 73) }
        } else {
            print(text, terminator: "")
        }
        if !withoutPassword.isEmpty {
            FileHandle.standardError.write(Data("""
                lodectl: no password for \(withoutPassword.joined(separator: ", ")): \
                \(passwords.map { "no file in \($0)" } ?? "no --passwords directory"); \
                they cannot log in until one is set

                """.utf8))
        }
    }
}
