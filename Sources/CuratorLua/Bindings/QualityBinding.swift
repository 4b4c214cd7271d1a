import CuratorCore
import Foundation

/// `curator.quality_issues`, `curator.quality_baseline`, `curator.quality_z`
/// and `curator.quality_relative_sharpness`: the core's `QualityChecks` for
/// the quality plugin, so that the plugin, the review page and anything else
/// flag and score images by one implementation of the rules.
enum QualityBinding {
    /// The threshold keys, as the plugin's `quality.thresholds` names them.
    static let thresholdKeys = ["blurry", "blurry_min_contrast", "dark", "overexposed",
                                "low_entropy", "low_contrast", "flat", "robust_z", "blurry_outlier"]

    static func install(_ types: CuratorTypes, host: CuratorHost) {
        let cache = QualityCache()
        let names = QualityChecks.Measure.allCases.map(\.rawValue)
        host.state.defineFunction(
            "curator.quality_issues",
            signature: "curator.quality_issues(img [, {blurry=, blurry_min_contrast=, dark=, overexposed=, low_entropy=, low_contrast=, flat=, robust_z=, blurry_outlier=}]) -> {\"blurry\", ...} | nil",
            summary: "The quality checks img fails (blurry, dark, overexposed, low_information, in that order; empty when it looks fine; nil without img.stats), relative to its album; thresholds left out keep the defaults (the quality plugin passes quality.thresholds)"
        ) { call in
            let image = try call.object(1, types.image)
            let thresholds = try self.thresholds(call, 2)
            let checks = try cache.checks(of: image.owner, thresholds)
            guard let issues = checks.issues(of: try image.record().id) else { call.lua.pushNil(); return 1 }
            call.lua.push(strings: issues)
            return 1
        }
        host.state.defineFunction(
            "curator.quality_baseline",
            signature: "curator.quality_baseline(album) -> {brightness={median=, spread=, n=}, entropy=, contrast=, log_relative_sharpness=}",
            summary: "The album's own distribution of each measure the quality checks compare against: median, robust spread (1.4826 × MAD, at least a floor) and how many images have it"
        ) { call in
            let album = try call.object(1, types.album)
            let checks = try cache.checks(of: album, QualityChecks.Thresholds())
            let lua = call.lua
            lua.newTable(record: names.count)
            for measure in QualityChecks.Measure.allCases {
                guard let baseline = checks.baseline(measure) else { continue }
                lua.newTable(record: 3)
                lua.push(baseline.median); lua.rawSet(-2, "median")
                lua.push(baseline.spread); lua.rawSet(-2, "spread")
                lua.push(baseline.count); lua.rawSet(-2, "n")
                lua.rawSet(-2, measure.rawValue)
            }
            return 1
        }
        host.state.defineFunction(
            "curator.quality_z",
            signature: "curator.quality_z(img, measure) -> number | nil",
            summary: "How many robust spreads img's measure (\(names.joined(separator: ", "))) lies from its album's median (negative below); nil without img.stats"
        ) { call in
            let image = try call.object(1, types.image)
            let name = try call.string(2)
            guard let measure = QualityChecks.Measure(rawValue: name) else {
                throw call.badArgument(2, "unknown measure '\(name)' (known: \(names.joined(separator: ", ")))")
            }
            let checks = try cache.checks(of: image.owner, QualityChecks.Thresholds())
            call.lua.push(checks.z(of: try image.record().id, measure))
            return 1
        }
        host.state.defineFunction(
            "curator.quality_relative_sharpness",
            signature: "curator.quality_relative_sharpness(img) -> number | nil",
            summary: "Detail relative to tonal range, sharpness / (255·contrast)², the measure the blurry check reads; nil for a flat image (contrast 0) or without img.stats"
        ) { call in
            let image = try call.object(1, types.image)
            // One image's statistics, not the album's checks: a score asks this of every image in turn.
            let statistics = try image.owner.album.statistics(of: try image.record())
            call.lua.push(statistics.flatMap(QualityChecks.relativeSharpness))
            return 1
        }
    }

    /// Argument `n`: the thresholds, each key left out at its default.
    private static func thresholds(_ call: LuaCall, _ n: Int) throws -> QualityChecks.Thresholds {
        let options = try call.options(n, allowed: thresholdKeys)
        var t = QualityChecks.Thresholds()
        if let v = try options.number("blurry") { t.blurry = v }
        if let v = try options.number("blurry_min_contrast") { t.blurryMinContrast = v }
        if let v = try options.number("dark") { t.dark = v }
        if let v = try options.number("overexposed") { t.overexposed = v }
        if let v = try options.number("low_entropy") { t.lowEntropy = v }
        if let v = try options.number("low_contrast") { t.lowContrast = v }
        if let v = try options.number("flat") { t.flat = v }
        if let v = try options.number("robust_z") { t.robustZ = v }
        if let v = try options.number("blurry_outlier") { t.blurryOutlier = v }
        return t
    }
}

/// Each album's `QualityChecks`, kept while its images and vectors are
/// unchanged: the plugin asks once per image (`quality.flag`, the
/// `quality_issues` score), and reading every image's statistics and sorting
/// them each time would make a pass over the album quadratic. The pixels
/// embedder writes statistics with the vectors, so the index's embedding
/// generation moves whenever they change.
private final class QualityCache {
    private var entries: [Int64: (generations: IndexGenerations, checks: QualityChecks)] = [:]

    func checks(of owner: AlbumHandle, _ thresholds: QualityChecks.Thresholds) throws -> QualityChecks {
        let album = owner.album
        let now = try album.database.generations()
        if let entry = entries[owner.serial], !entry.generations.statisticsDiffer(from: now) {
            return entry.checks.thresholds == thresholds ? entry.checks : entry.checks.with(thresholds)
        }
        let checks = try album.qualityChecks(thresholds)
        entries[owner.serial] = (now, checks)
        return checks
    }
}
