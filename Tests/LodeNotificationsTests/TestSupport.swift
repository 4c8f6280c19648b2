import LodeJSON
import Foundation
import LodeEvents
import LodeNotifications
import LodeProjections

let shanghai: ZoneCalendar = {
    do { return try ZoneCalendar() } catch { preconditionFailure("Asia/Shanghai must be known: \(error)") }
}()

let now = Date(timeIntervalSince1970: 1_717_200_000)

func event(_ id: String, at text: String = "2024-06-01T10:00:00+08:00", _ data: EventData) -> Event {
    do {
        return Event(id: id, source: "tests", time: try EventTime(parsing: text), data: data)
    } catch {
        preconditionFailure("bad test time \(text): \(error)")
    }
}

func rule(_ name: String, _ trigger: NotificationTrigger, channels: [String] = ["office"], title: String? = nil,
          _ message: String) throws -> NotificationRule {
    try NotificationRule(
        name: name, trigger: trigger, channels: channels, title: title.map { try Template($0) }, message: Template(message))
}

/// A report of `year` whose recruitment figures are the given ones.
func report(year: Int = 2024, agreements: Int = 0, pmMotor: Int = 0, campaign: (String, Int)? = nil,
            totalInvestment: Int64 = 0) -> ZoneReport {
    var recruitment = RecruitmentFigures()
    recruitment.agreementsSigned = agreements
    recruitment.projectsIntroduced[.pmMotor] = pmMotor
    if let campaign {
        recruitment.byCampaign = [CampaignFigures(name: campaign.0, enterprisesContacted: 0, siteVisits: campaign.1, agreementsSigned: 0)]
    }
    var projects = ProjectFigures()
    projects.totalInvestment = Int128(totalInvestment)
    return ZoneReport(year: year, projects: projects, recruitment: recruitment, tracking: [])
}

extension Array where Element == UInt8 {
    init(hex: String) {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        self = bytes
    }
}

extension ChannelDelivery {
    var request: ChannelRequest? {
        if case .http(let request) = self { request } else { nil }
    }
}

/// The body parsed back, for checking fields.
func json(_ bytes: [UInt8]) throws -> JSONValue {
    try JSONParser.parse(bytes)
}
