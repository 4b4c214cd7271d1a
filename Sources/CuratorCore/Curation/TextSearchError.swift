import Foundation

/// Why an album cannot be searched or scored with words.
public enum TextSearchError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// The active vectors are `pixels` descriptors: they have no text side.
    case noTextSide(embedder: String)
    /// The active vectors name no model, so no text tower can be paired with them.
    case noModel(embedder: String)
    /// The text tower's embeddings are not as long as the album's vectors.
    case dimensionMismatch(folder: String, text: Int, vectors: Int)
    /// An image given as a query has no vector.
    case notEmbedded(path: String)
    /// The query has nothing to search for.
    case emptyQuery

    public var description: String {
        switch self {
        case .noTextSide(let embedder):
            return "the album's vectors come from the '\(embedder)' embedder, a visual descriptor with no text side: words cannot be compared with them. Install a CLIP model (`curator models get clip-vit-base-patch32` in a shell) and embed with a:embed(\"clip\"), or open an album PhotoMapAI indexed"
        case .noModel(let embedder):
            return "the album's vectors (embedder '\(embedder)') do not say which model made them, so no text tower can be paired with them; import them with their model id, or embed with a:embed(\"clip\")"
        case .dimensionMismatch(let folder, let text, let vectors):
            return "\(folder): its text tower gives \(text)-d vectors but the album's are \(vectors)-d; it is not the model that made them"
        case .notEmbedded(let path):
            return "\(path) has no vector to search with (embed it first)"
        case .emptyQuery:
            return "nothing to search for: give a text, an image or a list of them"
        }
    }

    public var errorDescription: String? { description }
}
