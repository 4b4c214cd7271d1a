import Foundation

/// How a curation result was made: shown at the top of reports.
public struct CurationSummary: Codable, Sendable, Equatable {
    /// The sampling method, e.g. `fps` or `kmeans` or a Lua sampler's name.
    public var method: String
    /// The number of images asked for.
    public var count: Int
    /// The number of Monte Carlo runs.
    public var iterations: Int
    /// The master seed, when there was one.
    public var seed: UInt64?
    /// When the result was computed.
    public var created: Date
    /// The album's name, if it has one.
    public var album: String?
    /// Further parameters worth showing (a sampler's options), shown sorted by key.
    public var parameters: [String: String]

    /// Creates a summary.
    public init(method: String, count: Int, iterations: Int, seed: UInt64? = nil, created: Date = Date(),
                album: String? = nil, parameters: [String: String] = [:]) {
        self.method = method
        self.count = count
        self.iterations = iterations
        self.seed = seed
        self.created = created
        self.album = album
        self.parameters = parameters
    }
}
