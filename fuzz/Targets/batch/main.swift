// Fuzzes the decoder of a batch message body (EventBatch.decode): the whole body is rejected
// with a reason, or every element has its own result and its own bytes inside the body. A valid
// element's bytes decode as a single event to the same event.
import LodeEvents
import LodeFuzzDriver

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = fuzzBytes(data, size)
    do throws(EventRejection) {
        let batch = try EventBatch.decode(body)
        for element in batch.elements {
            fuzzCheck(element.byteRange.lowerBound >= 0 && element.byteRange.upperBound <= body.count,
                      "element \(element.index) lies outside the body: \(element.byteRange)")
            if let event = element.event {
                let alone = try? Event.decode(element.bytes)
                fuzzCheck(alone == event, "element \(element.index) decodes differently alone")
                fuzzCheck(element.canonicalBytes != nil, "a valid element without canonical bytes")
            } else {
                fuzzCheck(!(element.rejection?.message.isEmpty ?? true), "a rejection without a message")
            }
        }
        if !batch.events.isEmpty {
            _ = try? EventBatch.decode(EventBatch.encode(batch.events))
        }
    } catch {
        fuzzCheck(!error.message.isEmpty, "a rejection without a message: \(error.reason)")
    }
    return 0
}

runLibFuzzer(testOneInput)
