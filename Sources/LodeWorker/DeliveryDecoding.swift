import LodeAMQP
import LodeDeadLetters
import LodeEvents
import LodeStorage

/// What the deliveries of one batch hold: the events to apply (each with the index of the
/// delivery it came in) and what must be dead-lettered.
public struct DecodedDeliveries: Sendable {
    public var events: [IncomingEvent] = []
    public var eventDelivery: [Int] = []
    public var rejected: [(delivery: Int, rejected: Rejected)] = []

    /// Splits and validates every delivery on its own, and each event of a batch on its own:
    /// one bad event costs the others nothing. The content type alone decides the shape.
    public init(_ deliveries: [Delivery]) {
        for (index, delivery) in deliveries.enumerated() {
            switch MessageFormat(contentType: delivery.properties.contentType) {
            case .single:
                do throws(EventRejection) {
                    let event = try Event.decode(delivery.body)
                    events.append(IncomingEvent(event: event, body: delivery.body))
                    eventDelivery.append(index)
                } catch {
                    rejected.append((index, Rejected(body: delivery.body, reason: error.reason.rawValue,
                                                     error: error.message, eventID: error.eventID,
                                                     eventType: error.eventType)))
                }
            case .batch:
                do throws(EventRejection) {
                    for element in try EventBatch.decode(delivery.body).elements {
                        switch element.result {
                        case .success(let event):
                            events.append(IncomingEvent(event: event, body: element.bytes))
                            eventDelivery.append(index)
                        case .failure(let rejection):
                            rejected.append((index, Rejected(body: element.bytes, reason: rejection.reason.rawValue,
                                                             error: rejection.message, eventID: rejection.eventID,
                                                             eventType: rejection.eventType)))
                        }
                    }
                } catch {
                    rejected.append((index, Rejected(body: delivery.body, reason: error.reason.rawValue,
                                                     error: error.message, eventID: error.eventID,
                                                     eventType: error.eventType)))
                }
            }
        }
    }
}
