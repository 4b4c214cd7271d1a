import Foundation

/// How bindings word counts in descriptions and messages.
enum Wording {
    /// "1 image", "1,204 images".
    static func counted(_ n: Int, _ noun: String) -> String {
        "\(Wording.grouped(n)) \(noun)\(n == 1 ? "" : "s")"
    }

    /// 1204 → "1,204".
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }
}
