import Foundation
import LodeEvents
import LodeNotifications
import LodeProjections
import LodeSettings
import Testing

@Suite("Notification rules and channels from the config file")
struct ConfigRulesTests {
    static let channels = """
        channels:
          office:
            kind: dingtalk
            url: https://oapi.dingtalk.com/robot/send?access_token=DTTOKEN
            secret_env: LODE_DINGTALK_SECRET
            format: markdown
          wx:
            kind: wecom
            url_file: /run/secrets/wecom-url
          erp:
            kind: webhook
            url: https://erp.example.com/hooks/lode
            secret: inline-secret
          audit:
            kind: log
        targets:
          2024:
            - name: 签约企业
              figure: recruitment.agreements_signed
              target: 20

        """

    static func load(_ yaml: String, environment: [String: String] = ["LODE_DINGTALK_SECRET": "SECdt"],
                     files: [String: String] = ["/run/secrets/wecom-url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=WXKEY\n"])
        throws -> NotificationSettings
    {
        try ConfigFile(path: "z.yaml", yaml: yaml).notificationSettings(environment: environment) { path in
            guard let text = files[path] else { throw CocoaError(.fileReadNoSuchFile) }
            return text
        }
    }

    @Test func oneRuleOfEachKindLoads() throws {
        let settings = try Self.load(Self.channels + """
            notifications:
              - name: project-started
                event: zone.project.status_changed
                status: [started, in_production]
                channels: [office, audit]
                title: 项目{status}
                message: "{project_name}（{project_id}）{status}"
              - name: big-agreement
                event: zone.recruitment.agreement_signed
                amount_at_least: 100_000_000
                campaign: 百日攻坚
                channels: wx
                message: "{enterprise}签约{amount_yi}亿元"
              - name: signing-progress
                target: 签约企业
                milestones: [50%, 80, 100]
                channels: [erp]
                message: "{target_name} {milestone}%"
              - name: agreements-20
                figure: recruitment.agreements_signed
                threshold: 20
                channels: [office]
                message: "签约企业达到{value}家"
            """)
        #expect(settings.channels.count == 4)
        #expect(settings.channels["office"]?.secret?.revealed == "SECdt")
        #expect(settings.channels["office"]?.format == .markdown)
        #expect(settings.channels["wx"]?.url?.revealed == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=WXKEY")
        #expect(settings.channels["erp"]?.secret?.revealed == "inline-secret")
        #expect(settings.channels["audit"]?.kind == .log)
        #expect(settings.rules.map(\.name) == ["project-started", "big-agreement", "signing-progress", "agreements-20"])
        #expect(settings.rules[0].trigger == .event(.projectStatusChanged, EventConditions(statuses: [.started, .inProduction])))
        #expect(settings.rules[0].channels == ["office", "audit"])
        #expect(settings.rules[1].trigger == .event(.agreementSigned, EventConditions(campaigns: ["百日攻坚"], minimumAmount: 100_000_000)))
        #expect(settings.rules[1].channels == ["wx"])
        #expect(settings.rules[2].trigger == .targetMilestones(target: "签约企业", milestones: [50, 80, 100]))
        #expect(settings.rules[3].trigger == .figureThresholds(.agreementsSigned, thresholds: [20]))
        #expect(settings.rules[3].title.text == "agreements-20")
    }

    @Test func everyBadRuleIsReportedWithItsLine() throws {
        // Lines: the channels and targets above take 20 lines; the rules start at 21.
        let yaml = Self.channels + """
            notifications:
              - name: a
                event: zone.project.status_changed
                status: [started, begun]
                channels: [office]
                message: "-"
              - name: b
                figure: recruitment.agreements_sigend
                threshold: 20
                channels: [office]
                message: "-"
              - name: c
                event: zone.recruitment.site_visit
                channels: [office, dingding]
                message: "-"
              - name: d
                event: zone.project.status_changed
                channels: [office]
                message: "{enterprise} {project_nmae}"
              - name: e
                event: zone.recruitment.site_visit
                status: started
                channels: [office]
                message: "-"
              - name: f
                target: 签约
                channels: [office]
                message: "-"
              - name: g
                event: zone.recruitment.site_visit
                channels: [office]
                message: "{milestone}"
                colour: red
              - name: h
                channels: [office]
                message: "-"
            """
        #expect {
            try Self.load(yaml)
        } throws: { error in
            let text = "\(error)"
            let expected = [
                "z.yaml:24: rule 'a': unknown status 'begun'",
                "z.yaml:28: rule 'b': unknown report figure 'recruitment.agreements_sigend'",
                "z.yaml:34: rule 'c': unknown channel 'dingding'",
                "z.yaml:39: rule 'd': 'message': unknown placeholder {project_nmae} in the template (did you mean {project_name}?)",
                "z.yaml:42: rule 'e': condition 'status' does not apply to zone.recruitment.site_visit",
                "z.yaml:46: rule 'f': no target is named '签约' in 'targets:'",
                "z.yaml:53: unknown key 'colour' in a rule",
                "z.yaml:54: rule 'h' needs exactly one of 'event', 'target', 'figure', found none",
            ]
            for line in expected where !text.contains(line) { Issue.record("missing: \(line)\nin:\n\(text)") }
            return (error as? SettingsError)?.exitCode == 78 && expected.allSatisfy(text.contains)
        }
    }

    @Test func aPlaceholderTheTriggerLacksIsReportedWithItsLine() throws {
        let yaml = Self.channels + """
            notifications:
              - name: visit
                event: zone.recruitment.site_visit
                channels: [office]
                title: "{milestone}"
                message: "-"
            """
        #expect {
            try Self.load(yaml)
        } throws: { error in
            "\(error)".contains("z.yaml:25: rule 'visit': 'title': placeholder {milestone} is not available in a rule on zone.recruitment.site_visit")
        }
    }

    @Test func badChannelsAreReportedWithoutTheirSecrets() throws {
        let yaml = """
            channels:
              office:
                kind: dingtalk
                url: ftp://oapi.dingtalk.com/robot/send?access_token=DTTOKEN
              wx:
                kind: wecom
                url_file: /missing
              erp:
                kind: webhook
                url: https://erp.example.com/hooks/lode
                secret_env: LODE_ERP_SECRET
              slack:
                kind: slak
              two:
                kind: dingtalk
                url: https://oapi.dingtalk.com/robot/send?access_token=DTTOKEN
                secret: A
                secret_env: B
            """
        #expect {
            try Self.load(yaml, environment: [:], files: [:])
        } throws: { error in
            let text = "\(error)"
            let expected = [
                "z.yaml:3: channel 'office': 'url' must be an http:// or https:// URL",
                "z.yaml:7: channel 'wx': cannot read url_file /missing",
                "z.yaml:11: channel 'erp': environment variable LODE_ERP_SECRET (secret_env) is not set",
                "z.yaml:13: channel 'slack': unknown kind 'slak' (did you mean 'slack'?)",
                "channel 'two': give one of 'secret', 'secret_env', not several",
            ]
            for line in expected where !text.contains(line) { Issue.record("missing: \(line)\nin:\n\(text)") }
            return expected.allSatisfy(text.contains) && !text.contains("DTTOKEN")
        }
    }

    @Test func rulesUnderRulesArePointedToNotifications() throws {
        #expect {
            try Self.load("rules:\n  - name: x\n")
        } throws: { error in
            "\(error)".contains("z.yaml:2: notification rules go under 'notifications:'")
        }
    }

    @Test func noSectionsMeanNoRules() throws {
        let settings = try Self.load("db: x.sqlite\n")
        #expect(settings.rules.isEmpty && settings.channels.isEmpty)
    }
}
