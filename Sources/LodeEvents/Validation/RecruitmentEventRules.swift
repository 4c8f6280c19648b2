import LodeJSON

extension EnterpriseContacted {
    /// Reads and checks the `data` of a `zone.recruitment.enterprise_contacted` event.
    static func read(_ data: JSONNode, with reader: inout DataFieldReader) -> EnterpriseContacted? {
        var enterprise = FieldState<String>.absent
        var campaign = FieldState<String>.absent
        var industry = FieldState<Category>.absent
        for (key, value) in data.members {
            switch key.knownKey {
            case .enterprise?: enterprise = reader.text(value, .enterprise, required: true)
            case .campaign?: campaign = reader.text(value, .campaign, required: true)
            case .industry?: industry = reader.category(value, .industry, required: false)
            default: reader.unknownField(key.text)
            }
        }
        let required = (reader.require(enterprise, .enterprise), reader.require(campaign, .campaign))
        guard reader.issues.isEmpty, let enterprise = required.0, let campaign = required.1 else { return nil }
        return EnterpriseContacted(enterprise: enterprise, campaign: campaign, industry: industry.value)
    }
}

extension SiteVisit {
    /// Reads and checks the `data` of a `zone.recruitment.site_visit` event.
    static func read(_ data: JSONNode, with reader: inout DataFieldReader) -> SiteVisit? {
        var enterprise = FieldState<String>.absent
        var campaign = FieldState<String>.absent
        var visitors = FieldState<Int64>.absent
        for (key, value) in data.members {
            switch key.knownKey {
            case .enterprise?: enterprise = reader.text(value, .enterprise, required: true)
            case .campaign?: campaign = reader.text(value, .campaign, required: true)
            case .visitors?: visitors = reader.count(value, .visitors, required: false)
            default: reader.unknownField(key.text)
            }
        }
        let required = (reader.require(enterprise, .enterprise), reader.require(campaign, .campaign))
        guard reader.issues.isEmpty, let enterprise = required.0, let campaign = required.1 else { return nil }
        return SiteVisit(enterprise: enterprise, campaign: campaign, visitors: visitors.value.map { Int($0) })
    }
}

extension AgreementSigned {
    /// Reads and checks the `data` of a `zone.recruitment.agreement_signed` event.
    static func read(_ data: JSONNode, with reader: inout DataFieldReader) -> AgreementSigned? {
        var enterprise = FieldState<String>.absent
        var campaign = FieldState<String>.absent
        var projectID = FieldState<String>.absent
        var intendedInvestment = FieldState<Int64>.absent
        for (key, value) in data.members {
            switch key.knownKey {
            case .enterprise?: enterprise = reader.text(value, .enterprise, required: true)
            case .campaign?: campaign = reader.text(value, .campaign, required: true)
            case .projectID?: projectID = reader.projectID(value, .projectID, required: false)
            case .intendedInvestment?:
                intendedInvestment = reader.money(value, .intendedInvestment, required: false)
            default: reader.unknownField(key.text)
            }
        }
        let required = (reader.require(enterprise, .enterprise), reader.require(campaign, .campaign))
        guard reader.issues.isEmpty, let enterprise = required.0, let campaign = required.1 else { return nil }
        return AgreementSigned(
            enterprise: enterprise, campaign: campaign, projectID: projectID.value,
            intendedInvestment: intendedInvestment.value)
    }
}

extension ProjectIntroduced {
    /// Reads and checks the `data` of a `zone.recruitment.project_introduced` event.
    static func read(_ data: JSONNode, with reader: inout DataFieldReader) -> ProjectIntroduced? {
        var enterprise = FieldState<String>.absent
        var campaign = FieldState<String>.absent
        var projectID = FieldState<String>.absent
        var industry = FieldState<Category>.absent
        for (key, value) in data.members {
            switch key.knownKey {
            case .enterprise?: enterprise = reader.text(value, .enterprise, required: true)
            case .campaign?: campaign = reader.text(value, .campaign, required: true)
            case .projectID?: projectID = reader.projectID(value, .projectID, required: true)
            case .industry?: industry = reader.category(value, .industry, required: true)
            default: reader.unknownField(key.text)
            }
        }
        let required = (
            reader.require(enterprise, .enterprise),
            reader.require(campaign, .campaign),
            reader.require(projectID, .projectID),
            reader.require(industry, .industry)
        )
        guard reader.issues.isEmpty, let enterprise = required.0, let campaign = required.1,
              let projectID = required.2, let industry = required.3
        else { return nil }
        return ProjectIntroduced(enterprise: enterprise, campaign: campaign, projectID: projectID, industry: industry)
    }
}
