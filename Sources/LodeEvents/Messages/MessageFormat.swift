/// How a message body holds its events. The AMQP `content_type` alone
/// decides (contract section 3).
public enum MessageFormat: Sendable, Hashable {
    /// One event in CloudEvents structured JSON mode.
    case single
    /// A JSON array of events (CloudEvents batched JSON format).
    case batch

    /// The content type of a batch message.
    public static let batchContentType = "application/cloudevents-batch+json"
    /// The content type Lodestone's producers give a single-event message.
    public static let singleContentType = "application/cloudevents+json"

    /// The format of a message with this AMQP `content_type`:
    /// `application/cloudevents-batch+json` (any letter case, parameters such
    /// as `; charset=utf-8` allowed) is a batch; anything else, including no
    /// content type, is one event.
    public init(contentType: String?) {
        guard let contentType else {
            self = .single
            return
        }
        self = MediaType.matches(contentType, Self.batchContentType) ? .batch : .single
    }

    /// The content type to publish a message of this format with.
    public var contentType: String {
        switch self {
        case .single: Self.singleContentType
        case .batch: Self.batchContentType
        }
    }
}
