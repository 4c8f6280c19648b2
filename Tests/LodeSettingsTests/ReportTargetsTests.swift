import Foundation
import LodeNotifications
import LodeProjections
import LodeSettings
import Testing

@Suite("Targets from the config file")
struct ReportTargetsTests {
    @Test func targetsAreReadPerYear() throws {
        let file = try ConfigFile(path: "z.yaml", yaml: """
            targets:
              2024:
                - name: 稀土永磁电机项目引进
                  figure: recruitment.projects_introduced.pm_motor
                  target: 30
                - name: 签约企业
                  figure: recruitment.agreements_signed
                  target: 20
              2025:
                - name: major projects
                  figure: projects.major
                  target: 80
            """)
        let targets = try file.reportTargets()
        #expect(targets[2024]?.map(\.name) == ["稀土永磁电机项目引进", "签约企业"])
        #expect(targets[2024]?.first?.figure == .projectsIntroduced(.pmMotor))
        #expect(targets[2024]?.last?.target == 20)
        #expect(targets[2025]?.first?.figure == .major)
        #expect(targets[2023] == nil)
    }

    @Test func everyBadTargetIsReportedWithItsLine() throws {
        let file = try ConfigFile(path: "z.yaml", yaml: """
            targets:
              2024:
                - name: a
                  figure: projects.majr
                  target: 3
                - name: b
                  figure: projects.major
                  target: 0
                - name: c
                  figure: projects.major
                  goal: 5
              next:
                - name: d
            """)
        #expect {
            try file.reportTargets()
        } throws: { error in
            let text = "\(error)"
            return (error as? SettingsError)?.exitCode == 78
                && text.contains("z.yaml:3: unknown report figure 'projects.majr'")
                && text.contains("z.yaml:6: target 'b': the number to reach must be at least 1")
                && text.contains("z.yaml:11: unknown key 'goal'")
                && text.contains("z.yaml:9: a target of 2024 lacks target")
                && text.contains("z.yaml:12: 'targets' keys must be years")
        }
    }

    @Test func noTargetsSectionMeansNoTargets() throws {
        #expect(try ConfigFile(path: "z.yaml", yaml: "db: x.sqlite\n").reportTargets().isEmpty)
    }
}

@Suite("The annotated example config")
struct ExampleConfigTests {
    static var path: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/lodestone.example.yaml").path
    }

    @Test func theExampleConfigIsValidAndItsTargetsLoad() throws {
        let file = try ConfigFile.load(path: Self.path)
        #expect(file.entries["amqp.url"] != nil)
        #expect(try file.reportTargets()[2024]?.count == 2)
        #expect(try file.scalars(of: "worker", keys: ["prefetch", "transaction_events", "transaction_ms", "stall_seconds"]).count == 4)
    }

    @Test func theExampleConfigsChannelsAndRulesLoad() throws {
        let file = try ConfigFile.load(path: Self.path)
        let settings = try file.notificationSettings(
            environment: ["LODE_DINGTALK_SECRET": "SEC-example", "LODE_WEBHOOK_SECRET": "example"])
        #expect(settings.channels.keys.sorted() == ["audit", "planning-system", "recruitment-group", "zone-office"])
        #expect(settings.channels["zone-office"]?.kind == .dingtalk)
        #expect(settings.channels["recruitment-group"]?.kind == .wecom)
        let kinds = settings.rules.map { rule -> String in
            switch rule.trigger {
            case .event: "event"
            case .targetMilestones: "target"
            case .figureThresholds: "figure"
            }
        }
        #expect(Set(kinds) == ["event", "target", "figure"])
        #expect(settings.rules.count == 6)
    }
}
