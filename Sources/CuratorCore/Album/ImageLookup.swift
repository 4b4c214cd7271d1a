/// What a path or a bare file name given by a user names in an album
/// (`Album.lookup`).
public enum ImageLookup: Sendable, Equatable {
    /// One image: the path's, or the only one with that file name.
    case found(ImageRecord)
    /// A bare file name several images have, in path order: the user must
    /// say which (by its path).
    case ambiguous([ImageRecord])
    /// No image has that path or name.
    case missing

    /// "12 images have the name 001.jpg: city/001.jpg, forest/001.jpg, … (and
    /// 4 more); give one's path" for an ambiguous lookup of `name`, nil otherwise.
    public func ambiguity(of name: String, listing limit: Int = 8) -> String? {
        guard case let .ambiguous(records) = self else { return nil }
        var list = records.prefix(limit).map(\.path.string).joined(separator: ", ")
        if records.count > limit { list += ", … (and \(records.count - limit) more)" }
        return "\(records.count) images have the name \(name): \(list); give one's path"
    }
}
