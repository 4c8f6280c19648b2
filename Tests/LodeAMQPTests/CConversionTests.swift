import CRabbitMQ
import Testing
@testable import LodeAMQP

/// `FieldTable`, `FieldValue` and `MessageProperties` to librabbitmq's C structures and back,
/// directly and through the AMQP wire format.
@Suite struct CConversionTests {
    func kind(_ k: amqp_field_value_kind_t) -> UInt8 { UInt8(k.rawValue) }

    // MARK: Tables through the C structures

    @Test func everyFieldValueKindSurvivesTheCStructures() {
        let arena = CArena()
        let cTable = Samples.everyKind.cTable(in: arena)
        #expect(Int(cTable.num_entries) == Samples.everyKind.entries.count)
        #expect(FieldTable(copying: cTable) == Samples.everyKind)
    }

    @Test func nestedTablesInsideArraysInsideTablesSurviveTheCStructures() {
        let arena = CArena()
        #expect(FieldTable(copying: Samples.xDeath.cTable(in: arena)) == Samples.xDeath)
    }

    @Test func emptyTableIsLibrarysEmptyTable() {
        let arena = CArena()
        let cTable = FieldTable().cTable(in: arena)
        #expect(cTable.num_entries == 0)
        #expect(FieldTable(copying: cTable) == FieldTable())
        #expect(FieldTable(copying: lode_empty_table()).isEmpty)
    }

    @Test func orderAndDuplicateKeysSurviveTheCStructures() {
        let table = FieldTable([.init("b", .int32(1)), .init("a", .int32(2)), .init("b", .int32(3))])
        let arena = CArena()
        #expect(FieldTable(copying: table.cTable(in: arena)) == table)
    }

    @Test func cStructuresHoldTheLibrarysKindsAndValues() {
        let table: FieldTable = [
            "b": .bool(true), "i": .int32(-7), "u": .uint64(.max), "s": .string("中文"), "x": .bytes([9]),
            "d": .decimal(scale: 3, value: 1234), "t": .timestamp(42), "a": .array([.int8(1)]), "v": .void,
        ]
        let arena = CArena()
        let c = table.cTable(in: arena)
        let entries = UnsafeBufferPointer(start: c.entries, count: Int(c.num_entries))
        #expect(entries.map(\.key.string) == ["b", "i", "u", "s", "x", "d", "t", "a", "v"])
        #expect(entries[0].value.kind == kind(AMQP_FIELD_KIND_BOOLEAN))
        #expect(entries[0].value.value.boolean == 1)
        #expect(entries[1].value.kind == kind(AMQP_FIELD_KIND_I32))
        #expect(entries[1].value.value.i32 == -7)
        #expect(entries[2].value.kind == kind(AMQP_FIELD_KIND_U64))
        #expect(entries[2].value.value.u64 == .max)
        #expect(entries[3].value.kind == kind(AMQP_FIELD_KIND_UTF8))
        #expect(entries[3].value.value.bytes.array == Array("中文".utf8))
        #expect(entries[4].value.kind == kind(AMQP_FIELD_KIND_BYTES))
        #expect(entries[4].value.value.bytes.array == [9])
        #expect(entries[5].value.kind == kind(AMQP_FIELD_KIND_DECIMAL))
        #expect(entries[5].value.value.decimal.decimals == 3)
        #expect(entries[5].value.value.decimal.value == 1234)
        #expect(entries[6].value.kind == kind(AMQP_FIELD_KIND_TIMESTAMP))
        #expect(entries[6].value.value.u64 == 42)
        #expect(entries[7].value.kind == kind(AMQP_FIELD_KIND_ARRAY))
        #expect(entries[7].value.value.array.num_entries == 1)
        #expect(entries[7].value.value.array.entries[0].value.i8 == 1)
        #expect(entries[8].value.kind == kind(AMQP_FIELD_KIND_VOID))
    }

    @Test func longStringThatIsNotUTF8IsReadAsBytes() {
        let arena = CArena()
        var value = amqp_field_value_t()
        value.kind = kind(AMQP_FIELD_KIND_UTF8)
        value.value.bytes = arena.bytes([0x66, 0xFF, 0xFE])
        #expect(FieldValue(copying: value) == .bytes([0x66, 0xFF, 0xFE]))
        value.value.bytes = lode_empty_bytes()
        #expect(FieldValue(copying: value) == .string(""))
    }

    @Test func unknownKindIsReadAsVoid() {
        var value = amqp_field_value_t()
        value.kind = UInt8(ascii: "?")
        #expect(FieldValue(copying: value) == .void)
    }

    @Test func tablesCopiedOutOutliveTheArena() {
        var copy: FieldTable?
        do {
            let arena = CArena(chunkSize: 256)
            copy = FieldTable(copying: Samples.xDeath.cTable(in: arena))
            arena.reset()
            // Overwrite the arena's memory: the copy must not share it.
            for _ in 0..<64 { arena.allocate(byteCount: 60).initializeMemory(as: UInt8.self, repeating: 0xAB, count: 60) }
        }
        #expect(copy == Samples.xDeath)
    }

    // MARK: Tables through the wire format

    @Test func everyFieldValueKindSurvivesLibrarysWireFormat() throws {
        #expect(try Wire.roundTrip(Samples.everyKind) == Samples.everyKind)
    }

    @Test func xDeathLikeHeaderSurvivesLibrarysWireFormat() throws {
        #expect(try Wire.roundTrip(Samples.xDeath) == Samples.xDeath)
    }

    @Test func emptyTableSurvivesLibrarysWireFormat() throws {
        #expect(try Wire.encode(FieldTable()).get() == [0, 0, 0, 0])
        #expect(try Wire.roundTrip(FieldTable()) == FieldTable())
        #expect(try Wire.roundTrip(["t": .table([:]), "a": .array([])]) == ["t": .table([:]), "a": .array([])])
    }

    @Test func wireBytesAreTheAMQPEncoding() throws {
        // Table length, then each entry: short-string key, type octet, value (big-endian).
        #expect(try Wire.encode(["a": .int32(1)]).get() == [0, 0, 0, 7, 1, 0x61, 0x49, 0, 0, 0, 1])
        #expect(try Wire.encode(["键": .bool(true)]).get() == [0, 0, 0, 6, 3, 0xE9, 0x94, 0xAE, 0x74, 1])
        #expect(try Wire.encode(["s": .string("值")]).get()
                == [0, 0, 0, 10, 1, 0x73, 0x53, 0, 0, 0, 3, 0xE5, 0x80, 0xBC])
        #expect(try Wire.encode(["l": .array([.int64(-1)])]).get()
                == [0, 0, 0, 16, 1, 0x6C, 0x41, 0, 0, 0, 9, 0x6C, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
    }

    @Test func handWrittenWireBytesDecodeAndTruncatedOnesAreRefused() throws {
        // "n" → table { "c" → int64 3 }.
        let whole: [UInt8] = [0, 0, 0, 18, 1, 0x6E, 0x46, 0, 0, 0, 11, 1, 0x63, 0x6C, 0, 0, 0, 0, 0, 0, 0, 3]
        #expect(try Wire.decode(whole).get() == ["n": .table(["c": .int64(3)])])
        #expect(try Wire.encode(["n": .table(["c": .int64(3)])]).get() == whole)
        if case .success(let table) = Wire.decode(Array(whole.dropLast(3))) {
            Issue.record("decoded a truncated table: \(table)")
        }
    }

    @Test func largeTableSurvivesLibrarysWireFormat() throws {
        var table = FieldTable()
        for index in 0..<2000 {
            table["header-\(index)"] = index.isMultiple(of: 2) ? .int64(Int64(index)) : .string(String(repeating: "值", count: index % 50))
        }
        #expect(try Wire.roundTrip(table) == table)
    }

    /// Field table keys are AMQP short strings (at most 255 bytes); librabbitmq writes the
    /// length as one byte without checking, so a message with a longer key is refused before
    /// it reaches the library.
    @Test func aHeaderNameLongerThan255BytesIsRefusedBeforeSending() throws {
        let long = String(repeating: "k", count: 300)
        let nested: FieldTable = ["outer": .array([.table([FieldTable.Entry(long, .int32(1))].reduce(into: FieldTable()) { $0.entries.append($1) })])]
        for headers in [FieldTable([FieldTable.Entry(long, .int32(1))]), nested] {
            let message = OutgoingMessage(exchange: "", routingKey: "q", body: [],
                                          properties: MessageProperties(headers: headers))
            let problem = try #require(message.shortStringViolation())
            #expect(problem.contains("300 bytes"))
        }
        let fine = OutgoingMessage(exchange: "", routingKey: "q", body: [],
                                   properties: MessageProperties(headers: [String(repeating: "k", count: 255): .void]))
        #expect(fine.shortStringViolation() == nil)
        let longID = OutgoingMessage(exchange: "", routingKey: "q", body: [],
                                     properties: MessageProperties(messageID: String(repeating: "i", count: 256)))
        #expect(longID.shortStringViolation() == "message_id is 256 bytes; AMQP allows 255")
    }

    @Test func keyOf255BytesSurvivesLibrarysWireFormat() throws {
        let table: FieldTable = [String(repeating: "k", count: 255): .int32(1), "after": .string("x")]
        #expect(try Wire.roundTrip(table) == table)
    }

    // MARK: Message properties

    @Test func allFourteenPropertiesSurviveTheCStructures() {
        let arena = CArena()
        let c = Samples.allProperties.cProperties(in: arena)
        let allFlags: Int32 = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_CONTENT_ENCODING_FLAG | AMQP_BASIC_HEADERS_FLAG
            | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_PRIORITY_FLAG | AMQP_BASIC_CORRELATION_ID_FLAG
            | AMQP_BASIC_REPLY_TO_FLAG | AMQP_BASIC_EXPIRATION_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG
            | AMQP_BASIC_TIMESTAMP_FLAG | AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_USER_ID_FLAG
            | AMQP_BASIC_APP_ID_FLAG | AMQP_BASIC_CLUSTER_ID_FLAG
        #expect(c._flags == amqp_flags_t(allFlags))
        #expect(c.content_type.string == "application/cloudevents+json; charset=utf-8")
        #expect(c.delivery_mode == 2)
        #expect(c.priority == 9)
        #expect(c.timestamp == 1_732_900_000)
        #expect(c.cluster_id.string == "北京")
        #expect(FieldTable(copying: c.headers) == Samples.xDeath)
        #expect(MessageProperties(copying: c) == Samples.allProperties)
    }

    @Test func noPropertiesSetMeansNoFlags() {
        let arena = CArena()
        let c = MessageProperties().cProperties(in: arena)
        #expect(c._flags == 0)
        #expect(MessageProperties(copying: c) == MessageProperties())
    }

    @Test func eachPropertyAloneSetsOnlyItsFlag() throws {
        let cases: [(MessageProperties, Int32)] = [
            (MessageProperties(contentType: "a"), AMQP_BASIC_CONTENT_TYPE_FLAG),
            (MessageProperties(contentEncoding: "a"), AMQP_BASIC_CONTENT_ENCODING_FLAG),
            (MessageProperties(headers: ["a": .void]), AMQP_BASIC_HEADERS_FLAG),
            (MessageProperties(deliveryMode: 1), AMQP_BASIC_DELIVERY_MODE_FLAG),
            (MessageProperties(priority: 0), AMQP_BASIC_PRIORITY_FLAG),
            (MessageProperties(correlationID: "a"), AMQP_BASIC_CORRELATION_ID_FLAG),
            (MessageProperties(replyTo: "a"), AMQP_BASIC_REPLY_TO_FLAG),
            (MessageProperties(expiration: "a"), AMQP_BASIC_EXPIRATION_FLAG),
            (MessageProperties(messageID: "a"), AMQP_BASIC_MESSAGE_ID_FLAG),
            (MessageProperties(timestamp: 0), AMQP_BASIC_TIMESTAMP_FLAG),
            (MessageProperties(type: "a"), AMQP_BASIC_TYPE_FLAG),
            (MessageProperties(userID: "a"), AMQP_BASIC_USER_ID_FLAG),
            (MessageProperties(appID: "a"), AMQP_BASIC_APP_ID_FLAG),
            (MessageProperties(clusterID: "a"), AMQP_BASIC_CLUSTER_ID_FLAG),
        ]
        let arena = CArena()
        for (properties, flag) in cases {
            let c = properties.cProperties(in: arena)
            #expect(c._flags == amqp_flags_t(flag), "\(properties)")
            #expect(MessageProperties(copying: c) == properties)
            #expect(try Wire.roundTrip(properties) == properties)
        }
    }

    @Test func persistentSetsOnlyDeliveryMode2() {
        let arena = CArena()
        let c = MessageProperties.persistent.cProperties(in: arena)
        #expect(c._flags == amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG))
        #expect(c.delivery_mode == 2)
    }

    @Test func emptyStringsAndEmptyHeadersAreSetNotAbsent() throws {
        let properties = MessageProperties(contentType: "", headers: FieldTable(), messageID: "", appID: "")
        let arena = CArena()
        #expect(MessageProperties(copying: properties.cProperties(in: arena)) == properties)
        #expect(try Wire.roundTrip(properties) == properties)
    }

    @Test func allFourteenPropertiesSurviveLibrarysWireFormat() throws {
        #expect(try Wire.roundTrip(Samples.allProperties) == Samples.allProperties)
    }

    @Test func noPropertiesSurviveLibrarysWireFormat() throws {
        #expect(try Wire.encode(MessageProperties()).get() == [0, 0])
        #expect(try Wire.roundTrip(MessageProperties()) == MessageProperties())
    }

    @Test func chineseStringsInEveryStringPropertySurviveLibrarysWireFormat() throws {
        let properties = MessageProperties(
            contentType: "文本/纯", contentEncoding: "编码", headers: ["标题": .string("内容")],
            correlationID: "关联", replyTo: "回复", expiration: "过期", messageID: "消息",
            type: "类型", userID: "用户", appID: "应用", clusterID: "集群")
        #expect(try Wire.roundTrip(properties) == properties)
    }
}
