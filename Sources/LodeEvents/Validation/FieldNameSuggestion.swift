/// Suggests the field a mistyped key probably meant (spreadsheet headers
/// are the usual source: `Total Investment`, `total-investment`, `plan_yaer`).
enum FieldNameSuggestion {
    static func closest(to key: String, among names: [String]) -> String? {
        let normalized = normalize(key)
        if let exact = names.first(where: { $0 == normalized }) {
            return exact
        }
        let candidates = names
            .map { (name: $0, distance: EditDistance.between(Array(normalized.utf8), Array($0.utf8))) }
            .filter { $0.distance <= 2 }
        return candidates.min { $0.distance < $1.distance }?.name
    }

    private static func normalize(_ key: String) -> String {
        key.lowercased().split { $0 == " " || $0 == "-" || $0 == "_" }.joined(separator: "_")
    }

}

/// Levenshtein distance, for the "did you mean" suggestions of every input Lodestone reads
/// (event fields, CSV headers, config keys).
public enum EditDistance {
    public static func between<Element: Equatable>(_ a: [Element], _ b: [Element]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
