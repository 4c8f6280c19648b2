import Foundation
import LodeEvents
import LodeProjections
import LodeQueues
import LodeWorker

/// The worker's status page (`GET /` and `/status`): one self-contained HTML document, inline
/// CSS, no scripts and no external assets, that refreshes itself every
/// ``StatusSnapshot/refreshSeconds``.
///
/// Pure: the same snapshot gives the same bytes. Every text that comes from outside (project and
/// target names, campaign names, errors, notification titles) goes through ``escape(_:)``.
public enum StatusPage {
    /// The content type of the page.
    public static let contentType = "text/html; charset=utf-8"

    public static func html(_ snapshot: StatusSnapshot) -> String {
        var page = HTMLDocument()
        let year = snapshot.report.year
        page.line("<!DOCTYPE html>")
        page.line(#"<html lang="zh"><head><meta charset="utf-8">"#)
        page.line(#"<meta http-equiv="refresh" content="\#(max(1, snapshot.refreshSeconds))">"#)
        page.line(#"<meta name="viewport" content="width=device-width, initial-scale=1">"#)
        page.line("<title>Lodestone · \(year)</title>")
        page.line("<style>\(style)</style></head><body>")
        page.line(#"<header><h1>Lodestone</h1><p class="meta">as of <time id="generated-at">\#(escape(timestamp(snapshot.generatedAt, snapshot.timeZone)))</time> · refreshes every \#(snapshot.refreshSeconds) s · <a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a></p></header>"#)
        queues(snapshot, into: &page)
        worker(snapshot, into: &page)
        report(snapshot.report, into: &page)
        deadLetters(snapshot, into: &page)
        notifications(snapshot, into: &page)
        page.line("</body></html>")
        return page.text
    }

    /// Text made safe for HTML content and attribute values.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// The width of a progress bar, in percent of its track: the progress, within 0...100 (a
    /// target passed fills the track; the number beside it says by how much).
    public static func barWidth(progressPct: Double) -> String {
        let clamped = progressPct.isFinite ? min(100, max(0, progressPct)) : 0
        return String(format: "%.1f%%", clamped)
    }

    // MARK: - Sections

    private static func queues(_ snapshot: StatusSnapshot, into page: inout HTMLDocument) {
        page.line(#"<section id="queues"><h2>Queues</h2>"#)
        if let problem = snapshot.queues.problem { page.line(#"<p class="problem">\#(escape(problem))</p>"#) }
        if snapshot.queues.figures.isEmpty {
            page.line(#"<p class="empty">No queue figures.</p>"#)
        } else {
            page.line("<table><thead><tr><th>queue</th><th>ready</th><th>unacked</th><th>consumers</th><th>publish/s</th><th>deliver/s</th><th>ack/s</th><th>oldest</th></tr></thead><tbody>")
            for figure in snapshot.queues.figures {
                let warn = figure.name == "lode.dead" && (figure.ready ?? 0) > 0
                page.line(#"<tr id="queue-\#(escape(figure.name))"\#(warn ? #" class="warn""# : "")><td>\#(escape(figure.name))</td><td class="num">\#(cell(figure.ready))</td><td class="num">\#(cell(figure.unacked))</td><td class="num">\#(cell(figure.consumers))</td><td class="num">\#(rate(figure.publishRate))</td><td class="num">\#(rate(figure.deliverRate))</td><td class="num">\#(rate(figure.ackRate))</td><td class="num">\#(figure.oldestAgeSeconds.map { humanDuration(seconds: $0) } ?? "–")</td></tr>"#)
            }
            let source = snapshot.queues.figures.first?.source
            page.line("</tbody></table>")
            page.line(#"<p class="meta">from \#(source == .passive ? "passive declares (no rates, no unacked: the management API did not answer)" : "RabbitMQ's management API")</p>"#)
        }
        page.line("</section>")
    }

    private static func worker(_ snapshot: StatusSnapshot, into page: inout HTMLDocument) {
        let health = snapshot.worker.health
        let counts = snapshot.worker.counts
        page.line(#"<section id="worker"><h2>Worker</h2>"#)
        page.line(#"<p><span class="badge \#(health.isHealthy ? "ok" : "bad")">\#(health.isHealthy ? "ok" : "unavailable")</span> broker <b>\#(escape(health.broker.name))</b> · store <b>\#(health.storeError == nil ? "ok" : "failing")</b></p>"#)
        if !health.problems.isEmpty {
            page.line("<ul class=\"problem\">" + health.problems.map { "<li>\(escape($0))</li>" }.joined() + "</ul>")
        }
        page.line("<dl>")
        page.line("<dt>running since</dt><dd>\(escape(timestamp(snapshot.worker.startedAt, snapshot.timeZone)))</dd>")
        page.line("<dt>last applied</dt><dd>\(health.lastAppliedAt.map { escape(timestamp($0, snapshot.timeZone)) } ?? "never")</dd>")
        if let since = health.storeFailingSince {
            page.line("<dt>store failing since</dt><dd>\(escape(timestamp(since, snapshot.timeZone)))</dd>")
        }
        page.line("</dl>")
        page.line(#"<table class="counts"><caption>since the worker started</caption><thead><tr><th>messages taken</th><th>events applied</th><th>duplicates</th><th>dead-lettered</th><th>retried</th></tr></thead>"#)
        page.line(#"<tbody><tr><td class="num">\#(counts.deliveries)</td><td class="num" id="applied">\#(counts.applied)</td><td class="num">\#(counts.duplicates)</td><td class="num">\#(counts.deadLettered)</td><td class="num">\#(counts.retried)</td></tr></tbody></table>"#)
        page.line("</section>")
    }

    private static func report(_ section: StatusSnapshot.ReportSection, into page: inout HTMLDocument) {
        page.line(#"<section id="report"><h2>\#(section.year) 年度報告</h2>"#)
        let neighbours = [section.year.subtractingReportingOverflow(1), section.year.addingReportingOverflow(1)]
            .filter { !$0.overflow && ZoneReport.years.contains($0.partialValue) }.map(\.partialValue)
        page.line(#"<p class="meta">\#(neighbours.map { #"<a href="?year=\#($0)">\#($0)</a>"# }.joined(separator: " · "))</p>"#)
        if let problem = section.problem { page.line(#"<p class="problem">\#(escape(problem))</p>"#) }
        guard let report = section.report else {
            page.line("</section>")
            return
        }
        let projects = report.projects, recruitment = report.recruitment
        page.line(#"<div class="columns"><table class="figures"><caption>重大項目</caption><tbody>"#)
        figureRow(&page, "major", "重大項目數", "\(projects.major)", "個")
        figureRow(&page, "total-investment", "總投資", FixedDecimal.yi(projects.totalInvestment), "億元")
        figureRow(&page, "planned-investment", "當年計劃投資", FixedDecimal.yi(projects.plannedInvestment), "億元")
        figureRow(&page, "completed-investment", "已完成投資", FixedDecimal.yi(projects.completedInvestment), "億元")
        figureRow(&page, "industrial", "產業類項目", "\(projects.industrial)", "個")
        figureRow(&page, "industrial-new-start-over-100m", "新開工億元以上產業類項目", "\(projects.industrialNewStartOver100m)", "個")
        figureRow(&page, "strategic-emerging-new-start", "新開工戰略性新興產業項目", "\(projects.strategicEmergingNewStart.count)",
                  growth(projects.strategicEmergingNewStart))
        figureRow(&page, "rare-earth", "稀土產業項目", "\(projects.rareEarth)", "個")
        figureRow(&page, "rare-earth-new-start-over-100m", "新開工億元以上稀土產業項目", "\(projects.rareEarthNewStartOver100m.count)",
                  growth(projects.rareEarthNewStartOver100m))
        page.line("</tbody></table>")
        page.line(#"<table class="figures"><caption>招商引資</caption><tbody>"#)
        figureRow(&page, "enterprises-contacted", "走訪對接企業", "\(recruitment.enterprisesContacted)", "家")
        figureRow(&page, "site-visits", "實地考察", "\(recruitment.siteVisits)", "次")
        figureRow(&page, "agreements-signed", "簽訂合作協議", "\(recruitment.agreementsSigned)", "家")
        for (industry, count) in recruitment.projectsIntroduced.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            figureRow(&page, "introduced-\(industry.rawValue)", "引進項目 " + industry.rawValue, "\(count)", "個")
        }
        page.line("</tbody></table></div>")
        if !recruitment.byCampaign.isEmpty {
            page.line(#"<table class="campaigns"><caption>招商行動</caption><thead><tr><th>名稱</th><th>走訪企業</th><th>實地考察</th><th>簽約企業</th></tr></thead><tbody>"#)
            for campaign in recruitment.byCampaign {
                page.line(#"<tr><td>\#(escape(campaign.name))</td><td class="num">\#(campaign.enterprisesContacted)</td><td class="num">\#(campaign.siteVisits)</td><td class="num">\#(campaign.agreementsSigned)</td></tr>"#)
            }
            page.line("</tbody></table>")
        }
        page.line(#"<h3>目標</h3>"#)
        if report.targets.isEmpty {
            page.line(#"<p class="empty">No targets for \#(section.year) in the config file (<code>targets:</code>).</p>"#)
        } else {
            page.line(#"<ul class="targets">"#)
            for progress in report.targets {
                let amounts = isAmount(progress.target.figure)
                    ? "\(FixedDecimal.yi(progress.actual)) / \(FixedDecimal.yi(Int128(progress.target.target))) 億元"
                    : "\(progress.actual) / \(progress.target.target)"
                let reached = progress.actual >= Int128(progress.target.target)
                page.line(#"<li class="target"><span class="label">\#(escape(progress.target.name))</span><span class="track" role="progressbar" aria-valuenow="\#(progress.progressPct)" aria-valuemin="0" aria-valuemax="100"><span class="bar\#(reached ? " reached" : "")" style="width:\#(barWidth(progressPct: progress.progressPct.doubleValue))"></span></span><span class="pct">\#(progress.progressPct)%</span><span class="amounts">\#(escape(amounts))</span></li>"#)
            }
            page.line("</ul>")
        }
        page.line("</section>")
    }

    private static func deadLetters(_ snapshot: StatusSnapshot, into page: inout HTMLDocument) {
        let section = snapshot.deadLetters
        page.line(#"<section id="dead-letters"><h2>Dead letters</h2>"#)
        let oldest = section.oldestAgeSeconds.map { " · oldest \(humanDuration(seconds: $0))" } ?? ""
        page.line(#"<p>lode.dead holds <b id="dead-count">\#(cell(section.count))</b>\#(oldest)</p>"#)
        if !section.recent.isEmpty {
            page.line("<table><thead><tr><th>id</th><th>type</th><th>reason</th><th>first failed</th></tr></thead><tbody>")
            for letter in section.recent {
                page.line("<tr><td><code>\(escape(letter.id))</code></td><td>\(letter.type.isEmpty ? "–" : escape(letter.type))</td><td>\(escape(letter.reason))</td><td>\(letter.firstFailedAt.map { escape(timestamp($0, snapshot.timeZone)) } ?? "–")</td></tr>")
            }
            page.line("</tbody></table>")
        } else if section.count == 0 || (section.listAvailable && section.count == nil) {
            page.line(#"<p class="empty">No dead letters.</p>"#)
        } else if section.listAvailable {
            // Messages the broker moved there itself (poison), or older than the index.
            page.line(#"<p class="empty">None in the worker's index; what <code>lode.dead</code> holds is indexed by <code>lodectl dlq list --sync</code>.</p>"#)
        } else {
            page.line(#"<p class="empty">The list of dead letters is not available here: <code>lodectl dlq list</code> shows them.</p>"#)
        }
        page.line("</section>")
    }

    private static func notifications(_ snapshot: StatusSnapshot, into page: inout HTMLDocument) {
        let section = snapshot.notifications
        page.line(#"<section id="failed-notifications"><h2>Failed notifications</h2>"#)
        if let problem = section.problem { page.line(#"<p class="problem">\#(escape(problem))</p>"#) }
        if section.entries.isEmpty {
            if section.problem == nil { page.line(#"<p class="empty">No failed notifications.</p>"#) }
        } else {
            page.line("<table><thead><tr><th>id</th><th>rule</th><th>channel</th><th>title</th><th>attempts</th><th>last error</th><th>recorded</th></tr></thead><tbody>")
            for entry in section.entries {
                page.line(#"<tr><td class="num">\#(entry.id)</td><td>\#(escape(entry.rule))</td><td>\#(escape(entry.channel))</td><td>\#(escape(entry.title))</td><td class="num">\#(entry.attempts)</td><td>\#(escape(entry.lastError ?? ""))</td><td>\#(escape(timestamp(entry.createdAt, snapshot.timeZone)))</td></tr>"#)
            }
            page.line("</tbody></table>")
            page.line(#"<p class="meta"><code>lodectl notifications retry ID</code> sends one again.</p>"#)
        }
        page.line("</section>")
    }

    // MARK: - Pieces

    private static func figureRow(_ page: inout HTMLDocument, _ id: String, _ label: String, _ value: String, _ note: String) {
        page.line(#"<tr id="figure-\#(id)"><th>\#(label)</th><td class="num">\#(escape(value))</td><td>\#(escape(note))</td></tr>"#)
    }

    private static func cell(_ value: Int?) -> String { value.map(String.init) ?? "–" }

    private static func rate(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "–" }

    /// `上年 28 +14.29%`, or `上年 0` when there is no growth to show.
    private static func growth(_ growth: Growth) -> String {
        guard let pct = growth.growthPct else { return "上年 \(growth.previous)" }
        return "上年 \(growth.previous) \(pct.units >= 0 ? "+" : "")\(pct)%"
    }


    private static func isAmount(_ figure: ReportFigure) -> Bool {
        switch figure {
        case .totalInvestment, .plannedInvestment, .completedInvestment: true
        default: false
        }
    }

    /// `2024-06-01 08:00:00 +08:00`, in the zone's time zone.
    static func timestamp(_ date: Date, _ zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let offset = zone.secondsFromGMT(for: date)
        let sign = offset < 0 ? "-" : "+"
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d %@%02d:%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0,
                      parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0, sign, abs(offset) / 3600, abs(offset) % 3600 / 60)
    }

    private static let style = """
        body{font:15px/1.45 system-ui,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei","WenQuanYi Micro Hei",sans-serif;margin:0 auto;max-width:72rem;padding:1rem 1.5rem;color:#1d2330;background:#f7f8fa}\
        h1{margin:.2rem 0;font-size:1.5rem}h2{margin:1.6rem 0 .5rem;font-size:1.2rem;border-bottom:1px solid #d8dce3}h3{font-size:1rem;margin:1rem 0 .4rem}\
        section{background:#fff;border:1px solid #e3e6eb;border-radius:6px;padding:.2rem 1rem 1rem;margin:1rem 0}\
        table{border-collapse:collapse;margin:.4rem 0}th,td{padding:.2rem .6rem;text-align:left;border-bottom:1px solid #eef0f3}\
        td.num{text-align:right;font-variant-numeric:tabular-nums}caption{text-align:left;font-weight:600;padding:.3rem 0}\
        .columns{display:flex;flex-wrap:wrap;gap:2rem;align-items:flex-start}.meta{color:#667085;font-size:.85rem}.empty{color:#667085}\
        .problem{color:#b42318}tr.warn td{background:#fff4e5}.badge{padding:.1rem .5rem;border-radius:4px;color:#fff}\
        .badge.ok{background:#12825b}.badge.bad{background:#b42318}dl{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem}dd{margin:0}\
        ul.targets{list-style:none;padding:0;display:grid;grid-template-columns:minmax(10rem,18rem) minmax(8rem,1fr) 5rem max-content;gap:.5rem .8rem;align-items:center}li.target{display:contents}\
        .track{display:block;height:.9rem;background:#e9edf2;border-radius:4px;overflow:hidden}.bar{display:block;height:100%;background:#3b6fd6}\
        .bar.reached{background:#12825b}.pct{text-align:right;font-variant-numeric:tabular-nums}
        """
}

/// Lines of HTML, appended in order.
private struct HTMLDocument {
    var text = ""

    mutating func line(_ line: String) {
        text += line
        text += "\n"
    }
}
