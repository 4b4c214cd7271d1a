/// A model that turns image files into vectors: what `ChunkedEmbedding`, the
/// one loop that fills an album's index, needs of it.
///
/// How a new model plugs in (CLIP's `CLIPVisionEncoder` and `PixelEmbedder`
/// are the two examples):
/// 1. conform its encoder to `ImageEmbedder` (a name, a model id, a dimension
///    and `embed(paths:into:...)`, which already has this shape in both);
/// 2. add a case to `BuiltInEmbedder` that makes it (and says when `auto`
///    may pick it).
/// Storing vectors and failures, chunking, progress, cancellation and the
/// report are the driver's; the embedder only computes.
public protocol ImageEmbedder {
    /// What an image yields besides its vector (`PixelEmbedder`: its
    /// statistics); `Void` for a model that yields only the vector.
    associatedtype Extra

    /// The name its vectors are stored under (a `BuiltInEmbedder`'s raw value).
    var name: String { get }
    /// Which model made the vectors, stored beside them so an index never mixes two.
    var modelID: String { get }
    /// The length of each vector.
    var dimension: Int { get }

    /// Embeds the images at `paths` (absolute), writing
    /// image `i`'s unit vector into `vectors[i * dimension ..< (i + 1) * dimension]`
    /// (zeros when it failed), and returns one result per path, in order. One
    /// unreadable image never fails the batch.
    ///
    /// Progress goes to `progress` from the calling thread as
    /// `update(label:, done: offset + finished, total: total ?? paths.count)`,
    /// so that chunks add up to one running total; `finish` is the caller's.
    /// When `progress` says `isCancelled` this throws `CancelledError`.
    func embed(paths: [FileSystemPath], into vectors: UnsafeMutableBufferPointer<Float>,
               progress: (any ProgressSink)?, label: String,
               offset: Int, total: Int?) throws(CancelledError) -> [Result<Extra, ImageDecodeError>]

    /// Stores what a chunk's images yielded besides their vectors, right after
    /// the driver stored the chunk's vectors. Does nothing unless the
    /// embedder has something to keep.
    func store(extras: [(imageID: Int64, extra: Extra)], in album: Album) throws
}

extension ImageEmbedder {
    /// Nothing to keep besides the vectors.
    public func store(extras: [(imageID: Int64, extra: Extra)], in album: Album) throws {}
}
