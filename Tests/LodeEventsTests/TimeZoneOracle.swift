import Foundation

/// Foundation's own answer, to check ZoneCalendar's table against.
struct TimeZoneOracle {
    let zone: TimeZone

    init(identifier: String) {
        zone = TimeZone(identifier: identifier)!
    }

    func offset(at seconds: Int64) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds)))
    }
}
