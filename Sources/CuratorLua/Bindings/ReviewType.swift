import CLuaShims
import CuratorCore
import CuratorReview
import Foundation

/// A review page's server as Lua holds it.
public final class ReviewHandle {
    /// The album reviewed.
    public let owner: AlbumHandle
    /// The server (closed by `v:close()`, the end of the process, or the page's Done with `wait`).
    public let server: ReviewServer

    init(owner: AlbumHandle, server: ReviewServer) {
        self.owner = owner
        self.server = server
    }
}

/// Every member of `Review` (SPEC §9, issue 16), and the start shared by
/// `a:review` (registered with Album's members) and `r:review` (with Run's).
/// The server runs on its own threads with its own connection to the index;
/// Lua only starts, waits for and stops it.
enum ReviewType {
    /// The options of `a:review` and `r:review` (`a:review` also takes `run`).
    static let optionNames = ["port", "host", "wait"]

    /// `a:review{run=}`: a Run of this album or a run id, else nil.
    static func run(_ options: LuaOptions, of handle: AlbumHandle, types: CuratorTypes, call: LuaCall) throws -> Int64? {
        defer { call.lua.pop() }
        guard options.pushValue("run") != .nil else { return nil }
        if let r = types.run.object(at: -1, in: call.lua) {
            guard r.owner === handle else { throw call.failure("run: the run belongs to another album") }
            return r.run.id
        }
        if let id = call.lua.integer(at: -1) {
            guard try handle.album.run(id: id) != nil else { throw call.failure("run: no run #\(id) in album \"\(handle.album.name)\"") }
            return id
        }
        throw call.failure("run must be a Run or a run id (got \(LuaCall.shown(call.lua, -1)))")
    }

    /// Starts a server on `handle`'s album (opening on `run`), prints its
    /// address, waits when `wait=true`, and pushes the `Review`.
    static func start(_ host: CuratorHost, _ handle: AlbumHandle, run: Int64?, _ options: LuaOptions,
                      _ call: LuaCall, _ types: CuratorTypes) throws -> Int32 {
        try host.require(.serving, call)
        var serve = ReviewServer.Options(run: run)
        if let port = try options.integer("port") {
            guard (1...65535).contains(port) else { throw call.failure("port must be an integer from 1 to 65535 (got \(port))") }
            serve.port = port
        }
        if let address = try options.string("host") {
            guard !address.isEmpty else { throw call.failure("host must be an address such as \"127.0.0.1\"") }
            serve.host = address
        }
        let wait = try options.boolean("wait") ?? false
        let server: ReviewServer
        do {
            server = try ReviewServer.start(album: handle.album, options: serve)
        } catch let error as ReviewServerError {
            throw call.failure(error.description)
        }
        host.openReviews.removeAll { $0.isClosed }
        host.openReviews.append(server)
        announce(server, waiting: wait)
        let review = ReviewHandle(owner: handle, server: server)
        if wait {
            waitForPage(server)
            server.close()
        }
        types.review.push(review, on: call.lua)
        return 1
    }

    /// Prints where the page is (as `curator review` does).
    static func announce(_ server: ReviewServer, waiting: Bool) {
        if server.isExposed {
            FileHandle.standardError.write(Data(("review: warning: serving on \(server.host), not only this machine: anyone who can reach "
                + "port \(server.port) and has the link can see the album and change its exclusions\n").utf8))
        }
        let how = waiting ? "press Done on the page (or Ctrl-C) to go on"
            : "v:close() or Ctrl-C at the prompt stops it; so does leaving curator"
        print("review: \(server.url)   (\(how))")
        fflush(nil)
    }

    /// Blocks until the page says it is done, the server closes, or Ctrl-C.
    static func waitForPage(_ server: ReviewServer) {
        while !server.isClosed, !server.session.waitUntilDone(timeout: 0.1) {
            if curator_interrupt_requested() != 0 { break }
        }
    }

    /// Argument `n`: a list of `{image=, issues={"blurry", ...}}` (the
    /// quality plugin's `flag` result) as issues by image id.
    static func flagList(_ call: LuaCall, _ n: Int, of owner: AlbumHandle, types: CuratorTypes) throws -> [Int64: [String]] {
        let lua = call.lua
        let list = call.index(n)
        guard lua.type(at: list) == .table else {
            throw call.badArgument(n, "a list of {image=, issues={...}} expected (curator.plugins.quality.flag(a)), got \(lua.typeName(at: list))")
        }
        guard lua.ensureSpace(4) else { throw call.badArgument(n, "stack overflow") }
        var flags: [Int64: [String]] = [:]
        for i in 1...max(1, lua.rawLength(at: list)) where lua.rawLength(at: list) > 0 {
            guard lua.rawGet(list, index: i) == .table else {
                defer { lua.pop() }
                throw call.badArgument(n, "[\(i)]: {image=, issues={...}} expected, got \(lua.typeName(at: -1))")
            }
            defer { lua.pop() }
            let entry = lua.absolute(-1)
            lua.rawGet(entry, "image")
            let id: Int64
            do {
                defer { lua.pop() }
                id = try types.imageID(call, at: -1, what: "flagged[\(i)].image", of: owner)
            }
            guard lua.rawGet(entry, "issues") == .table else {
                defer { lua.pop() }
                throw call.badArgument(n, "[\(i)].issues: a list of strings expected, got \(lua.typeName(at: -1))")
            }
            defer { lua.pop() }
            let issuesIndex = lua.absolute(-1)
            var issues: [String] = []
            for k in 1...max(1, lua.rawLength(at: issuesIndex)) where lua.rawLength(at: issuesIndex) > 0 {
                lua.rawGet(issuesIndex, index: k)
                defer { lua.pop() }
                guard lua.type(at: -1) == .string, let issue = lua.string(at: -1) else {
                    throw call.badArgument(n, "[\(i)].issues[\(k)]: string expected, got \(lua.typeName(at: -1))")
                }
                issues.append(issue)
            }
            flags[id, default: []] += issues
        }
        return flags
    }

    static func install(_ types: CuratorTypes, host: CuratorHost) {
        let t = types.review
        t.describe { h in "<Review \(h.server.url)\(h.server.isClosed ? " (closed)" : "")>" }
        t.property("url", type: "string", summary: "The page's address, token included (open it in a browser)") { h, lua in lua.push(h.server.url) }
        t.property("port", type: "integer", summary: "The port the page is served on") { h, lua in lua.push(h.server.port) }
        t.property("closed", type: "boolean", summary: "Whether the server has stopped") { h, lua in lua.push(h.server.isClosed) }
        t.property("done", type: "boolean", summary: "Whether the page's Done button was pressed") { h, lua in lua.push(h.server.session.isDone) }
        t.method("close", signature: "v:close()", summary: "Stops the server (the open page says the review ended)") { h, _ in
            h.server.close()
            host.openReviews.removeAll { $0 === h.server }
            return 0
        }
        t.method("flags", signature: "v:flags(flagged) -> integer",
                 summary: "Shows these quality flags on the page instead of its own (the quality plugin's checks at their "
                    + "default thresholds): flagged is what curator.plugins.quality.flag(a, opts) returns, "
                    + "{{image=, issues={...}}, ...}; {} clears them. Returns how many images are flagged") { h, call in
            let flags = try flagList(call, 1, of: h.owner, types: types)
            h.server.session.setFlags(flags)
            call.lua.push(flags.count)
            return 1
        }
        t.method("clusters", signature: "v:clusters(c) -> integer",
                 summary: "Shows clusters c (a:clusters()) on the page with their labels, instead of the index's newest "
                    + "clustering (shown with the labels a:clusters() last gave it): the map coloured by cluster, a filter, each image's cluster in the "
                    + "side panel. Returns the number of clusters") { h, call in
            let lua = call.lua
            guard let handle = types.clusters.object(at: call.index(1), in: lua) else {
                throw call.badArgument(1, "Clusters expected (a:clusters()), got \(lua.typeName(at: call.index(1)))")
            }
            guard handle.owner === h.owner else {
                throw call.badArgument(1, "these clusters are of album \"\(handle.owner.album.name)\", not of the album this page shows")
            }
            let clusters = handle.clusters
            h.server.session.setClusters(clusters, labels: clusters.clusters.indices.map { handle.labels?[$0].label })
            lua.push(clusters.clusters.count)
            return 1
        }
        t.method("wait", signature: "v:wait() -> boolean",
                 summary: "Blocks until the page's Done button (true) or Ctrl-C / the server closing (false)") { h, call in
            waitForPage(h.server)
            call.lua.push(h.server.session.isDone)
            return 1
        }
    }
}
