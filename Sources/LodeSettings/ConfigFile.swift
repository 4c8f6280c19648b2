import Foundation
import LodeEvents
import Yams

/// The YAML config file (`--config` / `LODE_CONFIG`), checked against the keys Lodestone knows.
///
/// Every bad key is reported with its place, as `FILE:LINE: message`, all of them at once. The
/// sections this library reads itself (`amqp`, `db`, `timezone`, `metrics`, `log`) are checked key by key; other
/// top-level sections (`targets`, `notifications`, ...) are accepted by name and left to the
/// program that reads them, through ``section(_:)``.
public struct ConfigFile: @unchecked Sendable {
    // @unchecked: `Yams.Node` is an immutable value tree that is never mutated after parsing;
    // Yams only lacks the annotation.

    /// A scalar setting with the line it was written on.
    public struct Entry: Sendable, Equatable {
        public let value: String
        public let line: Int
    }

    /// The top-level sections any Lodestone program may find in the shared config file.
    public static let knownSections: Set<String> = [
        "amqp", "db", "timezone", "language", "targets", "notifications", "rules", "channels", "worker", "metrics", "publish", "log",
    ]
    /// The keys of the `amqp` section.
    public static let amqpKeys = ["url", "password", "password_file"]
    /// The keys of the `metrics` section (see ``MetricsAddress``).
    public static let metricsKeys = ["address"]
    /// The keys of the `log` section (see ``LogSettings``).
    public static let logKeys = ["format", "level"]
    /// The keys of the `db` section, when it is a mapping rather than a path or URL.
    public static let dbKeys = ["url", "password", "password_file"]

    public let path: String
    /// `amqp.url`, `amqp.password`, `amqp.password_file`, `db` (from `db` or `db.url`), `db.password`,
    /// `db.password_file`, `timezone`, `language`, `metrics.address`, `log.format`, `log.level`, when present.
    public let entries: [String: Entry]
    private let root: Node.Mapping?

    /// Reads and checks the file; throws `.unreadableFile` or `.config` with every problem found.
    public static func load(path: String) throws(SettingsError) -> ConfigFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SettingsError(.unreadableFile, "Config error: cannot read config file \(path): \(Self.reason(error))")
        }
        return try ConfigFile(path: path, yaml: text)
    }

    /// Parses and checks `yaml` as the content of the file at `path` (used in messages).
    public init(path: String, yaml: String) throws(SettingsError) {
        self.path = path
        let document: Node?
        do {
            document = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            // YamlError's own description quotes the offending line, which may hold a password.
            throw SettingsError(.config, Self.describe(error, path: path))
        } catch {
            throw SettingsError(.config, "Config error: \(path): not valid YAML")
        }
        var problems: [String] = []
        var entries: [String: Entry] = [:]
        func problem(_ node: Node?, _ message: String) {
            problems.append("Config error: \(path):\(node?.mark?.line ?? 1): \(message)")
        }
        func scalar(_ node: Node, _ key: String) -> Entry? {
            guard case .scalar(let scalar) = node else {
                problem(node, "'\(key)' must be a single value (a string), found a \(Self.kind(of: node))")
                return nil
            }
            return Entry(value: scalar.string, line: node.mark?.line ?? 1)
        }
        var root: Node.Mapping?
        switch document {
        case nil:
            break  // an empty file: all defaults
        case .mapping(let mapping)?:
            root = mapping
        case let node?:
            problem(node, "the config file must be a mapping of settings (key: value), found a \(Self.kind(of: node))")
        }
        for (keyNode, value) in root ?? [:] {
            let key = keyNode.string ?? ""
            switch key {
            case "db":
                // A path or URL, or a mapping with the URL and PostgreSQL's password.
                guard case .mapping(let section) = value else {
                    if let entry = scalar(value, key) { entries[key] = entry }
                    continue
                }
                for (subKeyNode, subValue) in section {
                    let subKey = subKeyNode.string ?? ""
                    if Self.dbKeys.contains(subKey) {
                        if let entry = scalar(subValue, "db.\(subKey)") { entries[subKey == "url" ? "db" : "db.\(subKey)"] = entry }
                    } else {
                        problem(subKeyNode, "unknown key 'db.\(subKey)'\(Self.suggestion(subKey, Self.dbKeys)) (known: \(Self.dbKeys.joined(separator: ", ")))")
                    }
                }
            case "amqp", "metrics", "log":
                let keys = key == "amqp" ? Self.amqpKeys : key == "log" ? Self.logKeys : Self.metricsKeys
                guard case .mapping(let section) = value else {
                    problem(value, "'\(key)' must be a mapping with keys \(keys.joined(separator: ", "))")
                    continue
                }
                for (subKeyNode, subValue) in section {
                    let subKey = subKeyNode.string ?? ""
                    if keys.contains(subKey) {
                        if let entry = scalar(subValue, "\(key).\(subKey)") { entries["\(key).\(subKey)"] = entry }
                    } else {
                        problem(subKeyNode, "unknown key '\(key).\(subKey)'\(Self.suggestion(subKey, keys)) (known: \(keys.joined(separator: ", ")))")
                    }
                }
            case "timezone", "language":
                if let entry = scalar(value, key) { entries[key] = entry }
            default:
                if !Self.knownSections.contains(key) {
                    problem(keyNode, "unknown key '\(key)'\(Self.suggestion(key, Array(Self.knownSections)))")
                }
            }
        }
        if !problems.isEmpty { throw SettingsError(.config, problems) }
        self.entries = entries
        self.root = root
    }

    /// A top-level section for the program that owns it (e.g. `targets`), or `nil`.
    public func section(_ name: String) -> Node? {
        root?[Node(name)]
    }

    static func describe(_ error: YamlError, path: String) -> String {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
             .composer(_, let problem, let mark, _):
            "Config error: \(path):\(mark.line): not valid YAML: \(problem)"
        default:
            "Config error: \(path): not valid YAML"
        }
    }

    static func kind(of node: Node) -> String {
        switch node {
        case .scalar: "value"
        case .mapping: "mapping"
        case .sequence: "list"
        case .alias: "alias"
        }
    }

    static func reason(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadNoSuchFileError { return "no such file" }
        if nsError.domain == NSCocoaErrorDomain, nsError.code == NSFileReadInapplicableStringEncodingError { return "not UTF-8 text" }
        return nsError.localizedDescription
    }

    /// ` (did you mean 'x'?)` for a close known key, else empty.
    static func suggestion(_ key: String, _ known: [String]) -> String {
        var best: (name: String, distance: Int)?
        for name in known {
            let distance = EditDistance.between(Array(key), Array(name))
            if distance <= max(1, name.count / 3), distance < (best?.distance ?? .max) { best = (name, distance) }
        }
        return best.map { " (did you mean '\($0.name)'?)" } ?? ""
    }

}
