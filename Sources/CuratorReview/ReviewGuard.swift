import Foundation
import HTTPTypes
import Hummingbird

/// Who may talk to a review server: requests that name the server as it was
/// bound (the Host header, against DNS rebinding), that come from its own
/// page when a browser says where they come from (the Origin header, against
/// other sites' scripts and forms), and that carry the server's token (in
/// the URL the first time, then in a cookie or header).
public struct ReviewAccess: Sendable {
    /// The secret every request must carry.
    public let token: String
    /// The host names the Host header may give (without the port).
    let hostNames: Set<String>
    /// The port the server is bound to.
    let port: Int

    /// The cookie that carries the token after the first load (one per port:
    /// browsers share cookies between ports of a host).
    var cookieName: String { "curator_review_\(port)" }

    /// Access for a server bound to `host`:`port`.
    init(token: String, host: String, port: Int) {
        self.token = token
        self.port = port
        var names: Set<String> = ["127.0.0.1", "localhost", "[::1]"]
        names.insert(host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host)
        hostNames = names
    }

    /// A new random token (128 bits, hexadecimal).
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%08x", UInt32.random(in: 0...UInt32.max, using: &generator)) }.joined()
    }

    /// Why the request is refused (403), or nil when it may proceed.
    func refusal(authority: String?, origin: String?, queryToken: String?, cookieToken: String?, headerToken: String?) -> String? {
        guard let authority, hostNames.contains(where: { authority == "\($0):\(port)" }) else {
            return "refused: the Host header (\(authority ?? "none")) does not name this server"
        }
        if let origin, !hostNames.contains(where: { origin == "http://\($0):\(port)" }) {
            return "refused: requests from \(origin) are not allowed"
        }
        let offered = [queryToken, headerToken, cookieToken].compactMap { $0 }
        guard offered.contains(where: { Self.same($0, token) }) else {
            return "refused: this page needs the token printed when the review started (open the full URL)"
        }
        return nil
    }

    /// Compares in time independent of where the strings differ.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}

/// Applies `ReviewAccess` to every request before it reaches a route.
struct ReviewGuard<Context: RequestContext>: RouterMiddleware {
    let access: ReviewAccess

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let origin = request.headers[.origin]
        let refusal = access.refusal(authority: request.head.authority, origin: origin,
                                     queryToken: request.uri.queryParameters.get("token"),
                                     cookieToken: request.cookies[access.cookieName]?.value,
                                     headerToken: request.headers[HTTPField.Name("X-Curator-Token")!])
        if let refusal {
            return ReviewServer.response(.error(403, refusal))
        }
        // A form on another site cannot send JSON without asking first (and is refused above).
        if request.method == .post, !(request.headers[.contentType] ?? "").hasPrefix("application/json") {
            return ReviewServer.response(.error(415, "actions take a JSON body (Content-Type: application/json)"))
        }
        return try await next(request, context)
    }
}
