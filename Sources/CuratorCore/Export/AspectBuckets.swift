import Foundation

/// kohya sd-scripts' aspect-ratio bucketing, as its dataset loader applies
/// it (`enable_bucket`): which bucket each image lands in, how much it is
/// scaled (above 1 it is upscaled) and how much of it the centre crop cuts.
///
/// The buckets (`make_bucket_resolutions`): with the training area W×H,
/// the square whose side is √(W·H) floored to a multiple of `steps`, and for
/// every width from `minimum` to `maximum` in `steps`, the height
/// min(`maximum`, ⌊W·H / width⌋ floored to a multiple of `steps`) when it is
/// at least `minimum`, in both orientations.
///
/// An image (default mode) goes to the bucket of its exact size if there is
/// one, else to the bucket whose aspect ratio is nearest (the first in
/// ascending (width, height) order on ties); it is scaled so it covers the
/// bucket — by height when it is wider than the bucket, by width otherwise —
/// rounded to whole pixels, and centre-cropped to it. With `noUpscale`
/// (kohya's `bucket_no_upscale`) an image larger than the area is shrunk to
/// it, keeping its aspect ratio with sides rounded to `steps`; a smaller one
/// keeps its size; its bucket is that size floored to multiples of `steps`.
public struct AspectBuckets: Sendable, Equatable {
    /// The training resolution (kohya's `resolution`).
    public var width: Int
    /// The training resolution's height.
    public var height: Int
    /// Smallest bucket side (`min_bucket_reso`, kohya's default 256).
    public var minimum: Int
    /// Largest bucket side (`max_bucket_reso`, default 1024).
    public var maximum: Int
    /// Bucket sides are multiples of this (`bucket_reso_steps`, default 64).
    public var steps: Int
    /// kohya's `bucket_no_upscale`.
    public var noUpscale: Bool

    /// Bucketing for `resolution` (square) with kohya's defaults.
    public init(width: Int, height: Int, minimum: Int = 256, maximum: Int = 1024, steps: Int = 64, noUpscale: Bool = false) {
        self.width = width
        self.height = height
        self.minimum = minimum
        self.maximum = maximum
        self.steps = steps
        self.noUpscale = noUpscale
    }

    /// Why the settings cannot bucket, as kohya would refuse them; nil when they can.
    public var problem: String? {
        if width <= 0 || height <= 0 { return "resolution must be positive (got \(width)×\(height))" }
        if steps <= 0 { return "steps must be positive (got \(steps))" }
        if minimum <= 0 || minimum > maximum { return "min_reso must be positive and at most max_reso (got \(minimum) and \(maximum))" }
        if maximum < max(width, height) {
            return "max_reso \(maximum) is smaller than the resolution \(max(width, height)) (kohya refuses this too)"
        }
        if width % steps != 0 || height % steps != 0 || minimum % steps != 0 || maximum % steps != 0 {
            return "resolution, min_reso and max_reso must be multiples of steps \(steps)"
        }
        return nil
    }

    /// The predefined buckets, ascending by (width, height).
    public var resolutions: [Size] {
        let area = width * height
        var sizes = Set<Size>()
        let side = Int(Double(area).squareRoot()) / steps * steps
        sizes.insert(Size(width: side, height: side))
        var w = minimum
        while w <= maximum {
            let h = min(maximum, area / w / steps * steps)
            if h >= minimum {
                sizes.insert(Size(width: w, height: h))
                sizes.insert(Size(width: h, height: w))
            }
            w += steps
        }
        return sizes.sorted()
    }

    /// A width and height in pixels.
    public struct Size: Hashable, Comparable, Sendable, CustomStringConvertible {
        public var width: Int
        public var height: Int
        /// Creates a size.
        public init(width: Int, height: Int) { self.width = width; self.height = height }
        public static func < (a: Size, b: Size) -> Bool { (a.width, a.height) < (b.width, b.height) }
        public var description: String { "\(width)x\(height)" }
    }

    /// Where one image goes.
    public struct Placement: Sendable, Equatable {
        /// The bucket.
        public var bucket: Size
        /// The size it is resized to before the centre crop.
        public var resized: Size
        /// resized / original (above 1: upscaled).
        public var scale: Double
        /// The share of the resized image's pixels the crop cuts away.
        public var cropped: Double
    }

    /// The placement of a `width`×`height` image (both positive).
    public func place(width w: Int, height h: Int, in predefined: [Size]) -> Placement {
        let aspect = Double(w) / Double(h)
        let bucket: Size
        let resized: Size
        if !noUpscale {
            let exact = Size(width: w, height: h)
            if predefined.contains(exact) {
                bucket = exact
            } else {
                var best = predefined[0]
                var bestError = Double.infinity
                for size in predefined {
                    let error = abs(Double(size.width) / Double(size.height) - aspect)
                    if error < bestError { bestError = error; best = size }
                }
                bucket = best
            }
            let bucketAspect = Double(bucket.width) / Double(bucket.height)
            let scale = aspect > bucketAspect ? Double(bucket.height) / Double(h) : Double(bucket.width) / Double(w)
            resized = Size(width: Int(Double(w) * scale + 0.5), height: Int(Double(h) * scale + 0.5))
        } else {
            let area = Double(width * height)
            if Double(w * h) > area {
                let rw = (area * aspect).squareRoot(), rh = area / rw
                let widthRounded = roundToSteps(rw)
                let heightForWidth = roundToSteps(Double(widthRounded) / aspect)
                let heightRounded = roundToSteps(rh)
                let widthForHeight = roundToSteps(Double(heightRounded) * aspect)
                let byWidth = heightForWidth > 0 ? Double(widthRounded) / Double(heightForWidth) : .infinity
                let byHeight = heightRounded > 0 ? Double(widthForHeight) / Double(heightRounded) : .infinity
                if abs(byWidth - aspect) < abs(byHeight - aspect) {
                    resized = Size(width: widthRounded, height: Int(Double(widthRounded) / aspect + 0.5))
                } else {
                    resized = Size(width: Int(Double(heightRounded) * aspect + 0.5), height: heightRounded)
                }
            } else {
                resized = Size(width: w, height: h)
            }
            bucket = Size(width: resized.width - resized.width % steps, height: resized.height - resized.height % steps)
        }
        let scale = Double(resized.width) / Double(w)
        let kept = Double(min(bucket.width, resized.width) * min(bucket.height, resized.height))
        let total = Double(max(1, resized.width * resized.height))
        return Placement(bucket: bucket, resized: resized, scale: scale, cropped: max(0, 1 - kept / total))
    }

    private func roundToSteps(_ x: Double) -> Int {
        let value = Int(x + 0.5)
        return value - value % steps
    }
}

/// One bucket of an album's images.
public struct AspectBucket: Sendable {
    /// The bucket's size.
    public var size: AspectBuckets.Size
    /// Its images (ids), with where each goes.
    public var images: [(id: Int64, placement: AspectBuckets.Placement)]
    /// Whether it holds fewer images than the `min_bucket` asked for: a
    /// trainer that drops small buckets (or a batch size above it) loses them.
    public var dropped: Bool
}

extension Album {
    /// The kohya buckets of `ids` (nil: every image not excluded), largest
    /// first, and the images without known dimensions (never bucketed).
    public func aspectBuckets(_ buckets: AspectBuckets, ids: [Int64]? = nil,
                              minimumImages: Int = 1) -> (buckets: [AspectBucket], unsized: [Int64]) {
        let predefined = buckets.resolutions
        let records = (ids ?? images.map(\.id).filter { !exclusions.contains($0) }).compactMap { image(id: $0) }
        var bySize: [AspectBuckets.Size: [(id: Int64, placement: AspectBuckets.Placement)]] = [:]
        var unsized: [Int64] = []
        for record in records {
            guard record.width > 0, record.height > 0 else { unsized.append(record.id); continue }
            let placement = buckets.place(width: record.width, height: record.height, in: predefined)
            bySize[placement.bucket, default: []].append((record.id, placement))
        }
        let result = bySize.map { size, members in
            AspectBucket(size: size, images: members, dropped: members.count < minimumImages)
        }.sorted { $0.images.count != $1.images.count ? $0.images.count > $1.images.count : $0.size < $1.size }
        return (result, unsized)
    }
}
