import Foundation

/// The quality plugin's checks (`plugins/quality.lua`: blurry, dark,
/// overexposed, low information) with its default thresholds, on the
/// statistics the `pixels` embedder stores: so the review page can show
/// every image's flags without the REPL (the server never runs Lua). The
/// plugin stays the place to tune thresholds per call (`v:flags(...)` then
/// shows those); the two are kept equal by a test on the sample album
/// (Tests/lua/review_test.lua), so change them together.
///
/// A check fails when its absolute rule fails and the image also stands out
/// from its own album by more than `robustZ` robust spreads (1.4826 × the
/// median absolute deviation, at least a floor) in that direction — the
/// plugin's comments say why (clip-art albums are bright and flat throughout).
public struct QualityChecks: Sendable {
    /// The checks, in the order the plugin lists an image's issues.
    public static let names = ["blurry", "dark", "overexposed", "low_information"]

    /// The plugin's thresholds (`quality.thresholds`).
    public struct Thresholds: Sendable, Equatable {
        /// Relative sharpness (sharpness / (255·contrast)²) below this is blurry.
        public var blurry = 0.005
        /// Images with less contrast than this are left to the low-information check.
        public var blurryMinContrast = 0.02
        /// Mean luma below this is dark.
        public var dark = 0.12
        /// Mean luma above this is overexposed.
        public var overexposed = 0.80
        /// Luma entropy (bits) below this is low information.
        public var lowEntropy = 2.5
        /// Or contrast below this.
        public var lowContrast = 0.01
        /// How far out of the album's own distribution a failing image must also be (0: absolute rules only).
        public var robustZ = 2.0
        /// Blurry also when relative sharpness is this far below the album's (0: off).
        public var blurryOutlier = 3.5
        /// The plugin's defaults.
        public init() {}
    }

    /// Median and robust spread of one measure over an album.
    struct Baseline {
        let median: Double
        let spread: Double
        func z(_ value: Double) -> Double { (value - median) / spread }
    }

    /// The thresholds used.
    public let thresholds: Thresholds
    /// How many images have statistics (the others cannot be checked).
    public var checkedCount: Int { statistics.count }
    private let statistics: [Int64: ImageStatistics]
    private let brightness: Baseline?
    private let entropy: Baseline?
    private let contrast: Baseline?
    private let logRelativeSharpness: Baseline?

    /// The checks over `statistics` (an album's images that have them, by
    /// id): the album's baselines come from exactly these.
    public init(statistics: [Int64: ImageStatistics], thresholds: Thresholds = Thresholds()) {
        self.thresholds = thresholds
        self.statistics = statistics
        let all = Array(statistics.values)
        brightness = Self.baseline(all.map(\.brightness), floor: 0.03)
        entropy = Self.baseline(all.map(\.entropy), floor: 0.25)
        contrast = Self.baseline(all.map(\.contrast), floor: 0.01)
        logRelativeSharpness = Self.baseline(all.compactMap { Self.relativeSharpness($0).flatMap { $0 > 0 ? log($0) : nil } },
                                             floor: 0.25)
    }

    /// Detail relative to tonal range, sharpness / (255·contrast)²; nil for a flat image.
    public static func relativeSharpness(_ s: ImageStatistics) -> Double? {
        s.contrast > 0 ? s.sharpness / ((255 * s.contrast) * (255 * s.contrast)) : nil
    }

    private static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted(), n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }

    private static func baseline(_ values: [Double], floor: Double) -> Baseline? {
        guard let median = median(values) else { return nil }
        let deviation = Self.median(values.map { abs($0 - median) }) ?? 0
        return Baseline(median: median, spread: max(1.4826 * deviation, floor))
    }

    /// The issues of image `id` in the order of `names` (empty when it looks
    /// fine), or nil when it has no statistics.
    public func issues(of id: Int64) -> [String]? {
        guard let s = statistics[id] else { return nil }
        let t = thresholds
        /// Whether `value` lies beyond robustZ spreads of `baseline` in direction `sign`.
        func beyond(_ baseline: Baseline?, _ value: Double?, _ sign: Double) -> Bool {
            guard t.robustZ > 0 else { return true }
            guard let baseline, let value else { return true }
            return sign * baseline.z(value) > t.robustZ
        }
        var issues: [String] = []
        if let relative = Self.relativeSharpness(s), s.contrast >= t.blurryMinContrast {
            let logValue = relative > 0 ? log(relative) : nil
            let outlier = t.blurryOutlier > 0 ? logValue.flatMap { v in logRelativeSharpness.map { $0.z(v) } } : nil
            if (relative < t.blurry && beyond(logRelativeSharpness, logValue, -1)) || (outlier.map { $0 < -t.blurryOutlier } ?? false) {
                issues.append("blurry")
            }
        }
        if s.brightness < t.dark && beyond(brightness, s.brightness, -1) { issues.append("dark") }
        if s.brightness > t.overexposed && beyond(brightness, s.brightness, 1) { issues.append("overexposed") }
        if (s.entropy < t.lowEntropy && beyond(entropy, s.entropy, -1)) || (s.contrast < t.lowContrast && beyond(contrast, s.contrast, -1)) {
            issues.append("low_information")
        }
        return issues
    }

    /// Every flagged image's issues, by id (images that look fine are left out).
    public func flagged() -> [Int64: [String]] {
        var out: [Int64: [String]] = [:]
        for id in statistics.keys { if let issues = issues(of: id), !issues.isEmpty { out[id] = issues } }
        return out
    }
}

extension Album {
    /// The quality plugin's checks on the statistics of this album's images.
    public func qualityChecks(_ thresholds: QualityChecks.Thresholds = QualityChecks.Thresholds()) throws -> QualityChecks {
        let all = try StatisticsStore(database: database).all()
        var mine: [Int64: ImageStatistics] = [:]
        mine.reserveCapacity(all.count)
        for image in images { if let s = all[image.id] { mine[image.id] = s } }
        return QualityChecks(statistics: mine, thresholds: thresholds)
    }
}
