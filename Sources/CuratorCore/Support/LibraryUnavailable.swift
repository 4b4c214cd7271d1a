/// Why a library curator opens on first use (libvips, OpenBLAS) cannot be
/// used: it is missing, too old or would not start. They are not linked into
/// the executable so that start-up does not pay for loading them; the
/// message names the library and says how to install it.
public struct LibraryUnavailable: Error, Sendable, CustomStringConvertible {
    /// The loader's message, e.g. "libvips (libvips.so.42) could not be loaded: …".
    public let description: String

    /// Creates the error with the loader's message.
    public init(description: String) { self.description = description }
}
