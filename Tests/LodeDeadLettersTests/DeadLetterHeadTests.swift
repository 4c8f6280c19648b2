import Foundation
import LodeAMQP
@testable import LodeDeadLetters
import Testing

/// When the oldest message of `lode.dead` entered it, read from its headers.
@Suite("The head of lode.dead")
struct DeadLetterHeadTests {
    @Test func aDeadLetterEnteredItsQueueAtItsFirstFailureElseAtItsDeathElseWhenPublished() throws {
        var lode = FieldTable()
        lode["x-lode-first-failed-at"] = .string("2024-06-01T00:00:00Z")
        lode["x-death"] = .array([.table(["time": .timestamp(1_600_000_000)])])
        #expect(DeadLetterHead.enteredAt(of: MessageProperties(headers: lode, timestamp: 1)) == Date(timeIntervalSince1970: 1_717_200_000))
        var fractional = FieldTable()
        fractional["x-lode-first-failed-at"] = .string("2024-06-01T00:00:00.250Z")
        #expect(DeadLetterHead.enteredAt(of: MessageProperties(headers: fractional)) == Date(timeIntervalSince1970: 1_717_200_000.25))
        let byBroker: FieldTable = ["x-death": .array([.table(["time": .timestamp(1_600_000_100)]), .table(["time": .timestamp(1_600_000_000)])])]
        #expect(DeadLetterHead.enteredAt(of: MessageProperties(headers: byBroker, timestamp: 1)) == Date(timeIntervalSince1970: 1_600_000_000))
        #expect(DeadLetterHead.enteredAt(of: MessageProperties(timestamp: 1_500_000_000)) == Date(timeIntervalSince1970: 1_500_000_000))
        #expect(DeadLetterHead.enteredAt(of: MessageProperties()) == nil)
    }
}
