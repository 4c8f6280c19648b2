import LodeProjections
import Yams

extension ConfigFile {
    /// The report's targets (contract section 4), by year, from the `targets` section:
    ///
    /// ```yaml
    /// targets:
    ///   2024:
    ///     - name: 稀土永磁电机项目引进
    ///       figure: recruitment.projects_introduced.pm_motor
    ///       target: 30
    /// ```
    ///
    /// Every problem (a year that is not a year, an unknown figure, a target below 1, a missing
    /// or unknown key) is reported as `FILE:LINE: message`, all at once.
    public func reportTargets() throws(SettingsError) -> [Int: [ReportTarget]] {
        guard let node = section("targets") else { return [:] }
        var problems: [String] = []
        func problem(_ node: Node, _ message: String) {
            problems.append("Config error: \(path):\(node.mark?.line ?? 1): \(message)")
        }
        guard case .mapping(let years) = node else {
            throw SettingsError(.config, "Config error: \(path):\(node.mark?.line ?? 1): 'targets' must be a mapping from a year to a list of targets")
        }
        let keys = ["name", "figure", "target"]
        var targets: [Int: [ReportTarget]] = [:]
        for (yearNode, list) in years {
            guard let year = Int(yearNode.string ?? ""), (1900...9999).contains(year) else {
                problem(yearNode, "'targets' keys must be years such as 2024, found '\(yearNode.string ?? "?")'")
                continue
            }
            guard case .sequence(let items) = list else {
                problem(list, "'targets.\(year)' must be a list of targets, each with \(keys.joined(separator: ", "))")
                continue
            }
            for item in items {
                guard case .mapping(let fields) = item else {
                    problem(item, "each target of \(year) must be a mapping with \(keys.joined(separator: ", "))")
                    continue
                }
                var values: [String: String] = [:]
                for (keyNode, value) in fields {
                    let key = keyNode.string ?? ""
                    if !keys.contains(key) {
                        problem(keyNode, "unknown key '\(key)' in a target of \(year)\(Self.suggestion(key, keys)) (known: \(keys.joined(separator: ", ")))")
                    } else if case .scalar(let scalar) = value {
                        values[key] = scalar.string
                    } else {
                        problem(value, "'\(key)' of a target must be a single value")
                    }
                }
                let missing = keys.filter { values[$0] == nil }
                guard missing.isEmpty else {
                    problem(item, "a target of \(year) lacks \(missing.joined(separator: ", "))")
                    continue
                }
                guard let number = Int64(values["target"]!) else {
                    problem(item, "target '\(values["name"]!)': 'target' must be a whole number, found '\(values["target"]!)'")
                    continue
                }
                do throws(ReportTargetError) {
                    targets[year, default: []].append(try ReportTarget(name: values["name"]!, path: values["figure"]!, target: number))
                } catch {
                    problem(item, error.message)
                }
            }
        }
        if !problems.isEmpty { throw SettingsError(.config, problems) }
        return targets
    }
}
