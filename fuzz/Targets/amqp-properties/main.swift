// Fuzzes the copy-out of a delivery's properties and headers: the bytes go through librabbitmq's
// own decoder (amqp_decode_properties, as for a content header from the broker), then through
// LodeAMQP's copy into Swift values (MessageProperties, FieldTable, FieldValue). Never a trap;
// and what was copied out, written back with LodeAMQP's encoder, reads back the same.
@testable import LodeAMQP
import LodeFuzzDriver

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let properties = PropertiesWire.decode(fuzzBytes(data, size)) else { return 0 }
    _ = properties.headers?["x-death"]?.integerValue
    _ = OutgoingMessage(exchange: "", routingKey: "", body: [], properties: properties).shortStringViolation()
    guard let written = PropertiesWire.encode(properties) else { return 0 }
    let reread = PropertiesWire.decode(written)
    fuzzCheck(reread != nil, "librabbitmq refuses properties LodeAMQP wrote from a decoded copy")
    if let reread {
        fuzzCheck(PropertiesWire.encode(reread) == written, "properties change when copied out a second time")
    }
    return 0
}

runLibFuzzer(testOneInput)
