import LodeJSON

/// What reading one data field gave.
enum FieldState<Value> {
    /// Not in the event, or `null` where `null` is allowed.
    case absent
    /// In the event but breaking a rule; the issue is already recorded.
    case invalid
    case present(Value)

    var value: Value? {
        if case .present(let value) = self { value } else { nil }
    }
}

/// Reads the fields of one event's `data` against the rules of section 3,
/// collecting an ``EventIssue`` for each rule broken so that a producer sees
/// every problem of an event at once.
///
/// Field names come in as plain names ("total_investment"); the path
/// ("data.total_investment") is only built for an issue.
struct DataFieldReader {
    let type: EventType
    private(set) var issues: [EventIssue] = []

    init(type: EventType) {
        self.type = type
    }

    // MARK: Presence

    /// The value of a required field, recording an issue when it is absent.
    mutating func require<Value>(_ state: FieldState<Value>, _ field: KnownKey) -> Value? {
        switch state {
        case .present(let value): return value
        case .invalid: return nil
        case .absent:
            issues.append(EventIssue(path: Self.path(field), message: "required field is missing"))
            return nil
        }
    }

    mutating func unknownField(_ key: String) {
        let names = type.dataFields.map(\.name)
        let message: String
        if let suggestion = FieldNameSuggestion.closest(to: key, among: names) {
            message = "unknown field for \(type.rawValue) (did you mean '\(suggestion)'?)"
        } else {
            message = "unknown field for \(type.rawValue) (its fields are \(names.joined(separator: ", ")))"
        }
        issues.append(EventIssue(path: "data." + Found.quotedKeyIfNeeded(key), message: message))
    }

    // MARK: Kinds of field

    /// A string of at most 1,000 Unicode scalars; non-empty when required.
    mutating func text(_ value: JSONNode, _ field: KnownKey, required: Bool) -> FieldState<String> {
        guard value.kind == .string else {
            return mismatch(value, field, expected: required ? "a non-empty string" : "a string", required: required)
        }
        if required, value.isEmptyString {
            return record(field, "expected a non-empty string, found an empty string")
        }
        let string = value.text
        // Only an escape can put a NUL in a string: a raw one is a control
        // character, which the parser refuses.
        let mayHoldNUL = value.token.flags & JSONToken.hasEscapes != 0
        if let problem = Self.textProblem(string, mayHoldNUL: mayHoldNUL) {
            return record(field, problem)
        }
        return .present(string)
    }

    /// 1–64 characters of `A-Za-z0-9._-`.
    mutating func projectID(_ value: JSONNode, _ field: KnownKey, required: Bool) -> FieldState<String> {
        let expectation = "a project id of 1–64 characters from A-Z a-z 0-9 . _ -"
        guard value.kind == .string else {
            return mismatch(value, field, expected: expectation, required: required)
        }
        // Escapes never spell a valid id more simply than plain text would,
        // so the raw bytes decide.
        let raw = value.rawBytes
        guard value.token.flags & JSONToken.hasEscapes == 0, Self.isProjectID(raw) else {
            let string = value.text
            let isValid = Array(string.utf8).withUnsafeBufferPointer { Self.isProjectID($0) }
            if isValid { return .present(string) }
            let found = string.isEmpty ? "an empty string" : Found.quoted(string)
            return record(field, "expected \(expectation), found \(found)")
        }
        return .present(value.text)
    }

    /// An integer number of yuan, 0...10^15.
    mutating func money(_ value: JSONNode, _ field: KnownKey, required: Bool) -> FieldState<Int64> {
        integer(
            value, field, in: EventLimits.moneyRange,
            expected: "an integer number of yuan from 0 to 1000000000000000", required: required)
    }

    /// An integer year, 1900...2200.
    mutating func year(_ value: JSONNode, _ field: KnownKey, required: Bool) -> FieldState<Int64> {
        integer(value, field, in: EventLimits.yearRange, expected: "a year from 1900 to 2200", required: required)
    }

    /// A whole number ≥ 0.
    mutating func count(_ value: JSONNode, _ field: KnownKey, required: Bool) -> FieldState<Int64> {
        integer(value, field, in: EventLimits.visitorRange, expected: "a whole number ≥ 0", required: required)
    }

    /// A plain integer (digits, no fraction, no exponent) within `range`.
    mutating func integer(
        _ value: JSONNode, _ field: KnownKey, in range: ClosedRange<Int64>, expected: String, required: Bool
    ) -> FieldState<Int64> {
        guard value.kind == .number else {
            return mismatch(value, field, expected: expected, required: required)
        }
        guard let integer = value.int64Value, range.contains(integer) else {
            var found = value.numberText
            if value.hasExponent {
                found += " (write the number in plain digits, without an exponent)"
            }
            return record(field, "expected \(expected), found \(found)")
        }
        return .present(integer)
    }

    mutating func boolean(_ value: JSONNode, _ field: KnownKey, required: Bool) -> FieldState<Bool> {
        switch value.kind {
        case .true: .present(true)
        case .false: .present(false)
        default: mismatch(value, field, expected: "true or false", required: required)
        }
    }

    mutating func category(_ value: JSONNode, _ field: KnownKey, required: Bool) -> FieldState<Category> {
        enumeration(value, field, required: required)
    }

    mutating func status(_ value: JSONNode, _ field: KnownKey, required: Bool) -> FieldState<ProjectStatus> {
        enumeration(value, field, required: required)
    }

    /// A non-empty array of distinct categories.
    mutating func categories(_ value: JSONNode, _ field: KnownKey, required: Bool) -> FieldState<[Category]> {
        guard value.kind == .array, value.count > 0 else {
            return mismatch(
                value, field, expected: "a non-empty array of categories (\(Self.choices(Category.self)))",
                required: required)
        }
        var categories: [Category] = []
        categories.reserveCapacity(value.count)
        var isValid = true
        for (index, element) in value.elements.enumerated() {
            guard case .present(let category) = enumeration(element, field, index: index, required: true)
                    as FieldState<Category>
            else {
                isValid = false
                continue
            }
            if categories.contains(category) {
                issues.append(EventIssue(
                    path: "\(Self.path(field))[\(index)]",
                    message: "'\(category.rawValue)' is listed twice (list each category once)"))
                isValid = false
            }
            categories.append(category)
        }
        return isValid ? .present(categories) : .invalid
    }

    /// A month as `YYYY-MM`, month 01–12, year 1900–2200.
    mutating func period(_ value: JSONNode, _ field: KnownKey, required: Bool) -> FieldState<YearMonth> {
        let expectation = "a month as YYYY-MM (month 01–12)"
        guard value.kind == .string else {
            return mismatch(value, field, expected: expectation, required: required)
        }
        let string = value.text
        guard let period = YearMonth(period: string) else {
            return record(field, "expected \(expectation), found \(Found.quoted(string))")
        }
        guard EventLimits.yearRange.contains(Int64(period.year)) else {
            return record(field, "expected a month of a year from 1900 to 2200, found \(Found.quoted(string))")
        }
        return .present(period)
    }

    // MARK: Shared rules

    /// Why a string may not stand in an event, or `nil` if it may: more
    /// than 1,000 Unicode scalars, or a U+0000 (PostgreSQL text cannot hold
    /// one).
    static func textProblem(_ string: String, mayHoldNUL: Bool = true) -> String? {
        let utf8 = string.utf8
        if utf8.count > EventLimits.maxDataStringScalars {
            let scalars = string.unicodeScalars.count
            if scalars > EventLimits.maxDataStringScalars {
                return "expected a string of at most \(EventLimits.maxDataStringScalars) Unicode characters, found one of \(scalars)"
            }
        }
        if mayHoldNUL, containsNUL(string) {
            return "expected a string without U+0000 (NUL) characters, found one with a NUL"
        }
        return nil
    }

    static func containsNUL(_ string: String) -> Bool {
        var string = string
        return string.withUTF8 { utf8 in
            var found = false
            for byte in utf8 { found = found || byte == 0 }
            return found
        }
    }

    static func isProjectID(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard EventLimits.projectIDLengths.contains(utf8.count) else { return false }
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                return false
            }
        }
        return true
    }

    /// One of the wire values of `Value`; `index` is the position in an
    /// array field.
    private mutating func enumeration<Value: WireEnum>(
        _ value: JSONNode, _ field: KnownKey, index: Int? = nil, required: Bool
    ) -> FieldState<Value> {
        if value.kind == .string, let parsed = Value(wireName: value) {
            return .present(parsed)
        }
        if value.isNull, !required { return .absent }
        let found = value.kind == .string && !value.isEmptyString ? Found.quoted(value.text) : Found.describe(value)
        let path = index.map { "\(Self.path(field))[\($0)]" } ?? Self.path(field)
        issues.append(.expected("one of \(Self.choices(Value.self))", found: found, at: path))
        return .invalid
    }

    /// `null` for an optional field is absence; anything else of the wrong
    /// type is an issue. `expected` is only built for the issue.
    private mutating func mismatch<Value>(
        _ value: JSONNode, _ field: KnownKey, expected: @autoclosure () -> String, required: Bool
    ) -> FieldState<Value> {
        if value.isNull, !required { return .absent }
        return record(field, "expected \(expected()), found \(Found.describe(value))")
    }

    private mutating func record<Value>(_ field: KnownKey, _ message: String) -> FieldState<Value> {
        issues.append(EventIssue(path: Self.path(field), message: message))
        return .invalid
    }

    static func path(_ field: KnownKey) -> String { "data." + field.name }

    static func choices<Value: RawRepresentable & CaseIterable>(_: Value.Type) -> String where Value.RawValue == String {
        Value.allCases.map(\.rawValue).joined(separator: ", ")
    }
}
