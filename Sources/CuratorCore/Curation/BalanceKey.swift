/// What a balanced selection groups images by (`balance={by=...}`).
public enum BalanceKey: Sendable, Equatable {
    /// The image's folder relative to the album ("(top)" at the root).
    case folder
    /// Whether the caption has the tag (whole words, any case): the strata
    /// are the tag and "not <tag>"; images without a caption are unknown.
    case caption(String)
    /// "landscape" (width/height > 1.2), "portrait" (< 1/1.2) or "square";
    /// unknown without dimensions.
    case aspect

    /// The name of the stratum of `image`, nil when it has no value.
    public func stratum(of image: ImageRecord, in album: Album) -> String? {
        switch self {
        case .folder:
            let folder = image.path.folder.string
            return folder.isEmpty ? "(top)" : folder
        case .caption(let tag):
            guard let caption = album.caption(of: image), !CaptionWords.words(caption).isEmpty else { return nil }
            return CaptionWords.contains(caption, phrase: tag) ? tag : "not \(tag)"
        case .aspect:
            guard image.width > 0, image.height > 0 else { return nil }
            let ratio = Double(image.width) / Double(image.height)
            return ratio > 1.2 ? "landscape" : ratio < 1 / 1.2 ? "portrait" : "square"
        }
    }
}

/// Caption words as the captions plugin reads them: runs of letters, digits,
/// apostrophes and hyphens (bytes ≥ 0x80 count as letters), lower-cased; a
/// phrase matches on word boundaries ("sea" is not in "season").
public enum CaptionWords {
    /// The words of `text`, lower-cased, in order.
    public static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current: [UInt8] = []
        for byte in text.lowercased().utf8 {
            let isWord = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7a) || byte >= 0x80
                || byte == 0x27 || byte == 0x2d
            if isWord {
                current.append(byte)
            } else if !current.isEmpty {
                words.append(String(decoding: current, as: UTF8.self))
                current.removeAll()
            }
        }
        if !current.isEmpty { words.append(String(decoding: current, as: UTF8.self)) }
        return words
    }

    /// Whether the words of `phrase` occur, consecutively, among the words of `text`.
    public static func contains(_ text: String, phrase: String) -> Bool {
        let needle = words(phrase)
        let hay = words(text)
        guard !needle.isEmpty, needle.count <= hay.count else { return false }
        for start in 0...(hay.count - needle.count) where hay[start..<(start + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }
}
