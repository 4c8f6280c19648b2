import LodeJSON

/// One field of an event type's `data`, as section 3 lists it: what a
/// producer needs to turn a spreadsheet column into JSON of the right type.
public struct DataField: Sendable, Hashable {
    /// What a field holds and which rules it follows.
    public enum Kind: Sendable, Hashable {
        /// A string of at most 1,000 Unicode scalars.
        case text
        /// 1–64 characters of `A-Za-z0-9._-`.
        case projectID
        /// An integer year, 1900...2200.
        case year
        /// An integer number of yuan, 0...10^15.
        case money
        /// An integer ≥ 0.
        case count
        case boolean
        /// One ``Category`` wire value.
        case category
        /// A non-empty JSON array of distinct ``Category`` wire values.
        case categories
        /// One ``ProjectStatus`` wire value.
        case projectStatus
        /// A month as `"YYYY-MM"`.
        case period
    }

    public let name: String
    public let kind: Kind
    /// Whether the field must be present; optional fields may also be `null`.
    public let isRequired: Bool
    /// The value an absent optional field stands for, if it has one
    /// (`major` is `true` when absent).
    public let defaultValue: JSONValue?

    init(_ name: String, _ kind: Kind, required: Bool = true, default defaultValue: JSONValue? = nil) {
        self.name = name
        self.kind = kind
        self.isRequired = required
        self.defaultValue = defaultValue
    }
}

extension EventType {
    /// The fields of this type's `data`, in the order the contract lists
    /// them and events are written. Any other field is an error.
    public var dataFields: [DataField] {
        switch self {
        case .projectRegistered:
            [
                DataField("project_id", .projectID),
                DataField("name", .text),
                DataField("plan_year", .year),
                DataField("categories", .categories),
                DataField("new_start", .boolean),
                DataField("total_investment", .money),
                DataField("planned_investment", .money),
                DataField("major", .boolean, required: false, default: .bool(true)),
                DataField("enterprise", .text, required: false),
                DataField("park", .text, required: false),
                DataField("capacity", .text, required: false),
            ]
        case .projectStatusChanged:
            [
                DataField("project_id", .projectID),
                DataField("status", .projectStatus),
                DataField("note", .text, required: false),
            ]
        case .investmentReported:
            [
                DataField("project_id", .projectID),
                DataField("period", .period),
                DataField("completed_investment", .money),
            ]
        case .enterpriseContacted:
            [
                DataField("enterprise", .text),
                DataField("campaign", .text),
                DataField("industry", .category, required: false),
            ]
        case .siteVisit:
            [
                DataField("enterprise", .text),
                DataField("campaign", .text),
                DataField("visitors", .count, required: false),
            ]
        case .agreementSigned:
            [
                DataField("enterprise", .text),
                DataField("campaign", .text),
                DataField("project_id", .projectID, required: false),
                DataField("intended_investment", .money, required: false),
            ]
        case .projectIntroduced:
            [
                DataField("enterprise", .text),
                DataField("campaign", .text),
                DataField("project_id", .projectID),
                DataField("industry", .category),
            ]
        }
    }
}
