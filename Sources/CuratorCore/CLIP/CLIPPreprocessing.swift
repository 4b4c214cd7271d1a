import Foundation

/// How an image becomes the model's input, as `CLIPImageProcessor` does it:
/// resize (shortest side to `shortestEdge`, or to an exact size), centre crop
/// to `cropWidth`×`cropHeight`, scale to [0, 1], subtract `mean`, divide by
/// `std`. Read from `preprocessor_config.json` when the model folder has one;
/// otherwise CLIP's defaults at the model's image size.
public struct CLIPPreprocessing: Sendable, Equatable {
    /// The resampling filter of the resize (PIL's `resample` numbers).
    public enum Resample: Int, Sendable {
        /// PIL NEAREST (0).
        case nearest = 0
        /// PIL LANCZOS (1).
        case lanczos = 1
        /// PIL BILINEAR (2).
        case bilinear = 2
        /// PIL BICUBIC (3), what CLIP uses.
        case bicubic = 3
    }

    /// Resize so the shorter side is this long (keeping the aspect ratio);
    /// nil when `resizeWidth`/`resizeHeight` give an exact size instead.
    public var shortestEdge: Int?
    /// The exact resize width when `shortestEdge` is nil.
    public var resizeWidth: Int
    /// The exact resize height when `shortestEdge` is nil.
    public var resizeHeight: Int
    /// The width of the centre crop (the model's image size).
    public var cropWidth: Int
    /// The height of the centre crop (the model's image size).
    public var cropHeight: Int
    /// Per-channel (R, G, B) mean subtracted after scaling to [0, 1].
    public var mean: [Float]
    /// Per-channel (R, G, B) standard deviation divided by.
    public var std: [Float]
    /// The resize filter.
    public var resample: Resample
    /// The factor pixel values are multiplied by before normalising (1/255).
    public var rescaleFactor: Float

    /// OpenAI CLIP's normalisation, `CLIPImageProcessor`'s default.
    public static let clipMean: [Float] = [0.48145466, 0.4578275, 0.40821073]
    /// OpenAI CLIP's standard deviations, `CLIPImageProcessor`'s default.
    public static let clipStd: [Float] = [0.26862954, 0.26130258, 0.27577711]

    /// CLIP's defaults for a model taking `imageSize`×`imageSize` images.
    public static func defaults(imageSize: Int) -> CLIPPreprocessing {
        CLIPPreprocessing(shortestEdge: imageSize, resizeWidth: imageSize, resizeHeight: imageSize,
                          cropWidth: imageSize, cropHeight: imageSize, mean: clipMean, std: clipStd,
                          resample: .bicubic, rescaleFactor: 1 / 255)
    }

    /// `SiglipImageProcessor`'s defaults: the whole image squeezed to
    /// `imageSize`×`imageSize` (no crop), bicubic, mean and std 0.5.
    public static func siglipDefaults(imageSize: Int) -> CLIPPreprocessing {
        CLIPPreprocessing(shortestEdge: nil, resizeWidth: imageSize, resizeHeight: imageSize,
                          cropWidth: imageSize, cropHeight: imageSize, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5],
                          resample: .bicubic, rescaleFactor: 1 / 255)
    }

    /// Reads `preprocessor_config.json`, filling what it leaves out with
    /// `defaults` (CLIP's for `imageSize` unless given), and checks the crop matches the model.
    public static func read(url: URL, imageSize: Int, defaults given: CLIPPreprocessing? = nil) throws -> CLIPPreprocessing {
        let file = url.path
        let root = try JSONFile.object(at: url)
        let fields = JSONFields(root, file: file, prefix: "")
        var p = given ?? defaults(imageSize: imageSize)

        if let doResize = try fields.bool("do_resize"), !doResize {
            throw CLIPError(.unsupported, file, "field 'do_resize' is false; the encoder always resizes")
        }
        switch root["size"] {
        case nil, is NSNull: break
        case let object as [String: Any]:
            let size = JSONFields(object, file: file, prefix: "size.")
            if let edge = try size.positiveInt("shortest_edge") {
                p.shortestEdge = edge
            } else if let h = try size.positiveInt("height"), let w = try size.positiveInt("width") {
                p.shortestEdge = nil
                p.resizeWidth = w
                p.resizeHeight = h
            } else {
                throw CLIPError(.unsupported, file, "field 'size' needs 'shortest_edge' or 'height' and 'width'")
            }
        default:
            guard let edge = try fields.positiveInt("size") else {
                throw CLIPError(.unsupported, file, "field 'size' must be a positive integer or an object")
            }
            p.shortestEdge = edge
        }

        let doCrop = try fields.bool("do_center_crop") ?? true
        if doCrop {
            switch root["crop_size"] {
            case nil, is NSNull: break
            case let object as [String: Any]:
                let crop = JSONFields(object, file: file, prefix: "crop_size.")
                guard let h = try crop.positiveInt("height"), let w = try crop.positiveInt("width") else {
                    throw CLIPError(.unsupported, file, "field 'crop_size' needs 'height' and 'width'")
                }
                p.cropWidth = w
                p.cropHeight = h
            default:
                guard let side = try fields.positiveInt("crop_size") else {
                    throw CLIPError(.unsupported, file, "field 'crop_size' must be a positive integer or an object")
                }
                p.cropWidth = side
                p.cropHeight = side
            }
        } else {
            // Without a crop, the resize alone must produce the model's input size.
            guard p.shortestEdge == nil, p.resizeWidth == imageSize, p.resizeHeight == imageSize else {
                throw CLIPError(.unsupported, file, "field 'do_center_crop' is false but 'size' does not give exactly \(imageSize)×\(imageSize)")
            }
        }
        guard p.cropWidth == imageSize, p.cropHeight == imageSize else {
            throw CLIPError(.unsupported, file, "field 'crop_size' is \(p.cropWidth)×\(p.cropHeight) but the model takes \(imageSize)×\(imageSize) images")
        }

        if let resample = try fields.number("resample") {
            guard resample.rounded() == resample, abs(resample) < 1000, let r = Resample(rawValue: Int(resample)) else {
                throw CLIPError(.unsupported, file, "field 'resample' is \(resample); supported: 0 (nearest), 1 (lanczos), 2 (bilinear), 3 (bicubic)")
            }
            p.resample = r
        }
        if try fields.bool("do_rescale") == false {
            p.rescaleFactor = 1
        } else if let factor = try fields.number("rescale_factor") {
            p.rescaleFactor = Float(factor)
        }
        if try fields.bool("do_normalize") == false {
            p.mean = [0, 0, 0]
            p.std = [1, 1, 1]
        } else {
            p.mean = try fields.triple("image_mean") ?? p.mean
            p.std = try fields.triple("image_std") ?? p.std
        }
        guard p.std.allSatisfy({ $0 != 0 && $0.isFinite }), p.mean.allSatisfy(\.isFinite) else {
            throw CLIPError(.unsupported, file, "field 'image_std' must be finite and non-zero")
        }
        return p
    }
}
