// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Lodestone",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lode-publish", targets: ["lode-publish"]),
        .executable(name: "lode-worker", targets: ["lode-worker"]),
        .executable(name: "lodectl", targets: ["lodectl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // SHA-256 and HMAC-SHA256 (event fingerprints, derived ids, webhook signatures).
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // No default traits: with them SwiftPM 6.3.1 may reorder their flags and rebuild two modules.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // .xlsx workbooks are ZIP archives of XML; the XML itself is read with Foundation's XMLParser.
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // The version (VERSION) and commit every executable's --version prints, embedded at build
        // time by the EmbedBuildInfo plugin into a generated file under .build.
        .plugin(name: "EmbedBuildInfo", capability: .buildTool()),
        .target(name: "LodeBuildInfo", plugins: ["EmbedBuildInfo"]),
        // Log output for the executables: text lines (swift-log's) or one JSON object per line.
        .target(name: "LodeLogging", dependencies: ["LodeJSON", .product(name: "Logging", package: "swift-log")]),
        // The systemd notify protocol (READY, STATUS, WATCHDOG, STOPPING) as a datagram to
        // $NOTIFY_SOCKET, without libsystemd, and a watchdog service that pings while a check passes.
        .target(
            name: "LodeSystemd",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // librabbitmq 0.11 (Debian's librabbitmq-dev) and a shim for what Swift cannot call.
        .systemLibrary(
            name: "CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        // The only code that touches librabbitmq: connections, publisher confirms, consumers.
        .target(
            name: "LodeAMQP",
            dependencies: ["CRabbitMQ", .product(name: "Logging", package: "swift-log")]
        ),
        // A strict JSON reader (RFC 8259 and the rules that make an event unambiguous: no
        // duplicate keys, no lone surrogates, no BOM, bounded nesting) and writer. Pure, no I/O.
        .target(name: "LodeJSON"),
        // The events: CloudEvents envelope, the seven event types, validation. Pure, no I/O.
        .target(name: "LodeEvents", dependencies: ["LodeJSON", .product(name: "Crypto", package: "swift-crypto")]),
        // The names and shape of Lodestone's topology on the broker: lode.events, lode.work, lode.dead.
        .target(name: "LodeWire", dependencies: ["LodeAMQP", .product(name: "Logging", package: "swift-log")]),
        // Departments and permissions (contract section 6): who may send which event types and
        // sources, judged per event; and the broker definitions (users, permissions, topology,
        // policies) that let the broker enforce what it can. Pure, no I/O.
        .target(
            name: "LodePermissions",
            dependencies: ["LodeEvents", "LodeJSON", "LodeAMQP", "LodeWire", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The zone's projection: the rules that turn events into the report's figures, and the report. Pure, no I/O.
        .target(name: "LodeProjections", dependencies: ["LodeEvents", "LodeJSON"]),
        // Notifications (contract section 5): rules, templates, keys, channel payloads and their
        // signatures. Pure, no I/O: the store records what it returns, a dispatcher sends it.
        .target(
            name: "LodeNotifications", dependencies: ["LodeEvents", "LodeJSON", "LodeProjections", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Settings every executable shares: broker URL, password, config file (flags over
        // environment over config file); the password never reaches logs or the process list.
        .target(
            name: "LodeSettings",
            dependencies: [
                "LodeAMQP", "LodeEvents", "LodeProjections", "LodeNotifications", "LodePermissions", "Yams", "LodeLogging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Excel workbooks (.xlsx): reading a sheet's cells (strings, numbers, booleans, dates by
        // their number format, formulas by their cached values) and writing simple workbooks
        // (headers, number formats, list validation). ZIPFoundation and Foundation's XMLParser.
        .target(
            name: "LodeWorkbook",
            dependencies: [.product(name: "ZIPFoundation", package: "ZIPFoundation")]
        ),
        // The producer's logic: reading NDJSON, CSV and workbooks into validated events (with the
        // spreadsheet conventions: encodings, Chinese headers and values, units, local times),
        // packing them into messages, publishing with confirms, and what each outcome means for
        // the exit code.
        .target(
            name: "LodePublishing",
            dependencies: [
                "LodeEvents", "LodeJSON", "LodeAMQP", "LodeWire", "LodeWorkbook",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The worker's store: inbox, event log and projection tables in one transaction per batch (SQLite via GRDB).
        .target(
            name: "LodeStorage",
            dependencies: [
                "LodeEvents", "LodeProjections", "LodeNotifications",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // The worker's store on PostgreSQL (postgres-nio): the same protocols, tables and rules as
        // the SQLite store, for several workers on one database.
        .target(
            name: "LodePostgres",
            dependencies: [
                "LodeEvents", "LodeProjections", "LodeNotifications", "LodeStorage",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // Opens the store a --db names (a SQLite file or a postgres:// URL) behind the storage
        // protocols, from plain values: what the executables call after resolving their settings.
        .target(name: "LodeStores", dependencies: ["LodeStorage", "LodePostgres", "LodeEvents", "LodeNotifications"]),

        // Dead letters (contract section 3): the message the worker publishes to lode.dead, reading
        // any message found there, the age of its oldest one, and the sweeps that replay or purge
        // them. The store keeps their index (LodeStorage); lodectl has the commands.
        .target(
            name: "LodeDeadLetters",
            dependencies: [
                "LodeAMQP", "LodeEvents", "LodeJSON", "LodeStorage", "LodeWire",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The figures of Lodestone's queues as operators see them (management API or passive
        // declares, the age of lode.dead's oldest message): shared by lodectl and the status page.
        .target(
            name: "LodeQueues",
            dependencies: [
                "LodeAMQP", "LodeWire", "LodeEvents", "LodeJSON", "LodeDeadLetters",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),

        // Sends what the outbox holds to webhooks and group-chat robots (async-http-client), with
        // retries, apart from the consumer.
        .target(
            name: "LodeDelivery",
            dependencies: [
                "LodeNotifications", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        .executableTarget(
            name: "lode-publish",
            dependencies: [
                "LodeAMQP", "LodeEvents", "LodeSettings", "LodePublishing", "LodeWorkbook", "LodeLogging", "LodeBuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The worker: consume, apply in one transaction, dead-letter, acknowledge after the commit.
        // Records its metrics through swift-metrics; runs as a swift-service-lifecycle Service.
        .target(
            name: "LodeWorker",
            dependencies: [
                "LodeAMQP", "LodeEvents", "LodeJSON", "LodeStorage", "LodeWire", "LodeSettings", "LodeNotifications", "LodeDeadLetters",
                "LodePermissions",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The worker's HTTP status endpoint (Hummingbird): /metrics (Prometheus text), /healthz and
        // the status page (/ and /status).
        .target(
            name: "LodeStatus",
            dependencies: [
                "LodeWorker", "LodeQueues", "LodeProjections", "LodeStorage", "LodeWire", "LodeEvents",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "lode-worker",
            dependencies: [
                "LodeWorker", "LodeAMQP", "LodeSettings", "LodeStorage", "LodeStores", "LodeStatus", "LodeDelivery",
                "LodeNotifications", "LodeQueues", "LodeProjections", "LodeWire", "LodeLogging", "LodeSystemd", "LodeBuildInfo",
                "LodePermissions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "lodectl",
            dependencies: [
                "LodeAMQP", "LodeSettings", "LodeWire", "LodeWorker", "LodeStorage", "LodeStores", "LodeProjections",
                "LodeNotifications", "LodeEvents", "LodeJSON", "LodeQueues", "LodeDeadLetters", "LodeWorkbook", "LodeLogging", "LodeBuildInfo",
                "LodePermissions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The client layer's benchmark against the plain C baseline in bench/c-baseline.
        .executableTarget(
            name: "lode-bench-amqp",
            dependencies: ["LodeAMQP", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "bench/amqp-client"
        ),

        // How fast LodeProjections applies events, with no I/O.
        .executableTarget(
            name: "lode-bench-projection",
            dependencies: ["LodeEvents", "LodeProjections"],
            path: "bench/projection"
        ),

        // How fast LodeStorage applies batches to a SQLite file.
        .executableTarget(
            name: "lode-bench-storage",
            dependencies: ["LodeEvents", "LodeStorage", "LodeNotifications"],
            path: "bench/storage"
        ),

        .testTarget(name: "LodeAMQPTests", dependencies: ["LodeAMQP", "CRabbitMQ"]),
        .testTarget(name: "LodeJSONTests", dependencies: ["LodeJSON"]),
        .testTarget(name: "LodeEventsTests", dependencies: ["LodeEvents", "LodeJSON", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "LodeProjectionsTests",
            dependencies: ["LodeProjections", "LodeEvents", "LodeJSON", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "LodeStorageTests",
            dependencies: [
                "LodeStorage", "LodeProjections", "LodeEvents", "LodeNotifications", "LodeTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Needs the PostgreSQL server that scripts/postgres starts (scripts/test exports
        // LODE_TEST_POSTGRES_URL; fails with a clear message when it is absent).
        .testTarget(
            name: "LodePostgresTests",
            dependencies: [
                "LodePostgres", "LodeStorage", "LodeProjections", "LodeEvents", "LodeNotifications", "LodeTestSupport",
                "LodePostgresTestSupport",
            ]
        ),
        // A database of its own per test in the server scripts/postgres started.
        .target(
            name: "LodePostgresTestSupport",
            dependencies: [
                "LodePostgres", "LodeEvents", "LodeNotifications",
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/LodePostgresTestSupport"
        ),
        // Needs the broker that scripts/broker starts (fails with a clear message when it is
        // absent), and runs the built executables as processes.
        .testTarget(
            name: "BrokerIntegrationTests",
            dependencies: [
                "LodeAMQP", "CRabbitMQ", "LodeWire", "LodeWorker", "LodeStorage", "LodeEvents", "LodeProjections",
                "lode-publish", "lodectl", "lode-worker", "LodeTestSupport", "LodeNotifications", "LodeQueues", "LodeJSON",
                "LodeDeadLetters", "LodePostgresTestSupport", "LodeSettings", "LodePermissions",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "LodeSettingsTests",
            dependencies: [
                "LodeSettings", "LodeAMQP", "LodeProjections", "LodeNotifications", "LodeLogging", "LodePermissions", "LodeEvents", "LodeJSON",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "LodePermissionsTests", dependencies: ["LodePermissions", "LodeEvents", "LodeJSON", "LodeWire", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "LodeNotificationsTests",
            dependencies: ["LodeNotifications", "LodeEvents", "LodeJSON", "LodeProjections", "LodeSettings", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "LodeWorkerTests",
            dependencies: [
                "LodeWorker", "LodeAMQP", "LodeSettings", "LodeJSON", "LodeDeadLetters", "LodeEvents", "LodeStorage", "LodeProjections",
                "LodeTestSupport", "LodePermissions",
            ]
        ),
        .testTarget(
            name: "LodeDeadLettersTests", dependencies: ["LodeDeadLetters", "LodeAMQP", "LodeEvents", "LodeJSON", "LodeStorage"]
        ),
        .testTarget(
            name: "LodeStatusTests",
            dependencies: [
                "LodeStatus", "LodeWorker", "LodeEvents", "LodeJSON", "LodeStorage", "LodeAMQP", "LodeQueues", "LodeProjections",
                "LodeTestSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "LodeDeliveryTests",
            dependencies: [
                "LodeDelivery", "LodeNotifications", "LodeStorage", "LodeEvents", "LodeTestSupport", .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // What several test targets share: a real HTTP receiver on loopback, a notify socket; the
        // small world of colliding events the stores' property tests use; the bad-input corpus.
        .target(
            name: "LodeTestSupport",
            dependencies: [
                "LodeEvents", "LodeProjections", "LodeStorage", "LodeAMQP",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/LodeTestSupport"
        ),
        .testTarget(name: "LodeLoggingTests", dependencies: ["LodeLogging", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "LodeSystemdTests",
            dependencies: ["LodeSystemd", "LodeTestSupport", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "LodePublishingTests", dependencies: ["LodePublishing", "LodeEvents", "LodeAMQP", "LodeWorkbook"]),
        .testTarget(name: "LodeWorkbookTests", dependencies: ["LodeWorkbook"]),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (fuzz/run builds and runs them): only with LODE_FUZZ set, in their own build
// path with `-sanitize=fuzzer,address`, so an ordinary build never compiles or links them.
if Context.environment["LODE_FUZZ"] != nil {
    package.targets += [
        .target(name: "LodeFuzzDriver", path: "fuzz/Driver"),
        .executableTarget(name: "fuzz-event", dependencies: ["LodeFuzzDriver", "LodeEvents"], path: "fuzz/Targets/event"),
        .executableTarget(name: "fuzz-batch", dependencies: ["LodeFuzzDriver", "LodeEvents"], path: "fuzz/Targets/batch"),
        .executableTarget(
            name: "fuzz-csv", dependencies: ["LodeFuzzDriver", "LodeEvents", "LodePublishing"], path: "fuzz/Targets/csv"),
        .executableTarget(
            name: "fuzz-amqp-properties", dependencies: ["LodeFuzzDriver", "LodeAMQP"], path: "fuzz/Targets/amqp-properties"),
        .executableTarget(
            name: "fuzz-dead-letter", dependencies: ["LodeFuzzDriver", "LodeAMQP", "LodeDeadLetters", "LodeEvents"],
            path: "fuzz/Targets/dead-letter"),
        .executableTarget(
            name: "fuzz-config", dependencies: ["LodeFuzzDriver", "LodeEvents", "LodeSettings"],
            path: "fuzz/Targets/config"),
    ]
}
