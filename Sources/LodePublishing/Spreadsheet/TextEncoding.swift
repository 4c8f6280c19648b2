#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The text encodings spreadsheet programs save CSV in (contract section 2): UTF-8 with or
/// without a byte order mark ("CSV UTF-8"), GB18030 (a superset of GBK, Excel's "CSV" on
/// Chinese Windows) and UTF-16 with a byte order mark (Excel's "Unicode text").
public enum TextEncoding: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case utf8 = "utf-8"
    case gb18030
    case utf16 = "utf-16"

    public var description: String {
        switch self {
        case .utf8: "UTF-8"
        case .gb18030: "GB18030/GBK"
        case .utf16: "UTF-16"
        }
    }

    /// By the names `--encoding` takes: `utf-8`, `gb18030`, `gbk`, `gb2312`, `utf-16`
    /// (any letter case, with or without the hyphen).
    public init?(name: String) {
        switch name.lowercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "") {
        case "utf8": self = .utf8
        case "gb18030", "gbk", "gb2312", "cp936": self = .gb18030
        case "utf16", "utf16le", "utf16be", "unicode": self = .utf16
        default: return nil
        }
    }
}

/// Text decoded from a file, and the encoding it was in.
public struct DecodedText: Sendable {
    public var text: String
    public var encoding: TextEncoding
}

/// Why bytes are not text in the encodings tried: the first byte that is not, by line.
public struct TextDecodingFailure: Error, Sendable, Hashable {
    /// 1-based line of the first byte no encoding tried could read.
    public var line: Int
    public var message: String
}

extension TextEncoding {
    /// Decodes `bytes` as `forced`, or detects the encoding: a byte order mark names UTF-8 or
    /// UTF-16; otherwise UTF-8 when the bytes are valid UTF-8, else GB18030 when they are valid
    /// GB18030. A NUL byte is never text (a UTF-16 file without a byte order mark).
    public static func decode(_ bytes: [UInt8], forced: TextEncoding? = nil) throws(TextDecodingFailure) -> DecodedText {
        let hasUTF8BOM = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF
        let utf16BOM: UTF16Order? = bytes.count >= 2
            ? (bytes[0] == 0xFF && bytes[1] == 0xFE ? .little : bytes[0] == 0xFE && bytes[1] == 0xFF ? .big : nil) : nil

        switch forced {
        case .utf8?:
            return DecodedText(text: try utf8(bytes[(hasUTF8BOM ? 3 : 0)...], encoding: "UTF-8"), encoding: .utf8)
        case .gb18030?:
            return DecodedText(text: try gb18030(bytes[...]), encoding: .gb18030)
        case .utf16?:
            return DecodedText(text: try utf16(bytes[(utf16BOM == nil ? 0 : 2)...], order: utf16BOM ?? .little), encoding: .utf16)
        case nil:
            break
        }
        if hasUTF8BOM { return DecodedText(text: try utf8(bytes[3...], encoding: "UTF-8 (it starts with UTF-8's byte order mark)"), encoding: .utf8) }
        if let order = utf16BOM { return DecodedText(text: try utf16(bytes[2...], order: order), encoding: .utf16) }
        let asUTF8: TextDecodingFailure
        do {
            return DecodedText(text: try utf8(bytes[...], encoding: "UTF-8"), encoding: .utf8)
        } catch {
            asUTF8 = error
        }
        do {
            return DecodedText(text: try gb18030(bytes[...]), encoding: .gb18030)
        } catch {
            let furthest = max(asUTF8.line, error.line)
            throw TextDecodingFailure(line: furthest, message: """
                the file is not text in any encoding tried: UTF-8 (\(asUTF8.message)), GB18030/GBK (\(error.message)), \
                and UTF-16 needs a byte order mark; save it from the spreadsheet as "CSV UTF-8", or name its encoding \
                with --encoding utf-8|gb18030|utf-16
                """)
        }
    }

    private enum UTF16Order { case little, big }

    private static func line(at offset: Int, in bytes: ArraySlice<UInt8>) -> Int {
        1 + bytes[bytes.startIndex..<min(bytes.endIndex, bytes.startIndex + offset)].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    private static func utf8(_ bytes: ArraySlice<UInt8>, encoding: String) throws(TextDecodingFailure) -> String {
        if let nul = bytes.firstIndex(of: 0) {
            throw TextDecodingFailure(line: line(at: nul - bytes.startIndex, in: bytes), message: "a NUL byte at line \(line(at: nul - bytes.startIndex, in: bytes))")
        }
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        // Find the first invalid byte for the message.
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var consumed = 0
        var offset = 0
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                offset += UTF8.width(scalar)
                consumed = offset
            case .emptyInput: break loop
            case .error: break loop
            }
        }
        let at = line(at: consumed, in: bytes)
        throw TextDecodingFailure(line: at, message: "byte 0x\(String(bytes[bytes.startIndex + consumed], radix: 16, uppercase: true)) at line \(at) is not \(encoding)")
    }

    private static func utf16(_ bytes: ArraySlice<UInt8>, order: UTF16Order) throws(TextDecodingFailure) -> String {
        guard bytes.count % 2 == 0 else {
            throw TextDecodingFailure(line: 1, message: "the file is UTF-16 (it starts with a UTF-16 byte order mark) but has an odd number of bytes")
        }
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let first = UInt16(bytes[index]), second = UInt16(bytes[index + 1])
            units.append(order == .little ? first | second << 8 : first << 8 | second)
            index += 2
        }
        var text = ""
        var lineNumber = 1
        var iterator = units.makeIterator()
        var decoder = UTF16()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar == "\n" { lineNumber += 1 }
                if scalar == "\0" {
                    throw TextDecodingFailure(line: lineNumber, message: "a NUL character at line \(lineNumber) of a UTF-16 file")
                }
                text.unicodeScalars.append(scalar)
            case .emptyInput:
                return text
            case .error:
                throw TextDecodingFailure(line: lineNumber, message: "line \(lineNumber) holds an unpaired UTF-16 surrogate: the file is damaged")
            }
        }
    }

    /// GB18030 through glibc's iconv (every character of GB18030-2005, which covers GBK and GB2312).
    private static func gb18030(_ bytes: ArraySlice<UInt8>) throws(TextDecodingFailure) -> String {
        if let nul = bytes.firstIndex(of: 0) {
            let at = line(at: nul - bytes.startIndex, in: bytes)
            throw TextDecodingFailure(line: at, message: "a NUL byte at line \(at)")
        }
        guard let converter = Optional(iconv_open("UTF-8", "GB18030")), converter != iconv_t(bitPattern: -1) else {
            throw TextDecodingFailure(line: 1, message: "this system's iconv cannot read GB18030 (glibc's gconv modules are missing)")
        }
        defer { iconv_close(converter) }
        var input = Array(bytes)
        var output = [UInt8](repeating: 0, count: input.count * 2 + 16)
        let result: (ok: Bool, inputLeft: Int, outputUsed: Int) = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                guard let inBase = inBuffer.baseAddress, let outBase = outBuffer.baseAddress else { return (true, 0, 0) }
                var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBase).assumingMemoryBound(to: CChar.self)
                var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBase).assumingMemoryBound(to: CChar.self)
                var inLeft = inBuffer.count
                var outLeft = outBuffer.count
                let status = iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                return (status != -1 && inLeft == 0, inLeft, outBuffer.count - outLeft)
            }
        }
        guard result.ok else {
            let offset = bytes.count - result.inputLeft
            let at = line(at: offset, in: bytes)
            let byte = offset < bytes.count ? " 0x" + String(bytes[bytes.startIndex + offset], radix: 16, uppercase: true) : ""
            throw TextDecodingFailure(line: at, message: "byte\(byte) at line \(at) is not GB18030")
        }
        return String(decoding: output[..<result.outputUsed], as: UTF8.self)
    }
}
