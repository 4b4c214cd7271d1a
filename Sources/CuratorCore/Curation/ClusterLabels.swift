import Foundation

/// A cluster's name from a vocabulary, with the runners-up.
public struct ClusterLabel: Sendable, Equatable {
    /// The best phrase.
    public let label: String
    /// Its score: the members' mean zero-shot probability for it (0...1).
    public let score: Float
    /// The next best phrases, best first, and their scores.
    public let alternates: [(label: String, score: Float)]

    public static func == (a: ClusterLabel, b: ClusterLabel) -> Bool {
        a.label == b.label && a.score == b.score && a.alternates.map(\.label) == b.alternates.map(\.label)
            && a.alternates.map(\.score) == b.alternates.map(\.score)
    }
}

/// A vocabulary file: one phrase a line; blank lines and lines starting with `#` are skipped.
public enum Vocabulary {
    /// The phrases of `file`, in order, without repeats.
    ///
    /// - Throws: `ClusterError` naming the file when it cannot be read or holds no phrase.
    public static func phrases(file: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ClusterError("vocabulary \(file): cannot be read (it must be a text file, one phrase a line)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ClusterError("vocabulary \(file): not UTF-8 text (one phrase a line)")
        }
        let phrases = merged([text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }])
        guard !phrases.isEmpty else { throw ClusterError("vocabulary \(file): holds no phrase (one phrase a line)") }
        return phrases
    }

    /// The lists joined in order, each phrase once.
    public static func merged(_ lists: [[String]]) -> [String] {
        var seen = Set<String>(), out: [String] = []
        for list in lists { for p in list where seen.insert(p).inserted { out.append(p) } }
        return out
    }
}

extension Album {
    /// The template each vocabulary phrase is read in (CLIP's zero-shot prompt).
    public static let clusterLabelTemplate = "a photo of {}."

    /// A label for each of `clusters` from `phrases`, through the text tower
    /// paired with the vectors: each member is classified zero-shot (a
    /// softmax over the phrases at CLIP's logit scale, 100), the
    /// probabilities are averaged over the cluster, and the best phrase and
    /// `alternates` runners-up are its labels. Averaging probabilities, not
    /// cosines, keeps a phrase that suits every photo ("a photo") from
    /// naming every cluster. The phrases' vectors are kept for the session.
    ///
    /// - Throws: `TextSearchError` when no text tower pairs with the vectors
    ///   (the message says how to get one); `ClusterError` for an empty vocabulary.
    public func clusterLabels(_ clusters: AlbumClusters, phrases: [String], alternates: Int = 2) throws -> [ClusterLabel] {
        guard !phrases.isEmpty else { throw ClusterError("clusters: the vocabulary is empty") }
        let encoder = try textEncoder()
        let key = encoder.modelFolder.path + "\n" + phrases.joined(separator: "\n")
        let vectors: EmbeddingMatrix
        if let kept = phraseVectors, kept.key == key {
            vectors = kept.vectors
        } else {
            vectors = try encoder.embed(phrases.map { Self.clusterLabelTemplate.replacingOccurrences(of: "{}", with: $0) })
            phraseVectors = (key, vectors)
        }
        let album = try matrix()
        let v = phrases.count, d = album.matrix.dimension
        var labels: [ClusterLabel] = []
        labels.reserveCapacity(clusters.clusters.count)
        let block = 1024
        var gathered = [Float](repeating: 0, count: block * d)
        var scores = [Float](repeating: 0, count: block * v)
        for cluster in clusters.clusters {
            let rows = cluster.members.compactMap { album.rowOf[$0] }
            var mean = [Double](repeating: 0, count: v)
            var start = 0
            while start < rows.count {
                let b = min(block, rows.count - start)
                gathered.withUnsafeMutableBufferPointer { g in
                    for i in 0..<b { album.matrix.copyRow(rows[start + i], into: g.baseAddress! + i * d) }
                    scores.withUnsafeMutableBufferPointer { s in
                        BLAS.gemm(transposeB: true, m: b, n: v, k: d, a: g.baseAddress!, lda: d, b: vectors.row(0), ldb: d,
                                  c: s.baseAddress!, ldc: v)
                    }
                }
                for i in 0..<b {
                    let row = i * v
                    var top = -Float.infinity
                    for j in 0..<v { top = max(top, scores[row + j]) }
                    var total: Double = 0
                    for j in 0..<v {
                        let e = Double(expf(100 * (scores[row + j] - top)))
                        scores[row + j] = Float(e)
                        total += e
                    }
                    for j in 0..<v { mean[j] += Double(scores[row + j]) / total }
                }
                start += b
            }
            let order = mean.indices.sorted { mean[$0] > mean[$1] || (mean[$0] == mean[$1] && $0 < $1) }
            let count = Double(max(rows.count, 1))
            let best = order[0]
            labels.append(ClusterLabel(label: phrases[best], score: Float(mean[best] / count),
                                       alternates: order.dropFirst().prefix(alternates).map { (phrases[$0], Float(mean[$0] / count)) }))
        }
        return labels
    }
}
