/// The `data` of an event: one of the seven payloads. The case decides the
/// event's ``EventType``.
public enum EventData: Sendable, Hashable {
    case projectRegistered(ProjectRegistered)
    case projectStatusChanged(ProjectStatusChanged)
    case investmentReported(InvestmentReported)
    case enterpriseContacted(EnterpriseContacted)
    case siteVisit(SiteVisit)
    case agreementSigned(AgreementSigned)
    case projectIntroduced(ProjectIntroduced)

    /// The event type this payload belongs to.
    public var type: EventType {
        switch self {
        case .projectRegistered: .projectRegistered
        case .projectStatusChanged: .projectStatusChanged
        case .investmentReported: .investmentReported
        case .enterpriseContacted: .enterpriseContacted
        case .siteVisit: .siteVisit
        case .agreementSigned: .agreementSigned
        case .projectIntroduced: .projectIntroduced
        }
    }
}
