import Foundation

/// What to search an album for: texts and images that should match, texts
/// that should not.
public struct SearchQuery: Sendable, Equatable {
    /// One thing the images should look like.
    public enum Positive: Sendable, Equatable {
        /// A text prompt.
        case text(String)
        /// An image of the album (by id), through its own vector.
        case image(Int64)
    }

    /// What the images should look like; their scores are averaged.
    public var positives: [Positive]
    /// What they should not look like; the mean of these scores, times
    /// `negativeWeight`, is subtracted.
    public var negatives: [String]
    /// PhotoMapAI's default negative weight.
    public var negativeWeight: Float

    /// Creates a query.
    public init(positives: [Positive], negatives: [String] = [], negativeWeight: Float = 0.5) {
        self.positives = positives
        self.negatives = negatives
        self.negativeWeight = negativeWeight
    }

    /// A query for one text prompt.
    public init(text: String, negatives: [String] = []) {
        self.init(positives: [.text(text)], negatives: negatives)
    }

    /// The texts of the query, for records and messages.
    public var summary: String {
        let positive = positives.map { p -> String in
            switch p { case .text(let t): return "\"\(t)\""; case .image(let id): return "image #\(id)" }
        }.joined(separator: " + ")
        return negatives.isEmpty ? positive : positive + " − " + negatives.map { "\"\($0)\"" }.joined(separator: " − ")
    }
}

/// One search result.
public struct SearchHit: Sendable, Equatable {
    /// The image's id.
    public let imageID: Int64
    /// Its score: a cosine similarity for a single prompt.
    public let score: Float
}

/// The best of a list of labels for one image.
public struct ImageLabel: Sendable, Equatable {
    /// The image's id.
    public let imageID: Int64
    /// The index of the best label in the list given.
    public let label: Int
    /// The cosine similarity with that label's text.
    public let score: Float
}

extension Album {
    /// The text tower paired with the active vectors: the model that made
    /// them, found by its id among the installed models (or the folder the
    /// album was opened with, which must be that model). Loaded once.
    public func textEncoder() throws -> CLIPTextEncoder {
        if let textTower { return textTower }
        guard let embedder else { throw IndexError.noEmbeddings(album: name) }
        if embedder == BuiltInEmbedder.pixels.rawValue { throw TextSearchError.noTextSide(embedder: embedder) }
        guard let id = modelID, !id.isEmpty else { throw TextSearchError.noModel(embedder: embedder) }
        if id.hasPrefix("siglip:") { throw TextSearchError.unsupportedModel(id) }
        var chosen = modelFolder
        if chosen == nil, let path = ProcessInfo.processInfo.environment["CURATOR_CLIP_MODEL"], path.hasPrefix("/") {
            chosen = URL(fileURLWithPath: path, isDirectory: true)
        }
        let folder = try CLIPModelLocator().folder(forModelID: id, chosen: chosen)
        let encoder = try CLIPTextEncoder(modelFolder: folder)
        if dimension > 0, encoder.dimension != dimension {
            throw TextSearchError.dimensionMismatch(folder: folder.path, text: encoder.dimension, vectors: dimension)
        }
        textTower = encoder
        return encoder
    }

    /// The direction the query scores along: the mean of the positives'
    /// unit vectors minus `negativeWeight` times the mean of the negatives'.
    /// Because CLIP's scores are plain cosines, this is PhotoMapAI's
    /// score-space combination (weighted mean of the positive cosines minus
    /// the weighted negative cosine) done once on the query, not per image.
    public func queryVector(_ query: SearchQuery) throws -> [Float] {
        guard !query.positives.isEmpty || !query.negatives.isEmpty else { throw TextSearchError.emptyQuery }
        let album = try matrix()
        let d = album.matrix.dimension
        var direction = [Float](repeating: 0, count: d)
        let texts = query.positives.compactMap { p -> String? in if case .text(let t) = p { return t }; return nil }
        let needsText = !texts.isEmpty || !query.negatives.isEmpty
        let encoder = needsText ? try textEncoder() : nil
        if !query.positives.isEmpty {
            let share = 1 / Float(query.positives.count)
            if let encoder, !texts.isEmpty {
                let embedded = try encoder.embed(texts)
                for i in 0..<embedded.rows { BLAS.axpy(d, alpha: share, embedded.row(i), &direction) }
            }
            for case .image(let id) in query.positives {
                guard let row = album.rowOf[id] else {
                    throw TextSearchError.notEmbedded(path: image(id: id)?.path.string ?? "image #\(id)")
                }
                BLAS.axpy(d, alpha: share, album.matrix.row(row), &direction)
            }
        }
        if let encoder, !query.negatives.isEmpty {
            let embedded = try encoder.embed(query.negatives)
            let share = -query.negativeWeight / Float(query.negatives.count)
            for i in 0..<embedded.rows { BLAS.axpy(d, alpha: share, embedded.row(i), &direction) }
        }
        return direction
    }

    /// The query's score for every row of `matrix()` (one GEMV).
    public func scores(_ query: SearchQuery) throws -> [Float] {
        try matrix().matrix.scores(along: try queryVector(query))
    }

    /// The images that best match `query`, best first: the `k` best (with
    /// `minScore`, only those at or above it; `k` nil keeps all of those).
    /// Excluded images are included: search finds, selections leave out.
    public func search(_ query: SearchQuery, k: Int?, minScore: Float? = nil) throws -> [SearchHit] {
        let direction = try queryVector(query)
        let album = try matrix()
        return album.matrix.best(along: direction, k: k, minimum: minScore).map { SearchHit(imageID: album.imageIDs[$0.row], score: $0.score) }
    }

    /// Every embedded image's best label among `phrases` (zero-shot
    /// classification), in the matrix's row order. With `templates` (each
    /// holding `{}`), a label's text vector is the mean of its templates'.
    public func labels(_ phrases: [String], templates: [String] = []) throws -> [ImageLabel] {
        let encoder = try textEncoder()
        let labels = try encoder.embed(phrases: phrases, templates: templates)
        let album = try matrix()
        let m = album.matrix, n = labels.rows, d = m.dimension
        var out: [ImageLabel] = []
        out.reserveCapacity(m.rows)
        // Blocks of rows keep the score matrix small for large albums.
        let block = 16_384
        var scores = [Float](repeating: 0, count: block * n)
        var start = 0
        while start < m.rows {
            let rows = min(block, m.rows - start)
            scores.withUnsafeMutableBufferPointer { s in
                BLAS.gemm(transposeB: true, m: rows, n: n, k: d, a: m.row(start), lda: d,
                          b: labels.row(0), ldb: d, c: s.baseAddress!, ldc: n)
            }
            for r in 0..<rows {
                var best = 0
                for j in 1..<max(n, 1) where scores[r * n + j] > scores[r * n + best] { best = j }
                out.append(ImageLabel(imageID: album.imageIDs[start + r], label: best, score: scores[r * n + best]))
            }
            start += rows
        }
        return out
    }
}
