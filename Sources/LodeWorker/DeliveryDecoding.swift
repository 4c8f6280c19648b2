import LodeAMQP
import LodeDeadLetters
import LodeEvents
import LodePermissions
import LodeStorage

/// What the deliveries of one batch hold: the events to apply (each with the index of the
/// delivery it came in) and what must be dead-lettered.
public struct DecodedDeliveries: Sendable {
    public var events: [IncomingEvent] = []
    public var eventDelivery: [Int] = []
    public var rejected: [(delivery: Int, rejected: Rejected)] = []

    /// The reason of an event its sender may not send (contract section 6).
    public static let unauthorized = "unauthorized"

    /// Splits and validates every delivery on its own, and each event of a batch on its own:
    /// one bad event costs the others nothing. The content type alone decides the shape.
    ///
    /// With `departments`, each delivery's sender is judged once (its `user_id`, or the
    /// `x-lode-original-user-id` of a replay user's message), then each valid event on its own:
    /// one its sender may not send (type or source), or any event of a sender that is no
    /// department's, is dead-lettered as ``unauthorized``, the error naming the user, the type
    /// or source, and what the config allows. An event that is not valid keeps its own reason.
    public init(_ deliveries: [Delivery], departments: Departments? = nil) {
        for (index, delivery) in deliveries.enumerated() {
            let sender = departments.map { departments in
                departments.sender(userID: delivery.properties.userID,
                                   originalUserID: delivery.properties.headers?[DeadLetter.originalUserHeader]?.stringValue)
            }
            switch MessageFormat(contentType: delivery.properties.contentType) {
            case .single:
                do throws(EventRejection) {
                    accept(try Event.decode(delivery.body), body: delivery.body, delivery: index, sender: sender)
                } catch {
                    reject(error, body: delivery.body, delivery: index)
                }
            case .batch:
                do throws(EventRejection) {
                    for element in try EventBatch.decode(delivery.body).elements {
                        switch element.result {
                        case .success(let event):
                            accept(event, body: element.bytes, delivery: index, sender: sender)
                        case .failure(let rejection):
                            reject(rejection, body: element.bytes, delivery: index)
                        }
                    }
                } catch {
                    reject(error, body: delivery.body, delivery: index)
                }
            }
        }
    }

    private mutating func accept(_ event: Event, body: [UInt8], delivery: Int, sender: Sender?) {
        if let sender, let refusal = sender.refusal(type: event.type, source: event.source) {
            rejected.append((delivery, Rejected(body: body, reason: Self.unauthorized, error: refusal,
                                                eventID: event.id, eventType: event.type.rawValue)))
            return
        }
        events.append(IncomingEvent(event: event, body: body))
        eventDelivery.append(delivery)
    }

    private mutating func reject(_ rejection: EventRejection, body: [UInt8], delivery: Int) {
        rejected.append((delivery, Rejected(body: body, reason: rejection.reason.rawValue, error: rejection.message,
                                            eventID: rejection.eventID, eventType: rejection.eventType)))
    }
}
