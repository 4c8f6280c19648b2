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
        let words = StatusPageLabels(snapshot.language)
        page.line("<!DOCTYPE html>")
        page.line(#"<html lang="\#(words.htmlLanguage)"><head><meta charset="utf-8">"#)
        page.line(#"<meta http-equiv="refresh" content="\#(max(1, snapshot.refreshSeconds))">"#)
        page.line(#"<meta name="viewport" content="width=device-width, initial-scale=1">"#)
        page.line("<title>Lodestone · \(year)</title>")
        page.line("<style>\(style)</style></head><body>")
        page.line(#"<header><h1>Lodestone</h1><p class="meta">\#(words.asOf) <time id="generated-at">\#(escape(timestamp(snapshot.generatedAt, snapshot.timeZone)))</time> · \#(words.refreshes(snapshot.refreshSeconds)) · <a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a></p></header>"#)
        queues(snapshot, words, into: &page)
        worker(snapshot, words, into: &page)
        report(snapshot.report, words, into: &page)
        deadLetters(snapshot, words, into: &page)
        notifications(snapshot, words, into: &page)
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

    private static func queues(_ snapshot: StatusSnapshot, _ words: StatusPageLabels, into page: inout HTMLDocument) {
        page.line(#"<section id="queues"><h2>\#(words.queues)</h2>"#)
        if let problem = snapshot.queues.problem { page.line(#"<p class="problem">\#(escape(problem))</p>"#) }
        if snapshot.queues.figures.isEmpty {
            page.line(#"<p class="empty">\#(words.noQueueFigures)</p>"#)
        } else {
            page.line("<table><thead><tr>" + words.queueColumns.map { "<th>\($0)</th>" }.joined() + "</tr></thead><tbody>")
            for figure in snapshot.queues.figures {
                let warn = figure.name == "lode.dead" && (figure.ready ?? 0) > 0
                page.line(#"<tr id="queue-\#(escape(figure.name))"\#(warn ? #" class="warn""# : "")><td>\#(escape(figure.name))</td><td class="num">\#(cell(figure.ready))</td><td class="num">\#(cell(figure.unacked))</td><td class="num">\#(cell(figure.consumers))</td><td class="num">\#(rate(figure.publishRate))</td><td class="num">\#(rate(figure.deliverRate))</td><td class="num">\#(rate(figure.ackRate))</td><td class="num">\#(figure.oldestAgeSeconds.map { humanDuration(seconds: $0) } ?? "–")</td></tr>"#)
            }
            let source = snapshot.queues.figures.first?.source
            page.line("</tbody></table>")
            page.line(#"<p class="meta">\#(source == .passive ? words.fromPassive : words.fromManagement)</p>"#)
        }
        page.line("</section>")
    }

    private static func worker(_ snapshot: StatusSnapshot, _ words: StatusPageLabels, into page: inout HTMLDocument) {
        let health = snapshot.worker.health
        let counts = snapshot.worker.counts
        page.line(#"<section id="worker"><h2>\#(words.worker)</h2>"#)
        page.line(#"<p><span class="badge \#(health.isHealthy ? "ok" : "bad")">\#(health.isHealthy ? words.healthy : words.unavailable)</span> \#(words.broker) <b>\#(escape(words.brokerState(health.broker)))</b> · \#(words.store) <b>\#(health.storeError == nil ? words.storeOK : words.storeFailing)</b></p>"#)
        if !health.problems.isEmpty {
            page.line("<ul class=\"problem\">" + health.problems.map { "<li>\(escape($0))</li>" }.joined() + "</ul>")
        }
        page.line("<dl>")
        page.line("<dt>\(words.runningSince)</dt><dd>\(escape(timestamp(snapshot.worker.startedAt, snapshot.timeZone)))</dd>")
        page.line("<dt>\(words.lastApplied)</dt><dd>\(health.lastAppliedAt.map { escape(timestamp($0, snapshot.timeZone)) } ?? words.never)</dd>")
        if let since = health.storeFailingSince {
            page.line("<dt>\(words.storeFailingSince)</dt><dd>\(escape(timestamp(since, snapshot.timeZone)))</dd>")
        }
        page.line("</dl>")
        page.line(#"<table class="counts"><caption>\#(words.sinceStart)</caption><thead><tr>"# + words.countColumns.map { "<th>\($0)</th>" }.joined() + "</tr></thead>")
        page.line(#"<tbody><tr><td class="num">\#(counts.deliveries)</td><td class="num" id="applied">\#(counts.applied)</td><td class="num">\#(counts.duplicates)</td><td class="num">\#(counts.deadLettered)</td><td class="num">\#(counts.retried)</td></tr></tbody></table>"#)
        page.line("</section>")
    }

    private static func report(_ section: StatusSnapshot.ReportSection, _ words: StatusPageLabels, into page: inout HTMLDocument) {
        let labels = words.report
        page.line(#"<section id="report"><h2>\#(escape(labels.title(section.year)))</h2>"#)
        let neighbours = [section.year.subtractingReportingOverflow(1), section.year.addingReportingOverflow(1)]
            .filter { !$0.overflow && ZoneReport.years.contains($0.partialValue) }.map(\.partialValue)
        page.line(#"<p class="meta">\#(neighbours.map { #"<a href="?year=\#($0)">\#($0)</a>"# }.joined(separator: " · "))</p>"#)
        if let problem = section.problem { page.line(#"<p class="problem">\#(escape(problem))</p>"#) }
        guard let report = section.report else {
            page.line("</section>")
            return
        }
        let projects = report.projects, recruitment = report.recruitment
        page.line(#"<div class="columns"><table class="figures"><caption>\#(labels.projects)</caption><tbody>"#)
        figureRow(&page, "major", labels.major, "\(projects.major)", labels.projectUnit)
        figureRow(&page, "total-investment", labels.totalInvestment, FixedDecimal.yi(projects.totalInvestment), labels.yiUnit)
        figureRow(&page, "planned-investment", labels.plannedInvestment, FixedDecimal.yi(projects.plannedInvestment), labels.yiUnit)
        figureRow(&page, "completed-investment", labels.completedInvestment, FixedDecimal.yi(projects.completedInvestment), labels.yiUnit)
        figureRow(&page, "industrial", labels.industrial, "\(projects.industrial)", labels.projectUnit)
        figureRow(&page, "industrial-new-start-over-100m", labels.industrialNewStartOver100m, "\(projects.industrialNewStartOver100m)", labels.projectUnit)
        figureRow(&page, "strategic-emerging-new-start", labels.strategicEmergingNewStart, "\(projects.strategicEmergingNewStart.count)",
                  growth(projects.strategicEmergingNewStart, labels))
        figureRow(&page, "rare-earth", labels.rareEarth, "\(projects.rareEarth)", labels.projectUnit)
        figureRow(&page, "rare-earth-new-start-over-100m", labels.rareEarthNewStartOver100m, "\(projects.rareEarthNewStartOver100m.count)",
                  growth(projects.rareEarthNewStartOver100m, labels))
        page.line("</tbody></table>")
        page.line(#"<table class="figures"><caption>\#(labels.recruitment)</caption><tbody>"#)
        figureRow(&page, "enterprises-contacted", labels.enterprisesContacted, "\(recruitment.enterprisesContacted)", labels.enterpriseUnit)
        figureRow(&page, "site-visits", labels.siteVisits, "\(recruitment.siteVisits)", labels.visitUnit)
        figureRow(&page, "agreements-signed", labels.agreementsSigned, "\(recruitment.agreementsSigned)", labels.enterpriseUnit)
        for (industry, count) in recruitment.projectsIntroduced.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            figureRow(&page, "introduced-\(industry.rawValue)", labels.projectsIntroduced + " " + industry.name(in: words.language), "\(count)", labels.projectUnit)
        }
        page.line("</tbody></table></div>")
        page.line(#"<div class="columns"><table class="figures" id="by-status"><caption>\#(labels.byStatus)</caption><tbody>"#)
        for stage in ProjectStage.reported {
            figureRow(&page, "status-\(stage.rawValue)", stage.name(in: words.language), "\(projects.byStatus[stage] ?? 0)", labels.projectUnit)
        }
        page.line("</tbody></table>")
        page.line(#"<table class="figures" id="by-category"><caption>\#(labels.byCategory)</caption><tbody>"#)
        for category in Category.allCases {
            figureRow(&page, "category-\(category.rawValue)", category.name(in: words.language), "\(projects.byCategory[category] ?? 0)", labels.projectUnit)
        }
        page.line("</tbody></table></div>")
        if !recruitment.byCampaign.isEmpty {
            page.line(#"<table class="campaigns"><caption>\#(labels.campaign)</caption><thead><tr><th>\#(words.campaignName)</th><th>\#(labels.campaignContacted)</th><th>\#(labels.campaignVisits)</th><th>\#(labels.campaignSigned)</th></tr></thead><tbody>"#)
            for campaign in recruitment.byCampaign {
                page.line(#"<tr><td>\#(escape(campaign.name))</td><td class="num">\#(campaign.enterprisesContacted)</td><td class="num">\#(campaign.siteVisits)</td><td class="num">\#(campaign.agreementsSigned)</td></tr>"#)
            }
            page.line("</tbody></table>")
        }
        page.line(#"<h3>\#(labels.targets)</h3>"#)
        if report.targets.isEmpty {
            page.line(#"<p class="empty">\#(words.noTargets(section.year))</p>"#)
        } else {
            page.line(#"<ul class="targets">"#)
            for progress in report.targets {
                let amounts = isAmount(progress.target.figure)
                    ? "\(FixedDecimal.yi(progress.actual)) / \(FixedDecimal.yi(Int128(progress.target.target))) \(labels.yiUnit)"
                    : "\(progress.actual) / \(progress.target.target)"
                let reached = progress.actual >= Int128(progress.target.target)
                page.line(#"<li class="target"><span class="label">\#(escape(progress.target.name))</span><span class="track" role="progressbar" aria-valuenow="\#(progress.progressPct)" aria-valuemin="0" aria-valuemax="100"><span class="bar\#(reached ? " reached" : "")" style="width:\#(barWidth(progressPct: progress.progressPct.doubleValue))"></span></span><span class="pct">\#(progress.progressPct)%</span><span class="amounts">\#(escape(amounts))</span></li>"#)
            }
            page.line("</ul>")
        }
        page.line("</section>")
    }

    private static func deadLetters(_ snapshot: StatusSnapshot, _ words: StatusPageLabels, into page: inout HTMLDocument) {
        let section = snapshot.deadLetters
        page.line(#"<section id="dead-letters"><h2>\#(words.deadLetters)</h2>"#)
        let oldest = section.oldestAgeSeconds.map { " · \(words.oldest) \(humanDuration(seconds: $0))" } ?? ""
        page.line(#"<p>\#(words.deadHolds(cell(section.count)))\#(oldest)</p>"#)
        if !section.recent.isEmpty {
            page.line("<table><thead><tr>" + words.deadColumns.map { "<th>\($0)</th>" }.joined() + "</tr></thead><tbody>")
            for letter in section.recent {
                page.line("<tr><td><code>\(escape(letter.id))</code></td><td>\(letter.type.isEmpty ? "–" : escape(words.eventType(letter.type)))</td><td title=\"\(escape(letter.reason))\">\(escape(words.reason(letter.reason)))</td><td>\(letter.firstFailedAt.map { escape(timestamp($0, snapshot.timeZone)) } ?? "–")</td></tr>")
            }
            page.line("</tbody></table>")
        } else if section.count == 0 || (section.listAvailable && section.count == nil) {
            page.line(#"<p class="empty">\#(words.noDeadLetters)</p>"#)
        } else if section.listAvailable {
            // Messages the broker moved there itself (poison), or older than the index.
            page.line(#"<p class="empty">\#(words.notIndexed)</p>"#)
        } else {
            page.line(#"<p class="empty">\#(words.noList)</p>"#)
        }
        page.line("</section>")
    }

    private static func notifications(_ snapshot: StatusSnapshot, _ words: StatusPageLabels, into page: inout HTMLDocument) {
        let section = snapshot.notifications
        page.line(#"<section id="failed-notifications"><h2>\#(words.failedNotifications)</h2>"#)
        if let problem = section.problem { page.line(#"<p class="problem">\#(escape(problem))</p>"#) }
        if section.entries.isEmpty {
            if section.problem == nil { page.line(#"<p class="empty">\#(words.noFailedNotifications)</p>"#) }
        } else {
            page.line("<table><thead><tr>" + words.notificationColumns.map { "<th>\($0)</th>" }.joined() + "</tr></thead><tbody>")
            for entry in section.entries {
                page.line(#"<tr><td class="num">\#(entry.id)</td><td>\#(escape(entry.rule))</td><td>\#(escape(entry.channel))</td><td>\#(escape(entry.title))</td><td class="num">\#(entry.attempts)</td><td>\#(escape(entry.lastError ?? ""))</td><td>\#(escape(timestamp(entry.createdAt, snapshot.timeZone)))</td></tr>"#)
            }
            page.line("</tbody></table>")
            page.line(#"<p class="meta">\#(words.retryHint)</p>"#)
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
    private static func growth(_ growth: Growth, _ labels: ReportLabels) -> String {
        guard let pct = growth.growthPct else { return "\(labels.previousYear) \(growth.previous)" }
        return "\(labels.previousYear) \(growth.previous) \(pct.units >= 0 ? "+" : "")\(pct)%"
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
