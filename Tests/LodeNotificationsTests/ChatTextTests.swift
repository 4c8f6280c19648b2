import LodeNotifications
import Testing

/// Event values in chat messages: the template's markup is the message's only markup.
@Suite("Event text made inert in chat messages")
struct ChatTextTests {
    @Test func markupCharactersBecomeTheirFullwidthForms() {
        #expect(ChatText.neutralized("*bold* _it_ `code` ~s~ # h > q") == "＊bold＊ ＿it＿ ｀code｀ ～s～ ＃ h ＞ q")
        #expect(ChatText.neutralized("[click](https://evil.example)") == "［click］(https://evil.example)")
        #expect(ChatText.neutralized("<!channel> <https://x|y> & <b>") == "＜!channel＞ ＜https://x｜y＞ ＆ ＜b＞")
        #expect(ChatText.neutralized("包頭稀土高新區（一期）") == "包頭稀土高新區（一期）")
        #expect(ChatText.neutralized("BT_2024-001 _x_") == "BT_2024-001 ＿x＿")
    }

    @Test func lineBreaksAndControlCharactersBecomeSpaces() {
        #expect(ChatText.neutralized("a\n# forged heading\r\n- item") == "a ＃ forged heading  - item")
        #expect(ChatText.neutralized("x\u{1B}[31my\u{0}\u{202E}z") == "x ［31my  z")
    }

    @Test func aTemplateNeutralisesItsValuesNotItsOwnMarkup() throws {
        let template = try Template("**{project_name}** 已开工")
        #expect(template.render([.projectName: "*稀土* [链接](http://x)\n> 引用"]) == "**＊稀土＊ ［链接］(http://x) ＞ 引用** 已开工")
    }
}
