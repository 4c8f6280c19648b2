import Testing
@testable import LodeAMQP

@Suite struct FieldTableTests {
    @Test func subscriptReadsTheFirstEntryWithTheKey() {
        let table = FieldTable([.init("a", .int32(1)), .init("b", .int32(2)), .init("a", .int32(3))])
        #expect(table["a"] == .int32(1))
        #expect(table["b"] == .int32(2))
        #expect(table["missing"] == nil)
    }

    @Test func settingAnExistingKeyReplacesTheFirstEntryInPlace() {
        var table = FieldTable([.init("a", .int32(1)), .init("b", .int32(2)), .init("a", .int32(3))])
        table["a"] = .string("new")
        #expect(table.entries == [.init("a", .string("new")), .init("b", .int32(2)), .init("a", .int32(3))])
    }

    @Test func settingANewKeyAppendsIt() {
        var table: FieldTable = ["a": .bool(true)]
        table["z"] = .void
        table["m"] = .int8(-1)
        #expect(table.entries.map(\.key) == ["a", "z", "m"])
        #expect(table["m"] == .int8(-1))
    }

    @Test func settingNilRemovesOnlyTheFirstEntryWithTheKey() {
        var table = FieldTable([.init("a", .int32(1)), .init("b", .int32(2)), .init("a", .int32(3))])
        table["a"] = nil
        #expect(table.entries == [.init("b", .int32(2)), .init("a", .int32(3))])
        #expect(table["a"] == .int32(3))
        table["a"] = nil
        table["b"] = nil
        #expect(table.isEmpty)
    }

    @Test func removingAMissingKeyChangesNothing() {
        var table: FieldTable = ["a": .int32(1)]
        table["b"] = nil
        #expect(table == ["a": .int32(1)])
    }

    @Test func dictionaryLiteralKeepsItsOrder() {
        let table: FieldTable = ["z": .int32(1), "a": .int32(2), "m": .int32(3)]
        #expect(table.entries.map(\.key) == ["z", "a", "m"])
        #expect(FieldTable().isEmpty)
        #expect(!table.isEmpty)
    }

    @Test func tablesAreEqualOnlyWithTheSameOrder() {
        let ab: FieldTable = ["a": .int32(1), "b": .int32(2)]
        let ba: FieldTable = ["b": .int32(2), "a": .int32(1)]
        #expect(ab != ba)
        #expect(ab == ["a": .int32(1), "b": .int32(2)])
    }

    @Test func integerWidthsAreDistinctValues() {
        #expect(FieldValue.int32(1) != FieldValue.int64(1))
        #expect(FieldValue.uint8(1) != FieldValue.int8(1))
    }

    @Test func integerValueReadsEveryIntegerWidth() {
        #expect(FieldValue.int8(.min).integerValue == -128)
        #expect(FieldValue.uint8(.max).integerValue == 255)
        #expect(FieldValue.int16(.min).integerValue == -32768)
        #expect(FieldValue.uint16(.max).integerValue == 65535)
        #expect(FieldValue.int32(.min).integerValue == Int64(Int32.min))
        #expect(FieldValue.uint32(.max).integerValue == Int64(UInt32.max))
        #expect(FieldValue.int64(.min).integerValue == .min)
        #expect(FieldValue.int64(.max).integerValue == .max)
        #expect(FieldValue.uint64(UInt64(Int64.max)).integerValue == .max)
    }

    @Test func integerValueIsNilForAnUnsignedValueThatDoesNotFit() {
        #expect(FieldValue.uint64(UInt64(Int64.max) + 1).integerValue == nil)
        #expect(FieldValue.uint64(.max).integerValue == nil)
    }

    @Test func integerValueIsNilForNonIntegers() {
        let others: [FieldValue] = [
            .bool(true), .float(1), .double(1), .decimal(scale: 0, value: 1), .string("1"),
            .bytes([1]), .timestamp(1), .array([.int32(1)]), .table(["a": .int32(1)]), .void,
        ]
        for value in others { #expect(value.integerValue == nil, "\(value)") }
    }

    @Test func stringValueReadsOnlyStrings() {
        #expect(FieldValue.string("rejected").stringValue == "rejected")
        #expect(FieldValue.string("").stringValue == "")
        #expect(FieldValue.string("拒绝").stringValue == "拒绝")
        #expect(FieldValue.bytes(Array("rejected".utf8)).stringValue == nil)
        #expect(FieldValue.int32(1).stringValue == nil)
        #expect(FieldValue.void.stringValue == nil)
    }
}
