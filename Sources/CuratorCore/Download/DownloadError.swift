/// What went wrong fetching a model: no libcurl, a name curator does not
/// know, the server's refusal, the network, the disk, or a file that
/// arrived but is not what its name says. The message names the file or
/// URL and the problem, e.g.
/// `https://huggingface.co/openai/clip-vit-base-patch32/resolve/main/config.json: HTTP 404 (not in the repository)`.
public typealias DownloadError = CuratorError<DownloadErrorKind>

/// The broad class of problem, for callers that react differently to each.
public enum DownloadErrorKind: String, Sendable {
    /// libcurl could not be loaded.
    case unavailable
    /// The model's name is not one curator knows.
    case unknownModel
    /// The server has no such file (HTTP 404).
    case notFound
    /// The server refused or failed (another HTTP status of 400 or above).
    case refused
    /// The connection failed, stalled or was cut.
    case network
    /// The file could not be written.
    case file
    /// The file arrived but is damaged or of another kind (an error page, a truncated tensor file).
    case invalid
    /// The user stopped it (Ctrl-C).
    case cancelled
}
