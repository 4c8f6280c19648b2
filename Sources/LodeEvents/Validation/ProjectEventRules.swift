import LodeJSON

extension ProjectRegistered {
    /// Reads and checks the `data` of a `zone.project.registered` event.
    static func read(_ data: JSONNode, with reader: inout DataFieldReader) -> ProjectRegistered? {
        var projectID = FieldState<String>.absent
        var name = FieldState<String>.absent
        var planYear = FieldState<Int64>.absent
        var categories = FieldState<[Category]>.absent
        var newStart = FieldState<Bool>.absent
        var totalInvestment = FieldState<Int64>.absent
        var plannedInvestment = FieldState<Int64>.absent
        var major = FieldState<Bool>.absent
        var enterprise = FieldState<String>.absent
        var park = FieldState<String>.absent
        var capacity = FieldState<String>.absent
        for (key, value) in data.members {
            switch key.knownKey {
            case .projectID?: projectID = reader.projectID(value, .projectID, required: true)
            case .name?: name = reader.text(value, .name, required: true)
            case .planYear?: planYear = reader.year(value, .planYear, required: true)
            case .categories?: categories = reader.categories(value, .categories, required: true)
            case .newStart?: newStart = reader.boolean(value, .newStart, required: true)
            case .totalInvestment?: totalInvestment = reader.money(value, .totalInvestment, required: true)
            case .plannedInvestment?: plannedInvestment = reader.money(value, .plannedInvestment, required: true)
            case .major?: major = reader.boolean(value, .major, required: false)
            case .enterprise?: enterprise = reader.text(value, .enterprise, required: false)
            case .park?: park = reader.text(value, .park, required: false)
            case .capacity?: capacity = reader.text(value, .capacity, required: false)
            default: reader.unknownField(key.text)
            }
        }
        let required = (
            reader.require(projectID, .projectID),
            reader.require(name, .name),
            reader.require(planYear, .planYear),
            reader.require(categories, .categories),
            reader.require(newStart, .newStart),
            reader.require(totalInvestment, .totalInvestment),
            reader.require(plannedInvestment, .plannedInvestment)
        )
        guard reader.issues.isEmpty,
              let projectID = required.0, let name = required.1, let planYear = required.2,
              let categories = required.3, let newStart = required.4,
              let totalInvestment = required.5, let plannedInvestment = required.6
        else { return nil }
        return ProjectRegistered(
            projectID: projectID, name: name, planYear: Int(planYear), categories: categories,
            newStart: newStart, totalInvestment: totalInvestment, plannedInvestment: plannedInvestment,
            major: major.value ?? true, enterprise: enterprise.value, park: park.value, capacity: capacity.value)
    }
}

extension ProjectStatusChanged {
    /// Reads and checks the `data` of a `zone.project.status_changed` event.
    static func read(_ data: JSONNode, with reader: inout DataFieldReader) -> ProjectStatusChanged? {
        var projectID = FieldState<String>.absent
        var status = FieldState<ProjectStatus>.absent
        var note = FieldState<String>.absent
        for (key, value) in data.members {
            switch key.knownKey {
            case .projectID?: projectID = reader.projectID(value, .projectID, required: true)
            case .status?: status = reader.status(value, .status, required: true)
            case .note?: note = reader.text(value, .note, required: false)
            default: reader.unknownField(key.text)
            }
        }
        let required = (reader.require(projectID, .projectID), reader.require(status, .status))
        guard reader.issues.isEmpty, let projectID = required.0, let status = required.1 else { return nil }
        return ProjectStatusChanged(projectID: projectID, status: status, note: note.value)
    }
}

extension InvestmentReported {
    /// Reads and checks the `data` of a `zone.project.investment_reported` event.
    static func read(_ data: JSONNode, with reader: inout DataFieldReader) -> InvestmentReported? {
        var projectID = FieldState<String>.absent
        var period = FieldState<YearMonth>.absent
        var completedInvestment = FieldState<Int64>.absent
        for (key, value) in data.members {
            switch key.knownKey {
            case .projectID?: projectID = reader.projectID(value, .projectID, required: true)
            case .period?: period = reader.period(value, .period, required: true)
            case .completedInvestment?:
                completedInvestment = reader.money(value, .completedInvestment, required: true)
            default: reader.unknownField(key.text)
            }
        }
        let required = (
            reader.require(projectID, .projectID),
            reader.require(period, .period),
            reader.require(completedInvestment, .completedInvestment)
        )
        guard reader.issues.isEmpty, let projectID = required.0, let period = required.1,
              let completedInvestment = required.2
        else { return nil }
        return InvestmentReported(projectID: projectID, period: period, completedInvestment: completedInvestment)
    }
}
