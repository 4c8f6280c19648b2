/// One problem of the input, at the line it starts on or the cell it is in: printed as
/// `FILE:LINE: message`, or `FILE:SHEET!D7: message` for a workbook.
public struct InputProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file as the user named it (`-` reads as `<stdin>`).
    public var file: String
    /// 1-based; for a CSV record, the first line of the record; for a worksheet, the row.
    public var line: Int
    /// In a workbook: the cell, `项目登记!D7`.
    public var cell: String?
    public var message: String

    public init(file: String, line: Int, cell: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.cell = cell
        self.message = message
    }

    public var description: String { "\(file):\(cell ?? String(line)): \(message)" }
}

/// Every problem found in an input; nothing of it may be published.
public struct InvalidInput: Error, Sendable, CustomStringConvertible {
    public var problems: [InputProblem]

    public init(_ problems: [InputProblem]) {
        self.problems = problems
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
