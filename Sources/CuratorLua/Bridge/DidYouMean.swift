/// Suggests the name a user probably meant when they typed an unknown one.
public enum DidYouMean {
    /// The candidate closest to `name` by edit distance, when it is close
    /// enough to be a typo (at most a third of the name's length, at least 1;
    /// a case-insensitive match always counts). Between equally close ones,
    /// one that holds every letter typed, in order, wins: a dropped letter is
    /// the commonest slip ("limt" is `limit`, not `list`).
    public static func suggestion(for name: String, among candidates: [String]) -> String? {
        let lower = name.lowercased()
        if let same = candidates.first(where: { $0.lowercased() == lower }) { return same }
        let limit = max(1, name.count / 3)
        var best: (name: String, distance: Int, holdsTyped: Bool)?
        for candidate in candidates {
            let other = candidate.lowercased()
            let d = distance(lower, other)
            guard d <= limit else { continue }
            let holdsTyped = isSubsequence(lower, of: other)
            if best == nil || d < best!.distance || (d == best!.distance && holdsTyped && !best!.holdsTyped) {
                best = (candidate, d, holdsTyped)
            }
        }
        if let best { return best.name }
        // A prefix of a longer name ("excl" for "exclusions") is a likely slip too.
        if name.count >= 3, let prefixed = candidates.first(where: { $0.lowercased().hasPrefix(lower) }) {
            return prefixed
        }
        return nil
    }

    /// Whether every character of `short` appears in `long`, in order.
    static func isSubsequence(_ short: String, of long: String) -> Bool {
        var rest = long.unicodeScalars[...]
        for c in short.unicodeScalars {
            guard let at = rest.firstIndex(of: c) else { return false }
            rest = rest[rest.index(after: at)...]
        }
        return true
    }

    /// The Damerau–Levenshtein (optimal string alignment) distance, so a swap
    /// of two neighbouring letters ("widht") costs 1.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
