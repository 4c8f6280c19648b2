/// One problem of the input, at the line it starts on: printed as `FILE:LINE: message`.
public struct InputProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file as the user named it (`-` reads as `<stdin>`).
    public var file: String
    /// 1-based; for a CSV record, the first line of the record.
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { "\(file):\(line): \(message)" }
}

/// Every problem found in an input; nothing of it may be published.
public struct InvalidInput: Error, Sendable, CustomStringConvertible {
    public var problems: [InputProblem]

    public init(_ problems: [InputProblem]) {
        self.problems = problems
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
