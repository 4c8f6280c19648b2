// Fuzzes the CSV reader of lode-publish (CSVEventReader.read, its public entry point): any file
// gives events or problems that each name a line; never a trap. Every event it reads is one the
// worker accepts: written out and decoded, it is the same event.
import LodeEvents
import LodeFuzzDriver
import LodePublishing

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzBytes(data, size)
    guard let selector = input.first else { return 0 }
    // The first byte picks the event type; the rest is the file.
    let types = EventType.allCases
    let type = types[Int(selector) % types.count]
    let defaultTime = selector >= 128 ? try? EventTime(parsing: "2024-05-05T10:00:00+08:00") : nil
    // The zone's time zone, for times and dates without an offset (the spreadsheet conventions).
    guard let calendar = try? ZoneCalendar(timeZoneIdentifier: "Asia/Shanghai") else { fuzzCheck(false, "no Asia/Shanghai time zone"); return 0 }
    let reader = CSVEventReader(type: type, fileName: "fuzz.csv", defaultSource: "fuzz", defaultTime: defaultTime,
                                calendar: calendar)
    do throws(InvalidInput) {
        let read = try reader.read(Array(input.dropFirst()))
        fuzzCheck(read.events.count == read.lines.count, "events and their lines differ in number")
        for event in read.events {
            let decoded = try? Event.decode(event.encoded())
            fuzzCheck(decoded == event, "a CSV row gives an event the worker reads differently: \(event)")
        }
    } catch {
        fuzzCheck(!error.problems.isEmpty, "an InvalidInput without problems")
        for problem in error.problems {
            fuzzCheck(problem.line >= 1, "a problem without a line: \(problem)")
        }
    }
    return 0
}

runLibFuzzer(testOneInput)
