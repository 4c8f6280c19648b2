/// `zone.recruitment.enterprise_contacted`: an enterprise was contacted in a
/// recruitment campaign. Enterprises count distinct by their exact name.
public struct EnterpriseContacted: Sendable, Hashable {
    public var enterprise: String
    public var campaign: String
    public var industry: Category?

    public init(enterprise: String, campaign: String, industry: Category? = nil) {
        self.enterprise = enterprise
        self.campaign = campaign
        self.industry = industry
    }
}

/// `zone.recruitment.site_visit`: an enterprise visited the zone. Each
/// visit event (distinct id) counts.
public struct SiteVisit: Sendable, Hashable {
    public var enterprise: String
    public var campaign: String
    /// How many people came (≥ 0).
    public var visitors: Int?

    public init(enterprise: String, campaign: String, visitors: Int? = nil) {
        self.enterprise = enterprise
        self.campaign = campaign
        self.visitors = visitors
    }
}

/// `zone.recruitment.agreement_signed`: an enterprise signed a cooperation
/// agreement.
public struct AgreementSigned: Sendable, Hashable {
    public var enterprise: String
    public var campaign: String
    public var projectID: String?
    /// In yuan (0...10^15).
    public var intendedInvestment: Int64?

    public init(enterprise: String, campaign: String, projectID: String? = nil, intendedInvestment: Int64? = nil) {
        self.enterprise = enterprise
        self.campaign = campaign
        self.projectID = projectID
        self.intendedInvestment = intendedInvestment
    }
}

/// `zone.recruitment.project_introduced`: a campaign brought a project into
/// the zone. Counted as distinct `project_id`s per industry.
public struct ProjectIntroduced: Sendable, Hashable {
    public var enterprise: String
    public var campaign: String
    public var projectID: String
    public var industry: Category

    public init(enterprise: String, campaign: String, projectID: String, industry: Category) {
        self.enterprise = enterprise
        self.campaign = campaign
        self.projectID = projectID
        self.industry = industry
    }
}
