/// How stable an image's selection is across Monte Carlo iterations
/// (README: Selection; boundaries inclusive).
public enum SelectionTier: String, Codable, Sendable, CaseIterable {
    /// Picked in at least 90% of iterations (shown magenta).
    case core
    /// Picked in at least 70% but under 90% (cyan).
    case stable
    /// Picked, but in under 70% (green).
    case variable

    /// The tier of `votes` out of `iterations`, compared in integers so that
    /// exactly 90% and 70% land in the higher tier; nil without votes.
    public init?(votes: Int, iterations: Int) {
        guard votes > 0, iterations > 0 else { return nil }
        if votes * 10 >= iterations * 9 {
            self = .core
        } else if votes * 10 >= iterations * 7 {
            self = .stable
        } else {
            self = .variable
        }
    }
}
