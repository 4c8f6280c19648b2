@testable import LodeAMQP

/// The sample values of the conversion tests.
enum Samples {
    /// One of every `FieldValue` case, with the edge values of each width.
    static let everyKind: FieldTable = [
        "bool-true": .bool(true),
        "bool-false": .bool(false),
        "int8": .int8(.min),
        "uint8": .uint8(.max),
        "int16": .int16(.min),
        "uint16": .uint16(.max),
        "int32": .int32(.min),
        "uint32": .uint32(.max),
        "int64": .int64(.min),
        "int64-max": .int64(.max),
        "uint64": .uint64(.max),
        "float": .float(-3.25),
        "float-tiny": .float(.leastNonzeroMagnitude),
        "double": .double(1.0e300),
        "double-negative-zero": .double(-0.0),
        "decimal": .decimal(scale: 2, value: 12345),
        "decimal-max": .decimal(scale: .max, value: .max),
        "string": .string("lode"),
        "string-empty": .string(""),
        "string-chinese": .string("项目已创建：北京"),
        "string-emoji": .string("✓ 🚀"),
        "bytes": .bytes([0, 1, 0x7F, 0x80, 0xFE, 0xFF]),
        "bytes-empty": .bytes([]),
        "timestamp": .timestamp(1_732_900_000),
        "array": .array([.int32(1), .string("two"), .bool(false), .void]),
        "array-empty": .array([]),
        "table": .table(["inner": .int16(-2)]),
        "table-empty": .table([:]),
        "void": .void,
        "键": .string("值"),
    ]

    /// The shape of RabbitMQ's `x-death` header: an array of tables holding arrays.
    static let xDeath: FieldTable = [
        "x-death": .array([
            .table([
                "count": .int64(3),
                "reason": .string("rejected"),
                "queue": .string("lode.work"),
                "time": .timestamp(1_732_900_000),
                "exchange": .string("lode.events"),
                "routing-keys": .array([.string("project.created"), .string("项目.创建")]),
                "original-expiration": .string("60000"),
            ]),
            .table([
                "count": .int64(1),
                "reason": .string("expired"),
                "queue": .string("lode.retry.1"),
                "time": .timestamp(1_732_899_000),
                "exchange": .string(""),
                "routing-keys": .array([]),
                "nested": .array([.table(["deeper": .array([.table(["deepest": .decimal(scale: 1, value: 5)])])])]),
            ]),
        ]),
        "x-first-death-exchange": .string("lode.events"),
        "x-first-death-queue": .string("lode.work"),
        "x-first-death-reason": .string("rejected"),
    ]

    /// Every one of the 14 `basic` properties set.
    static let allProperties = MessageProperties(
        contentType: "application/cloudevents+json; charset=utf-8",
        contentEncoding: "gzip",
        headers: xDeath,
        deliveryMode: 2,
        priority: 9,
        correlationID: "corr-项目-1",
        replyTo: "amq.rabbitmq.reply-to",
        expiration: "60000",
        messageID: "0192f3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
        timestamp: 1_732_900_000,
        type: "lode.project.created.v1",
        userID: "guest",
        appID: "lode-publish",
        clusterID: "北京"
    )
}
