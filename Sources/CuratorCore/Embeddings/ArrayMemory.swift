import Foundation

/// How much memory an array read from a file may make curator allocate.
///
/// Sizes in an `.npz` come from its zip directory and `.npy` headers, which
/// anyone can write: a 30 MB file may claim a 10,000,000 × 768 matrix, and a
/// failed allocation of that size would abort the process. Every allocation
/// sized by a file goes through here: it is checked against a cap first, and
/// a refusal by the system is an error naming the file, never an abort.
enum ArrayMemory {
    /// The most bytes one array read from a file may take: half the machine's
    /// memory (a million 768-d float32 vectors are 3 GB).
    static let maximumBytes: Int = {
        let physical = ProcessInfo.processInfo.physicalMemory / 2
        return physical > UInt64(Int.max) ? Int.max : Int(physical)
    }()

    /// The most a deflated member above `ratioCheckedAbove` bytes may expand.
    /// Embeddings compress little (float32 about 1.1:1) and paths padded to a
    /// common width about 20:1; a member claiming 200:1 is a zip bomb, whose
    /// inflation alone would take minutes and gigabytes.
    static let maximumDeflateRatio = 200
    /// Members this small are not held to the ratio (an all-zero mask of a
    /// few megabytes is legitimate and cheap).
    static let ratioCheckedAbove = 64 << 20

    /// Throws unless `bytes` may be allocated for `what` of `location`.
    static func check(_ bytes: Int, for what: String, location: String) throws {
        guard bytes > maximumBytes else { return }
        throw EmbeddingFileError(.tooLarge, location,
                                 "\(what) would need \(Self.describe(bytes)), more than curator allocates for one array (half of this machine's \(Self.describe(Int(clamping: ProcessInfo.processInfo.physicalMemory))) memory); the file is damaged or made to exhaust memory")
    }

    /// Throws unless a deflated member of `compressed` bytes may claim `uncompressed`.
    static func checkRatio(uncompressed: Int, compressed: Int, location: String) throws {
        guard uncompressed > ratioCheckedAbove, uncompressed / max(compressed, 1) > maximumDeflateRatio else { return }
        throw EmbeddingFileError(.tooLarge, location,
                                 "the member claims \(Self.describe(uncompressed)) from \(Self.describe(compressed)) compressed (\(uncompressed / max(compressed, 1)):1); more than \(maximumDeflateRatio):1 is a zip bomb, not embeddings")
    }

    /// `bytes` of memory aligned to `alignment` (a power of two ≥ 8), after
    /// `check`; the system refusing is an error, not an abort. Free with `free`.
    static func allocate(_ bytes: Int, alignment: Int = 64, for what: String, location: String) throws -> UnsafeMutableRawPointer {
        try check(bytes, for: what, location: location)
        var pointer: UnsafeMutableRawPointer?
        guard posix_memalign(&pointer, alignment, max(bytes, 1)) == 0, let pointer else {
            throw EmbeddingFileError(.tooLarge, location, "\(what) needs \(Self.describe(bytes)), which the system cannot allocate now")
        }
        return pointer
    }

    /// A byte count for people: `30.7 GB`, `512 MB`, `12 KB`, `100 bytes`.
    static func describe(_ bytes: Int) -> String {
        let units: [(Double, String)] = [(1e9, "GB"), (1e6, "MB"), (1e3, "KB")]
        for (size, unit) in units where Double(bytes) >= size {
            return String(format: "%.1f %@", Double(bytes) / size, unit)
        }
        return "\(bytes) bytes"
    }
}
