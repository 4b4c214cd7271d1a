import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small HTTP/1.1 server on 127.0.0.1 for the download tests: one
/// connection at a time, each closed after its answer, every request
/// recorded. `answer` gives the bytes to send for a request (status line,
/// headers and body), so a test can send a redirect, ignore a Range, or cut
/// a body short.
final class TestHTTPServer: @unchecked Sendable {
    /// A request as received: its path and its headers (names in lower case).
    struct Request {
        let path: String
        let headers: [String: String]
    }

    let port: Int
    private let socket: Int32
    private let lock = NSLock()
    private var received: [Request] = []
    private let answer: @Sendable (Request) -> [UInt8]
    private let done = DispatchSemaphore(value: 0)

    /// The requests so far, in order.
    var requests: [Request] { lock.withLock { received } }

    /// Starts listening on a free port.
    init(answer: @escaping @Sendable (Request) -> [UInt8]) throws {
        self.answer = answer
        // A client that hangs up mid-answer (a cancelled download) must not end the test process.
        signal(SIGPIPE, SIG_IGN)
        #if canImport(Glibc)
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let socket = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        self.socket = socket
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socket, pointer, length) == 0 && listen(socket, 8) == 0 && getsockname(socket, pointer, &length) == 0
            }
        }
        guard bound else { throw CocoaError(.fileWriteUnknown) }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in serve() }
    }

    /// The address of `path` on this server.
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Stops listening.
    func stop() {
        shutdown(socket, Int32(SHUT_RDWR))
        close(socket)
        done.wait()
    }

    private func serve() {
        defer { done.signal() }
        while true {
            let client = accept(socket, nil, nil)
            guard client >= 0 else { return }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while !bytes.ends(with: "\r\n\r\n") {
                let n = read(client, &chunk, chunk.count)
                guard n > 0 else { break }
                bytes += chunk[..<n]
            }
            let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
            let path = lines.first?.split(separator: " ").dropFirst().first.map(String.init) ?? ""
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let request = Request(path: path, headers: headers)
            lock.withLock { received.append(request) }
            let reply = answer(request)
            var sent = 0
            while sent < reply.count {
                let n = reply[sent...].withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                guard n > 0 else { break }
                sent += n
            }
            close(client)
        }
    }

    /// A whole answer: status, headers (Content-Length added) and body.
    static func reply(_ status: String, headers: [String: String] = [:], body: [UInt8] = []) -> [UInt8] {
        var head = "HTTP/1.1 \(status)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        return Array((head + "\r\n").utf8) + body
    }

    /// The file's bytes from `Range: bytes=N-` on, as 206, or all of them as 200 without a Range
    /// (or with an If-Range naming another version than `etag`, sent as the ETag header).
    static func file(_ body: [UInt8], for request: Request, etag: String? = nil) -> [UInt8] {
        let tag = etag.map { ["ETag": $0] } ?? [:]
        let sameVersion = request.headers["if-range"].map { $0 == etag } ?? true
        if sameVersion, let range = request.headers["range"], range.hasPrefix("bytes="), range.hasSuffix("-"),
           let start = Int(range.dropFirst(6).dropLast()) {
            guard start < body.count else { return reply("416 Range Not Satisfiable", headers: ["Content-Range": "bytes */\(body.count)"]) }
            return reply("206 Partial Content", headers: tag.merging(["Content-Range": "bytes \(start)-\(body.count - 1)/\(body.count)"]) { a, _ in a },
                         body: Array(body[start...]))
        }
        return reply("200 OK", headers: tag, body: body)
    }
}

private extension Array where Element == UInt8 {
    func ends(with text: String) -> Bool { count >= text.utf8.count && suffix(text.utf8.count).elementsEqual(text.utf8) }
}
