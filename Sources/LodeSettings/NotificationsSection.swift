import Foundation
import LodeAMQP
import LodeEvents
import LodeNotifications
import LodeProjections
import Yams

/// The channels and rules of the config file, checked against each other and
/// against `targets:` (see docs/notifications.md).
public struct NotificationSettings: Sendable {
    /// By name.
    public var channels: [String: ChannelConfiguration]
    /// In the file's order.
    public var rules: [NotificationRule]

    public init(channels: [String: ChannelConfiguration] = [:], rules: [NotificationRule] = []) {
        self.channels = channels
        self.rules = rules
    }
}

extension ConfigFile {
    /// The keys of a channel in `channels:`.
    public static let channelKeys = ["kind", "url", "url_file", "url_env", "secret", "secret_file", "secret_env", "format"]
    /// The keys of a rule in `notifications:`.
    public static let ruleKeys = [
        "name", "event", "target", "figure", "status", "category", "industry", "campaign", "amount_at_least",
        "milestones", "threshold", "channels", "title", "message",
    ]

    /// Reads `channels:` and `notifications:`:
    ///
    /// ```yaml
    /// channels:
    ///   office:
    ///     kind: dingtalk            # webhook, dingtalk, wecom, slack, log
    ///     url: https://oapi.dingtalk.com/robot/send?access_token=TOKEN
    ///     secret_env: LODE_DINGTALK_SECRET
    /// notifications:
    ///   - name: project-started
    ///     event: zone.project.status_changed
    ///     status: [started, in_production]
    ///     channels: [office]
    ///     message: "{project_name}（{project_id}）已开工"
    /// ```
    ///
    /// A URL or secret is given inline, in a file (`*_file`, trailing line
    /// breaks dropped) or in an environment variable (`*_env`), and is never
    /// repeated in a message. Every problem (an unknown channel, figure,
    /// target, placeholder, condition or key; a secret that cannot be read)
    /// is reported as `FILE:LINE: message`, all at once.
    ///
    /// - Parameters:
    ///   - environment: where `*_env` settings are read.
    ///   - readFile: reads `*_file` settings (injectable for tests).
    public func notificationSettings(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        readFile: (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) }
    ) throws(SettingsError) -> NotificationSettings {
        var problems: [String] = []
        func problem(_ node: Node?, _ message: String) {
            problems.append("Config error: \(path):\(node?.mark?.line ?? 1): \(message)")
        }
        if let rules = section("rules") {
            problem(rules, "notification rules go under 'notifications:' (a list of rules), not 'rules:'")
        }
        var targetNames: Set<String> = []
        do {
            for (_, targets) in try reportTargets() { targetNames.formUnion(targets.map(\.name)) }
        } catch {
            problems.append(contentsOf: error.messages)
        }

        // Channels.
        var channels: [String: ChannelConfiguration] = [:]
        if let node = section("channels") {
            if case .mapping(let mapping) = node {
                for (nameNode, channelNode) in mapping {
                    let name = nameNode.string ?? ""
                    guard case .mapping(let fields) = channelNode else {
                        problem(channelNode, "channel '\(name)' must be a mapping with 'kind' and its settings")
                        continue
                    }
                    var values: [String: (String, Node)] = [:]
                    for (keyNode, value) in fields {
                        let key = keyNode.string ?? ""
                        if !Self.channelKeys.contains(key) {
                            problem(keyNode, "unknown key '\(key)' in channel '\(name)'\(Self.suggestion(key, Self.channelKeys)) (known: \(Self.channelKeys.joined(separator: ", ")))")
                        } else if case .scalar(let scalar) = value {
                            values[key] = (scalar.string, value)
                        } else {
                            problem(value, "'\(key)' of channel '\(name)' must be a single value")
                        }
                    }
                    guard let (kindText, kindNode) = values["kind"] else {
                        problem(channelNode, "channel '\(name)' lacks 'kind' (one of \(ChannelConfiguration.Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
                        continue
                    }
                    guard let kind = ChannelConfiguration.Kind(rawValue: kindText) else {
                        let kinds = ChannelConfiguration.Kind.allCases.map(\.rawValue)
                        problem(kindNode, "channel '\(name)': unknown kind '\(kindText)'\(Self.suggestion(kindText, kinds)) (known: \(kinds.joined(separator: ", ")))")
                        continue
                    }
                    var format = ChannelConfiguration.ChatFormat.text
                    if let (formatText, formatNode) = values["format"] {
                        guard let parsed = ChannelConfiguration.ChatFormat(rawValue: formatText) else {
                            problem(formatNode, "channel '\(name)': 'format' must be text or markdown, found '\(formatText)'")
                            continue
                        }
                        format = parsed
                    }
                    var unreadable = false
                    func secret(_ base: String) -> SecretText? {
                        let given = ["", "_file", "_env"].compactMap { suffix in values[base + suffix].map { (base + suffix, $0) } }
                        guard let (key, (text, node)) = given.first else { return nil }
                        guard given.count == 1 else {
                            problem(node, "channel '\(name)': give one of \(given.map { "'\($0.0)'" }.joined(separator: ", ")), not several")
                            unreadable = true
                            return nil
                        }
                        switch key {
                        case base + "_file":
                            do {
                                var content = Substring(try readFile(text))
                                while let last = content.last, last == "\n" || last == "\r" { content.removeLast() }
                                guard !content.isEmpty else {
                                    problem(node, "channel '\(name)': \(key) \(text) is empty")
                                    unreadable = true
                                    return nil
                                }
                                return SecretText(String(content))
                            } catch {
                                problem(node, "channel '\(name)': cannot read \(key) \(text): \(Self.reason(error))")
                                unreadable = true
                                return nil
                            }
                        case base + "_env":
                            guard let value = environment[text], !value.isEmpty else {
                                problem(node, "channel '\(name)': environment variable \(text) (\(key)) is not set")
                                unreadable = true
                                return nil
                            }
                            return SecretText(value)
                        default:
                            return SecretText(text)
                        }
                    }
                    let url = secret("url")
                    let signingSecret = secret("secret")
                    guard !unreadable else { continue }
                    do throws(NotificationConfigError) {
                        channels[name] = try ChannelConfiguration(name: name, kind: kind, url: url, secret: signingSecret, format: format)
                    } catch {
                        problem(channelNode, error.message)
                    }
                }
            } else {
                problem(node, "'channels' must be a mapping from a channel's name to its kind and settings")
            }
        }

        // Rules.
        var rules: [NotificationRule] = []
        var ruleNames: Set<String> = []
        if let node = section("notifications") {
            if case .sequence(let items) = node {
                for item in items {
                    if let rule = readRule(item, declaredChannels: declaredChannelNames(), targetNames: targetNames, problem: problem) {
                        if ruleNames.insert(rule.name).inserted {
                            rules.append(rule)
                        } else {
                            problem(item, "two rules are named '\(rule.name)': a rule's name is part of its notification keys")
                        }
                    }
                }
            } else {
                problem(node, "'notifications' must be a list of rules, each with name, event/target/figure, channels, message")
            }
        }
        if !problems.isEmpty { throw SettingsError(.config, problems) }
        return NotificationSettings(channels: channels, rules: rules)
    }

    /// The names under `channels:`, valid or not (a rule naming a channel with
    /// bad settings is not reported twice).
    private func declaredChannelNames() -> Set<String> {
        guard case .mapping(let mapping)? = section("channels") else { return [] }
        return Set(mapping.keys.compactMap(\.string))
    }

    private func readRule(
        _ item: Node, declaredChannels: Set<String>, targetNames: Set<String>,
        problem: (Node?, String) -> Void
    ) -> NotificationRule? {
        guard case .mapping(let fields) = item else {
            problem(item, "each rule of 'notifications' must be a mapping with name, event/target/figure, channels, message")
            return nil
        }
        var scalars: [String: (String, Node)] = [:]
        var lists: [String: ([String], Node)] = [:]
        var bad = false
        for (keyNode, value) in fields {
            let key = keyNode.string ?? ""
            guard Self.ruleKeys.contains(key) else {
                problem(keyNode, "unknown key '\(key)' in a rule\(Self.suggestion(key, Self.ruleKeys)) (known: \(Self.ruleKeys.joined(separator: ", ")))")
                bad = true
                continue
            }
            switch value {
            case .scalar(let scalar):
                scalars[key] = (scalar.string, value)
                lists[key] = ([scalar.string], value)
            case .sequence(let sequence):
                var elements: [String] = []
                for element in sequence {
                    guard case .scalar(let scalar) = element else {
                        problem(element, "'\(key)' must list single values")
                        bad = true
                        continue
                    }
                    elements.append(scalar.string)
                }
                lists[key] = (elements, value)
            default:
                problem(value, "'\(key)' must be a single value or a list")
                bad = true
            }
        }
        let label = scalars["name"].map { "rule '\($0.0)'" } ?? "a rule"
        for key in ["name", "event", "target", "figure", "title", "message"] where scalars[key] == nil && lists[key] != nil {
            problem(lists[key]!.1, "\(label): '\(key)' must be a single value")
            bad = true
        }
        let missing = ["name", "channels", "message"].filter { lists[$0] == nil }
        if !missing.isEmpty {
            problem(item, "\(label) lacks \(missing.joined(separator: ", "))")
            return nil
        }
        guard !bad else { return nil }
        let (name, nameNode) = scalars["name"]!
        do throws(NotificationConfigError) {
            try NotificationRule.checkName(name)
        } catch {
            problem(nameNode, error.message)
            return nil
        }
        let label2 = "rule '\(name)'"

        // The trigger: exactly one of event, target, figure.
        let triggerKeys = ["event", "target", "figure"].filter { scalars[$0] != nil }
        guard triggerKeys.count == 1 else {
            problem(item, "\(label2) needs exactly one of 'event', 'target', 'figure', found \(triggerKeys.isEmpty ? "none" : triggerKeys.joined(separator: ", "))")
            return nil
        }
        let conditionKeys = ["status", "category", "industry", "campaign", "amount_at_least"]
        let trigger: NotificationTrigger
        switch triggerKeys[0] {
        case "event":
            let (typeText, typeNode) = scalars["event"]!
            guard let type = EventType(rawValue: typeText) else {
                let types = EventType.allCases.map(\.rawValue)
                problem(typeNode, "\(label2): unknown event type '\(typeText)'\(Self.suggestion(typeText, types)) (known: \(types.joined(separator: ", ")))")
                return nil
            }
            let applicable = EventConditions.keys(for: type)
            for key in conditionKeys + ["milestones", "threshold"] where lists[key] != nil && !applicable.contains(key) {
                problem(lists[key]!.1, "\(label2): condition '\(key)' does not apply to \(type.rawValue) (its conditions: \(applicable.joined(separator: ", ")))")
                return nil
            }
            var conditions = EventConditions()
            /// The values of a list condition, each one of `T`'s cases, or nil after reporting the first that is not.
            func members<T: RawRepresentable & CaseIterable & Hashable>(_ key: String, as _: T.Type) -> Set<T>?? where T.RawValue == String {
                guard let (values, node) = lists[key] else { return .some(nil) }
                var members: Set<T> = []
                for value in values {
                    guard let member = T(rawValue: value) else {
                        let known = T.allCases.map(\.rawValue)
                        problem(node, "\(label2): unknown \(key) '\(value)'\(Self.suggestion(value, known)) (known: \(known.joined(separator: ", ")))")
                        return nil
                    }
                    members.insert(member)
                }
                return .some(members)
            }
            guard let statuses = members("status", as: ProjectStatus.self) else { return nil }
            if let statuses { conditions.statuses = statuses }
            for key in ["category", "industry"] {
                guard let categories = members(key, as: Category.self) else { return nil }
                if let categories { conditions.categories = categories }
            }
            if let (values, _) = lists["campaign"] { conditions.campaigns = Set(values) }
            if let (values, node) = lists["amount_at_least"] {
                guard values.count == 1, let amount = Self.wholeNumber(values[0]), amount >= 0 else {
                    problem(node, "\(label2): 'amount_at_least' must be one whole number of yuan (100000000 is 1 亿元), found '\(values.joined(separator: ", "))'")
                    return nil
                }
                conditions.minimumAmount = amount
            }
            trigger = .event(type, conditions)
        case "target":
            let (targetName, targetNode) = scalars["target"]!
            for key in conditionKeys + ["threshold"] where lists[key] != nil {
                problem(lists[key]!.1, "\(label2): '\(key)' does not apply to a target rule (it takes 'milestones')")
                return nil
            }
            if targetName != "*", !targetNames.contains(targetName) {
                let known = targetNames.sorted()
                problem(targetNode, "\(label2): no target is named '\(targetName)' in 'targets:'\(Self.suggestion(targetName, known))"
                    + (known.isEmpty ? " (there are no targets)" : " (known: \(known.joined(separator: ", ")); '*' is every target)"))
                return nil
            }
            var milestones = [100]
            if let (values, node) = lists["milestones"] {
                milestones = []
                for value in values {
                    let digits = value.hasSuffix("%") ? String(value.dropLast()) : value
                    guard let milestone = Int(digits) else {
                        problem(node, "\(label2): a milestone is a whole percentage such as 80, found '\(value)'")
                        return nil
                    }
                    milestones.append(milestone)
                }
            }
            trigger = .targetMilestones(target: targetName == "*" ? nil : targetName, milestones: milestones)
        default:
            let (figurePath, figureNode) = scalars["figure"]!
            for key in conditionKeys + ["milestones"] where lists[key] != nil {
                problem(lists[key]!.1, "\(label2): '\(key)' does not apply to a figure rule (it takes 'threshold')")
                return nil
            }
            let figure: ReportFigure
            do throws(ReportTargetError) {
                figure = try ReportFigure(path: figurePath)
            } catch {
                problem(figureNode, "\(label2): \(error.message)")
                return nil
            }
            guard let (values, node) = lists["threshold"] else {
                problem(item, "\(label2): a figure rule needs 'threshold' (a number, or a list of numbers)")
                return nil
            }
            var thresholds: [Int64] = []
            for value in values {
                guard let threshold = Self.wholeNumber(value) else {
                    problem(node, "\(label2): a threshold is a whole number, found '\(value)'")
                    return nil
                }
                thresholds.append(threshold)
            }
            trigger = .figureThresholds(figure, thresholds: thresholds)
        }

        // Channels.
        let (channelNames, channelsNode) = lists["channels"]!
        for channel in channelNames where !declaredChannels.contains(channel) {
            let known = declaredChannels.sorted()
            problem(channelsNode, "\(label2): unknown channel '\(channel)'\(Self.suggestion(channel, known))"
                + (known.isEmpty ? " ('channels:' declares none)" : " (known: \(known.joined(separator: ", ")))"))
            return nil
        }

        // Templates.
        func template(_ key: String) -> Template?? {
            guard let (text, node) = scalars[key] else { return .some(nil) }
            do throws(NotificationConfigError) {
                return try Template(text, allowed: trigger.placeholders, context: trigger.ruleDescription)
            } catch {
                problem(node, "\(label2): '\(key)': \(error.message)")
                return nil
            }
        }
        guard let title = template("title"), let message = template("message"), let message else { return nil }
        do throws(NotificationConfigError) {
            return try NotificationRule(name: name, trigger: trigger, channels: channelNames, title: title, message: message)
        } catch {
            problem(item, "\(label2): \(error.message)")
            return nil
        }
    }

    /// A whole number as YAML writes it, `_` allowed between digits: `100_000_000`.
    static func wholeNumber(_ text: String) -> Int64? {
        let digits = text.replacingOccurrences(of: "_", with: "")
        guard !digits.isEmpty, !text.hasPrefix("_"), !text.hasSuffix("_") else { return nil }
        return Int64(digits)
    }
}

extension NotificationSettings {
    /// Warnings for the log at start: a channel whose URL carries a credential (a chat robot's
    /// URL is its token; a webhook's user-info or query) over plain `http://` to another machine.
    /// Each names the channel and the host only.
    public var insecureURLWarnings: [String] {
        channels.values.sorted { $0.name < $1.name }.compactMap { channel in
            guard let text = channel.url?.revealed, let url = URL(string: text), url.scheme?.lowercased() == "http",
                  let host = url.host, !isLoopbackHost(host) else { return nil }
            let carries = channel.kind != .webhook || url.user != nil || url.password != nil || url.query != nil
            guard carries else { return nil }
            return "channel '\(channel.name)' posts over plain http:// to \(host) with a credential in its URL (the robot's token, a user-info or a query): anyone on the network path can read and reuse it; use https://"
        }
    }
}
