import LodeEvents

/// The events read from an input, each with the line it starts on.
public struct ReadEvents: Sendable {
    public var events: [LodeEvents.Event]
    /// `lines[i]` is where `events[i]` starts.
    public var lines: [Int]
    /// `texts[i]` is `events[i]` as written in the input, when the input is JSON (NDJSON);
    /// empty otherwise. Published as is, it saves writing each event again.
    public var texts: [ArraySlice<UInt8>]
    /// The worksheet the events come from, when a workbook's: `lines` are its rows then.
    public var sheet: String?

    public init(events: [Event] = [], lines: [Int] = [], texts: [ArraySlice<UInt8>] = []) {
        self.events = events
        self.lines = lines
        self.texts = texts
    }
}
