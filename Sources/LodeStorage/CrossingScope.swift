import LodeEvents
import LodeProjections

/// Which years' reports a batch may change, for the crossings of notification rules: the plan
/// years of its registrations and of the projects it touches (``projects``: their plan years as
/// the database has them are added by the store), the periods of its investment reports, and
/// the years of its recruitment events' `time`. Both stores use it, so both look at the same
/// years.
public struct CrossingScope: Sendable {
    /// Years known from the events alone.
    public private(set) var years: Set<Int> = []
    /// Projects whose registered plan year is a year of the scope too.
    public private(set) var projects: Set<String> = []

    public init(_ batch: [IncomingEvent], calendar: ZoneCalendar) {
        for incoming in batch {
            let event = incoming.event
            switch event.data {
            case .projectRegistered(let registration):
                years.insert(registration.planYear)
                projects.insert(registration.projectID)
            case .projectStatusChanged(let change):
                projects.insert(change.projectID)
            case .investmentReported(let report):
                projects.insert(report.projectID)
                years.insert(report.period.year)
            case .enterpriseContacted, .siteVisit, .agreementSigned, .projectIntroduced:
                years.insert(calendar.yearMonth(of: event.time).year)
            }
        }
    }

    /// The project an event is about, if any (for event rules that read the project's facts).
    public static func projectID(of event: Event) -> String? {
        switch event.data {
        case .projectRegistered(let registration): registration.projectID
        case .projectStatusChanged(let change): change.projectID
        case .investmentReported(let report): report.projectID
        case .agreementSigned(let agreement): agreement.projectID
        case .projectIntroduced(let introduction): introduction.projectID
        case .enterpriseContacted, .siteVisit: nil
        }
    }
}
