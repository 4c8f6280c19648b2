// Fuzzes the decoder of a single-event message body (Event.decode): any bytes either decode or
// are rejected with a reason; never a trap. A decoded event, written out again, decodes to the
// same event (what the worker accepts, the publisher can write and the worker accept again).
import LodeEvents
import LodeFuzzDriver

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = fuzzBytes(data, size)
    do throws(EventRejection) {
        let event = try Event.decode(body)
        let again = try? Event.decode(event.encoded())
        fuzzCheck(again == event, "a decoded event does not survive encoded() and decode: \(event)")
    } catch {
        fuzzCheck(!error.message.isEmpty, "a rejection without a message: \(error.reason)")
    }
    return 0
}

runLibFuzzer(testOneInput)
