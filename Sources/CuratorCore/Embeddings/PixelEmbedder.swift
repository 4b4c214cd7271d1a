import Foundation

/// The built-in `pixels` embedder: decodes each image into a small sRGB
/// thumbnail through libvips (shrink-on-load) and computes its
/// `PixelDescriptor` vector and `ImageStatistics`. Always available, needs
/// no model; visual, not semantic.
///
/// The batch form keeps every core busy (one worker thread per core, each
/// with its own reusable buffers), reports progress and honours cancellation
/// from the calling thread, and never fails the batch for one bad image.
public struct PixelEmbedder: Sendable {
    /// One image's outcome in a batch: what was measured besides the vector.
    public struct Output: Sendable, Equatable {
        /// The image's statistics.
        public let statistics: ImageStatistics
        /// The thumbnail's size and the size the file's header states.
        public let size: DecodedSize

        /// Creates an outcome.
        public init(statistics: ImageStatistics, size: DecodedSize) {
            self.statistics = statistics
            self.size = size
        }
    }

    /// One image's vector with its outcome, for callers that want arrays.
    public struct Embedding: Sendable, Equatable {
        /// The L2-normalised descriptor, `dimension` floats.
        public let vector: [Float]
        /// The image's statistics.
        public let statistics: ImageStatistics
        /// The thumbnail's size and the size the file's header states.
        public let size: DecodedSize

        /// Creates an embedding record.
        public init(vector: [Float], statistics: ImageStatistics, size: DecodedSize) {
            self.vector = vector
            self.statistics = statistics
            self.size = size
        }
    }

    /// The embedder's name in the album index and the Lua API.
    public static let name = BuiltInEmbedder.pixels.rawValue
    /// The thumbnail size used unless told otherwise: large enough for the
    /// sharpness statistic to see fine detail, small enough that JPEG
    /// shrink-on-load decodes typical photos at 1/4 or 1/8 scale.
    public static let defaultThumbnailSize = 256

    /// The embedder's name, "pixels".
    public var name: String { Self.name }
    /// The version of the descriptor, stored beside the vectors.
    public var modelID: String { "pixels-v1" }
    /// The vector length, 384.
    public var dimension: Int { PixelDescriptor.dimension }
    /// The decoder making the thumbnails (its size and pixel limit).
    public let decoder: ImageDecoder
    /// How many worker threads a batch uses.
    public let threads: Int

    /// Creates the embedder. `threads` defaults to the number of active cores.
    public init(thumbnailSize: Int = PixelEmbedder.defaultThumbnailSize,
                pixelLimit: Int = ImageDecoder.defaultPixelLimit,
                threads: Int = availableCoreCount) {
        decoder = ImageDecoder(thumbnailSize: thumbnailSize, pixelLimit: pixelLimit)
        self.threads = max(1, threads)
    }

    /// Embeds one image.
    public func embed(path: FileSystemPath) throws(ImageDecodeError) -> (vector: [Float], statistics: ImageStatistics) {
        let image = try decoder.decode(path: path)
        return PixelDescriptor.compute(image)
    }

    /// Embeds the images at `paths`, writing image `i`'s vector into
    /// `vectors[i * dimension ..< (i + 1) * dimension]` (zeros when it
    /// failed). Returns one result per path, in order.
    ///
    /// Progress goes to `progress` from the calling thread as
    /// `update(label:, done: offset + finished, total: total ?? paths.count)`,
    /// so a caller embedding in chunks can report one running total; `finish`
    /// is left to the caller. When `progress` says `isCancelled`, workers stop
    /// taking new images and this throws `CancelledError` once they are idle.
    public func embed(paths: [FileSystemPath], into vectors: UnsafeMutableBufferPointer<Float>,
                      progress: (any ProgressSink)? = nil, label: String = PixelEmbedder.name,
                      offset: Int = 0, total: Int? = nil) throws(CancelledError) -> [Result<Output, ImageDecodeError>] {
        let count = paths.count
        let dimension = self.dimension
        precondition(vectors.count >= count * dimension,
                     "PixelEmbedder: vector buffer holds \(vectors.count) floats, needs \(count * dimension)")
        guard count > 0 else { return [] }
        Libvips.start()  // on the calling thread, before any worker touches libvips
        let results = UnsafeMutableBufferPointer<Result<Output, ImageDecodeError>?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer { results.deinitialize().deallocate(); }

        let workers = min(threads, count)
        let state = BatchState(workers: workers)
        let shared = SharedBuffers(results: results, vectors: vectors)
        let decoder = self.decoder
        for _ in 0..<workers {
            let thread = Thread {
                Self.work(paths: paths, decoder: decoder, dimension: dimension, state: state, shared: shared)
            }
            thread.start()
        }

        // The calling thread reports and watches for cancellation; workers
        // only touch the sink's state through `BatchState`.
        let reportTotal = total ?? count
        var reported = -1
        state.condition.lock()
        while state.running > 0 {
            if state.done != reported {
                reported = state.done
                state.condition.unlock()
                progress?.update(label: label, done: offset + reported, total: reportTotal)
                let cancel = progress?.isCancelled ?? false
                state.condition.lock()
                if cancel { state.cancelled = true }
            } else if let progress {
                state.condition.unlock()
                let cancel = progress.isCancelled
                state.condition.lock()
                if cancel { state.cancelled = true }
            }
            if state.running > 0 { _ = state.condition.wait(until: Date(timeIntervalSinceNow: 0.1)) }
        }
        let cancelled = state.cancelled
        let finished = state.done
        state.condition.unlock()
        if finished != reported { progress?.update(label: label, done: offset + finished, total: reportTotal) }
        if cancelled && finished < count { throw CancelledError(label) }

        return results.map { result in
            result ?? .failure(ImageDecodeError(path: FileSystemPath(bytes: []), reason: .system(code: 0, message: "not processed")))
        }
    }

    /// Embeds the images at `paths` and returns each one's vector, statistics
    /// and size (or why it failed), in order. See `embed(paths:into:...)`.
    public func embed(paths: [FileSystemPath], progress: (any ProgressSink)? = nil,
                      label: String = PixelEmbedder.name) throws(CancelledError) -> [Result<Embedding, ImageDecodeError>] {
        var vectors = [Float](repeating: 0, count: paths.count * dimension)
        let dimension = self.dimension
        let outputs = try vectors.withUnsafeMutableBufferPointer { buffer throws(CancelledError) in
            try embed(paths: paths, into: buffer, progress: progress, label: label)
        }
        return outputs.enumerated().map { index, outcome in
            outcome.map { output in
                Embedding(vector: Array(vectors[index * dimension..<(index + 1) * dimension]),
                          statistics: output.statistics, size: output.size)
            }
        }
    }

    /// One worker: takes the next unclaimed image until none are left or the
    /// batch is cancelled, decoding into its own buffer and writing straight
    /// into the caller's vector rows.
    private static func work(paths: [FileSystemPath], decoder: ImageDecoder, dimension: Int,
                             state: BatchState, shared: SharedBuffers) {
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: decoder.bufferCapacity)
        let alpha = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: decoder.alphaCapacity)
        let workspace = PixelDescriptor.Workspace(pixels: decoder.thumbnailSize * decoder.thumbnailSize)
        defer {
            buffer.deallocate()
            alpha.deallocate()
            Libvips.threadDone()
        }
        while true {
            state.condition.lock()
            guard !state.cancelled, state.next < paths.count else {
                state.running -= 1
                state.condition.signal()
                state.condition.unlock()
                return
            }
            let index = state.next
            state.next += 1
            state.condition.unlock()

            let row = UnsafeMutableBufferPointer(rebasing: shared.vectors[(index * dimension)..<((index + 1) * dimension)])
            let outcome: Result<Output, ImageDecodeError>
            do {
                let size = try decoder.decode(path: paths[index], into: buffer, alpha: alpha)
                let statistics = PixelDescriptor.compute(pixels: UnsafeBufferPointer(buffer), width: size.width,
                                                         height: size.height, alpha: size.hasAlpha ? UnsafeBufferPointer(alpha) : nil,
                                                         into: row, workspace: workspace)
                outcome = .success(Output(statistics: statistics, size: size))
            } catch {
                row.initialize(repeating: 0)
                outcome = .failure(error)
            }
            shared.results[index] = outcome

            state.condition.lock()
            state.done += 1
            state.condition.signal()
            state.condition.unlock()
        }
    }
}

extension PixelEmbedder: ImageEmbedder {
    /// Keeps each embedded image's statistics (sharpness, brightness, …) for
    /// the quality checks.
    public func store(extras: [(imageID: Int64, extra: Output)], in album: Album) throws {
        try StatisticsStore(database: album.database).write(extras.map { ($0.imageID, $0.extra.statistics) })
    }
}

/// A batch's shared counters. `@unchecked Sendable`: every field is read and
/// written only while `condition` is locked.
private final class BatchState: @unchecked Sendable {
    let condition = NSCondition()
    var next = 0
    var done = 0
    var running: Int
    var cancelled = false
    init(workers: Int) { running = workers }
}

/// The batch's output memory. `@unchecked Sendable`: each worker writes only
/// the result slot and vector row of the index it claimed under the lock, and
/// the caller reads them after every worker has finished.
private struct SharedBuffers: @unchecked Sendable {
    let results: UnsafeMutableBufferPointer<Result<PixelEmbedder.Output, ImageDecodeError>?>
    let vectors: UnsafeMutableBufferPointer<Float>
}
