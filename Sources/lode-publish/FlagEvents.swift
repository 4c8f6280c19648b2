import ArgumentParser
import Foundation
import LodeEvents
import LodePublishing

/// What every one-event command shares: the envelope and how to publish.
struct EnvelopeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("When it happened, RFC 3339 with an offset; default: now.", valueName: "time"))
    var time: String?

    @Option(help: ArgumentHelp("Event id; default: derived from type, source, time and data (give --time too, and re-running the same command never counts twice).", valueName: "id"))
    var id: String?

    @OptionGroup var publishing: PublishingOptions
}

/// Builds one event of `type` from its fields and publishes it.
func publishOne(_ type: EventType, _ fields: [(String, String?)], _ envelope: EnvelopeOptions) async throws {
    let started = ContinuousClock.now
    let settings = try Terminal.resolve(envelope.publishing.broker)
    var row = fields.compactMap { field in field.1.map { (column: field.0, value: $0) } }
    if let id = envelope.id { row.append((column: "id", value: id)) }
    if let time = envelope.time { row.append((column: "time", value: time)) }
    let reader = EventRowReader(type: type, defaultSource: envelope.publishing.source,
                                defaultTime: Terminal.now(timezone: settings.timezone))
    switch reader.event(from: row) {
    case .success(let event):
        try await Terminal.publish(ReadEvents(events: [event], lines: [1]), options: envelope.publishing, settings: settings, started: started)
    case .failure(let problems):
        Terminal.report(problems.messages, json: envelope.publishing.json, started: started)
        throw ExitCode(65)
    }
}

struct ProjectRegisteredEvent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project-registered", abstract: "Publish one zone.project.registered event.",
        discussion: """
            Example:
              lode-publish project-registered --project BT-2024-001 --name 稀土永磁电机项目 --plan-year 2024 \\
                --categories "industrial;pm_motor" --new-start true --total-investment 1200000000 \\
                --planned-investment 300000000
            """)
    @Option(name: .customLong("project"), help: "project_id") var projectID: String
    @Option var name: String
    @Option(help: "plan_year") var planYear: String
    @Option(help: "categories, separated by ';'") var categories: String
    @Option(help: "new_start: true or false") var newStart: String
    @Option(help: "total_investment, yuan") var totalInvestment: String
    @Option(help: "planned_investment for the plan year, yuan") var plannedInvestment: String
    @Option(help: "major: true (default) or false") var major: String?
    @Option var enterprise: String?
    @Option var park: String?
    @Option var capacity: String?
    @OptionGroup var envelope: EnvelopeOptions

    func run() async throws {
        try await publishOne(.projectRegistered, [
            ("project_id", projectID), ("name", name), ("plan_year", planYear), ("categories", categories),
            ("new_start", newStart), ("total_investment", totalInvestment), ("planned_investment", plannedInvestment),
            ("major", major), ("enterprise", enterprise), ("park", park), ("capacity", capacity),
        ], envelope)
    }
}

struct ProjectStatusEvent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project-status", abstract: "Publish one zone.project.status_changed event.",
        discussion: "Example:\n  lode-publish project-status --project BT-17 --status started --note 开工仪式")
    @Option(name: .customLong("project"), help: "project_id") var projectID: String
    @Option(help: "signed, started, resumed, suspended, completed, in_production or cancelled") var status: String
    @Option var note: String?
    @OptionGroup var envelope: EnvelopeOptions

    func run() async throws {
        try await publishOne(.projectStatusChanged, [("project_id", projectID), ("status", status), ("note", note)], envelope)
    }
}

struct InvestmentEvent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "investment", abstract: "Publish one zone.project.investment_reported event.",
        discussion: "Example:\n  lode-publish investment --project BT-17 --period 2024-05 --amount 25000000")
    @Option(name: .customLong("project"), help: "project_id") var projectID: String
    @Option(help: "the month, YYYY-MM") var period: String
    @Option(help: "completed_investment in that month, yuan") var amount: String
    @OptionGroup var envelope: EnvelopeOptions

    func run() async throws {
        try await publishOne(.investmentReported,
                             [("project_id", projectID), ("period", period), ("completed_investment", amount)], envelope)
    }
}

struct EnterpriseContactedEvent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enterprise-contacted", abstract: "Publish one zone.recruitment.enterprise_contacted event.",
        discussion: "Example:\n  lode-publish enterprise-contacted --enterprise 某电机公司 --campaign 2024-spring --industry pm_motor")
    @Option var enterprise: String
    @Option var campaign: String
    @Option(help: "a category") var industry: String?
    @OptionGroup var envelope: EnvelopeOptions

    func run() async throws {
        try await publishOne(.enterpriseContacted,
                             [("enterprise", enterprise), ("campaign", campaign), ("industry", industry)], envelope)
    }
}

struct SiteVisitEvent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site-visit", abstract: "Publish one zone.recruitment.site_visit event.",
        discussion: "Example:\n  lode-publish site-visit --enterprise 北方稀土 --campaign 2024-spring --visitors 6")
    @Option var enterprise: String
    @Option var campaign: String
    @Option var visitors: String?
    @OptionGroup var envelope: EnvelopeOptions

    func run() async throws {
        try await publishOne(.siteVisit, [("enterprise", enterprise), ("campaign", campaign), ("visitors", visitors)], envelope)
    }
}

struct AgreementSignedEvent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agreement-signed", abstract: "Publish one zone.recruitment.agreement_signed event.",
        discussion: "Example:\n  lode-publish agreement-signed --enterprise 某电机公司 --campaign 2024-spring --intended-investment 500000000")
    @Option var enterprise: String
    @Option var campaign: String
    @Option(name: .customLong("project"), help: "project_id") var projectID: String?
    @Option(help: "intended_investment, yuan") var intendedInvestment: String?
    @OptionGroup var envelope: EnvelopeOptions

    func run() async throws {
        try await publishOne(.agreementSigned, [
            ("enterprise", enterprise), ("campaign", campaign), ("project_id", projectID),
            ("intended_investment", intendedInvestment),
        ], envelope)
    }
}

struct ProjectIntroducedEvent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project-introduced", abstract: "Publish one zone.recruitment.project_introduced event.",
        discussion: "Example:\n  lode-publish project-introduced --enterprise 某电机公司 --campaign 2024-spring --project BT-2024-031 --industry pm_motor")
    @Option var enterprise: String
    @Option var campaign: String
    @Option(name: .customLong("project"), help: "project_id") var projectID: String
    @Option(help: "a category") var industry: String
    @OptionGroup var envelope: EnvelopeOptions

    func run() async throws {
        try await publishOne(.projectIntroduced, [
            ("enterprise", enterprise), ("campaign", campaign), ("project_id", projectID), ("industry", industry),
        ], envelope)
    }
}
