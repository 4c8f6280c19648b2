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
}

/// Publishes planned messages in chunks through a `Publisher` (confirms, windowed), reporting
/// progress after each chunk, and stops at the first chunk that is not wholly confirmed.
public struct PublishRun: Sendable {
    public var chunkSize: Int

    public init(chunkSize: Int = 2_000) {
        self.chunkSize = max(1, chunkSize)
    }

    /// Publishes `plan`; returns the number of events confirmed (all of them), or throws the
    /// failure. `progress` gets the number of events confirmed so far.
    public func publish(_ plan: [PlannedMessage], with publisher: Publisher,
                        progress: (Int) -> Void = { _ in }) async throws(PublishFailure) -> Int {
        var confirmedEvents = 0
        var start = 0
        let total = plan.reduce(0) { $0 + $1.eventCount }
        while start < plan.count {
            let chunk = plan[start..<min(start + chunkSize, plan.count)]
            let report: PublishReport
            do {
                report = try await publisher.publish(chunk.map(\.message))
            } catch {
                throw failure(for: error, confirmedEvents: confirmedEvents, total: total, broker: publisher.settings.redactedURL)
            }
            for (offset, outcome) in report.outcomes.enumerated() where outcome == .confirmed {
                confirmedEvents += chunk[chunk.startIndex + offset].eventCount
            }
            progress(confirmedEvents)
            if !report.allConfirmed {
                throw failure(for: report, chunk: chunk, confirmedEvents: confirmedEvents, total: total)
            }
            start += chunk.count
        }
        return confirmedEvents
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
                the broker refused \(report.nackedCount) message\(report.nackedCount == 1 ? "" : "s") (a full queue?); \
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
