import CVipsShims
import Foundation
import XCTest
@testable import CuratorCore
@testable import CuratorReview
#if canImport(Glibc)
import Glibc
#endif

/// A folder removed when the test ends.
final class ReviewFolder {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "curator-review-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes a 64×48 JPEG whose colours depend on `seed` (images differ, so selections differ).
    @discardableResult
    func writeJPEG(_ relative: String, seed: Int) -> String {
        let full = path + "/" + relative
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let (w, h) = (64, 48)
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let i = (y * w + x) * 3
                pixels[i] = UInt8((x * 4 + seed * 37) & 255)
                pixels[i + 1] = UInt8((y * 5 + seed * 91) & 255)
                pixels[i + 2] = UInt8(((x ^ y) * (seed % 7 + 1)) & 255)
            }
        }
        var message: UnsafeMutablePointer<CChar>?
        XCTAssertEqual(curator_vips_save_u8(full, pixels, Int32(w), Int32(h), 3, "srgb", 0, &message), 0)
        free(message)
        return full
    }

    func write(_ relative: String, _ text: String) {
        precondition(FileManager.default.createFile(atPath: path + "/" + relative, contents: Data(text.utf8)),
                     "cannot write \(relative)")
    }
}

/// A small album with a run: 18 JPEGs in three folders, one caption.
func makeReviewAlbum() throws -> (ReviewFolder, Album, SelectionRun) {
    let folder = ReviewFolder()
    for i in 0..<18 { folder.writeJPEG(["sunset", "forest", "city"][i % 3] + "/\(String(format: "%03d", i)).jpg", seed: i) }
    folder.write("sunset/000.txt", "a red sky over the sea")
    let album = try Album.open(folder.path)
    let run = try album.select(SelectOptions(method: "fps", count: 6, iterations: 10, seed: 1))
    return (folder, album, run)
}

/// One HTTP/1.1 exchange over a plain socket, so tests control every header
/// (Host, Origin, Cookie) exactly as a browser or an attacker would send them.
struct HTTPExchange {
    let status: Int
    let headers: [String: String]
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }

    /// Sends the request to 127.0.0.1:`port`. `host` nil sends the server's own; "" sends none.
    static func send(port: Int, _ target: String, method: String = "GET", host: String? = nil,
                     headers: [(String, String)] = [], body: [UInt8]? = nil) throws -> HTTPExchange {
        let fd = try connect(port: port)
        defer { close(fd) }
        var request = "\(method) \(target) HTTP/1.1\r\n"
        let hostValue = host ?? "127.0.0.1:\(port)"
        if !hostValue.isEmpty { request += "Host: \(hostValue)\r\n" }
        request += "Connection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        if let body { request += "Content-Length: \(body.count)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8) + (body ?? [])
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw NSError(domain: "send", code: Int(errno)) }
            sent += n
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            reply += buffer[0..<n]
        }
        guard let split = reply.firstRange(of: Array("\r\n\r\n".utf8)) else { throw NSError(domain: "reply", code: 0) }
        let head = String(decoding: reply[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(head[0].split(separator: " ")[1]) ?? 0
        var fields: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased(), value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            fields[name] = fields[name].map { $0 + "\n" + value } ?? value
        }
        var payload = Array(reply[split.upperBound...])
        if fields["transfer-encoding"]?.contains("chunked") == true { payload = dechunk(payload) }
        return HTTPExchange(status: status, headers: fields, body: payload)
    }

    /// A socket connected to 127.0.0.1:`port` (the caller closes it).
    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NSError(domain: "socket", code: Int(errno)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            close(fd)
            throw NSError(domain: "connect", code: Int(code))
        }
        return fd
    }

    private static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [], i = 0
        while i < bytes.count {
            guard let end = bytes[i...].firstRange(of: Array("\r\n".utf8)) else { break }
            let size = Int(String(decoding: bytes[i..<end.lowerBound], as: UTF8.self), radix: 16) ?? 0
            if size == 0 { break }
            out += bytes[end.upperBound..<min(bytes.count, end.upperBound + size)]
            i = end.upperBound + size + 2
        }
        return out
    }
}

extension ReviewServer {
    /// A GET or POST with the token in a header, as the page's script sends it.
    func get(_ target: String, headers: [(String, String)] = []) throws -> HTTPExchange {
        try HTTPExchange.send(port: port, target, headers: [("X-Curator-Token", token)] + headers)
    }

    func post(_ action: String, _ json: Any) throws -> HTTPExchange {
        let body = try JSONSerialization.data(withJSONObject: json)
        return try HTTPExchange.send(port: port, "/api/\(action)", method: "POST",
                                     headers: [("X-Curator-Token", token), ("Content-Type", "application/json"),
                                               ("Origin", "http://127.0.0.1:\(port)")], body: [UInt8](body))
    }
}
