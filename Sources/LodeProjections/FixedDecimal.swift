/// A decimal number with a fixed count of decimal places, kept exactly as
/// an integer of its smallest unit: 14.29 is `units` 1429 with `places` 2.
public struct FixedDecimal: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The value in units of 10^-places.
    public let units: Int64
    /// 0...9.
    public let places: Int

    public init(units: Int64, places: Int) {
        precondition((0...9).contains(places), "places must be 0...9")
        self.units = units
        self.places = places
    }

    /// `numerator × scaledBy / denominator`, rounded half away from zero to
    /// `places` decimals; `nil` when `denominator` is 0. Exact (integer
    /// arithmetic), so 0.125 rounds to 0.13 and -0.125 to -0.13. A result
    /// beyond what `units` holds is clamped, never a trap.
    public init?(ratio numerator: Int128, over denominator: Int128, places: Int, scaledBy factor: Int128 = 1) {
        guard denominator != 0 else { return nil }
        var scale = factor.magnitude
        for _ in 0..<places { scale = scale.multipliedReportingOverflow(by: 10).partialValue }
        let (scaled, overflow) = numerator.magnitude.multipliedReportingOverflow(by: scale)
        let negative = ((numerator < 0) != (denominator < 0)) != (factor < 0)
        let magnitudeDenominator = denominator.magnitude
        var quotient: UInt128
        if overflow {
            quotient = .max
        } else {
            quotient = scaled / magnitudeDenominator
            let remainder = scaled % magnitudeDenominator
            if remainder >= magnitudeDenominator - remainder { quotient += 1 }
        }
        let units = Int64(clamping: quotient)
        self.init(units: negative ? -units : units, places: places)
    }

    /// Yuan as 亿元 (10^8 yuan) with two decimals, rounded half away from
    /// zero: 57384000000 → `573.84`.
    public static func yi(_ yuan: Int128) -> String {
        FixedDecimal(ratio: yuan, over: 100_000_000, places: 2)?.description ?? "0.00"
    }

    /// The value as a `Double` (for display arithmetic only).
    public var doubleValue: Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return Double(units) / scale
    }

    /// All `places` decimals: `14.29`, `-3.50`, `0.0`.
    public var description: String {
        guard places > 0 else { return String(units) }
        let digits = String(units.magnitude)
        let padded = String(repeating: "0", count: max(0, places + 1 - digits.count)) + digits
        let split = padded.index(padded.endIndex, offsetBy: -places)
        return (units < 0 ? "-" : "") + padded[..<split] + "." + padded[split...]
    }

    /// The shortest text with at least one decimal: `14.29`, `14.3`,
    /// `50.0`. How JSON numbers are written in the report.
    public var jsonText: String {
        var text = description
        guard places > 1 else { return text }
        var dropped = 0
        while dropped < places - 1, text.hasSuffix("0") {
            text.removeLast()
            dropped += 1
        }
        return text
    }

    /// Exact, whatever the two values' places.
    public static func < (lhs: FixedDecimal, rhs: FixedDecimal) -> Bool {
        func scaled(_ value: FixedDecimal, to places: Int) -> Int128 {
            var result = Int128(value.units)
            for _ in value.places..<places { result *= 10 }
            return result
        }
        let places = max(lhs.places, rhs.places)
        return scaled(lhs, to: places) < scaled(rhs, to: places)
    }
}
