import Foundation
import LodeNotifications
import LodeSettings
import Testing

/// Issue 13, item 6: a channel whose URL carries a credential over plain `http://` to another
/// machine is warned about at start, naming the channel and the host and never the credential.
@Suite("Warnings for channel URLs that carry credentials in the clear")
struct InsecureChannelURLTests {
    static func warnings(_ channels: String) throws -> [String] {
        try ConfigFile(path: "z.yaml", yaml: "channels:\n" + channels)
            .notificationSettings(environment: [:]) { _ in throw CocoaError(.fileReadNoSuchFile) }
            .insecureURLWarnings
    }

    @Test func aRobotOrAWebhookWithACredentialOverPlainHTTPToAnotherMachineIsWarnedAbout() throws {
        let found = try Self.warnings("""
              office:
                kind: dingtalk
                url: http://oapi.dingtalk.example/robot/send?access_token=DTTOKEN123
              erp:
                kind: webhook
                url: http://erp-user:ERPPASS456@erp.example/hooks/lode
                secret: signing-secret

            """)
        #expect(found.count == 2, "\(found)")
        #expect(found.contains { $0.contains("'office'") && $0.contains("oapi.dingtalk.example") })
        #expect(found.contains { $0.contains("'erp'") && $0.contains("erp.example") })
        #expect(!found.joined().contains("DTTOKEN123") && !found.joined().contains("ERPPASS456"), "never the credential")
    }

    @Test func httpsLoopbackAndAWebhookWithoutCredentialsAreNot() throws {
        let found = try Self.warnings("""
              office:
                kind: dingtalk
                url: https://oapi.dingtalk.com/robot/send?access_token=DTTOKEN
              local:
                kind: wecom
                url: http://127.0.0.1:8080/cgi-bin/webhook/send?key=WXKEY
              erp:
                kind: webhook
                url: http://erp.example/hooks/lode
                secret: signed-not-sent

            """)
        #expect(found.isEmpty, "\(found)")
    }
}
