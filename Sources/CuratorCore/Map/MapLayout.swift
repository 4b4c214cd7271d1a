import Foundation

/// A 2-D map of an album: one point per row of its embedding matrix, the
/// image id of each row, and how the map was made. `Codable`, and with a
/// compact byte form for the album index's cache.
public struct MapLayout: Sendable, Codable, Equatable {
    /// How a layout was made.
    public enum Method: String, Sendable, Codable {
        /// A full UMAP run.
        case umap
        /// An earlier layout with new images placed by their neighbours and refined.
        case incremental
        /// Read from PhotoMapAI's `umap.npz`.
        case photoMap
    }

    /// One point per matrix row, in row order.
    public var points: [SIMD2<Float>]
    /// The image id of each row (same count as `points`), or empty when unknown.
    public var imageIDs: [Int64]
    /// The settings the layout was made with.
    public var parameters: UMAPParameters
    /// How it was made.
    public var method: Method

    /// Creates a layout from its parts.
    public init(points: [SIMD2<Float>], imageIDs: [Int64] = [], parameters: UMAPParameters = UMAPParameters(),
                method: Method = .umap) {
        self.points = points
        self.imageIDs = imageIDs
        self.parameters = parameters
        self.method = method
    }

    /// A full UMAP layout of `matrix`, whose row `i` is image `imageIDs[i]`.
    ///
    /// - Throws: `MapError` when `imageIDs` does not match the rows or the
    ///   parameters are bad; `CancelledError` when `progress` asks to stop.
    public static func compute(_ matrix: EmbeddingMatrix, imageIDs: [Int64] = [],
                               parameters: UMAPParameters = UMAPParameters(),
                               progress: (any ProgressSink)? = nil) throws -> MapLayout {
        try checkIDs(imageIDs, rows: matrix.rows)
        let points = try UMAP.layout(of: matrix, parameters: parameters, progress: progress)
        return MapLayout(points: points, imageIDs: imageIDs, parameters: parameters, method: .umap)
    }

    /// The point of image `id`, or nil when the map does not hold it.
    public func point(forImage id: Int64) -> SIMD2<Float>? {
        guard let row = imageIDs.firstIndex(of: id) else { return nil }
        return points[row]
    }

    // MARK: - Incremental

    /// A layout of `matrix` (row `i` is image `imageIDs[i]`) that reuses this
    /// one: images it holds keep their points, removed ones are dropped, and
    /// each new image starts at the membership-weighted mean of its mapped
    /// neighbours, then a short optimisation moves the new points only
    /// (umap-learn's `transform`: 100 epochs up to 10,000 images, else 30, a
    /// quarter of the learning rate). When more than `maxNewFraction` of the
    /// images are new, or nothing can be reused, or the parameters differ,
    /// the layout is computed from scratch instead.
    ///
    /// - Throws: `MapError` for mismatched ids; `CancelledError`.
    public func updated(for matrix: EmbeddingMatrix, imageIDs newIDs: [Int64], parameters: UMAPParameters? = nil,
                        maxNewFraction: Double = 0.1, progress: (any ProgressSink)? = nil) throws -> MapLayout {
        let parameters = parameters ?? self.parameters
        try Self.checkIDs(newIDs, rows: matrix.rows)
        try parameters.validate()
        guard imageIDs.count == points.count, !newIDs.isEmpty, Set(newIDs).count == newIDs.count,
              parameters == self.parameters else {
            return try Self.compute(matrix, imageIDs: newIDs, parameters: parameters, progress: progress)
        }
        var known: [Int64: SIMD2<Float>] = [:]
        for (id, point) in zip(imageIDs, points) { known[id] = point }
        let n = matrix.rows
        let fresh = (0..<n).filter { known[newIDs[$0]] == nil }
        if fresh.isEmpty {
            return MapLayout(points: newIDs.map { known[$0] ?? .zero }, imageIDs: newIDs, parameters: parameters,
                             method: method == .umap ? .umap : .incremental)
        }
        guard fresh.count < n, Double(fresh.count) <= maxNewFraction * Double(n) else {
            return try Self.compute(matrix, imageIDs: newIDs, parameters: parameters, progress: progress)
        }
        try UMAP.checkFinite(matrix)

        let k = min(parameters.nNeighbors, n)
        let graph = Self.neighbors(of: fresh, in: matrix, k: k)
        let (rho, sigma) = FuzzySimplicialSet.smoothDistances(graph)
        var weights = [Float](repeating: 0, count: fresh.count * k)
        for r in 0..<fresh.count {
            for j in 0..<k where Int(graph.indices[r * k + j]) != fresh[r] {
                let excess = Double(graph.distances[r * k + j]) - rho[r]
                weights[r * k + j] = Float(excess <= 0 || sigma[r] == 0 ? 1 : exp(-excess / sigma[r]))
            }
        }

        // Place each new image by its already placed neighbours; images whose
        // neighbours are all new wait for a later pass.
        var placed = [Bool](repeating: true, count: n)
        var xy = [Float](repeating: 0, count: 2 * n)
        for i in 0..<n {
            if let p = known[newIDs[i]] { xy[2 * i] = p.x; xy[2 * i + 1] = p.y } else { placed[i] = false }
        }
        var centre = SIMD2<Double>.zero
        for p in points { centre += SIMD2(Double(p.x), Double(p.y)) }
        centre /= Double(max(points.count, 1))
        var waiting = Array(0..<fresh.count)
        while !waiting.isEmpty {
            var still: [Int] = []
            var positions: [(Int, SIMD2<Float>)] = []
            for r in waiting {
                var sum = SIMD2<Double>.zero, total = 0.0
                for j in 0..<k {
                    let t = Int(graph.indices[r * k + j])
                    guard t != fresh[r], placed[t] else { continue }
                    let w = Double(weights[r * k + j])
                    sum += w * SIMD2(Double(xy[2 * t]), Double(xy[2 * t + 1]))
                    total += w
                }
                if total > 0 { positions.append((r, SIMD2(Float(sum.x / total), Float(sum.y / total)))) } else { still.append(r) }
            }
            if positions.isEmpty {
                // No placed neighbour at all: start at the map's centre.
                for r in still { positions.append((r, SIMD2(Float(centre.x), Float(centre.y)))) }
                still = []
            }
            for (r, p) in positions {
                xy[2 * fresh[r]] = p.x; xy[2 * fresh[r] + 1] = p.y
                placed[fresh[r]] = true
            }
            waiting = still
        }

        // Edges from each new image to its neighbours; only new images move.
        var heads: [Int32] = [], tails: [Int32] = [], edgeWeights: [Float] = []
        for r in 0..<fresh.count {
            for j in 0..<k where weights[r * k + j] > 0 {
                heads.append(Int32(fresh[r])); tails.append(graph.indices[r * k + j]); edgeWeights.append(weights[r * k + j])
            }
        }
        let epochs = n <= 10_000 ? 100 : 30
        var edges = FuzzySimplicialSet(count: n, heads: heads, tails: tails, weights: edgeWeights)
        edges.pruneWeak(epochs: epochs)
        var movable = [Bool](repeating: false, count: n)
        for i in fresh { movable[i] = true }
        try UMAP.optimize(&xy, count: n, graph: edges, parameters: parameters, epochs: epochs, initialAlpha: 0.25,
                          movable: movable, progress: progress)
        return MapLayout(points: (0..<n).map { SIMD2(xy[2 * $0], xy[2 * $0 + 1]) }, imageIDs: newIDs,
                         parameters: parameters, method: .incremental)
    }

    /// Exact neighbours of the `rows` of `matrix` among all its rows, by one
    /// blocked matrix product: cheap for the few images an update adds.
    static func neighbors(of rows: [Int], in matrix: EmbeddingMatrix, k: Int) -> NeighborGraph {
        let queries = EmbeddingMatrix(uninitializedRows: rows.count, dimension: matrix.dimension)
        for (r, i) in rows.enumerated() {
            queries.row(r).update(from: matrix.row(i), count: matrix.dimension)
        }
        return ExactNeighbors.search(queries: queries, selfRows: rows, in: matrix, k: k)
    }

    static func checkIDs(_ ids: [Int64], rows: Int) throws {
        guard ids.isEmpty || ids.count == rows else {
            throw MapError(.invalidInput, "map: \(ids.count) image ids for \(rows) embedding rows")
        }
    }

    // MARK: - Cache

    /// The key under which the map of an album is cached: it changes with
    /// the embedder, any parameter, or the set of images (not their order).
    public static func cacheKey(embedder: String, parameters: UMAPParameters, imageIDs: [Int64]) -> String {
        var text = "curator-map-1\n\(embedder)\n\(parameters.canonicalDescription)\n"
        for id in imageIDs.sorted() { text += "\(id),"}
        return "umap-" + SHA256.hex(text.utf8)
    }

    /// This layout's cache key for `embedder`.
    public func cacheKey(embedder: String) -> String {
        Self.cacheKey(embedder: embedder, parameters: parameters, imageIDs: imageIDs)
    }

    private static let magic: [UInt8] = Array("CURMAP\u{0}1".utf8)

    /// The layout as bytes: a magic and version, the parameters and method
    /// as JSON, then ids (int64) and points (float32 pairs), little-endian.
    public func serialized() -> [UInt8] {
        var bytes = Self.magic
        let header = (try? JSONEncoder.sorted.encode(Header(parameters: parameters, method: method))) ?? Data()
        Self.append(UInt32(header.count), to: &bytes)
        bytes += header
        Self.append(UInt64(points.count), to: &bytes)
        Self.append(UInt64(imageIDs.count), to: &bytes)
        bytes.reserveCapacity(bytes.count + imageIDs.count * 8 + points.count * 8)
        for id in imageIDs { Self.append(UInt64(bitPattern: id), to: &bytes) }
        for p in points {
            Self.append(p.x.bitPattern, to: &bytes)
            Self.append(p.y.bitPattern, to: &bytes)
        }
        return bytes
    }

    /// Reads bytes written by `serialized()`.
    ///
    /// - Throws: `MapError.corrupt` naming what is wrong.
    public init(serialized bytes: [UInt8]) throws {
        var reader = ByteReader(bytes: bytes)
        guard try reader.take(Self.magic.count) == Self.magic else {
            throw MapError(.corrupt, "map cache: not a curator map (bad magic or version)")
        }
        let headerLength = Int(try reader.uint32())
        let headerBytes = try reader.take(headerLength)
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(headerBytes))
        } catch {
            throw MapError(.corrupt, "map cache: unreadable parameters (\(error))")
        }
        let count = try reader.uint64(), idCount = try reader.uint64()
        guard count <= UInt64(bytes.count / 8), idCount == 0 || idCount == count else {
            throw MapError(.corrupt, "map cache: \(idCount) ids for \(count) points")
        }
        var ids: [Int64] = []
        ids.reserveCapacity(Int(idCount))
        for _ in 0..<Int(idCount) { ids.append(Int64(bitPattern: try reader.uint64())) }
        var points: [SIMD2<Float>] = []
        points.reserveCapacity(Int(count))
        for _ in 0..<Int(count) {
            points.append(SIMD2(Float(bitPattern: try reader.uint32()), Float(bitPattern: try reader.uint32())))
        }
        guard reader.atEnd else { throw MapError(.corrupt, "map cache: \(reader.remaining) bytes after the points") }
        self.init(points: points, imageIDs: ids, parameters: header.parameters, method: header.method)
    }

    private struct Header: Codable {
        var parameters: UMAPParameters
        var method: Method
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}

/// Reads little-endian values from bytes, throwing at the end.
private struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    var atEnd: Bool { offset == bytes.count }
    var remaining: Int { bytes.count - offset }

    mutating func take(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= remaining else { throw MapError(.corrupt, "map cache: truncated at byte \(offset)") }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func uint32() throws -> UInt32 {
        try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    mutating func uint64() throws -> UInt64 {
        try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}

extension JSONEncoder {
    /// An encoder with sorted keys, so equal values give equal bytes.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
