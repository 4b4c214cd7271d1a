/// The version of curator, shown by `curator --version` and the REPL banner.
public enum CuratorVersion {
    /// The semantic version string.
    public static let string = "0.1.0"
}
