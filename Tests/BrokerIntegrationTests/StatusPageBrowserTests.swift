import Foundation
import LodeAMQP
import LodeWire
import Testing

extension BrokerTests {
    /// The worker's status page as a browser shows it: the real `lode-worker`, the demo set
    /// published through the broker, and Debian's `chromium` in headless mode.
    @Suite("The status page in a headless browser")
    struct StatusPageInABrowser {
        /// Where chromium is, or nil. `LODE_CHROMIUM` overrides the search.
        static var chromium: String? {
            if let path = ProcessInfo.processInfo.environment["LODE_CHROMIUM"] { return path }
            return ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
                .first { FileManager.default.isExecutableFile(atPath: $0) }
        }

        static let config = """
            targets:
              2024:
                - name: 重大项目 (包头 <script>alert(1)</script>)
                  figure: projects.major
                  target: 100
                - name: 总投资
                  figure: projects.total_investment
                  target: 100000000000
            """

        /// Runs chromium headless on `url` with `mode` (`--dump-dom`, `--screenshot=FILE`) and
        /// returns what it printed; kills it after two minutes.
        static func browse(_ chromium: String, _ mode: String, _ url: String, profile: String) async throws -> PublishProcess.Outcome {
            let process = try ServiceProcess(chromium, [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--user-data-dir=\(profile)", "--window-size=1280,2400", mode, url,
            ])
            let status = await withTaskGroup(of: Int32?.self) { group in
                group.addTask { await process.exitStatus() }
                group.addTask {
                    try? await Task.sleep(for: .seconds(120))
                    return nil
                }
                let first = await group.next() ?? nil
                if first == nil { process.signal(SIGKILL) }
                group.cancelAll()
                return first
            }
            return PublishProcess.Outcome(status: status ?? -1, stdout: process.stdout, stderr: process.stderr)
        }

        @Test func showsTheReportsFiguresTargetBarsAndTheDeadLetter() async throws {
            guard let chromium = Self.chromium else {
                Issue.record("""
                    chromium is not installed, so the status page cannot be checked in a browser: \
                    run scripts/bootstrap (it installs Debian's chromium) or `apt-get install chromium`, \
                    or set LODE_CHROMIUM to a Chromium binary
                    """)
                return
            }
            let environment = ["LODE_AMQP_URL": BrokerFixture.url]
            let admin = try await BrokerFixture.emptyZoneQueues()
            let directory = try BrokerFixture.temporaryDirectory("lode-status-page")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let config = directory + "/lodestone.yaml"
            try Self.config.write(toFile: config, atomically: true, encoding: .utf8)

            let worker = try ServiceProcess("lode-worker", [
                "--metrics-address", "127.0.0.1:0", "--db", directory + "/zone.sqlite", "--config", config,
                "--management-url", BrokerTests.QueuesCommand.managementURL,
            ], environment: environment)
            let page = try await worker.metricsBase() + "/?year=2024"

            // The demo set, and one message that is not JSON: a dead letter.
            let published = try await PublishProcess.run([WorkerThroughTheBroker.demoFile], environment: environment)
            #expect(published.status == 0, "\(published.stderr)")
            #expect(try await admin.publish([
                OutgoingMessage(exchange: ZoneTopology.exchange, routingKey: "zone.project.registered", body: Array("not json".utf8),
                                properties: MessageProperties(contentType: "application/cloudevents+json", deliveryMode: 2)),
            ]).allConfirmed)

            // Served: every event applied and the dead letter counted in lode.dead.
            var served = ""
            #expect(try await BrokerFixture.eventually(timeout: .seconds(120), poll: .milliseconds(500)) {
                served = try await HTTPGet.fetch(page).body
                return served.contains(#"<tr id="figure-major"><th>重大项目数</th><td class="num">71</td>"#)
                    && served.contains(#"<b id="dead-count">1</b>"#)
            }, "\(served)")

            // What the browser makes of it.
            let dom = try await Self.browse(chromium, "--dump-dom", page, profile: directory + "/chromium")
            #expect(dom.status == 0, "chromium: \(dom.stderr)")
            let html = dom.stdout
            #expect(html.contains("2024 年度报告"), "\(html)")
            #expect(html.contains(#"<html lang="zh-Hans">"#))
            #expect(html.contains(#"<td class="num">71</td>"#))
            #expect(html.contains(#"<td class="num">573.84</td><td>亿元</td>"#))
            #expect(html.contains(#"<td class="num">904</td>"#))
            // The targets: 71 of 100 projects, 573.84 of 1000 亿元, as bars of that width.
            #expect(html.contains(#"<span class="bar" style="width:71.0%"></span>"#), "\(html)")
            #expect(html.contains(#"<span class="bar" style="width:57.4%"></span>"#))
            #expect(html.contains("573.84 / 1000.00 亿元"))
            // A name from the config is text, not markup: no script element reached the page.
            #expect(html.contains("重大项目 (包头 &lt;script&gt;alert(1)&lt;/script&gt;)"))
            #expect(!html.contains("<script"))
            // lode.dead: one dead letter, its age known (read from its x-lode-first-failed-at).
            #expect(html.contains(#"<b id="dead-count">1</b> 条 · 最早 "#), "\(html)")
            // ... and listed from the worker's index of dead letters, with its reason.
            // (A body that is not JSON has no type to show.)
            #expect(html.contains(#"<td>–</td><td title="invalid_json">不是有效的 JSON</td>"#), "\(html)")
            #expect(html.contains(#"<span class="badge ok">正常</span> 消息服务器 <b>已连接</b>"#))
            // Categories and statuses by their names.
            #expect(html.contains(#"<tr id="figure-category-pm_motor"><th>稀土永磁电机</th>"#))
            #expect(html.contains(#"<tr id="figure-status-planned"><th>计划中</th>"#))

            let screenshot = directory + "/status.png"
            let shot = try await Self.browse(chromium, "--screenshot=\(screenshot)", page, profile: directory + "/chromium")
            #expect(shot.status == 0, "chromium: \(shot.stderr)")
            let size = (try? FileManager.default.attributesOfItem(atPath: screenshot)[.size] as? Int) ?? 0
            #expect(size > 10_000, "screenshot of \(size) bytes")
            if let keep = ProcessInfo.processInfo.environment["LODE_STATUS_SCREENSHOT"] {
                try? FileManager.default.removeItem(atPath: keep)
                try? FileManager.default.copyItem(atPath: screenshot, toPath: keep)
            }

            worker.signal(SIGTERM)
            #expect(await worker.exitStatus() == 0, "\(worker.stderr)")

            // The same store, the page in Traditional Chinese (--lang) and in English (LODE_LANG).
            for (arguments, language, expected) in [
                (["--lang", "zh-Hant"], [String: String](), ["2024 年度報告", #"<th>重大項目數</th><td class="num">71</td>"#, "<th>稀土永磁電機</th>", "<h2>佇列</h2>"]),
                ([], ["LODE_LANG": "en"], ["Report for 2024", #"<th>major projects</th><td class="num">71</td>"#, "<th>PM motor</th>", "<h2>Queues</h2>"]),
            ] {
                var environmentWithLanguage = environment
                environmentWithLanguage.merge(language) { $1 }
                let again = try ServiceProcess("lode-worker", [
                    "--metrics-address", "127.0.0.1:0", "--db", directory + "/zone.sqlite", "--config", config,
                    "--management-url", BrokerTests.QueuesCommand.managementURL,
                ] + arguments, environment: environmentWithLanguage)
                let url = try await again.metricsBase() + "/?year=2024"
                let shown = try await Self.browse(chromium, "--dump-dom", url, profile: directory + "/chromium")
                #expect(shown.status == 0, "chromium: \(shown.stderr)")
                for text in expected { #expect(shown.stdout.contains(text), "\(text) in \(shown.stdout)") }
                again.signal(SIGTERM)
                #expect(await again.exitStatus() == 0, "\(again.stderr)")
            }
            try await admin.purgeQueue(ZoneTopology.deadLetterQueue)
            await admin.close()
        }
    }
}
