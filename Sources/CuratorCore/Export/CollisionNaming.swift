/// PhotoMapAI's names for an exported image whose name is taken: first
/// `name.ext`, then `<parent>_name.ext`, then `<parent>_<stem>_1.ext`,
/// `_2`, … where `<parent>` is the name of the folder the image comes from.
/// Everything is bytes, so names that are not UTF-8 keep their bytes.
public enum CollisionNaming {
    /// The `attempt`-th name (0 = the image's own name) for an image called
    /// `name` that lives in the folder called `parent`.
    public static func candidate(_ attempt: Int, name: [UInt8], parent: [UInt8]) -> [UInt8] {
        let underscore = UInt8(ascii: "_")
        switch attempt {
        case ...0:
            return name
        case 1:
            return parent + [underscore] + name
        default:
            let (stem, ext) = PathBytes.splitExtension(name)
            return parent + [underscore] + stem + [underscore] + Array(String(attempt - 1).utf8) + ext
        }
    }

    /// The name of an image's sidecar: the image's (final) name with its
    /// extension replaced by `fileExtension` (`cat_1.jpg` → `cat_1.txt`).
    public static func sidecarName(forImageNamed name: [UInt8], fileExtension: [UInt8]) -> [UInt8] {
        PathBytes.splitExtension(name).stem + fileExtension
    }
}
