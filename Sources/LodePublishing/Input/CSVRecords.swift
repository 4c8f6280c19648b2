/// One record of a CSV file: its cells and the line it starts on.
public struct CSVRecord: Sendable, Hashable {
    public var cells: [String]
    /// 1-based line of the record's first character.
    public var line: Int
}

/// Splits CSV text into records, as RFC 4180 says and spreadsheets write it: comma-separated,
/// CRLF or LF line ends, a field in double quotes may hold commas, line breaks and `""` for a
/// quote; a leading UTF-8 byte order mark is skipped.
///
/// Lenient where no meaning is lost: a quote inside an unquoted field is kept as a character,
/// and a last line without a line break is a record. Strict where it would be: text after a
/// closing quote, an unclosed quote, and bytes that are not UTF-8 are errors.
public enum CSVRecords {
    public struct Failure: Error, Sendable, Hashable {
        public var line: Int
        public var message: String
    }

    /// The delimiter of a header line: a tab when the line has tabs and no comma, else a comma.
    public static func delimiter(of bytes: [UInt8]) -> UInt8 {
        let firstLine = bytes.prefix { $0 != UInt8(ascii: "\n") }
        let hasTab = firstLine.contains(UInt8(ascii: "\t"))
        let hasComma = firstLine.contains(UInt8(ascii: ","))
        return hasTab && !hasComma ? UInt8(ascii: "\t") : UInt8(ascii: ",")
    }

    /// The records of `bytes`, fields separated by `delimiter` (a comma, or a tab in Excel's
    /// "Unicode text"); lines that are entirely empty are skipped.
    public static func parse(_ bytes: [UInt8], delimiter: UInt8 = UInt8(ascii: ",")) throws(Failure) -> [CSVRecord] {
        var index = 0
        let end = bytes.count
        if end >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        var records: [CSVRecord] = []
        var line = 1
        let quote = UInt8(ascii: "\""), comma = delimiter, cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n")

        func text(_ slice: ArraySlice<UInt8>, line: Int) throws(Failure) -> String {
            guard let string = String(validating: slice, as: UTF8.self) else {
                throw Failure(line: line, message: """
                    the file is not UTF-8 text (a spreadsheet saved in a local encoding such as GBK?); \
                    save it as "CSV UTF-8" and try again
                    """)
            }
            return string
        }

        while index < end {
            let recordLine = line
            var cells: [String] = []
            var atRecordEnd = false
            // An empty line (a trailing one, or a blank between records) is no record.
            if bytes[index] == lf || (bytes[index] == cr && index + 1 < end && bytes[index + 1] == lf) {
                index += bytes[index] == cr ? 2 : 1
                line += 1
                continue
            }
            while !atRecordEnd {
                if index < end, bytes[index] == quote {
                    // A quoted field.
                    index += 1
                    var field: [UInt8] = []
                    var closed = false
                    while index < end {
                        let byte = bytes[index]
                        if byte == quote {
                            if index + 1 < end, bytes[index + 1] == quote {
                                field.append(quote)
                                index += 2
                                continue
                            }
                            index += 1
                            closed = true
                            break
                        }
                        if byte == lf { line += 1 }
                        field.append(byte)
                        index += 1
                    }
                    guard closed else {
                        throw Failure(line: recordLine, message: "a quoted field opened in this record is never closed (a missing '\"')")
                    }
                    cells.append(try text(field[...], line: recordLine))
                    if index < end, bytes[index] != comma, bytes[index] != lf, bytes[index] != cr {
                        throw Failure(line: line, message: """
                            text after the closing quote of a field; inside a quoted field write a quote as ""
                            """)
                    }
                } else {
                    let start = index
                    while index < end, bytes[index] != comma, bytes[index] != lf, bytes[index] != cr { index += 1 }
                    cells.append(try text(bytes[start..<index], line: line))
                }
                // After a field: a comma, a line end, or the end of the input.
                if index >= end {
                    atRecordEnd = true
                } else if bytes[index] == comma {
                    index += 1
                    if index >= end { cells.append("") ; atRecordEnd = true }
                } else if bytes[index] == cr {
                    index += 1
                    if index < end, bytes[index] == lf { index += 1 }
                    line += 1
                    atRecordEnd = true
                } else {
                    index += 1
                    line += 1
                    atRecordEnd = true
                }
            }
            records.append(CSVRecord(cells: cells, line: recordLine))
        }
        return records
    }
}
