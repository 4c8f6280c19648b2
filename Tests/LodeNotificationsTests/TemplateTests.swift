import LodeEvents
import LodeNotifications
import LodeProjections
import Testing

@Suite("Message templates")
struct TemplateTests {
    @Test func chineseTextAroundPlaceholdersIsKeptAsWritten() throws {
        let template = try Template("【开工】{project_name}（{project_id}）于{time}开工，总投资{amount_yi}亿元。")
        let text = template.render([.projectName: "稀土永磁电机项目", .projectID: "BT-17", .time: "2024-06-01", .amountYi: "12.50"])
        #expect(text == "【开工】稀土永磁电机项目（BT-17）于2024-06-01开工，总投资12.50亿元。")
    }

    @Test func everyPlaceholderRenders() throws {
        let text = Placeholder.allCases.map { "\($0.rawValue)={\($0.rawValue)}" }.joined(separator: ";")
        let template = try Template(text)
        #expect(template.placeholders == Set(Placeholder.allCases))
        var values: [Placeholder: String] = [:]
        for placeholder in Placeholder.allCases { values[placeholder] = "(\(placeholder.rawValue))" }
        #expect(template.render(values) == Placeholder.allCases.map { "\($0.rawValue)=(\($0.rawValue))" }.joined(separator: ";"))
    }

    @Test func doubledBracesAreLiteralAndAMissingValueIsEmpty() throws {
        let template = try Template("{{{enterprise}}} {note}.")
        #expect(template.render([.enterprise: "臥龍"]) == "{臥龍} .")
    }

    @Test func anUnknownPlaceholderIsRefusedWithASuggestion() {
        #expect {
            try Template("{project_nmae}")
        } throws: { error in
            "\(error)".contains("unknown placeholder {project_nmae}") && "\(error)".contains("did you mean {project_name}?")
        }
    }

    @Test func aPlaceholderTheTriggerLacksIsRefused() {
        let trigger = NotificationTrigger.event(.siteVisit, EventConditions())
        #expect {
            try Template("{milestone}", allowed: trigger.placeholders, context: trigger.ruleDescription)
        } throws: { error in
            "\(error)".contains("placeholder {milestone} is not available in a rule on zone.recruitment.site_visit")
        }
    }

    @Test func unbalancedBracesAreRefused() {
        #expect(throws: NotificationConfigError.self) { try Template("{project_id") }
        #expect(throws: NotificationConfigError.self) { try Template("a } b") }
    }

    @Test func amountsInYiHaveTwoDecimalsRoundedHalfAwayFromZero() {
        #expect(FixedDecimal.yi(125_000_000) == "1.25")
        #expect(FixedDecimal.yi(57_384_000_000) == "573.84")
        #expect(FixedDecimal.yi(500_000) == "0.01")
        #expect(FixedDecimal.yi(499_999) == "0.00")
        #expect(FixedDecimal.yi(0) == "0.00")
    }
}
