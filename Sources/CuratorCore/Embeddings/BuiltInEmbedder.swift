import Foundation

/// The embedders curator ships, by the name the index, `embedder=` and
/// `a:embed(name)` give them. The one list of built-in embedder names: the
/// album's `auto` choice, its checks and messages all read it. Vectors
/// imported under another name are not built in (and never computed).
public enum BuiltInEmbedder: String, CaseIterable, Sendable {
    /// PhotoMapAI's vectors, read from the album's `photomap_index`.
    case photomap
    /// The native CLIP vision tower (`CLIPVisionEncoder`).
    case clip
    /// Pixel statistics (`PixelEmbedder`): no model, always available.
    case pixels

    /// Every built-in name, in the order `auto` considers them.
    public static var names: [String] { allCases.map(\.rawValue) }

    /// Whether `auto` may pick it for `album` (its index file, or a model, is there).
    func isAvailable(for album: Album) -> Bool {
        switch self {
        case .photomap: return PhotoMapEmbedder.isAvailable(for: album)
        case .clip: return CLIPModelLocator.isAvailable(chosen: album.modelFolder)
        case .pixels: return true
        }
    }

    /// Whether its vectors must be looked at again even when every image has
    /// one: PhotoMapAI may have re-indexed the album since.
    func mayHaveChanged(for album: Album) -> Bool {
        self == .photomap && PhotoMapEmbedder.isAvailable(for: album)
    }

    /// Computes (or imports) the vectors `album`'s images lack; `arithmetic`
    /// is the CLIP tower's (nil: bfloat16 where the processor has it).
    func compute(for album: Album, arithmetic: CLIPPrecision? = nil, progress: (any ProgressSink)?) throws -> EmbedReport {
        switch self {
        case .photomap:
            return try PhotoMapEmbedder().embed(album: album, progress: progress)
        case .pixels:
            try requireLibraries()
            return try ChunkedEmbedding().run(PixelEmbedder(), over: album, progress: progress)
        case .clip:
            try requireLibraries()
            let encoder = try CLIPVisionEncoder(modelFolder: CLIPModelLocator.sessionFolder(chosen: album.modelFolder),
                                                options: CLIPEncoderOptions(precision: arithmetic))
            return try ChunkedEmbedding().run(encoder, over: album, progress: progress)
        }
    }

    /// Computed embedders decode images through libvips (CLIP also computes
    /// with BLAS): without them every image would be recorded as failed until
    /// its file changes, so say so before starting.
    private func requireLibraries() throws {
        do {
            try Libvips.require()
            if self == .clip { try BLAS.require() }
        } catch {
            throw IndexError.embedderUnavailable(name: rawValue, reason: error.description)
        }
    }
}
