import LodeEvents
import LodePermissions
import Yams

extension ConfigFile {
    /// The keys of a department in `departments:`.
    public static let departmentKeys = ["user", "types", "sources"]
    /// The keys of `broker_users:`.
    public static let brokerUserKeys = ["worker", "operators", "monitoring"]

    /// Reads `departments:` (contract section 6), or `nil` when the file has none (then the worker
    /// accepts any producer, as a single-user install does):
    ///
    /// ```yaml
    /// departments:
    ///   development_and_reform:
    ///     user: lode-dev-reform          # the broker user its producers log in as
    ///     types: [zone.project.registered, zone.project.status_changed]
    ///     sources: [dev-reform, "dev-reform/*"]   # exact values, or a prefix ending in *
    /// ```
    ///
    /// `broker_users.operators` are trusted to replay dead letters on a department's behalf.
    /// Every problem (a missing key, an unknown event type, two departments sharing a user or
    /// overlapping sources) is reported as `FILE:LINE: message`, all at once.
    public func departments() throws(SettingsError) -> Departments? {
        guard let node = section("departments") else { return nil }
        var problems: [String] = []
        func problem(_ node: Node?, _ message: String) {
            problems.append("Config error: \(path):\(node?.mark?.line ?? 1): \(message)")
        }
        guard case .mapping(let mapping) = node, !mapping.isEmpty else {
            throw SettingsError(.config, "Config error: \(path):\(node.mark?.line ?? 1): 'departments' must be a mapping from a department's name to its user, types and sources")
        }
        var departments: [Department] = []
        var lines: [Int] = []
        for (nameNode, fieldsNode) in mapping {
            let name = nameNode.string ?? ""
            guard case .mapping(let fields) = fieldsNode else {
                problem(fieldsNode, "department '\(name)' must be a mapping with \(Self.departmentKeys.joined(separator: ", "))")
                continue
            }
            var user: String?
            var types: [EventType] = []
            var sources: [SourcePattern] = []
            var complete = true
            for (keyNode, value) in fields {
                let key = keyNode.string ?? ""
                switch key {
                case "user":
                    if case .scalar(let scalar) = value, !scalar.string.isEmpty {
                        user = scalar.string
                    } else {
                        problem(value, "departments.\(name).user must be a broker user name")
                    }
                case "types":
                    for item in list(value) {
                        guard let text = item.string, let type = EventType(rawValue: text) else {
                            let text = item.string ?? "?"
                            let close = Self.suggestion(text, EventType.allCases.map(\.rawValue))
                            problem(item, "departments.\(name).types: '\(text)' is not an event type\(close) (known: \(EventType.allCases.map(\.rawValue).joined(separator: ", ")))")
                            complete = false
                            continue
                        }
                        types.append(type)
                    }
                case "sources":
                    for item in list(value) {
                        do throws(PermissionsError) {
                            sources.append(try SourcePattern(parsing: item.string ?? ""))
                        } catch {
                            problem(item, "departments.\(name).sources: \(error.message)")
                            complete = false
                        }
                    }
                default:
                    problem(keyNode, "unknown key 'departments.\(name).\(key)'\(Self.suggestion(key, Self.departmentKeys)) (known: \(Self.departmentKeys.joined(separator: ", ")))")
                    complete = false
                }
            }
            let missing = Self.departmentKeys.filter { key in fields[Node(key)] == nil }
            if !missing.isEmpty {
                problem(fieldsNode, "department '\(name)' lacks \(missing.joined(separator: ", "))")
                continue
            }
            guard complete, let user else { continue }
            do throws(PermissionsError) {
                departments.append(try Department(name: name, user: user, types: types, sources: sources))
                lines.append(nameNode.mark?.line ?? 1)
            } catch {
                problem(nameNode, error.message)
            }
        }
        if !problems.isEmpty { throw SettingsError(.config, problems) }
        let users = try brokerUsers()
        do throws(PermissionsError) {
            return try Departments(departments, replayUsers: users.operators)
        } catch {
            throw SettingsError(.config, "Config error: \(path):\(node.mark?.line ?? 1): \(error.message)")
        }

        /// A YAML list, or a single value as a list of one.
        func list(_ node: Node) -> [Node] {
            switch node {
            case .sequence(let sequence): return Array(sequence)
            case .scalar: return [node]
            default:
                problem(node, "must be a list")
                return []
            }
        }
    }

    /// Reads `broker_users:` (all optional):
    ///
    /// ```yaml
    /// broker_users:
    ///   worker: lode-worker        # lodectl dlq trusts x-lode-* headers only on its messages
    ///   operators: [lode-ctl]      # lodectl's users: replay dead letters for a department
    ///   monitoring: lode-monitor   # read-only figures (management API)
    /// ```
    public func brokerUsers() throws(SettingsError) -> BrokerUsers {
        guard let node = section("broker_users") else { return BrokerUsers() }
        guard case .mapping(let mapping) = node else {
            throw SettingsError(.config, "Config error: \(path):\(node.mark?.line ?? 1): 'broker_users' must be a mapping with keys \(Self.brokerUserKeys.joined(separator: ", "))")
        }
        var users = BrokerUsers()
        var problems: [String] = []
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            let line = value.mark?.line ?? 1
            switch (key, value) {
            case ("worker", .scalar(let scalar)) where !scalar.string.isEmpty: users.worker = scalar.string
            case ("monitoring", .scalar(let scalar)) where !scalar.string.isEmpty: users.monitoring = scalar.string
            case ("operators", .scalar(let scalar)) where !scalar.string.isEmpty: users.operators = [scalar.string]
            case ("operators", .sequence(let items)):
                for item in items {
                    if let name = item.string, !name.isEmpty {
                        users.operators.append(name)
                    } else {
                        problems.append("Config error: \(path):\(item.mark?.line ?? line): broker_users.operators must list broker user names")
                    }
                }
            case ("worker", _), ("monitoring", _), ("operators", _):
                problems.append("Config error: \(path):\(line): broker_users.\(key) must be a broker user name\(key == "operators" ? " or a list of them" : "")")
            default:
                problems.append("Config error: \(path):\(keyNode.mark?.line ?? 1): unknown key 'broker_users.\(key)'\(Self.suggestion(key, Self.brokerUserKeys)) (known: \(Self.brokerUserKeys.joined(separator: ", ")))")
            }
        }
        if !problems.isEmpty { throw SettingsError(.config, problems) }
        return users
    }
}
