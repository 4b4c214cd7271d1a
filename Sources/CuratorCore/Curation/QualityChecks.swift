import Foundation

/// The quality checks (blurry, dark, overexposed, low information) on the
/// statistics the `pixels` embedder stores: the one implementation of their
/// rules. The review page shows every image's flags with the default
/// thresholds (the server never runs Lua); the quality plugin
/// (`plugins/quality.lua`) asks for them through `curator.quality_issues`,
/// `curator.quality_baseline` and `curator.quality_z`, passing its own
/// `quality.thresholds` (`v:flags(...)` then shows those on the page).
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
        /// Contrast below this is low information in any album, however
        /// flat its other images: one colour, or nothing drawn at all (half
        /// a grey level of spread; GNOME's solid-colour backgrounds and
        /// openclipart PNGs left fully transparent measure 0, while clip-art
        /// albums hold many flat but real drawings the relative rule spares).
        public var flat = 0.002
        /// How far out of the album's own distribution a failing image must also be (0: absolute rules only).
        public var robustZ = 2.0
        /// Blurry also when relative sharpness is this far below the album's (0: off).
        public var blurryOutlier = 3.5
        /// The plugin's defaults.
        public init() {}
    }

    /// A measure the relative checks compare with the album's own distribution.
    public enum Measure: String, CaseIterable, Sendable {
        /// Mean luma 0...1 (dark, overexposed).
        case brightness
        /// Luma entropy in bits (low information).
        case entropy
        /// Luma standard deviation 0...1 (low information).
        case contrast
        /// The logarithm of the relative sharpness (blurry): blur scales it by a factor, not an offset.
        case logRelativeSharpness = "log_relative_sharpness"

        /// The least robust spread: an album of near-identical images must
        /// not make every small difference an outlier.
        var floor: Double {
            switch self {
            case .brightness: 0.03
            case .entropy: 0.25
            case .contrast: 0.01
            case .logRelativeSharpness: 0.25
            }
        }

        /// The measure of `s`; nil when it has none (a flat or detail-free image's log relative sharpness).
        public func value(_ s: ImageStatistics) -> Double? {
            switch self {
            case .brightness: s.brightness
            case .entropy: s.entropy
            case .contrast: s.contrast
            case .logRelativeSharpness: QualityChecks.relativeSharpness(s).flatMap { $0 > 0 ? log($0) : nil }
            }
        }
    }

    /// Median and robust spread of one measure over an album.
    public struct Baseline: Sendable, Equatable {
        /// The album's median.
        public let median: Double
        /// 1.4826 × the median absolute deviation, at least the measure's floor.
        public let spread: Double
        /// How many images it was measured on.
        public let count: Int
        /// How many spreads `value` lies from the median (negative below).
        public func z(_ value: Double) -> Double { (value - median) / spread }
    }

    /// The thresholds used.
    public let thresholds: Thresholds
    /// How many images have statistics (the others cannot be checked).
    public var checkedCount: Int { statistics.count }
    private let statistics: [Int64: ImageStatistics]
    private let baselines: [Measure: Baseline]

    /// The checks over `statistics` (an album's images that have them, by
    /// id): the album's baselines come from exactly these.
    public init(statistics: [Int64: ImageStatistics], thresholds: Thresholds = Thresholds()) {
        self.thresholds = thresholds
        self.statistics = statistics
        let all = Array(statistics.values)
        var baselines: [Measure: Baseline] = [:]
        for measure in Measure.allCases {
            baselines[measure] = Self.baseline(all.compactMap(measure.value), floor: measure.floor)
        }
        self.baselines = baselines
    }

    private init(statistics: [Int64: ImageStatistics], baselines: [Measure: Baseline], thresholds: Thresholds) {
        self.statistics = statistics
        self.baselines = baselines
        self.thresholds = thresholds
    }

    /// The same album's checks with other thresholds (the baselines do not depend on them).
    public func with(_ thresholds: Thresholds) -> QualityChecks {
        QualityChecks(statistics: statistics, baselines: baselines, thresholds: thresholds)
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
        return Baseline(median: median, spread: max(1.4826 * deviation, floor), count: values.count)
    }

    /// The album's distribution of `measure`; nil when no image has it.
    public func baseline(_ measure: Measure) -> Baseline? { baselines[measure] }

    /// The statistics of image `id`, if it has them.
    public func statistics(of id: Int64) -> ImageStatistics? { statistics[id] }

    /// How many robust spreads image `id`'s `measure` lies from the album's
    /// median (negative below); nil without statistics or that measure.
    public func z(of id: Int64, _ measure: Measure) -> Double? {
        guard let s = statistics[id], let value = measure.value(s), let baseline = baselines[measure] else { return nil }
        return baseline.z(value)
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
            // The absolute blur threshold depends on the content's scale (a
            // blurred clip-art stamp keeps crisp outlines at 256 px): an image
            // whose detail is far below its album's is blurry even above it.
            let logSharpness = baselines[.logRelativeSharpness], logValue = Measure.logRelativeSharpness.value(s)
            let outlier = t.blurryOutlier > 0 ? logValue.flatMap { v in logSharpness.map { $0.z(v) } } : nil
            if (relative < t.blurry && beyond(logSharpness, logValue, -1)) || (outlier.map { $0 < -t.blurryOutlier } ?? false) {
                issues.append("blurry")
            }
        }
        let brightness = baselines[.brightness], entropy = baselines[.entropy], contrast = baselines[.contrast]
        if s.brightness < t.dark && beyond(brightness, s.brightness, -1) { issues.append("dark") }
        if s.brightness > t.overexposed && beyond(brightness, s.brightness, 1) { issues.append("overexposed") }
        if (s.entropy < t.lowEntropy && beyond(entropy, s.entropy, -1)) || (s.contrast < t.lowContrast && beyond(contrast, s.contrast, -1))
            || s.contrast < t.flat {
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
