// How fast SQLiteZoneStore applies batches of events to a SQLite file
// (WAL, synchronous=FULL: every batch is one fsynced commit).
//
//   swift build -c release --product lode-bench-storage
//   .build/release/lode-bench-storage [EVENTS] [DIRECTORY] [options]
//
// EVENTS (default 200000) events of the demo set's kind: the demo set
// (demo/baotou-2024.ndjson) repeated with new ids, project ids and
// enterprise names, so every copy adds rows as new data would. Options:
//   --ids numbered,derived,uuid   id shapes (default numbered,derived):
//        numbered  c<copy>-<demo id>, a producer that numbers its events
//        derived   sha256:<32 hex>, from content, as lode-publish gives CSV rows
//        uuid      random version-4 UUIDs (seeded, the same every run)
//   --batch 500,1000              batch sizes (default 500,1000)
//   --keys grow|bounded           grow: every copy of the demo set new projects
//                                 and enterprises (default); bounded: 10 sets
//                                 of keys shared by all copies
//   --preload N                   events applied (in batches of 5,000) to a
//                                 template database before measuring; each
//                                 measurement starts from a copy of it, its
//                                 WAL checkpointed (default 0: a new database)
//   --phases apply,decode         apply: store.apply on decoded events (then
//                                 redelivered: the same batches again, all
//                                 duplicates); decode: Event.decode of each
//                                 body, then store.apply (default both)
// For each id shape and batch size, a database file in DIRECTORY (default:
// a temporary directory). Prints one line per measurement, then one JSON
// line with all of them.
//
// LODE_BENCH_IDS, LODE_BENCH_PHASES=apply, LODE_BENCH_CACHE_KIB,
// LODE_BENCH_MMAP_BYTES and LODE_BENCH_PRAGMAS (statements run on the
// writer after opening) still work.

import Foundation
import LodeEvents
import LodeNotifications
import LodeStorage

struct Measurement: Codable {
    var ids: String
    var batchSize: Int
    var phase: String
    /// Events in the database before the measurement.
    var preloaded: Int
    var events: Int
    var seconds: Double
    var eventsPerSecond: Double
    var meanBatchMilliseconds: Double
    /// CPU time of the process (user + system) over the same run: the
    /// machine is shared, so wall-clock rates fall when others build.
    var cpuSeconds: Double
    /// The part of ``cpuSeconds`` spent in the kernel (writes, fsync).
    var systemSeconds: Double
    var eventsPerCPUSecond: Double
}

func processCPUSeconds() -> (total: Double, system: Double) {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return (seconds(usage.ru_utime) + seconds(usage.ru_stime), seconds(usage.ru_stime))
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("lode-bench-storage: \(message)\n".utf8))
    exit(64)
}

// Arguments: EVENTS and DIRECTORY by position, then --name value options.
let (positional, options): ([String], [String: String]) = {
    var positional: [String] = []
    var options: [String: String] = [:]
    var remaining = CommandLine.arguments.dropFirst()[...]
    while let argument = remaining.popFirst() {
        if argument == "--help" || argument == "-h" {
            print("usage: lode-bench-storage [EVENTS] [DIRECTORY] [--ids numbered,derived,uuid] [--batch 500,1000] [--keys grow|bounded] [--preload N] [--phases apply,decode] [--notify every]")
            exit(0)
        }
        if argument.hasPrefix("--") {
            guard let value = remaining.popFirst() else { fail("\(argument) needs a value") }
            options[String(argument.dropFirst(2))] = value
        } else {
            positional.append(argument)
        }
    }
    return (positional, options)
}()
let environment = ProcessInfo.processInfo.environment
let eventCount: Int = {
    guard let text = positional.first else { return 200_000 }
    guard let count = Int(text), count > 0 else { fail("EVENTS must be a positive number, got \(text)") }
    return count
}()
let directory = positional.dropFirst().first ?? {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("lode-bench-storage-\(getpid())").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}()

func list(_ name: String, default fallback: String) -> [String] {
    (options[name] ?? fallback).split(separator: ",").map { String($0) }
}
let batchSizes: [Int] = list("batch", default: "500,1000").map { text in
    guard let size = Int(text), size > 0 else { fail("--batch: '\(text)' is not a positive number") }
    return size
}
let preloadCount: Int = {
    guard let text = options["preload"] else { return 0 }
    guard let count = Int(text), count >= 0 else { fail("--preload: '\(text)' is not a number") }
    return count
}()

let demoPath = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("demo/baotou-2024.ndjson").path
guard let demoData = FileManager.default.contents(atPath: demoPath) else { fail("cannot read \(demoPath)") }
let demo: [Event] = [UInt8](demoData).split(separator: UInt8(ascii: "\n")).map { line in
    do { return try Event.decode(Array(line)) } catch { fail("\(demoPath): \(error)") }
}

/// How the copies' ids are made.
enum IDShape: String, CaseIterable {
    /// `c<copy>-<demo id>`: a producer that numbers its events; new ids
    /// land near each other in the inbox's index.
    case numbered
    /// Derived from content (`sha256:…`, as lode-publish gives CSV rows
    /// without ids): every new id lands anywhere in the inbox's index.
    case derived
    /// Random version-4 UUIDs, as most producers make them; from a seeded
    /// generator, so every run applies the same ids.
    case uuid
}
let idShapes: [IDShape] = {
    if let only = environment["LODE_BENCH_IDS"].flatMap(IDShape.init(rawValue:)) { return [only] }
    return list("ids", default: "numbered,derived").map { text in
        guard let shape = IDShape(rawValue: text) else { fail("--ids: unknown id shape '\(text)' (numbered, derived, uuid)") }
        return shape
    }
}()
let phases: [String] = {
    if environment["LODE_BENCH_PHASES"] == "apply" { return ["apply"] }
    return list("phases", default: "apply,decode").map { text in
        guard text == "apply" || text == "decode" else { fail("--phases: unknown phase '\(text)' (apply, decode)") }
        return text
    }
}()

/// --keys grow (default): every copy of the demo set has new project ids and
/// enterprise names, so the projection tables grow with the events (the
/// most pessimistic case). --keys bounded: copies share 10 sets of keys
/// (~1,300 projects, ~9,000 enterprises), as a zone's events keep coming
/// about the same projects and enterprises; only the inbox and the log grow.
let keySets: Int? = {
    switch options["keys"] ?? "grow" {
    case "grow": return nil
    case "bounded": return 10
    case let other: fail("--keys: unknown '\(other)' (grow, bounded)")
    }
}()

/// SplitMix64: the same UUIDs on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func uuid(_ index: Int) -> String {
    var generator = SeededGenerator(state: UInt64(index) &* 0x2545_F491_4F6C_DD1D)
    var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
    bytes[6] = bytes[6] & 0x0F | 0x40
    bytes[8] = bytes[8] & 0x3F | 0x80
    let digits = Array("0123456789abcdef".utf8)
    var text: [UInt8] = []
    for (index, byte) in bytes.enumerated() {
        if index == 4 || index == 6 || index == 8 || index == 10 { text.append(UInt8(ascii: "-")) }
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: text, as: UTF8.self)
}

/// Event number `index` of the stream: copy `index / demo.count` of a demo
/// event, with a new id and new keys so that it adds rows.
func variant(_ index: Int, ids: IDShape) -> Event {
    let event = demo[index % demo.count]
    let copy = index / demo.count
    let suffix = "-\(keySets.map { copy % $0 } ?? copy)"
    var data = event.data
    switch data {
    case .projectRegistered(var project):
        project.projectID += suffix
        data = .projectRegistered(project)
    case .projectStatusChanged(var change):
        change.projectID += suffix
        data = .projectStatusChanged(change)
    case .investmentReported(var report):
        report.projectID += suffix
        data = .investmentReported(report)
    case .enterpriseContacted(var contact):
        contact.enterprise += suffix
        data = .enterpriseContacted(contact)
    case .siteVisit(var visit):
        visit.enterprise += suffix
        data = .siteVisit(visit)
    case .agreementSigned(var agreement):
        agreement.enterprise += suffix
        data = .agreementSigned(agreement)
    case .projectIntroduced(var introduction):
        introduction.projectID += suffix
        data = .projectIntroduced(introduction)
    }
    switch ids {
    case .numbered: return Event(id: "c\(copy)-" + event.id, source: event.source, time: event.time, data: data)
    case .derived: return Event(derivingIDFromSource: event.source, time: event.time, data: data)
    case .uuid: return Event(id: uuid(index), source: event.source, time: event.time, data: data)
    }
}

/// Events `range` of the stream, as bytes and decoded.
func generate(_ ids: IDShape, _ range: Range<Int>) -> (bodies: [[UInt8]], decoded: [IncomingEvent]) {
    let bodies = range.map { variant($0, ids: ids).encoded() }
    let decoded: [IncomingEvent] = bodies.map { body in
        do { return try IncomingEvent(decoding: body) } catch { fail("generated event does not decode: \(error)") }
    }
    return (bodies, decoded)
}
let calendar: ZoneCalendar
do { calendar = try ZoneCalendar() } catch { fail("\(error)") }

func measure(_ phase: String, ids: IDShape, batchSize: Int, _ run: () throws -> Int) -> Measurement {
    let clock = ContinuousClock()
    var events = 0
    let cpuBefore = processCPUSeconds()
    let elapsed = clock.measure {
        do { events = try run() } catch { fail("\(phase): \(error)") }
    }
    let cpuAfter = processCPUSeconds()
    let cpuSeconds = cpuAfter.total - cpuBefore.total
    let systemSeconds = cpuAfter.system - cpuBefore.system
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let batches = (events + batchSize - 1) / batchSize
    let measurement = Measurement(
        ids: ids.rawValue, batchSize: batchSize, phase: phase, preloaded: preloadCount, events: events, seconds: seconds,
        eventsPerSecond: Double(events) / seconds, meanBatchMilliseconds: seconds * 1000 / Double(batches),
        cpuSeconds: cpuSeconds, systemSeconds: systemSeconds, eventsPerCPUSecond: Double(events) / cpuSeconds)
    print(String(
        format: "%@ batch %4d  %@ %8d events  %7.3f s  %9.0f events/s  %6.2f ms/batch  (CPU %7.3f s, %.0f%% system: %9.0f events per CPU-second)",
        ids.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0), batchSize, phase.padding(toLength: 13, withPad: " ", startingAt: 0), events, seconds, measurement.eventsPerSecond,
        measurement.meanBatchMilliseconds, cpuSeconds, 100 * systemSeconds / cpuSeconds, measurement.eventsPerCPUSecond))
    return measurement
}

// LODE_BENCH_CACHE_KIB and LODE_BENCH_MMAP_BYTES override the store's
// page cache and memory map, to compare settings.
let storeConfiguration: SQLiteStoreConfiguration = {
    var configuration = SQLiteStoreConfiguration(calendar: calendar)
    if let text = environment["LODE_BENCH_CACHE_KIB"], let kib = Int(text) {
        configuration.pageCacheKiB = kib
    }
    if let text = environment["LODE_BENCH_MMAP_BYTES"], let bytes = Int(text) {
        configuration.memoryMapBytes = bytes
    }
    if let text = environment["LODE_BENCH_PAGE_SIZE"], let bytes = Int(text) {
        configuration.pageSize = bytes
    }
    // --notify every: a rule on every event type (issue 5's benchmark), to a log channel.
    if options["notify"] == "every" {
        do {
            let rules = try EventType.allCases.map { type in
                try NotificationRule(name: "every-\(type.rawValue)", trigger: .event(type, EventConditions()), channels: ["log"],
                                     message: Template("an event"))
            }
            configuration.notifications = NotificationPolicy(rules: NotificationRules(rules: rules, calendar: calendar))
        } catch {
            fail("cannot make the rules: \(error)")
        }
    }
    if let text = environment["LODE_BENCH_CHECKPOINT_PAGES"], let pages = Int(text) {
        configuration.walAutocheckpointPages = pages
    }
    return configuration
}()
print("page size \(storeConfiguration.pageSize), checkpoint \(storeConfiguration.walAutocheckpointPages) pages, page cache \(storeConfiguration.pageCacheKiB) KiB, memory map \(storeConfiguration.memoryMapBytes) bytes, keys \(keySets == nil ? "grow" : "bounded"), preload \(preloadCount) events, directory \(directory)")

func removeDatabase(_ path: String) {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}

func openStore(_ path: String) -> SQLiteZoneStore {
    let store: SQLiteZoneStore
    do { store = try SQLiteZoneStore(path: path, configuration: storeConfiguration) } catch { fail("\(error)") }
    // LODE_BENCH_PRAGMAS: extra statements on the writer connection, ';'-separated, to try settings.
    if let pragmas = environment["LODE_BENCH_PRAGMAS"] {
        do { try store.withWriterConnection { db in try db.execute(sql: pragmas) } } catch { fail("\(pragmas): \(error)") }
    }
    return store
}

/// A database holding the events after the measured ones
/// (`eventCount..<eventCount + preloadCount`), checkpointed and closed.
func preloadedTemplate(_ ids: IDShape) -> String? {
    guard preloadCount > 0 else { return nil }
    let path = "\(directory)/bench-\(ids)-template.sqlite"
    removeDatabase(path)
    let store = openStore(path)
    let clock = ContinuousClock()
    let elapsed = clock.measure {
        for start in stride(from: eventCount, to: eventCount + preloadCount, by: 5_000) {
            let (_, decoded) = generate(ids, start..<min(start + 5_000, eventCount + preloadCount))
            do { _ = try store.apply(decoded) } catch { fail("preloading: \(error)") }
        }
        do {
            try store.withWriterConnection { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            try store.close()
        } catch { fail("preloading: \(error)") }
    }
    print("\(ids): preloaded \(preloadCount) events in \(elapsed)")
    return path
}

var results: [Measurement] = []
for ids in idShapes {
    let (bodies, decoded) = generate(ids, 0..<eventCount)
    let template = preloadedTemplate(ids)
    for batchSize in batchSizes {
        for phase in phases {
            let path = "\(directory)/bench-\(ids)-\(batchSize)-\(phase).sqlite"
            removeDatabase(path)
            if let template {
                do { try FileManager.default.copyItem(atPath: template, toPath: path) } catch { fail("\(error)") }
            }
            let store = openStore(path)
            results.append(measure(phase == "apply" ? "apply" : "decode+apply", ids: ids, batchSize: batchSize) {
                var applied = 0
                for start in stride(from: 0, to: eventCount, by: batchSize) {
                    let end = min(start + batchSize, eventCount)
                    let batch: [IncomingEvent]
                    if phase == "apply" {
                        batch = Array(decoded[start..<end])
                    } else {
                        batch = try bodies[start..<end].map { try IncomingEvent(decoding: $0) }
                    }
                    applied += try store.apply(batch).applied
                }
                guard applied == eventCount else { fail("applied \(applied) of \(eventCount)") }
                return applied
            })
            if phase == "apply" {
                results.append(measure("redelivered", ids: ids, batchSize: batchSize) {
                    var duplicates = 0
                    for start in stride(from: 0, to: eventCount, by: batchSize) {
                        duplicates += try store.apply(Array(decoded[start..<min(start + batchSize, eventCount)])).duplicates
                    }
                    guard duplicates == eventCount else { fail("\(duplicates) duplicates of \(eventCount)") }
                    return duplicates
                })
            }
            try? store.close()
            // LODE_BENCH_KEEP=1 keeps the databases, to look into them.
            if environment["LODE_BENCH_KEEP"] == nil { removeDatabase(path) }
        }
    }
    if let template, environment["LODE_BENCH_KEEP"] == nil { removeDatabase(template) }
}

let encoder = JSONEncoder()
encoder.keyEncodingStrategy = .convertToSnakeCase
if let json = try? encoder.encode(["storage": results]), let text = String(data: json, encoding: .utf8) {
    print(text)
}
