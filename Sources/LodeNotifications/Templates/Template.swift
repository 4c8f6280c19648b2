/// A message template: text in any language with `{placeholder}`s, e.g.
/// `{project_name}（{project_id}）已开工`. `{{` and `}}` write a literal brace.
///
/// Parsing checks every placeholder against those the rule's trigger
/// provides, so a typo is a config error at start, not a broken message later.
public struct Template: Sendable, Hashable, CustomStringConvertible {
    enum Part: Sendable, Hashable {
        case literal(String)
        case placeholder(Placeholder)
    }

    /// The template as written.
    public let text: String
    let parts: [Part]

    /// Parses `text`, allowing only the placeholders in `allowed`.
    ///
    /// Throws ``NotificationConfigError`` for an unknown placeholder (with a
    /// suggestion), a known one the trigger does not provide, an unclosed
    /// `{` or a lone `}`.
    public init(_ text: String, allowed: Set<Placeholder> = Set(Placeholder.allCases), context: String = "this rule")
        throws(NotificationConfigError)
    {
        self.text = text
        var parts: [Part] = []
        var literal = ""
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            let next = text.index(after: index)
            if character == "{" {
                if next < text.endIndex, text[next] == "{" {
                    literal.append("{")
                    index = text.index(after: next)
                    continue
                }
                guard let close = text[next...].firstIndex(of: "}") else {
                    throw NotificationConfigError("template has a '{' that is not closed: write '{{' for a literal brace")
                }
                let name = String(text[next..<close])
                guard let placeholder = Placeholder(rawValue: name) else {
                    let known = allowed.sorted().map(\.description).joined(separator: ", ")
                    throw NotificationConfigError(
                        "unknown placeholder {\(name)} in the template\(Self.suggestion(name, allowed)) (known here: \(known))")
                }
                guard allowed.contains(placeholder) else {
                    let known = allowed.sorted().map(\.description).joined(separator: ", ")
                    throw NotificationConfigError(
                        "placeholder \(placeholder) is not available in \(context) (available: \(known))")
                }
                if !literal.isEmpty { parts.append(.literal(literal)) }
                literal = ""
                parts.append(.placeholder(placeholder))
                index = text.index(after: close)
            } else if character == "}" {
                guard next < text.endIndex, text[next] == "}" else {
                    throw NotificationConfigError("template has a '}' that closes nothing: write '}}' for a literal brace")
                }
                literal.append("}")
                index = text.index(after: next)
            } else {
                literal.append(character)
                index = next
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    /// The placeholders the template uses.
    public var placeholders: Set<Placeholder> {
        Set(parts.compactMap { if case .placeholder(let placeholder) = $0 { placeholder } else { nil } })
    }

    /// The text with each placeholder replaced by its value; a placeholder
    /// with no value (an optional field the event leaves out) becomes empty.
    /// Values come from events: each goes through ``ChatText/neutralized(_:)``, so that the
    /// template's own markup is the only markup of the message.
    public func render(_ values: [Placeholder: String]) -> String {
        var result = ""
        for part in parts {
            switch part {
            case .literal(let text): result += text
            case .placeholder(let placeholder): result += ChatText.neutralized(values[placeholder] ?? "")
            }
        }
        return result
    }

    public var description: String { text }

    private static func suggestion(_ name: String, _ allowed: Set<Placeholder>) -> String {
        var best: (name: String, distance: Int)?
        for placeholder in allowed {
            let distance = editDistance(Array(name), Array(placeholder.rawValue))
            if distance <= max(1, placeholder.rawValue.count / 3), distance < (best?.distance ?? .max) {
                best = (placeholder.rawValue, distance)
            }
        }
        return best.map { " (did you mean {\($0.name)}?)" } ?? ""
    }

    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// A notification rule or channel that cannot be used; the config loader
/// puts `FILE:LINE:` in front of ``message``. Never holds a secret.
public struct NotificationConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
