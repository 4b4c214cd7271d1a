/// How tiers look and read in reports and maps.
extension SelectionTier {
    /// The tier of an image picked in `frequency` (0…1) of the runs. The
    /// thresholds are inclusive; the small tolerance keeps 0.9 computed as
    /// 27/30 or 18/20 in the tier it reads as.
    public init(frequency: Double) {
        if frequency >= 0.9 - 1e-9 {
            self = .core
        } else if frequency >= 0.7 - 1e-9 {
            self = .stable
        } else {
            self = .variable
        }
    }

    /// The tier's colour as a CSS hex value.
    public var colour: String {
        switch self {
        case .core: return "#ff00ff"
        case .stable: return "#00e5ff"
        case .variable: return "#2ecc40"
        }
    }

    /// The colour of excluded images in reports and maps.
    public static let excludedColour = "#ff3b30"

    /// How the tier is explained in a legend.
    public var legend: String {
        switch self {
        case .core: return "core: picked in ≥ 90 % of runs"
        case .stable: return "stable: picked in ≥ 70 % of runs"
        case .variable: return "variable: picked in < 70 % of runs"
        }
    }
}
