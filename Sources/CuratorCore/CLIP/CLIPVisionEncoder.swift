import Foundation

/// Tuning of `CLIPVisionEncoder`; the defaults suit an album on a laptop.
public struct CLIPEncoderOptions: Sendable, Equatable {
    /// Images per forward pass; nil picks about 4,096 tokens' worth (32 for
    /// ViT-B/32, 15 for ViT-L/14), enough for efficient GEMMs.
    public var batchSize: Int?
    /// JPEG shrink-on-load margin (see `CLIPPreprocessor`); 0 turns it off.
    public var shrinkOnLoadMargin: Double
    /// The transformer blocks' arithmetic (`CLIPPrecision`); nil picks
    /// bfloat16 where the processor has AVX512_BF16, float32 elsewhere.
    public var precision: CLIPPrecision?

    /// Creates options.
    public init(batchSize: Int? = nil, shrinkOnLoadMargin: Double = 2, precision: CLIPPrecision? = nil) {
        self.batchSize = batchSize
        self.shrinkOnLoadMargin = shrinkOnLoadMargin
        self.precision = precision
    }
}

/// A CLIP image encoder running natively from a model folder's safetensors
/// weights: no Python, no network. Produces L2-normalised embeddings of
/// `dimension` floats that match what `transformers` (or open_clip) computes
/// for the same weights.
///
/// ```swift
/// let folder = try CLIPModelLocator().folder(named: "clip-vit-base-patch32")
/// let encoder = try CLIPVisionEncoder(modelFolder: folder)
/// let matrix = EmbeddingMatrix(rows: paths.count, dimension: encoder.dimension)
/// let results = try encoder.embed(paths: paths, into: matrix, progress: sink)
/// sink.finish(label: "clip")
/// ```
///
/// Images are decoded on other threads while the previous batch runs through
/// the model. Calls on one encoder are serialised; it may be shared.
/// `@unchecked Sendable`: every call that uses the transformer's workspace holds `lock`; the rest is set in `init` and never changed.
public final class CLIPVisionEncoder: @unchecked Sendable {
    /// The folder the model was loaded from.
    public let modelFolder: URL
    /// Which model made the vectors, e.g. `hf:openai/clip-vit-base-patch32`,
    /// `open-clip:ViT-L-14` or `siglip:google/siglip2-large-patch16-256`:
    /// stored beside the vectors so an index never mixes models.
    public let modelID: String
    /// The length of each embedding.
    public let dimension: Int
    /// The vision tower's shape.
    public let configuration: CLIPVisionConfiguration
    /// How images become input.
    public let preprocessor: CLIPPreprocessor
    /// Images per forward pass.
    public let batchSize: Int
    /// The key layout of the weights file: `hf`, `open-clip` or `siglip`.
    public let layout: String
    /// How many weight tensors are used in place from the mapped file (the
    /// rest were converted from Float16/BFloat16 or copied for alignment).
    public let mappedTensorCount: Int
    /// How many weight tensors the vision tower has.
    public let weightTensorCount: Int
    /// The arithmetic the transformer blocks run in: the options' request
    /// where this processor can (`CLIPPrecision.effective(_:)`).
    public let precision: CLIPPrecision

    private let file: SafeTensorsFile
    private let transformer: any ImageTower
    private let lock = NSLock()

    /// Loads the model in `modelFolder`: `model.safetensors` + `config.json`
    /// (+ `preprocessor_config.json`), or open_clip's
    /// `open_clip_model.safetensors` + `open_clip_config.json`.
    public init(modelFolder: URL, options: CLIPEncoderOptions = CLIPEncoderOptions()) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: modelFolder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            let name = modelFolder.lastPathComponent
            throw CLIPError(.modelMissing, modelFolder.path, "model folder does not exist. " + CLIPModelLocator(roots: [modelFolder.deletingLastPathComponent()]).missingMessage(name))
        }
        self.modelFolder = modelFolder
        let hfConfig = modelFolder.appendingPathComponent("config.json")
        let openCLIPConfig = modelFolder.appendingPathComponent("open_clip_config.json")
        let config: CLIPVisionConfiguration
        var settings: CLIPPreprocessing
        var weightsURL = modelFolder.appendingPathComponent("model.safetensors")
        let isOpenCLIPFolder = !fm.fileExists(atPath: hfConfig.path) && fm.fileExists(atPath: openCLIPConfig.path)
        if isOpenCLIPFolder {
            let (c, mean, std) = try CLIPVisionConfiguration.openCLIP(url: openCLIPConfig)
            config = c
            settings = CLIPPreprocessing.defaults(imageSize: c.imageSize)
            settings.mean = mean ?? settings.mean
            settings.std = std ?? settings.std
            if !fm.fileExists(atPath: weightsURL.path) {
                weightsURL = modelFolder.appendingPathComponent("open_clip_model.safetensors")
            }
        } else {
            guard fm.fileExists(atPath: hfConfig.path) else {
                throw CLIPError(.modelMissing, hfConfig.path, "file is missing; the model folder needs config.json beside model.safetensors (both from the model's Hugging Face page)")
            }
            config = try CLIPVisionConfiguration.huggingFace(url: hfConfig)
            let preprocessorURL = modelFolder.appendingPathComponent("preprocessor_config.json")
            let defaults = config.family == .siglip ? CLIPPreprocessing.siglipDefaults(imageSize: config.imageSize)
                : CLIPPreprocessing.defaults(imageSize: config.imageSize)
            settings = fm.fileExists(atPath: preprocessorURL.path)
                ? try CLIPPreprocessing.read(url: preprocessorURL, imageSize: config.imageSize, defaults: defaults)
                : defaults
        }
        guard fm.fileExists(atPath: weightsURL.path) else {
            throw CLIPError(.modelMissing, weightsURL.path, "file is missing; download model.safetensors from the model's Hugging Face page into \(modelFolder.path)/")
        }
        file = try SafeTensorsFile(url: weightsURL)
        configuration = config
        dimension = config.projectionDimension
        preprocessor = CLIPPreprocessor(settings: settings, shrinkOnLoadMargin: options.shrinkOnLoadMargin)
        batchSize = max(1, min(256, options.batchSize ?? max(1, min(32, 4096 / config.tokens))))
        let weightsLayout: CLIPVisionWeights.Layout
        let make: (_ capacity: Int, _ workers: Int) -> any ImageTower
        precision = CLIPPrecision.effective(options.precision)
        // Rounded and packed once, here; the float32 weights stay mapped for nothing else.
        let lower: ([CLIPTransformerBlock]) -> [CLIPTransformerBlock] = { [precision] blocks in
            precision == .bfloat16 ? blocks.map { $0.roundedToBFloat16() } : blocks
        }
        if config.family == .siglip {
            var weights = try SigLIPVisionWeights(file: file, config: config)
            weights.blocks = lower(weights.blocks)
            weightsLayout = .siglip
            (mappedTensorCount, weightTensorCount) = weights.tensorCounts
            make = { [weights] in SigLIPVisionTransformer(config: config, weights: weights, capacity: $0, workers: $1) }
        } else {
            var weights = try CLIPVisionWeights(file: file, config: config)
            weights.blocks = lower(weights.blocks)
            weightsLayout = weights.layout
            (mappedTensorCount, weightTensorCount) = weights.tensorCounts
            make = { [weights] in CLIPVisionTransformer(config: config, weights: weights, capacity: $0, workers: $1) }
        }
        transformer = Self.tower(batchSize: batchSize, tokens: config.tokens, valuesPerImage: preprocessor.valuesPerImage,
                                 dimension: dimension, make: make)
        layout = weightsLayout.rawValue
        modelID = Self.identifier(layout: weightsLayout, nameOrPath: config.nameOrPath, folder: modelFolder)
    }

    /// The tower that runs batches of `batchSize`: with several cores, one
    /// single-threaded tower per core (`ParallelImageTower`) over groups of
    /// batchSize / (2 × cores) images, two groups per core so that a core
    /// slowed by other work takes fewer, but at least 512 tokens a group so
    /// each GEMM stays large enough to amortise packing the weights; with
    /// one core, one tower.
    static func tower(batchSize: Int, tokens: Int, valuesPerImage: Int, dimension: Int,
                      make: (_ capacity: Int, _ workers: Int) -> any ImageTower) -> any ImageTower {
        let workers = CLIPParallel.workers
        guard workers > 1, batchSize > 1 else { return make(batchSize, workers) }
        let groupSize = max((batchSize + 2 * workers - 1) / (2 * workers), (512 + tokens - 1) / max(1, tokens))
        return ParallelImageTower(capacity: batchSize, groupSize: groupSize, workers: workers,
                                  valuesPerImage: valuesPerImage, dimension: dimension) { make($0, 1) }
    }

    /// `hf:<org/name>` (`siglip:<org/name>`, as PhotoMapAI names SigLIP
    /// models) from the config's `_name_or_path` when it is a hub name, else
    /// the layout and the folder's name.
    static func identifier(layout: CLIPVisionWeights.Layout, nameOrPath: String?, folder: URL) -> String {
        if layout != .openCLIP, let name = nameOrPath {
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            let hubLike = parts.count == 2 && parts.allSatisfy { part in
                !part.isEmpty && !part.hasPrefix(".") && part.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
            }
            if hubLike { return "\(layout.rawValue):\(name)" }
        }
        return "\(layout.rawValue):\(folder.standardizedFileURL.lastPathComponent)"
    }

    // MARK: - Embedding

    /// Embeds images already preprocessed: `count` images of normalised
    /// channel-major pixels (3 × imageSize × imageSize floats each) at
    /// `pixels`, writing `count` unit vectors of `dimension` floats to `output`.
    public func embed(pixels: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<Float>) {
        lock.lock()
        defer { lock.unlock() }
        let per = preprocessor.valuesPerImage
        var start = 0
        while start < count {
            let n = min(batchSize, count - start)
            transformer.run(pixels: pixels + start * per, count: n, output: output + start * dimension)
            start += n
        }
    }

    /// Embeds the images at `paths` (absolute, as file-system bytes), calling
    /// `handler` on the calling thread once per image, in order, with its
    /// vector (valid only during the call) or the reason it could not be
    /// read. Unreadable images never stop the run. The next batch is decoded
    /// on other threads while the current one runs through the model.
    ///
    /// Progress goes to `progress` after each batch as
    /// `update(label:, done: offset + finished, total: total ?? paths.count)`,
    /// so a caller embedding in chunks can report one running total; `finish`
    /// is left to the caller (as `PixelEmbedder` does).
    ///
    /// - Throws: `CancelledError` when `progress` says `isCancelled` (checked
    ///   between batches; images handled before then stay handled).
    public func embed(paths: [FileSystemPath], progress: (any ProgressSink)? = nil, label: String = BuiltInEmbedder.clip.rawValue,
                      offset: Int = 0, total: Int? = nil,
                      handler: (_ index: Int, _ result: Result<UnsafeBufferPointer<Float>, ImageDecodeError>) -> Void)
        throws(CancelledError)
    {
        lock.lock()
        defer { lock.unlock() }
        let count = paths.count
        let reportTotal = total ?? count
        guard count > 0 else { return }

        let per = preprocessor.valuesPerImage
        let batch = batchSize
        let slots = [DecodeSlot(capacity: batch, valuesPerImage: per), DecodeSlot(capacity: batch, valuesPerImage: per)]
        let output = UnsafeMutablePointer<Float>.allocate(capacity: batch * dimension)
        defer { output.deallocate() }
        let preprocessor = self.preprocessor
        let group = DispatchGroup()
        // The decoder must be done with a slot before it is freed, even when cancelled.
        defer { group.wait() }

        func startDecoding(_ range: Range<Int>, into slot: DecodeSlot) {
            group.enter()
            DispatchQueue.global(qos: .userInitiated).async {
                slot.decode(paths: paths, range: range, with: preprocessor)
                group.leave()
            }
        }

        var ranges: [Range<Int>] = []
        var start = 0
        while start < count { ranges.append(start..<min(count, start + batch)); start += batch }
        startDecoding(ranges[0], into: slots[0])
        for (k, range) in ranges.enumerated() {
            group.wait()
            if let progress, progress.isCancelled { throw CancelledError(label) }
            let slot = slots[k % 2]
            if k + 1 < ranges.count { startDecoding(ranges[k + 1], into: slots[(k + 1) % 2]) }
            let decoded = slot.compact()
            transformer.run(pixels: slot.pixels, count: decoded, output: output)
            var next = 0
            for i in 0..<range.count {
                if let failure = slot.failures[i] {
                    handler(range.lowerBound + i, .failure(failure))
                } else {
                    handler(range.lowerBound + i, .success(UnsafeBufferPointer(start: output + next * dimension, count: dimension)))
                    next += 1
                }
            }
            progress?.update(label: label, done: offset + range.upperBound, total: reportTotal)
        }
    }

    /// Embeds the images at `paths`, writing image `i`'s vector into
    /// `vectors[i * dimension ..< (i + 1) * dimension]` (zeros when it
    /// failed); the same shape as `PixelEmbedder`'s. Returns one result per
    /// path, in order. Progress and cancellation as in `embed(paths:handler:)`.
    public func embed(paths: [FileSystemPath], into vectors: UnsafeMutableBufferPointer<Float>,
                      progress: (any ProgressSink)? = nil, label: String = BuiltInEmbedder.clip.rawValue,
                      offset: Int = 0, total: Int? = nil) throws(CancelledError) -> [Result<Void, ImageDecodeError>] {
        let dimension = self.dimension
        precondition(vectors.count >= paths.count * dimension,
                     "CLIPVisionEncoder: vector buffer holds \(vectors.count) floats, needs \(paths.count * dimension)")
        var results: [Result<Void, ImageDecodeError>] = []
        results.reserveCapacity(paths.count)
        try embed(paths: paths, progress: progress, label: label, offset: offset, total: total) { index, result in
            let row = vectors.baseAddress! + index * dimension
            switch result {
            case let .success(vector):
                row.update(from: vector.baseAddress!, count: dimension)
                results.append(.success(()))
            case let .failure(failure):
                row.update(repeating: 0, count: dimension)
                results.append(.failure(failure))
            }
        }
        return results
    }

    /// Embeds the images at `paths` into rows `firstRow…` of `matrix` (one row
    /// per path, in order; rows of unreadable images are zero).
    public func embed(paths: [FileSystemPath], into matrix: EmbeddingMatrix, firstRow: Int = 0,
                      progress: (any ProgressSink)? = nil, label: String = BuiltInEmbedder.clip.rawValue,
                      offset: Int = 0, total: Int? = nil) throws(CancelledError) -> [Result<Void, ImageDecodeError>] {
        precondition(matrix.dimension == dimension, "CLIPVisionEncoder: matrix has dimension \(matrix.dimension), the model \(dimension)")
        precondition(firstRow >= 0 && firstRow + paths.count <= matrix.rows,
                     "CLIPVisionEncoder: rows \(firstRow)..<\(firstRow + paths.count) outside a \(matrix.rows)-row matrix")
        let rows = UnsafeMutableBufferPointer(start: matrix.row(firstRow), count: paths.count * dimension)
        return try embed(paths: paths, into: rows, progress: progress, label: label, offset: offset, total: total)
    }
}

extension CLIPVisionEncoder: ImageEmbedder {
    /// The name its vectors are stored under, `clip`.
    public var name: String { BuiltInEmbedder.clip.rawValue }
}

/// One batch's decoded pixels and failures. Written by the decoding threads
/// (each image its own slot) and read by the inference thread only after the
/// decode finished, which the caller's DispatchGroup orders.
/// `@unchecked Sendable`: see above; the DispatchGroup orders the decoding threads' writes before the inference thread's reads.
private final class DecodeSlot: @unchecked Sendable {
    let pixels: UnsafeMutablePointer<Float>
    let failures: UnsafeMutableBufferPointer<ImageDecodeError?>
    let capacity: Int
    let valuesPerImage: Int
    private(set) var count = 0

    init(capacity: Int, valuesPerImage: Int) {
        self.capacity = capacity
        self.valuesPerImage = valuesPerImage
        pixels = .allocate(capacity: capacity * valuesPerImage)
        failures = .allocate(capacity: capacity)
        failures.initialize(repeating: nil)
    }

    deinit {
        pixels.deallocate()
        failures.deinitialize()
        failures.deallocate()
    }

    /// Decodes `paths[range]` into the slot, using every core.
    func decode(paths: [FileSystemPath], range: Range<Int>, with preprocessor: CLIPPreprocessor) {
        count = range.count
        let per = valuesPerImage
        // One image per work item, so a few huge images do not hold up a core.
        DispatchQueue.concurrentPerform(iterations: range.count) { i in
            do throws(ImageDecodeError) {
                try preprocessor.load(path: paths[range.lowerBound + i], into: self.pixels + i * per)
                self.failures[i] = nil
            } catch {
                self.failures[i] = error
            }
        }
    }

    /// Moves the decoded images together (failures leave holes) and returns how many there are.
    func compact() -> Int {
        var next = 0
        for i in 0..<count where failures[i] == nil {
            if next != i { (pixels + next * valuesPerImage).update(from: pixels + i * valuesPerImage, count: valuesPerImage) }
            next += 1
        }
        return next
    }
}
