import CChafaShims

/// libchafa, which turns pixels into what a terminal shows: Unicode
/// mosaics, sixel, kitty or iTerm2 graphics (`ContactSheet` uses it).
///
/// It is not linked into curator: it is opened with dlopen the first time a
/// picture is drawn in the terminal, so that start-up does not load it and
/// GLib, and curator runs where it is missing (only drawing fails, with a
/// message naming it). `$CURATOR_LIBCHAFA` names another file than
/// `libchafa.so.0` (`libchafa.0.dylib` on macOS).
public enum Libchafa {
    /// Loads libchafa if nothing did yet; returns whether it can be used.
    @discardableResult
    public static func start() -> Bool { curator_chafa_init() == 0 }

    /// Loads libchafa, or throws why it cannot be used.
    public static func require() throws(LibraryUnavailable) {
        if let unavailableReason { throw LibraryUnavailable(description: unavailableReason) }
    }

    /// Why libchafa cannot be used (naming the library and how to install
    /// it), or nil when it loaded.
    public static var unavailableReason: String? {
        curator_chafa_load_error().map { String(cString: $0) }
    }
}
