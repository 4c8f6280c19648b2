// Fuzzes the dead letters of messages anyone can send: the dead letter the worker builds for a
// rejected delivery (DeadLetter.message: x-lode-attempts, x-delivery-count, x-lode-first-failed-at
// and every other header come from the producer), and how a message of lode.dead is read
// (DeadLetterMessage: x-lode-*, x-death), replayed or put back. Input: a 2-byte big-endian length
// N, N bytes of basic properties in AMQP wire format (decoded by librabbitmq and copied out as for
// a delivery), then the body.
import Foundation
@testable import LodeAMQP
import LodeDeadLetters
import LodeEvents
import LodeFuzzDriver

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzBytes(data, size)
    guard input.count >= 2 else { return 0 }
    let length = min(Int(input[0]) << 8 | Int(input[1]), input.count - 2)
    let propertyBytes = Array(input[2..<(2 + length)])
    let body = Array(input[(2 + length)...])
    guard let properties = PropertiesWire.decode(propertyBytes) else { return 0 }
    let delivery = Delivery(unreceived: body, properties: properties)
    var rejection: EventRejection?
    do throws(EventRejection) { _ = try Event.decode(body) } catch { rejection = error }
    let rejected = Rejected(body: body, reason: rejection?.reason.rawValue ?? "poison",
                            error: rejection?.message ?? "fuzz", eventID: rejection?.eventID, eventType: rejection?.eventType)
    // Both ways a worker builds one: headers of a trusted publisher kept, or a producer's
    // x-lode-* headers dropped (the last byte chooses).
    let trustsHeaders = (input.last ?? 0) & 1 == 1
    let built = DeadLetter.message(for: rejected, of: delivery, publisherUser: "lode-worker", trustsHeaders: trustsHeaders)
    let attempts = built.properties.headers?["x-lode-attempts"]?.integerValue ?? 0
    fuzzCheck((1...DeadLetter.maxAttempts).contains(attempts), "a dead letter with \(attempts) attempts")
    fuzzCheck(built.shortStringViolation() == nil, "a dead letter the broker would refuse: \(built.shortStringViolation() ?? "")")
    fuzzCheck(PropertiesWire.encode(built.properties, capacity: 128 * 1024) != nil, "a dead letter whose properties pass 128 KiB")
    let trust = DeadLetterTrust(users: ["lode-worker", "lodectl"])
    let reread = DeadLetterMessage(properties: built.properties, body: built.body, trust: trust)
    fuzzCheck(reread.record.reason == rejected.reason, "a dead letter read back with another reason")
    let message = DeadLetterMessage(properties: properties, body: body, trust: trust, now: Date(timeIntervalSince1970: 1_700_000_000))
    let record = message.record
    fuzzCheck(record.attempts >= 0, "negative attempts: \(record.attempts)")
    fuzzCheck(!record.id.isEmpty && !record.reason.isEmpty, "a dead letter without id or reason")
    let replay = message.replay(as: "lodectl")
    fuzzCheck(replay.body == body, "a replay changes the body")
    fuzzCheck(replay.properties.headers?["x-lode-reason"] == nil, "a replay keeps x-lode-reason")
    _ = message.requeued(by: "fuzz", as: "lodectl").properties.headers
    _ = message.sweptBy
    return 0
}

runLibFuzzer(testOneInput)
