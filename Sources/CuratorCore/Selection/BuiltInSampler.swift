/// The samplers curator ships, by the name `method=` gives them. The one list
/// of built-in method names: selection, the Lua registry (which refuses them
/// as plugin names) and messages all read it.
public enum BuiltInSampler: String, CaseIterable, Sendable {
    /// Farthest-point sampling: the most diverse images.
    case fps
    /// K-Means: the images nearest the centroids (representative).
    case kmeans
    /// Facility location: the set that best represents every candidate.
    case facility

    /// Every built-in method name, in this order.
    public static var names: [String] { allCases.map(\.rawValue) }

    /// How progress lines and reports title the method.
    public var title: String {
        switch self {
        case .fps: return "FPS"
        case .kmeans: return "K-Means"
        case .facility: return "Facility location"
        }
    }

    /// A sampler with the default settings.
    public func makeSampler() -> any Sampler {
        switch self {
        case .fps: return FarthestPointSampler()
        case .kmeans: return KMeansSampler()
        case .facility: return FacilityLocationSampler()
        }
    }
}
