/// The seven event types, by their wire names (the CloudEvents `type`,
/// which is also the routing key on `lode.events`).
public enum EventType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case projectRegistered = "zone.project.registered"
    case projectStatusChanged = "zone.project.status_changed"
    case investmentReported = "zone.project.investment_reported"
    case enterpriseContacted = "zone.recruitment.enterprise_contacted"
    case siteVisit = "zone.recruitment.site_visit"
    case agreementSigned = "zone.recruitment.agreement_signed"
    case projectIntroduced = "zone.recruitment.project_introduced"

    public var description: String { rawValue }
}

/// What a project counts under in the report. Categories are explicit: a
/// project counts under exactly the categories it lists (`pm_motor` does not
/// imply `rare_earth`).
public enum Category: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case industrial
    case strategicEmerging = "strategic_emerging"
    case rareEarth = "rare_earth"
    /// Permanent-magnet motors.
    case pmMotor = "pm_motor"
    case rareEarthMaterial = "rare_earth_material"
    case infrastructure

    public var description: String { rawValue }
}

/// A project's stage, as set by `zone.project.status_changed`. A project
/// with no status event yet is reported as `planned`, which is not a status
/// an event can set.
public enum ProjectStatus: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case signed
    case started
    case resumed
    case suspended
    case completed
    case inProduction = "in_production"
    case cancelled

    public var description: String { rawValue }
}
