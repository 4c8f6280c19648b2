import LodeAMQP
import LodeEvents

/// Why publishing did not end with every event confirmed, and the exit code that says so.
public struct PublishFailure: Error, Sendable, CustomStringConvertible {
    /// sysexits: 69 the broker can't be reached or has no route (nothing more sent),
    /// 75 failed part way (a re-run is safe), 65 a message the broker's limits refuse.
    public var exitCode: Int32
    public var message: String
    /// Events the broker confirmed before the failure.
    public var confirmedEvents: Int

    public var description: String { message }

    public init(exitCode: Int32, message: String, confirmedEvents: Int = 0) {
        self.exitCode = exitCode
        self.message = message
        self.confirmedEvents = confirmedEvents
    }
}

/// Publishes planned messages in chunks through a `Publisher` (confirms, windowed), reporting
/// progress after each chunk, and stops at the first chunk that is not wholly confirmed.
///
/// A chunk's messages that the broker did not take are published again, up to
/// ``republishLimit`` times, when the reason is passing: the connection went away mid-chunk (a
/// node of a cluster stopped, a network blip: again at once, through whichever broker the
/// publisher reaches next), or the broker refused them (`basic.nack`: a quorum queue refuses
/// publishes while it elects a new leader; again after ``refusalPause``, doubled each time).
/// Those messages may have arrived already; the worker recognises them by their event ids. So
/// success still means every event confirmed.
public struct PublishRun: Sendable {
    public var chunkSize: Int
    /// How often one chunk's messages are published again (see the type's comment).
    public var republishLimit: Int
    /// The wait before publishing refused messages again, doubled at each further attempt.
    public var refusalPause: Duration

    public init(chunkSize: Int = 2_000, republishLimit: Int = 3, refusalPause: Duration = .seconds(1)) {
        self.chunkSize = max(1, chunkSize)
        self.republishLimit = max(0, republishLimit)
        self.refusalPause = refusalPause
    }

    /// What of a chunk to publish again, and why.
    struct Republish: Equatable {
        /// The messages' places in the report.
        var indexes: [Int]
        /// Some were refused (nacked), not merely unconfirmed: wait before sending them again.
        var refused: Bool

        /// Why, for the person running the publisher.
        func reason(_ interruption: AMQPError?) -> String {
            if refused { return "the broker refused some messages (a quorum queue electing a new leader?)" }
            return "the connection was lost (\(interruption?.reason ?? "no reason given"))"
        }
    }

    /// Publishes `plan`; returns the number of events confirmed (all of them), or throws the
    /// failure. `progress` gets the number of events confirmed so far; `republishing` hears
    /// of each republish: how many messages, and why.
    public func publish(_ plan: [PlannedMessage], with publisher: Publisher,
                        progress: (Int) -> Void = { _ in },
                        republishing: (Int, String) -> Void = { _, _ in }) async throws(PublishFailure) -> Int {
        var start = 0
        return try await publish(total: plan.reduce(0) { $0 + $1.eventCount }, chunks: { () throws(PublishFailure) -> [PlannedMessage]? in
            guard start < plan.count else { return nil }
            let chunk = Array(plan[start..<min(start + chunkSize, plan.count)])
            start += chunk.count
            return chunk
        }, with: publisher, progress: progress, republishing: republishing)
    }

    /// Publishes the messages `chunks` gives, one chunk (up to ``chunkSize`` messages) at a time,
    /// until it gives nil: the plan is made as it is published, so only a chunk is in memory.
    /// `total` is the number of events the chunks hold, for the failure messages. A failure
    /// `chunks` throws is passed on with the events confirmed so far.
    public func publish(total: Int, chunks: () throws(PublishFailure) -> [PlannedMessage]?, with publisher: Publisher,
                        progress: (Int) -> Void = { _ in },
                        republishing: (Int, String) -> Void = { _, _ in }) async throws(PublishFailure) -> Int {
        var confirmedEvents = 0
        while true {
            let next: [PlannedMessage]?
            do {
                next = try chunks()
            } catch {
                var failure = error
                failure.confirmedEvents = confirmedEvents
                throw failure
            }
            guard let chunk = next else { break }
            var pending = chunk
            var republished = 0
            while true {
                let report: PublishReport
                do {
                    report = try await publisher.publish(pending.map(\.message))
                } catch {
                    throw failure(for: error, confirmedEvents: confirmedEvents, total: total, broker: publisher.settings.redactedURL)
                }
                for (offset, outcome) in report.outcomes.enumerated() where outcome == .confirmed {
                    confirmedEvents += pending[offset].eventCount
                }
                progress(confirmedEvents)
                if report.allConfirmed { break }
                guard republished < republishLimit, let again = Self.republishable(report) else {
                    throw failure(for: report, chunk: pending[...], confirmedEvents: confirmedEvents, total: total)
                }
                let pause = again.refused ? refusalPause * (1 << republished) : .zero
                republished += 1
                republishing(again.indexes.count, again.reason(report.interruption)
                             + (pause > .zero ? "; publishing them again in \(pause.seconds) s" : "; publishing them again"))
                if pause > .zero {
                    try? await Task.sleep(for: pause)
                    // On a new channel: RabbitMQ 3.10 was seen to go on refusing, for many seconds,
                    // a channel whose quorum queue's leader had gone, while new channels published.
                    await publisher.reconnect()
                }
                pending = again.indexes.map { pending[$0] }
            }
        }
        return confirmedEvents
    }

    /// What of `report` to publish again, or `nil` when nothing may be: not after a return (the
    /// topology is missing), a blocked broker, or an interruption that is not a lost connection
    /// (a missing exchange, a refused login).
    static func republishable(_ report: PublishReport) -> Republish? {
        if let interruption = report.interruption {
            guard interruption.isConnectionLost, interruption.isRetryable else { return nil }
            if case .blocked = interruption.kind { return nil }
        }
        guard report.returnedCount == 0 else { return nil }
        let indexes = report.indexes { $0 == .unconfirmed || $0 == .nacked }
        return indexes.isEmpty ? nil : Republish(indexes: indexes, refused: report.nackedCount > 0)
    }

    func failure(for error: AMQPError, confirmedEvents: Int, total: Int, broker: String) -> PublishFailure {
        if case .invalidMessage = error.kind {
            return PublishFailure(exitCode: 65, message: "a message was refused before sending: \(error)", confirmedEvents: confirmedEvents)
        }
        if confirmedEvents == 0 {
            let detail: String
            if case .unavailable(let attempts, let last) = error.kind {
                detail = "\(attempts) attempt\(attempts == 1 ? "" : "s"), the last: \(last)"
            } else {
                detail = error.description
            }
            return PublishFailure(exitCode: 69, message: """
                cannot reach the broker at \(broker), nothing was published (\(detail))
                """, confirmedEvents: 0)
        }
        return PublishFailure(exitCode: 75, message: """
            publishing failed part way: \(confirmedEvents) of \(total) events were confirmed, then: \(error). \
            Re-running the same input is safe: events already applied are recognised by their ids.
            """, confirmedEvents: confirmedEvents)
    }

    func failure(for report: PublishReport, chunk: ArraySlice<PlannedMessage>, confirmedEvents: Int, total: Int) -> PublishFailure {
        let returnedKeys = Set(report.outcomes.indices.compactMap { index -> String? in
            if case .returned = report.outcomes[index] { return chunk[chunk.startIndex + index].message.routingKey }
            return nil
        }).sorted()
        if !returnedKeys.isEmpty {
            return PublishFailure(exitCode: 69, message: """
                the broker routed no queue for \(returnedKeys.map { "'\($0)'" }.joined(separator: ", ")) on exchange \
                '\(chunk.first?.message.exchange ?? MessagePlan.exchange)': the topology is missing. Run `lodectl setup`, then publish again \
                (re-running is safe). \(confirmedEvents) of \(total) events were confirmed.
                """, confirmedEvents: confirmedEvents)
        }
        if let interruption = report.interruption, interruption.replyCode == 404 {
            return PublishFailure(exitCode: 69, message: """
                the exchange '\(chunk.first?.message.exchange ?? MessagePlan.exchange)' does not exist on the broker: run `lodectl setup`, then publish \
                again (re-running is safe). \(confirmedEvents) of \(total) events were confirmed. (\(interruption))
                """, confirmedEvents: confirmedEvents)
        }
        if let interruption = report.interruption, interruption.replyCode == 403 {
            return PublishFailure(exitCode: 77, message: """
                the broker refused to let this user publish (\(interruption)). With departments, a broker user may \
                write to '\(chunk.first?.message.exchange ?? MessagePlan.exchange)' only with its own event types as \
                routing keys (docs/security.md): publish as the department that sends this type, or ask for the type to \
                be added to its permissions. Re-running as the same user will not help. \(confirmedEvents) of \(total) \
                events were confirmed.
                """, confirmedEvents: confirmedEvents)
        }
        if report.nackedCount > 0 {
            return PublishFailure(exitCode: 75, message: """
                the broker refused \(report.nackedCount) message\(report.nackedCount == 1 ? "" : "s") (a quorum \
                queue without a leader for too long, or a full queue); \
                \(confirmedEvents) of \(total) events were confirmed. Re-running the same input is safe: \
                events already applied are recognised by their ids.
                """, confirmedEvents: confirmedEvents)
        }
        let reason = report.interruption.map { ": \($0)" } ?? ""
        return PublishFailure(exitCode: 75, message: """
            publishing failed part way\(reason). \(confirmedEvents) of \(total) events were confirmed, the rest may or \
            may not have arrived. Re-running the same input is safe: events already applied are recognised by their ids.
            """, confirmedEvents: confirmedEvents)
    }
}
