// How fast SQLiteZoneStore applies batches of events to a SQLite file
// (WAL, synchronous=FULL: every batch is one fsynced commit).
//
//   swift build -c release --product lode-bench-storage
//   .build/release/lode-bench-storage [EVENTS] [DIRECTORY]
//
// EVENTS (default 200000) events of the demo set's kind: the demo set
// (demo/baotou-2024.ndjson) repeated with new ids, project ids and
// enterprise names, so every copy adds rows as new data would; once with
// numbered ids (c<copy>-<demo id>) and once with ids derived from content
// (sha256:…, spread over the whole inbox index). For each batch size (500
// and 1000), a new database file in DIRECTORY (default: a temporary
// directory) and three measurements:
//   apply          store.apply on decoded events (the store's own cost)
//   decode+apply   Event.decode of each event's bytes, then store.apply
//   redelivered    the same batches again: every event a duplicate
// Prints one line per measurement, then one JSON line with all of them.

import Foundation
import LodeEvents
import LodeStorage

struct Measurement: Codable {
    var ids: String
    var batchSize: Int
    var phase: String
    var events: Int
    var seconds: Double
    var eventsPerSecond: Double
    var meanBatchMilliseconds: Double
    /// CPU time of the process (user + system) over the same run: the
    /// machine is shared, so wall-clock rates fall when others build.
    var cpuSeconds: Double
    var eventsPerCPUSecond: Double
}

func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("lode-bench-storage: \(message)\n".utf8))
    exit(64)
}

let arguments = CommandLine.arguments.dropFirst()
var eventCount = 200_000
if let text = arguments.first {
    guard let count = Int(text), count > 0 else { fail("EVENTS must be a positive number, got \(text)") }
    eventCount = count
}
let directory = arguments.dropFirst().first ?? {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("lode-bench-storage-\(getpid())").path
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
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
}

/// Copy `copy` of a demo event: new id, and new keys so that it adds rows.
func variant(_ event: Event, copy: Int, ids: IDShape) -> Event {
    let suffix = "-\(copy)"
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
    }
}

func generate(_ ids: IDShape, count eventCount: Int) -> (bodies: [[UInt8]], decoded: [IncomingEvent]) {
    var bodies: [[UInt8]] = []
    bodies.reserveCapacity(eventCount)
    for index in 0..<eventCount {
        bodies.append(variant(demo[index % demo.count], copy: index / demo.count, ids: ids).encoded())
    }
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
    let cpuSeconds = processCPUSeconds() - cpuBefore
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let batches = (events + batchSize - 1) / batchSize
    let measurement = Measurement(
        ids: ids.rawValue, batchSize: batchSize, phase: phase, events: events, seconds: seconds,
        eventsPerSecond: Double(events) / seconds, meanBatchMilliseconds: seconds * 1000 / Double(batches),
        cpuSeconds: cpuSeconds, eventsPerCPUSecond: Double(events) / cpuSeconds)
    print(String(
        format: "%@ batch %4d  %@ %8d events  %7.3f s  %9.0f events/s  %6.2f ms/batch  (CPU %7.3f s: %9.0f events per CPU-second)",
        ids.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0), batchSize, phase.padding(toLength: 13, withPad: " ", startingAt: 0), events, seconds, measurement.eventsPerSecond,
        measurement.meanBatchMilliseconds, cpuSeconds, measurement.eventsPerCPUSecond))
    return measurement
}

// LODE_BENCH_CACHE_KIB and LODE_BENCH_MMAP_BYTES override the store's
// page cache and memory map, to compare settings.
var storeConfiguration = SQLiteStoreConfiguration(calendar: calendar)
if let text = ProcessInfo.processInfo.environment["LODE_BENCH_CACHE_KIB"], let kib = Int(text) {
    storeConfiguration.pageCacheKiB = kib
}
if let text = ProcessInfo.processInfo.environment["LODE_BENCH_MMAP_BYTES"], let bytes = Int(text) {
    storeConfiguration.memoryMapBytes = bytes
}
print("page cache \(storeConfiguration.pageCacheKiB) KiB, memory map \(storeConfiguration.memoryMapBytes) bytes, directory \(directory)")

var results: [Measurement] = []
// LODE_BENCH_IDS=numbered|derived measures one shape only; LODE_BENCH_PHASES=apply skips decode+apply.
let onlyIDs = ProcessInfo.processInfo.environment["LODE_BENCH_IDS"].flatMap(IDShape.init(rawValue:))
let phases = ProcessInfo.processInfo.environment["LODE_BENCH_PHASES"] == "apply" ? ["apply"] : ["apply", "decode+apply"]
for ids in IDShape.allCases where onlyIDs == nil || onlyIDs == ids {
let (bodies, decoded) = generate(ids, count: eventCount)
for batchSize in [500, 1_000] {
    for phase in phases {
        let path = "\(directory)/bench-\(ids)-\(batchSize)-\(phase == "apply" ? "apply" : "decode").sqlite"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let store: SQLiteZoneStore
        do { store = try SQLiteZoneStore(path: path, configuration: storeConfiguration) } catch {
            fail("\(error)")
        }
        // LODE_BENCH_PRAGMAS: extra statements on the writer connection, ';'-separated, to try settings.
        if let pragmas = ProcessInfo.processInfo.environment["LODE_BENCH_PRAGMAS"] {
            do { try store.withWriterConnection { db in try db.execute(sql: pragmas) } } catch { fail("\(pragmas): \(error)") }
        }
        results.append(measure(phase, ids: ids, batchSize: batchSize) {
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
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}
}

let encoder = JSONEncoder()
encoder.keyEncodingStrategy = .convertToSnakeCase
if let json = try? encoder.encode(["storage": results]), let text = String(data: json, encoding: .utf8) {
    print(text)
}
