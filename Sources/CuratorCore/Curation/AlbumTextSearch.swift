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
    /// Its score: for a single prompt, a cosine similarity (CLIP) or SigLIP's
    /// calibrated match probability.
    public let score: Float
}

/// The best of a list of labels for one image.
public struct ImageLabel: Sendable, Equatable {
    /// The image's id.
    public let imageID: Int64
    /// The index of the best label in the list given.
    public let label: Int
    /// The score of that label's text: a cosine (CLIP) or SigLIP's match probability.
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

    /// The score a prompt's images need when `min_score` is not given: the
    /// floor PhotoMapAI sets for the model's family, just under the band
    /// where real matches lie (its scores do not share one scale): 0.005 for
    /// SigLIP's probabilities, 0.1 for open_clip models such as DFN-2B, 0.2
    /// for OpenAI's CLIP (and curator's own CLIP ids).
    public var defaultPromptMinimum: Float {
        let id = modelID ?? ""
        if id.hasPrefix("siglip:") { return 0.005 }
        if id.hasPrefix("open-clip:") { return 0.1 }
        return 0.2
    }

    /// A query's vectors with their weights, their length, and whether text scores are calibrated.
    private typealias QueryParts = (terms: [(vector: [Float], weight: Float, text: Bool)], dimension: Int, calibrated: Bool)

    /// The query's vectors with their weights: positives share +1, the
    /// negatives −`negativeWeight`; `text` marks the text vectors (the ones a
    /// SigLIP score calibrates).
    private func queryParts(_ query: SearchQuery) throws -> QueryParts {
        guard !query.positives.isEmpty || !query.negatives.isEmpty else { throw TextSearchError.emptyQuery }
        let album = try matrix()
        let d = album.matrix.dimension
        let texts = query.positives.compactMap { p -> String? in if case .text(let t) = p { return t }; return nil }
        let needsText = !texts.isEmpty || !query.negatives.isEmpty
        let encoder = needsText ? try textEncoder() : nil
        var terms: [(vector: [Float], weight: Float, text: Bool)] = []
        if !query.positives.isEmpty {
            let share = 1 / Float(query.positives.count)
            if let encoder, !texts.isEmpty {
                let embedded = try encoder.embed(texts)
                for i in 0..<embedded.rows { terms.append((Array(UnsafeBufferPointer(start: embedded.row(i), count: d)), share, true)) }
            }
            for case .image(let id) in query.positives {
                guard let row = album.rowOf[id] else {
                    throw TextSearchError.notEmbedded(path: image(id: id)?.path.string ?? "image #\(id)")
                }
                terms.append((album.matrix.vector(row), share, false))
            }
        }
        if let encoder, !query.negatives.isEmpty {
            let embedded = try encoder.embed(query.negatives)
            let share = -query.negativeWeight / Float(query.negatives.count)
            for i in 0..<embedded.rows { terms.append((Array(UnsafeBufferPointer(start: embedded.row(i), count: d)), share, true)) }
        }
        return (terms, d, encoder?.calibration != nil)
    }

    /// The query's score for every row of `matrix()`, combined as PhotoMapAI
    /// combines them: the mean of the positives' scores minus
    /// `negativeWeight` times the mean of the negatives'. For CLIP, whose
    /// scores are plain cosines, that folds into one query vector and one
    /// GEMV. For SigLIP each text cosine first becomes the model's match
    /// probability (image cosines stay cosines), so it is one GEMM against
    /// the query's vectors and the combination per image.
    public func scores(_ query: SearchQuery) throws -> [Float] {
        try scores(queryParts(query))
    }

    /// The one direction a query's scores run along when they are plain
    /// cosines (CLIP; `isLinear`): the weighted sum of its vectors.
    private func folded(_ parts: QueryParts) -> [Float] {
        var direction = [Float](repeating: 0, count: parts.dimension)
        for (vector, weight, _) in parts.terms { BLAS.axpy(parts.dimension, alpha: weight, vector, &direction) }
        return direction
    }

    /// Whether the query's scores are one GEMV's (not calibrated per text, as SigLIP's are).
    private func isLinear(_ parts: QueryParts) -> Bool { !(parts.calibrated && textTower != nil) }

    private func scores(_ parts: QueryParts) throws -> [Float] {
        let m = try matrix().matrix
        guard parts.calibrated, let encoder = textTower else { return m.scores(along: folded(parts)) }
        let k = parts.terms.count, d = parts.dimension
        var out = [Float](repeating: 0, count: m.rows)
        guard m.rows > 0 else { return out }
        let queries = parts.terms.flatMap(\.vector)
        // Blocks of rows keep the cosine matrix small on large albums (and a float16 block's float32 copy).
        let block = m.precision == .float32 ? 65_536 : 8192
        var cosines = [Float](repeating: 0, count: min(block, m.rows) * k)
        var start = 0
        while start < m.rows {
            let rows = min(block, m.rows - start)
            cosines.withUnsafeMutableBufferPointer { c in
                m.withRows(start..<start + rows) { a in
                    BLAS.gemm(transposeB: true, m: rows, n: k, k: d, a: a, lda: d, b: queries, ldb: d, c: c.baseAddress!, ldc: k)
                }
            }
            for r in 0..<rows {
                var total: Float = 0
                for (j, term) in parts.terms.enumerated() {
                    let cosine = cosines[r * k + j]
                    total += term.weight * (term.text ? encoder.score(cosine: cosine) : cosine)
                }
                out[start + r] = total
            }
            start += rows
        }
        return out
    }

    /// The images that best match `query`, best first: the `k` best (with
    /// `minScore`, only those at or above it; `k` nil keeps all of those).
    /// Excluded images are included: search finds, selections leave out.
    public func search(_ query: SearchQuery, k: Int?, minScore: Float? = nil) throws -> [SearchHit] {
        let album = try matrix()
        let parts = try queryParts(query)
        if album.matrix.rows >= QuantizedRows.worthwhileRows, isLinear(parts) {
            let direction = folded(parts)
            // Large albums scan an int8 copy (made on the first search) and re-score exactly the few rows that could win.
            if cachedQuantizedRows?.matrix !== album.matrix { cachedQuantizedRows = QuantizedRows(album.matrix) }
            return cachedQuantizedRows!.best(along: direction, k: k, minimum: minScore)
                .map { SearchHit(imageID: album.imageIDs[$0.row], score: $0.score) }
        }
        let all = try scores(parts)
        return all.withUnsafeBufferPointer { TopScores.select($0, k: k, minimum: minScore) }
            .map { SearchHit(imageID: album.imageIDs[$0.row], score: $0.score) }
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
        let block = m.precision == .float32 ? 16_384 : 8192
        var scores = [Float](repeating: 0, count: block * n)
        var start = 0
        while start < m.rows {
            let rows = min(block, m.rows - start)
            scores.withUnsafeMutableBufferPointer { s in
                m.withRows(start..<start + rows) { a in
                    BLAS.gemm(transposeB: true, m: rows, n: n, k: d, a: a, lda: d,
                              b: labels.row(0), ldb: d, c: s.baseAddress!, ldc: n)
                }
            }
            for r in 0..<rows {
                var best = 0
                for j in 1..<max(n, 1) where scores[r * n + j] > scores[r * n + best] { best = j }
                // SigLIP's calibration is monotonic: the best cosine is the best probability.
                out.append(ImageLabel(imageID: album.imageIDs[start + r], label: best, score: encoder.score(cosine: scores[r * n + best])))
            }
            start += rows
        }
        return out
    }
}
