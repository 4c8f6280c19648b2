import Testing
@testable import LodeAMQP

/// SplitMix64: a tiny seeded generator, so that tests of jittered code are deterministic.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The error that parsing `url` throws, or `nil` (recorded as an issue) when it parses.
func settingsError(_ url: String, sourceLocation: SourceLocation = #_sourceLocation) -> AMQPError? {
    do {
        let settings = try ConnectionSettings(url: url)
        Issue.record("expected '\(url)' to be refused, got \(settings)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// The message of an `.invalidSettings` error ("" for any other kind).
func settingsMessage(_ error: AMQPError?) -> String {
    guard let error, case .invalidSettings(let message) = error.kind else { return "" }
    return message
}
