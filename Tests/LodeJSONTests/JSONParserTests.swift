import LodeJSON
import Testing


@Suite("JSON parser")
struct JSONParserTests {
    func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(text)
    }

    func error(_ bytes: [UInt8]) -> JSONParseError? {
        do {
            _ = try JSONParser.parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    func error(_ text: String) -> JSONParseError? { error(Array(text.utf8)) }

    @Test func parsesEveryKindOfValueKeepingMemberOrder() throws {
        let value = try parse(#" { "b" : [1, -2.5e3, true, false, null], "a" : "x" } "#)
        #expect(value == .object([
            JSONMember("b", .array([
                .number(JSONNumber(text: "1")!), .number(JSONNumber(text: "-2.5e3")!), .bool(true), .bool(false), .null,
            ])),
            JSONMember("a", .string("x")),
        ]))
    }

    @Test func decodesEveryEscape() throws {
        let value = try parse(#"["\" \\ \/ \b \f \n \r \t \u0041 \u00e9 \u4E2D"]"#)
        #expect(value == .array([.string("\" \\ / \u{08} \u{0C} \n \r \t A é 中")]))
    }

    @Test func decodesSurrogatePairsIntoOneScalar() throws {
        #expect(try parse(#"["\uD83D\uDE00"]"#) == .array([.string("😀")]))
    }

    @Test func rejectsLoneHighSurrogate() {
        let failure = error(#"["ab\uD83D"]"#)
        #expect(failure?.kind == .loneSurrogate)
        #expect(failure?.message == #"lone surrogate \uD83D at byte 4"#)
    }

    @Test func rejectsLoneLowSurrogateAndHighSurrogateFollowedByNonSurrogate() {
        #expect(error(#"["\uDE00"]"#)?.kind == .loneSurrogate)
        #expect(error(#"["\uD83D\u0041"]"#)?.kind == .loneSurrogate)
    }

    @Test func rejectsInvalidEscapes() {
        #expect(error(#"["\x"]"#)?.kind == .invalidEscape)
        #expect(error(#"["\u12G4"]"#)?.kind == .invalidEscape)
    }

    @Test func reportsInvalidUTF8WithItsByteOffset() {
        // 0xE4 0xB8 starts 中 but 0x41 is not a continuation byte.
        let failure = error([0x5B, 0x22, 0x61, 0xE4, 0xB8, 0x41, 0x22, 0x5D])
        #expect(failure?.kind == .invalidUTF8)
        #expect(failure?.message == "invalid UTF-8 at byte 3")
    }

    @Test(arguments: [
        [0x22, 0xC0, 0xAF, 0x22],              // overlong '/'
        [0x22, 0xED, 0xA0, 0x80, 0x22],        // encoded surrogate U+D800
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
        [0x22, 0x80, 0x22],                    // stray continuation byte
        [0x22, 0xE4, 0xB8],                    // truncated at the end
        [0x5B, 0x31, 0x5D, 0xFF],              // invalid byte after the value
    ] as [[UInt8]])
    func rejectsMalformedUTF8(_ bytes: [UInt8]) {
        #expect(error(bytes)?.kind == .invalidUTF8 || error(bytes)?.kind == .trailingData)
        #expect(error(bytes) != nil)
    }

    @Test func rejectsControlCharactersInStringsAndSaysHowToEscapeThem() {
        let failure = error("[\"a\nb\"]")
        #expect(failure?.kind == .controlCharacterInString)
        #expect(failure?.message == #"control character U+000A in a string (write it as \n) at byte 3"#)
    }

    @Test func rejectsDuplicateKeysNamingTheKey() {
        let failure = error(#"{"x": 1, "y": 2, "x": 3}"#)
        #expect(failure?.kind == .duplicateKey)
        #expect(failure?.message == "duplicate key 'x' at byte 17")
    }

    @Test func findsDuplicatesAmongEventKeysAndAmongManyUnknownKeys() {
        #expect(error(#"{"id": "a", "id": "b"}"#)?.message == "duplicate key 'id' at byte 12")
        let keys = (0..<100).map { "\"k\($0)\": 0" }.joined(separator: ",")
        #expect(error("{\(keys), \"k57\": 1}")?.kind == .duplicateKey)
        #expect(error("{\(keys)}") == nil)
    }

    @Test func treatsAnEscapedSpellingOfAKeyAsTheSameKey() {
        #expect(error(#"{"id": 1, "\u0069d": 2}"#)?.kind == .duplicateKey)
    }

    @Test func sameKeyInNestedObjectsIsNotADuplicate() throws {
        _ = try parse(#"{"a": {"a": 1}, "b": {"a": 2}}"#)
    }

    @Test func rejectsTrailingGarbage() {
        let failure = error(#"{"a": 1} x"#)
        #expect(failure?.kind == .trailingData)
        #expect(failure?.message == "unexpected data after the JSON value at byte 9")
        #expect(error("[1] [2]")?.kind == .trailingData)
    }

    @Test func acceptsNestingOf64AndRejects65() throws {
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        _ = try parse(ok)
        let tooDeep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        let failure = error(tooDeep)
        #expect(failure?.kind == .nestingTooDeep)
        #expect(failure?.message == "nesting deeper than 64 levels at byte 64")
    }

    @Test func keepsBigIntegersExactAsTheirSourceText() throws {
        let value = try parse("[1000000000000000, 9223372036854775807, 123456789012345678901234567890]")
        guard case .array(let numbers) = value, case .number(let max) = numbers[0],
              case .number(let int64Max) = numbers[1], case .number(let huge) = numbers[2]
        else {
            Issue.record("expected three numbers")
            return
        }
        #expect(max.int64Value == 1_000_000_000_000_000)
        #expect(int64Max.int64Value == Int64.max)
        #expect(huge.int64Value == nil)
        #expect(huge.text == "123456789012345678901234567890")
    }

    @Test func keepsExponentNumbersAsWrittenAndNotAsIntegers() throws {
        let value = try parse("[5.7384E+10, 1e3, 5.0, -0]")
        guard case .array(let numbers) = value else { return }
        let parsed = numbers.compactMap { if case .number(let number) = $0 { number } else { nil } }
        #expect(parsed.map(\.text) == ["5.7384E+10", "1e3", "5.0", "-0"])
        #expect(parsed.map(\.int64Value) == [nil, nil, nil, 0])
        #expect(parsed[0].hasExponent)
        #expect(parsed[0].doubleValue == 57_384_000_000)
    }

    @Test(arguments: ["01", "-", "1.", ".5", "1e", "+1", "0x10", "NaN", "Infinity"])
    func rejectsNumbersOutsideTheJSONGrammar(_ text: String) {
        #expect(error("[\(text)]") != nil)
    }

    @Test func rejectsByteOrderMarkEmptyInputAndBadLiterals() {
        #expect(error([0xEF, 0xBB, 0xBF, 0x7B, 0x7D])?.kind == .byteOrderMark)
        #expect(error("")?.message == "unexpected end of input at byte 0, expected a JSON value")
        #expect(error("   ")?.kind == .unexpectedEndOfInput)
        #expect(error("[tru]")?.kind == .unexpectedCharacter)
        #expect(error("[nul")?.kind == .unexpectedEndOfInput)
        #expect(error(#"{"a" 1}"#)?.message == "unexpected character '1' at byte 5, expected ':' after the key")
        #expect(error(#"{"a": 1,}"#)?.kind == .unexpectedCharacter)
        #expect(error("[1,]")?.kind == .unexpectedCharacter)
        #expect(error(#"["abc"#)?.message == "unterminated string starting at byte 1")
    }

    @Test func parsesFromARawBufferToo() throws {
        let bytes = Array(#"{"a":[1]}"#.utf8)
        let value = try bytes.withUnsafeBytes { buffer throws(JSONParseError) in try JSONParser.parse(buffer) }
        #expect(value == .object([JSONMember("a", .array([.integer(1)]))]))
    }
}

@Suite("JSON serializer")
struct JSONSerializerTests {
    @Test func canonicalFormSortsKeysByUTF8BytesAndDropsWhitespace() throws {
        let value = try JSONParser.parse(#"{ "b": 1, "a": {"z": true, "é": null, "Z": []}, "aa": "x" }"#)
        #expect(String(decoding: value.canonicalBytes(), as: UTF8.self) == #"{"a":{"Z":[],"z":true,"é":null},"aa":"x","b":1}"#)
    }

    @Test func canonicalFormEscapesMinimallyAndKeepsNumbersAsWritten() throws {
        let value = try JSONParser.parse(#"["\u00e9\/\"\\\n\u0001\u007f", 5.7384E+10, 1.50]"#)
        #expect(String(decoding: value.canonicalBytes(), as: UTF8.self) == "[\"é/\\\"\\\\\\n\\u0001\u{7F}\",5.7384E+10,1.50]")
    }

    @Test func sameContentWrittenDifferentlyHasTheSameCanonicalBytes() throws {
        let a = try JSONParser.parse(#"{"x": [1, {"q": "\u4e2d", "p": 2}], "y": null}"#)
        let b = try JSONParser.parse(#"{"y":null,"x":[1,{"p":2,"q":"中"}]}"#)
        #expect(a.canonicalBytes() == b.canonicalBytes())
    }

    @Test func serializedFormKeepsMemberOrderAndRoundTrips() throws {
        let text = #"{"b":1,"a":[true,null,"x\ty"],"c":{"d":-0.5}}"#
        let value = try JSONParser.parse(text)
        #expect(value.serializedText() == text)
        #expect(try JSONParser.parse(value.serializedBytes()) == value)
    }

    @Test func numbersOnlyAcceptJSONSyntax() {
        #expect(JSONNumber(text: "12") != nil)
        #expect(JSONNumber(text: "-0.5e-3") != nil)
        #expect(JSONNumber(text: "012") == nil)
        #expect(JSONNumber(text: "1 ") == nil)
        #expect(JSONNumber(text: "") == nil)
    }
}
