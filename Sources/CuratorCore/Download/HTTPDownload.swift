import CCurlShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One HTTP(S) GET of a URL, appended to an open file, through libcurl
/// (opened on first use: nothing else in curator touches the network).
enum HTTPDownload {
    /// How a fetch ended without an error.
    enum Outcome: Equatable {
        /// The body (or the rest of it, when resuming) was written.
        case done
        /// Asked to resume, the server answered with the whole file (of
        /// which nothing was written) or said the range lies past the file's
        /// end (416: it changed since): start again from the first byte.
        case noRanges
    }

    /// Told of the bytes received (counting those resumed from) and the whole
    /// size when known; returns false to stop.
    typealias Progress = (_ received: Int64, _ total: Int64?) -> Bool

    /// The closure the C progress callback reaches through its context pointer.
    private final class ProgressBox {
        let progress: Progress
        init(_ progress: @escaping Progress) { self.progress = progress }
    }

    /// GETs `url`, appending the body to `fd` from byte `offset` of the file
    /// (a Range request when above 0). `headers` are extra request lines.
    /// `etag` receives the response's ETag (nil without one), also when the
    /// transfer fails after the headers arrived.
    static func fetch(_ url: String, headers: [String] = [], appendingTo fd: Int32, offset: Int64,
                      etag: inout String?, progress: @escaping Progress) throws(DownloadError) -> Outcome {
        let box = ProgressBox(progress)
        let context = Unmanaged.passRetained(box)
        defer { context.release() }
        var status = 0
        var writeErrno: Int32 = 0
        var message = [CChar](repeating: 0, count: 512)
        var tag = [CChar](repeating: 0, count: 256)
        let code: Int32 = withCStrings(headers) { lines in
            curator_curl_fetch(url, lines, headers.count, fd, offset, "curator/\(CuratorVersion.string)",
                               { context, received, total in
                                   let box = Unmanaged<ProgressBox>.fromOpaque(context!).takeUnretainedValue()
                                   return box.progress(received, total >= 0 ? total : nil) ? 0 : 1
                               },
                               context.toOpaque(), &status, &writeErrno, &tag, tag.count, &message, message.count)
        }
        let said = Self.text(message)
        let received = Self.text(tag)
        etag = received.isEmpty ? nil : received
        switch code {
        case Int32(CURATOR_CURL_DONE): return .done
        case Int32(CURATOR_CURL_NO_RANGES): return .noRanges
        case Int32(CURATOR_CURL_UNAVAILABLE): throw DownloadError(.unavailable, said)
        case Int32(CURATOR_CURL_STOPPED): throw DownloadError(.cancelled, url, "interrupted")
        case Int32(CURATOR_CURL_WRITE_FAILED) where writeErrno != 0:
            throw DownloadError(.file, url, "writing the file failed: \(String(cString: strerror(writeErrno)))")
        case Int32(CURATOR_CURL_HTTP_ERROR):
            switch status {
            case 416 where offset > 0: return .noRanges
            case 404: throw DownloadError(.notFound, url, "HTTP 404 (not in the repository)")
            case 401, 403:
                throw DownloadError(.refused, url, "HTTP \(status) (the repository is private or gated: accept its terms on its page, then set HF_TOKEN to an access token)")
            default: throw DownloadError(.refused, url, "HTTP \(status)")
            }
        default:
            throw DownloadError(.network, url, said.isEmpty ? "libcurl error \(code)" : said)
        }
    }

    /// The text of a NUL-terminated buffer the shim filled.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Calls `body` with the strings as a C array of pointers, valid during the call.
    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
