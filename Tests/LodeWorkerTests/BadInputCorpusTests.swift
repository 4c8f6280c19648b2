import Foundation
@testable import LodeAMQP
import LodeDeadLetters
import LodeEvents
import LodeTestSupport
import LodeWorker
import Testing

/// The bad-input corpus (`Tests/Corpus`, issue 11) at the unit level: the decoders give each case
/// its expected outcome, and hostile headers survive librabbitmq's codec, LodeAMQP's copy-out and
/// the reading of a dead letter. The same cases go through the publisher and the worker process
/// in BrokerIntegrationTests.
@Suite("The bad-input corpus, decoded")
struct BadInputCorpusTests {
    static let corpus: BadInputCorpus = {
        do { return try BadInputCorpus.load() } catch { fatalError("Tests/Corpus cannot be read: \(error)") }
    }()

    /// Whether a rejection matches an expected outcome; the difference when it does not.
    static func mismatch(_ expected: BadInputCorpus.Outcome, reason: String?, message: String?) -> String? {
        switch expected {
        case .applied:
            return reason.map { "expected applied, got \($0): \(message ?? "")" }
        case .rejected(let expectedReason, let mentions):
            guard let reason, let message else { return "expected \(expected), got applied" }
            if reason != expectedReason { return "expected \(expectedReason), got \(reason): \(message)" }
            let missing = mentions.filter { !message.contains($0) }
            return missing.isEmpty ? nil : "the message does not mention \(missing): \(message)"
        }
    }

    @Test func theCorpusHoldsAtLeastSixtyCasesEachWithItsBody() {
        #expect(Self.corpus.cases.count >= 60)
        #expect(Self.corpus.cases.filter { $0.properties.headers != nil }.count >= 10)
        #expect(Set(Self.corpus.cases.map(\.name)).count == Self.corpus.cases.count)
    }

    @Test(arguments: corpus.cases.map(\.name))
    func eachCaseDecodesToItsExpectedOutcome(_ name: String) throws {
        let testCase = try #require(Self.corpus.cases.first { $0.name == name })
        let delivery = Delivery(unreceived: testCase.body, properties: testCase.properties)
        let decoded = DecodedDeliveries([delivery])
        switch testCase.expectation {
        case .message(let outcome):
            // The decoder of the message's shape, then the worker's split of the delivery.
            if MessageFormat(contentType: testCase.properties.contentType) == .batch {
                do throws(EventRejection) {
                    let batch = try EventBatch.decode(testCase.body)
                    Issue.record("expected the whole batch rejected (\(outcome)), got \(batch.elements.count) elements")
                } catch {
                    #expect(Self.mismatch(outcome, reason: error.reason.rawValue, message: error.message) == nil)
                }
            } else {
                do throws(EventRejection) {
                    _ = try Event.decode(testCase.body)
                    #expect(Self.mismatch(outcome, reason: nil, message: nil) == nil)
                } catch {
                    #expect(Self.mismatch(outcome, reason: error.reason.rawValue, message: error.message) == nil)
                }
            }
            let rejected = decoded.rejected.first?.rejected
            #expect(decoded.events.count + decoded.rejected.count == 1)
            #expect(Self.mismatch(outcome, reason: rejected?.reason, message: rejected?.error) == nil)
        case .elements(let outcomes):
            let batch = try EventBatch.decode(testCase.body)
            #expect(batch.elements.count == outcomes.count)
            for (element, outcome) in zip(batch.elements, outcomes) {
                let problem = Self.mismatch(outcome, reason: element.rejection?.reason.rawValue, message: element.rejection?.message)
                #expect(problem == nil, "element \(element.index)")
            }
            #expect(decoded.events.count == outcomes.count { $0 == .applied })
            #expect(decoded.rejected.count == outcomes.count { $0 != .applied })
        }
    }

    /// Headers and properties as a broker would send them: written in AMQP's wire format, read by
    /// librabbitmq's decoder and copied out by LodeAMQP, they come back as they were.
    @Test func hostileHeadersAndPropertiesSurviveTheWireAndTheCopyOut() throws {
        for testCase in Self.corpus.cases where testCase.properties != MessageProperties(
            contentType: testCase.properties.contentType, deliveryMode: 2, correlationID: testCase.properties.correlationID) {
            let wire = try #require(PropertiesWire.encode(testCase.properties), "\(testCase.name)")
            let copied = try #require(PropertiesWire.decode(wire), "\(testCase.name)")
            // Compared as written again: NaN headers are not equal to themselves.
            #expect(PropertiesWire.encode(copied) == wire, "\(testCase.name)")
            #expect(copied.type == testCase.properties.type && copied.appID == testCase.properties.appID, "\(testCase.name)")
        }
    }

    /// The dead letter the worker builds for each case's message, whatever its headers claim:
    /// attempts from 1 to the most an `int32` holds, properties the broker takes (short strings,
    /// a header frame within 128 KiB), and read back with its reason.
    @Test func theDeadLetterOfEveryCaseIsOneTheBrokerTakes() throws {
        for testCase in Self.corpus.cases {
            let delivery = Delivery(unreceived: testCase.body, properties: testCase.properties)
            let rejected = Rejected(body: testCase.body, reason: "invalid_json", error: "corpus: \(testCase.name)")
            let message = DeadLetter.message(for: rejected, of: delivery, publisherUser: "lode-worker")
            let attempts = message.properties.headers?["x-lode-attempts"]?.integerValue ?? 0
            #expect((1...DeadLetter.maxAttempts).contains(attempts), "\(testCase.name): \(attempts)")
            #expect(message.shortStringViolation() == nil, "\(testCase.name)")
            #expect(PropertiesWire.encode(message.properties, capacity: 128 * 1024) != nil, "\(testCase.name)")
            #expect(DeadLetterMessage(properties: message.properties, body: message.body).record.reason == "invalid_json")
        }
    }

    /// Read as a message of lode.dead (forged `x-death`, `x-lode-attempts` of any type and size):
    /// an index row with attempts from 0 up, a first failure that is a time, and a replay
    /// without the failure's headers.
    @Test func forgedDeadLetterHeadersGiveASaneIndexRow() throws {
        let now = Date(timeIntervalSince1970: 1_717_000_000)
        for testCase in Self.corpus.cases {
            let letter = DeadLetterMessage(properties: testCase.properties, body: testCase.body, now: now)
            #expect(letter.record.attempts >= 0, "\(testCase.name): \(letter.record.attempts)")
            #expect(letter.record.firstFailedAt.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/) != nil,
                    "\(testCase.name): \(letter.record.firstFailedAt)")
            #expect(letter.replay.properties.headers?["x-lode-reason"] == nil, "\(testCase.name)")
        }
    }
}
