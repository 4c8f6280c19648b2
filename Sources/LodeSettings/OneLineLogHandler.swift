import LodeProjections
import Logging

/// A log handler that keeps one log event on one line, whatever a message or its metadata holds:
/// it escapes every control character and bidirectional override (see
/// `String.terminalSafe`) and hands the event to the handler it wraps. Event ids, errors and
/// header values that reach a log line come from messages anyone can publish; a line break in
/// one must not forge a log line of its own, nor an escape sequence rewrite the operator's
/// terminal.
public struct OneLineLogHandler: LogHandler {
    private var wrapped: any LogHandler

    public init(_ wrapped: any LogHandler) {
        self.wrapped = wrapped
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = Logger.Message(stringLiteral: event.message.description.terminalSafe)
        event.metadata = event.metadata.map(Self.escaped)
        wrapped.log(event: event)
    }

    static func escaped(_ metadata: Logger.Metadata) -> Logger.Metadata {
        metadata.reduce(into: [:]) { result, item in result[item.key.terminalSafe] = escaped(item.value) }
    }

    static func escaped(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): .string(text.terminalSafe)
        case .stringConvertible(let item): .string(item.description.terminalSafe)
        case .array(let items): .array(items.map(escaped))
        case .dictionary(let items): .dictionary(escaped(items))
        }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }
}
