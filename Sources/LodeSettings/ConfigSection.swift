import Yams

extension ConfigFile {
    /// The scalar settings of the top-level mapping `section` (e.g. `worker`), each with its line;
    /// empty when the file has no such section. Every key not in `keys`, and every value that is
    /// not a single value, is reported as `FILE:LINE: message`, all at once.
    public func scalars(of section: String, keys: [String]) throws(SettingsError) -> [String: Entry] {
        guard let node = self.section(section) else { return [:] }
        guard case .mapping(let mapping) = node else {
            throw SettingsError(.config, "Config error: \(path):\(node.mark?.line ?? 1): '\(section)' must be a mapping with keys \(keys.joined(separator: ", "))")
        }
        var entries: [String: Entry] = [:]
        var problems: [String] = []
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            guard keys.contains(key) else {
                problems.append("Config error: \(path):\(keyNode.mark?.line ?? 1): unknown key '\(section).\(key)'\(Self.suggestion(key, keys)) (known: \(keys.joined(separator: ", ")))")
                continue
            }
            guard case .scalar(let scalar) = value else {
                problems.append("Config error: \(path):\(value.mark?.line ?? 1): '\(section).\(key)' must be a single value, found a \(Self.kind(of: value))")
                continue
            }
            entries[key] = Entry(value: scalar.string, line: value.mark?.line ?? 1)
        }
        if !problems.isEmpty { throw SettingsError(.config, problems) }
        return entries
    }

    /// `entry` read as a whole number within `range`, or a `FILE:LINE:` error naming `key`.
    public func integer(_ entry: Entry, key: String, in range: ClosedRange<Int>) throws(SettingsError) -> Int {
        guard let value = Int(entry.value), range.contains(value) else {
            throw SettingsError(.config, "Config error: \(path):\(entry.line): '\(key)' must be a whole number from \(range.lowerBound) to \(range.upperBound), found '\(entry.value)'")
        }
        return value
    }
}
