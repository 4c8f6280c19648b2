import LodeEvents

/// What the projection knows of a project, for the event rules: a status
/// change or an investment report names only the project's id, and its
/// message wants the name. The store fills it from its latest registration
/// (and status) when it applies the event; `nil` when the project is not
/// registered yet (an update may arrive first).
public struct ProjectFacts: Sendable, Hashable {
    public var projectID: String
    public var name: String
    public var planYear: Int
    public var categories: [Category]
    public var enterprise: String?
    public var park: String?
    /// The latest status, after the event.
    public var status: ProjectStatus?

    public init(projectID: String, name: String, planYear: Int, categories: [Category],
                enterprise: String? = nil, park: String? = nil, status: ProjectStatus? = nil) {
        self.projectID = projectID
        self.name = name
        self.planYear = planYear
        self.categories = categories
        self.enterprise = enterprise
        self.park = park
        self.status = status
    }

    /// The facts of a project's latest registration.
    public init(_ registration: ProjectRegistered, status: ProjectStatus? = nil) {
        self.init(projectID: registration.projectID, name: registration.name, planYear: registration.planYear,
                  categories: registration.categories, enterprise: registration.enterprise,
                  park: registration.park, status: status)
    }
}
