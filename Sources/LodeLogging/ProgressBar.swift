/// The text of a progress line on a terminal (lode-publish, lodectl rebuild): a bar, the count,
/// the rate and the time left.
public enum ProgressBar {
    /// e.g. `[#########...........]  45,000/100,000 events  52,310/s  ETA 1s`
    public static func render(done: Int, total: Int, seconds: Double, width: Int = 24) -> String {
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var text = "[\(bar)] \(grouped(done))/\(grouped(total)) events  \(grouped(Int(rate.rounded())))/s"
        if done < total, rate > 0 {
            text += "  ETA \(duration(Double(total - done) / rate))"
        }
        return text
    }

    static func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var text = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { text.append(",") }
            text.append(digit)
        }
        return text
    }

    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m\(whole % 60)s" }
        return "\(whole / 3600)h\(whole / 60 % 60)m"
    }
}
