import LodeJSON
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LodeEvents
import LodeProjections
import LodeAMQP
@testable import LodeQueues
import LodeStatus
import LodeTestSupport
@testable import LodeWorker
import Logging
import Prometheus
import Synchronization
import Testing

@Suite("The status page, rendered from a snapshot")
struct StatusPageTests {
    static let shanghai = TimeZone(identifier: "Asia/Shanghai")!

    /// A snapshot of a healthy worker with the given report, queues and lists.
    static func snapshot(report: ZoneReport? = nil, year: Int = 2024, queues: [QueueFigures] = [],
                         failed: [FailedNotification] = [], dead: StatusSnapshot.DeadLettersSection? = nil) -> StatusSnapshot {
        var counts = WorkerCounts()
        counts.applied = 1234
        return StatusSnapshot(
            generatedAt: Date(timeIntervalSince1970: 1_717_200_000), timeZone: shanghai,
            queues: .init(figures: queues),
            worker: .init(health: WorkerHealth(broker: .connected), counts: counts, startedAt: Date(timeIntervalSince1970: 1_717_100_000)),
            report: .init(year: year, report: report), notifications: .init(entries: failed),
            deadLetters: dead ?? .init(count: 0, oldestAgeSeconds: nil))
    }

    static func report(targets: [ReportTarget]) -> ZoneReport {
        var projects = ProjectFigures()
        projects.major = 71
        projects.totalInvestment = 57_384_000_000
        projects.strategicEmergingNewStart = Growth(count: 32, previous: 28)
        var recruitment = RecruitmentFigures()
        recruitment.enterprisesContacted = 904
        recruitment.projectsIntroduced[.pmMotor] = 12
        recruitment.byCampaign = [CampaignFigures(name: "<b>春季</b>招商", enterprisesContacted: 3, siteVisits: 1, agreementsSigned: 0)]
        return ZoneReport(year: 2024, projects: projects, recruitment: recruitment, tracking: targets)
    }

    @Test func showsTheReportsFiguresInUTF8WithTheirChineseLabels() throws {
        let html = StatusPage.html(Self.snapshot(report: Self.report(targets: [])))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains(#"<meta charset="utf-8">"#))
        #expect(html.contains(#"<meta http-equiv="refresh" content="5">"#))
        #expect(html.contains(#"<tr id="figure-major"><th>重大项目数</th><td class="num">71</td>"#))
        #expect(html.contains(#"<td class="num">573.84</td><td>亿元</td>"#))
        #expect(html.contains("上年 28 +14.29%"))
        #expect(html.contains(#"<td class="num">904</td>"#))
        #expect(html.contains("2024 年度报告"))
        #expect(html.contains(#"<html lang="zh-Hans">"#))
        // No external assets, no scripts.
        #expect(!html.contains("<script"))
        #expect(!html.contains("src="))
        #expect(!html.contains("stylesheet"))
    }

    /// Characters that differ between the scripts (see ReportOutputTests).
    static let traditionalOnly: Set<Character> = Set("項數總資當劃產業類開億戰興實簽協議訪對際標個狀態別進動隊處庫據於認試務")
    static let simplifiedOnly: Set<Character> = Set("项数总资当划产业类开亿战兴实签协议访对际标个状态别进动队处库据于认试务")

    @Test(arguments: ZoneLanguage.allCases)
    func thePageIsInOneLanguageCategoriesStatusesAndReasonsIncluded(language: ZoneLanguage) throws {
        let dead = StatusSnapshot.DeadLettersSection(
            count: 1, oldestAgeSeconds: 75,
            recent: [DeadLetterSummary(id: "x1", type: "zone.project.status_changed", reason: "invalid_event", firstFailedAt: nil)],
            listAvailable: true)
        let queues = [QueueFigures(name: "lode.work", ready: 1, unacked: 0, consumers: 1, source: .management)]
        var snapshot = Self.snapshot(report: Self.report(targets: []), queues: queues, dead: dead)
        snapshot.language = language
        let html = StatusPage.html(snapshot)
        #expect(html.contains(#"<html lang="\#(language.rawValue)">"#))
        // The page's own words, without the data (the campaign's name) and the markup.
        let words = html.replacingOccurrences(of: "<b>春季</b>招商", with: "").replacingOccurrences(of: "&lt;b&gt;春季&lt;/b&gt;招商", with: "")
        let nonASCII = words.filter { !$0.isASCII }
        switch language {
        case .simplifiedChinese:
            #expect(html.contains("<h2>队列</h2>"))
            #expect(html.contains(#"<tr id="figure-status-planned"><th>计划中</th>"#))
            #expect(html.contains(#"<tr id="figure-category-pm_motor"><th>稀土永磁电机</th>"#))
            #expect(html.contains(#"<td>项目状态</td><td title="invalid_event">事件无效</td>"#))
            #expect(nonASCII.allSatisfy { !Self.traditionalOnly.contains($0) }, "\(html)")
        case .traditionalChinese:
            #expect(html.contains("<h2>佇列</h2>"))
            #expect(html.contains(#"<th>計劃中</th>"#))
            #expect(html.contains(#"<th>稀土永磁電機</th>"#))
            #expect(nonASCII.allSatisfy { !Self.simplifiedOnly.contains($0) }, "\(html)")
        case .english:
            #expect(html.contains("<h2>Queues</h2>"))
            #expect(html.contains(#"<tr id="figure-status-planned"><th>planned</th>"#))
            #expect(html.contains(#"<th>PM motor</th>"#))
            #expect(html.contains(#"<td>project status</td><td title="invalid_event">invalid event</td>"#))
            #expect(nonASCII.allSatisfy { "–·≥—".contains($0) }, "\(nonASCII)")
        }
        // No wire code of a category or status shown as text.
        for code in ["pm_motor", "in_production", "rare_earth_material", "strategic_emerging"] {
            #expect(!html.replacingOccurrences(of: "id=\"figure-category-\(code)\"", with: "")
                .replacingOccurrences(of: "id=\"figure-introduced-\(code)\"", with: "")
                .replacingOccurrences(of: "id=\"figure-status-\(code)\"", with: "").contains(code), "\(code)")
        }
    }

    @Test func escapesNamesFromTheConfigAndTheEvents() throws {
        let targets = [
            try ReportTarget(name: "包头 <script>alert(1)</script> & \"引进\"", path: "recruitment.projects_introduced.pm_motor", target: 30),
        ]
        let failed = [FailedNotification(id: 7, rule: "r<1>", channel: "zone-office", title: "项目 <img src=x>", attempts: 9,
                                         lastError: "HTTP 500 'bad'", createdAt: Date(timeIntervalSince1970: 1_717_000_000))]
        let dead = StatusSnapshot.DeadLettersSection(
            count: 1, oldestAgeSeconds: 75,
            recent: [DeadLetterSummary(id: "<id>", type: "zone.<x>", reason: "invalid_json", firstFailedAt: nil)], listAvailable: true)
        var snapshot = Self.snapshot(report: Self.report(targets: targets), failed: failed, dead: dead)
        snapshot.language = .english
        let html = StatusPage.html(snapshot)
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains("<img src=x>"))
        #expect(!html.contains("<b>春季</b>"))
        #expect(html.contains("包头 &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;引进&quot;"))
        #expect(html.contains("项目 &lt;img src=x&gt;"))
        #expect(html.contains("&lt;b&gt;春季&lt;/b&gt;招商"))
        #expect(html.contains("HTTP 500 &#39;bad&#39;"))
        #expect(html.contains("<code>&lt;id&gt;</code>"))
        #expect(html.contains("oldest 1m15s"))
        #expect(StatusPage.escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;")
    }

    @Test func targetBarsAreAsWideAsTheProgressWithinTheirTrack() throws {
        let targets = [
            try ReportTarget(name: "稀土永磁电机项目引进", path: "recruitment.projects_introduced.pm_motor", target: 30),  // 12 of 30
            try ReportTarget(name: "走访企业", path: "recruitment.enterprises_contacted", target: 800),  // 904 of 800
            try ReportTarget(name: "总投资", path: "projects.total_investment", target: 100_000_000_000),  // 573.84 of 1000 亿
        ]
        let html = StatusPage.html(Self.snapshot(report: Self.report(targets: targets)))
        #expect(html.contains(#"<span class="bar" style="width:40.0%"></span></span><span class="pct">40.0%</span><span class="amounts">12 / 30</span>"#))
        #expect(html.contains(#"<span class="bar reached" style="width:100.0%"></span></span><span class="pct">113.0%</span>"#))
        #expect(html.contains(#"style="width:57.4%""#))
        #expect(html.contains("573.84 / 1000.00 亿元"))
        #expect(StatusPage.barWidth(progressPct: -3) == "0.0%")
        #expect(StatusPage.barWidth(progressPct: 250) == "100.0%")
        #expect(StatusPage.barWidth(progressPct: .nan) == "0.0%")
    }

    @Test func emptySectionsSayWhatIsMissingRatherThanShowNothing() {
        var snapshot = Self.snapshot(report: nil)
        snapshot.language = .english
        snapshot.report.problem = "cannot read the report: database is locked"
        snapshot.queues.problem = "cannot read queue 'lode.work'"
        snapshot.deadLetters = .init(count: 3, oldestAgeSeconds: nil)
        let html = StatusPage.html(snapshot)
        #expect(html.contains("cannot read the report: database is locked"))
        #expect(html.contains("No queue figures."))
        #expect(html.contains("No failed notifications."))
        #expect(html.contains(#"<b id="dead-count">3</b>"#))
        #expect(html.contains("The list of dead letters is not available here"))

        var emptySnapshot = Self.snapshot(report: Self.report(targets: []))
        emptySnapshot.language = .english
        let empty = StatusPage.html(emptySnapshot)
        #expect(empty.contains("No targets for 2024"))
        #expect(empty.contains("No dead letters."))
    }

    @Test func showsQueuesWithTheirSourceAndTheDeadLettersAge() {
        let queues = [
            QueueFigures(name: "lode.work", ready: 37, unacked: 2, consumers: 1, publishRate: 12.5, source: .management),
            QueueFigures(name: "lode.dead", ready: 4, unacked: 0, consumers: 0, oldestAgeSeconds: 3 * 3600 + 125, source: .management),
        ]
        var snapshot = Self.snapshot(queues: queues)
        snapshot.language = .english
        let html = StatusPage.html(snapshot)
        #expect(html.contains(#"<tr id="queue-lode.work"><td>lode.work</td><td class="num">37</td><td class="num">2</td><td class="num">1</td><td class="num">12.5</td>"#))
        #expect(html.contains(#"<tr id="queue-lode.dead" class="warn">"#))
        #expect(html.contains("3h02m"))
        #expect(html.contains("RabbitMQ&#39;s management API") || html.contains("RabbitMQ's management API"))
        #expect(html.contains(#"<span class="badge ok">ok</span> broker <b>connected</b>"#))
        #expect(html.contains(#"<td class="num" id="applied">1234</td>"#))
        #expect(html.contains("2024-06-01 08:00:00 +08:00"))
    }

    @Test func theServerAnswersSlashAndStatusWithTheProvidersPage() async throws {
        let factory = DescribedPrometheusFactory(registry: PrometheusCollectorRegistry())
        let bound = Mutex<Int?>(nil)
        let asked = Mutex<[Int?]>([])
        let server = StatusServer(
            host: "127.0.0.1", port: 0, registry: factory.registry, health: { WorkerHealth() },
            statusPage: { request in
                asked.withLock { $0.append(request.year) }
                return Self.snapshot(report: Self.report(targets: []), year: request.year ?? 2026)
            },
            logger: Logger(label: "test")) { _, port in bound.withLock { $0 = port } }
        try await withThrowingTaskGroup { group in
            group.addTask { try await server.run() }
            _ = await eventually(timeout: .seconds(60)) { bound.withLock { $0 } != nil }
            let port = try #require(bound.withLock { $0 })
            let root = try await StatusServerTests.get("http://127.0.0.1:\(port)/")
            #expect(root.status == 200)
            #expect(root.contentType == "text/html; charset=utf-8")
            #expect(root.body.contains("重大项目数"))
            let status = try await StatusServerTests.get("http://127.0.0.1:\(port)/status?year=2024")
            #expect(status.status == 200)
            #expect(status.body.contains("2024 年度报告"))
            #expect(asked.withLock { $0 } == [nil, 2024])
            group.cancelAll()
        }
    }
}

@Suite("Queue figures shared by lodectl and the status page")
struct QueueFiguresTests {
    @Test func theJSONHasTheContractsKeysAndTheOldestAge() {
        let figures = QueueFigures(name: "lode.dead", ready: 2, unacked: nil, consumers: 0, oldestAgeSeconds: 61.25, source: .passive)
        let text = String(decoding: figures.json.serializedBytes(), as: UTF8.self)
        #expect(text.contains(#""name":"lode.dead""#))
        #expect(text.contains(#""unacked":null"#))
        #expect(text.contains(#""oldest_age_seconds":61.2"#) || text.contains(#""oldest_age_seconds":61.3"#))
        #expect(text.contains(#""source":"passive""#))
        let empty = QueueFigures(name: "lode.dead", ready: 0, source: .management)
        #expect(String(decoding: empty.json.serializedBytes(), as: UTF8.self).contains(#""oldest_age_seconds":null"#))
    }

    @Test func managementFiguresIncludeRatesAndAClassicQueuesHeadTimestamp() throws {
        let body = try JSONParser.parse(Array("""
            {"messages_ready": 4, "messages_unacknowledged": 1, "consumers": 2, "head_message_timestamp": 1717199940,
             "message_stats": {"publish_details": {"rate": 2.5}, "deliver_get_details": {"rate": 1.0}, "ack_details": {"rate": 0.5}}}
            """.utf8))
        let figures = QueueReader.figures(name: "lode.dead", managementBody: body, now: Date(timeIntervalSince1970: 1_717_200_000))
        #expect(figures.ready == 4 && figures.unacked == 1 && figures.consumers == 2)
        #expect(figures.publishRate == 2.5 && figures.deliverRate == 1.0 && figures.ackRate == 0.5)
        #expect(figures.oldestAgeSeconds == 60)
        #expect(figures.source == .management)
        let quorum = QueueReader.figures(name: "lode.dead", managementBody: try JSONParser.parse(Array(#"{"messages_ready": 4}"#.utf8)))
        #expect(quorum.oldestAgeSeconds == nil)
    }

    @Test func humanDurationsAreShortAndPadded() {
        #expect(humanDuration(seconds: 0) == "0s")
        #expect(humanDuration(seconds: 59.9) == "59s")
        #expect(humanDuration(seconds: 75) == "1m15s")
        #expect(humanDuration(seconds: 3 * 3600 + 125) == "3h02m")
        #expect(humanDuration(seconds: 2 * 86_400 + 4 * 3600) == "2d04h")
    }
}
