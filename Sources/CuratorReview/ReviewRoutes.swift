import CuratorCore
import Dispatch
import Foundation
import Hummingbird

/// The review server's routes. Images are addressed by id only: no URL
/// carries a file path, so no URL can name a file outside the album.
enum ReviewRoutes {
    /// The largest action body accepted (a lasso of 100,000 ids fits).
    static let maximumBody = 8 << 20

    static func add(to router: Router<BasicRequestContext>, session: ReviewSession, access: Box<ReviewAccess>) {
        router.get("/") { _, _ in
            var reply = ReviewReply(contentType: "text/html; charset=utf-8", body: Array(ReviewPage.html.utf8))
            if let access = access.value {
                // After the first load the token travels in a cookie only this server's pages send.
                reply.headers.append(("Set-Cookie", "\(access.cookieName)=\(access.token); Path=/; HttpOnly; SameSite=Strict"))
            }
            return ReviewServer.response(reply)
        }
        router.get("/app.js") { _, _ in
            ReviewServer.response(ReviewReply(contentType: "text/javascript; charset=utf-8", body: Array(ReviewPage.script.utf8)))
        }
        router.get("/app.css") { _, _ in
            ReviewServer.response(ReviewReply(contentType: "text/css; charset=utf-8", body: Array(ReviewPage.style.utf8)))
        }
        router.get("/api/state") { _, _ in await offload { session.state() } }
        router.get("/api/images") { _, _ in await offload { session.images() } }
        router.get("/api/sets") { _, _ in await offload { session.sets() } }
        router.get("/api/map") { _, _ in await offload { session.map() } }
        router.get("/api/flags") { _, _ in await offload { session.flagList() } }
        router.get("/api/clusters") { _, _ in await offload { session.clusterList() } }
        router.get("/api/duplicates") { request, _ in
            let threshold = request.uri.queryParameters.get("threshold")
            return await offload { session.duplicateList(threshold: threshold) }
        }
        router.get("/api/paths") { request, _ in
            let from = request.uri.queryParameters.get("from").flatMap { Int($0) }
            let count = request.uri.queryParameters.get("count").flatMap { Int($0) }
            guard let from, let count else {
                return ReviewServer.response(.error(400, "paths: give from=N&count=M (integers)"))
            }
            return await offload { session.paths(from: from, count: count) }
        }
        router.get("/api/search") { request, _ in
            let query = request.uri.queryParameters.get("q") ?? ""
            return await offload { session.search(query) }
        }
        router.get("/api/run/:id", use: byIdentifier("no such run") { id, _ in session.run(id) })
        router.get("/api/run/:id/csv", use: byIdentifier("no such run") { id, _ in session.csv(id) })
        router.get("/api/image/:id", use: byIdentifier("no such image") { id, _ in session.info(id) })
        router.get("/api/thumb/:id", use: byIdentifier("no such image", decoding: true) { id, large in
            session.thumbnail(id, large: large)
        })
        router.post("/api/:action") { request, context in
            let action = context.parameters.get("action") ?? ""
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: maximumBody)
            } catch {
                return ReviewServer.response(.error(413, "\(action): the request body is larger than \(maximumBody >> 20) MB"))
            }
            let bytes = Array(body.readableBytesView)
            return await offload { session.perform(action, body: bytes) }
        }
    }

    /// The handler of a route ending in `:id`: a path whose id is no id (see
    /// `identifier`) gets 404 with `missing`; otherwise `reply(id, large)`
    /// runs offloaded, `large` saying whether the query asked `size=large`.
    static func byIdentifier(_ missing: String, decoding: Bool = false,
                             _ reply: @escaping @Sendable (Int64, Bool) -> ReviewReply)
        -> @Sendable (Request, BasicRequestContext) async -> Response {
        { request, context in
            guard let id = identifier(context) else { return ReviewServer.response(.error(404, missing)) }
            let large = request.uri.queryParameters.get("size") == "large"
            return await offload(decoding: decoding) { reply(id, large) }
        }
    }

    /// A positive decimal id from the route, or nil (`../x`, `1.5`, `-3` are no ids).
    static func identifier(_ context: BasicRequestContext) -> Int64? {
        guard let text = context.parameters.get("id"), text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber),
              let id = Int64(text), id > 0 else { return nil }
        return id
    }

    /// Decodes at most one image per core at once; more would only queue inside libvips.
    private static let decoders = DispatchSemaphore(value: availableCoreCount)

    /// Runs blocking work (SQLite, libvips) on a dispatch thread, never on
    /// the event loop or Swift's cooperative pool, which serve every request.
    static func offload(decoding: Bool = false, _ work: @escaping @Sendable () -> ReviewReply) async -> Response {
        let reply = await withCheckedContinuation { (continuation: CheckedContinuation<ReviewReply, Never>) in
            DispatchQueue.global(qos: .userInitiated).async {
                if decoding { decoders.wait() }
                let reply = work()
                if decoding { decoders.signal() }
                continuation.resume(returning: reply)
            }
        }
        return ReviewServer.response(reply)
    }
}
