/// Text from an event made inert in a chat message, whatever the channel: Slack's mrkdwn,
/// DingTalk's and WeCom's markdown, plain text, a log line.
///
/// - Control characters (line breaks included: a value never starts a line of its own, so it
///   cannot forge a heading, a list or a quote) and bidirectional overrides become a space.
/// - The characters those formats act on (`*` `_` `~` `` ` `` `#` `>` `<` `&` `[` `]` `|` `\`)
///   become their fullwidth forms (`＊` `＿` …), which read the same to a person and mean
///   nothing to a renderer. Links (`[text](url)`, Slack's `<url|text>`) and mentions (`<!channel>`)
///   cannot be written, and emphasis cannot leak into the template's text.
public enum ChatText {
    public static func neutralized(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        let scalars = Array(text.unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            switch scalar.value {
            case 0x00...0x1F, 0x7F...0x9F, 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
                result.append(" ")
            case 0x5F where index > 0 && index + 1 < scalars.count
                && isWordCharacter(scalars[index - 1]) && isWordCharacter(scalars[index + 1]):
                // An underscore inside a word (`BT_2024`, `project_id`) emphasises nothing; an
                // identifier stays as it is written.
                result.append(scalar)
            case 0x21...0x7E where markup.contains(scalar):
                // The fullwidth forms block (U+FF01...U+FF5E) mirrors ASCII 0x21...0x7E.
                result.append(Unicode.Scalar(scalar.value - 0x21 + 0xFF01) ?? scalar)
            default:
                result.append(scalar)
            }
        }
        return String(result)
    }

    private static func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
    }

    private static let markup: Set<Unicode.Scalar> = ["*", "_", "~", "`", "#", ">", "<", "&", "[", "]", "|", "\\"]
}
