import Foundation
import XCTest
@testable import CuratorCore
@testable import CuratorReview

/// Every route of the review server over real HTTP: status codes, the
/// JSON's shape, the guard (token, Host, Origin), unknown ids, path
/// traversal, and what the actions leave in the index.
final class ReviewRouteTests: XCTestCase {
    private var folder: ReviewFolder!
    private var album: Album!
    private var run: SelectionRun!
    private var server: ReviewServer!

    override func setUpWithError() throws {
        (folder, album, run) = try makeReviewAlbum()
        server = try ReviewServer.start(album: album, options: .init(run: run.id))
    }

    override func tearDown() {
        server?.close()
        server = nil
        // XCTest keeps every test case alive until the run ends: drop the folder now, or it is never removed.
        album = nil
        run = nil
        folder = nil
    }

    // MARK: The page and the guard

    func testThePageNeedsTheTokenOnceThenACookie() throws {
        XCTAssertTrue(server.url.hasPrefix("http://127.0.0.1:\(server.port)/?token="), server.url)
        let refused = try HTTPExchange.send(port: server.port, "/")
        XCTAssertEqual(refused.status, 403)
        XCTAssertFalse(refused.text.contains("<html"), "a refused request shows nothing of the page")

        let page = try HTTPExchange.send(port: server.port, "/?token=\(server.token)")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.headers["content-type"]?.hasPrefix("text/html") == true)
        XCTAssertTrue(page.text.contains("Exclude ≥ 90 %"))
        let cookie = try XCTUnwrap(page.headers["set-cookie"])
        XCTAssertTrue(cookie.contains("curator_review_\(server.port)=\(server.token)"), cookie)
        XCTAssertTrue(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), cookie)

        let withCookie = try HTTPExchange.send(port: server.port, "/app.js", headers: [("Cookie", "curator_review_\(server.port)=\(server.token)")])
        XCTAssertEqual(withCookie.status, 200)
        XCTAssertTrue(withCookie.text.contains("curatorReview"))
        let css = try server.get("/app.css")
        XCTAssertEqual(css.status, 200)
        XCTAssertTrue(css.text.contains(SelectionTier.core.colour), "the tier colours come from TierAppearance")
    }

    func testWrongTokenHostOrOriginIsRefusedAndChangesNothing() throws {
        let target = album.images[0].id
        let bad: [(String, String?, [(String, String)])] = [
            ("wrong token", nil, [("X-Curator-Token", String(server.token.reversed()))]),
            ("wrong cookie", nil, [("Cookie", "curator_review_\(server.port)=nope")]),
            ("token of another length", nil, [("X-Curator-Token", server.token + "0")]),
            ("DNS rebinding", "evil.example:\(server.port)", [("X-Curator-Token", server.token)]),
            ("no Host", "", [("X-Curator-Token", server.token)]),
            ("another site", nil, [("X-Curator-Token", server.token), ("Origin", "http://evil.example")]),
            ("another port", nil, [("X-Curator-Token", server.token), ("Origin", "http://127.0.0.1:\(server.port + 1)")]),
        ]
        for (what, host, headers) in bad {
            let state = try HTTPExchange.send(port: server.port, "/api/state", host: host, headers: headers)
            XCTAssertEqual(state.status, 403, what)
            XCTAssertNotNil(state.json["error"], what)
            let body = Array(#"{"add":[\#(target)]}"#.utf8)
            let post = try HTTPExchange.send(port: server.port, "/api/exclusions", method: "POST", host: host,
                                             headers: headers + [("Content-Type", "application/json")], body: body)
            XCTAssertEqual(post.status, 403, what)
        }
        try album.exclusions.refresh()
        XCTAssertEqual(album.exclusions.count, 0, "no refused request changed the index")

        let ownOrigin = try server.get("/api/state", headers: [("Origin", "http://localhost:\(server.port)")])
        XCTAssertEqual(ownOrigin.status, 200)
        let localhost = try HTTPExchange.send(port: server.port, "/api/state", host: "localhost:\(server.port)",
                                              headers: [("X-Curator-Token", server.token)])
        XCTAssertEqual(localhost.status, 200)
    }

    func testActionsNeedAJSONBody() throws {
        let form = try HTTPExchange.send(port: server.port, "/api/clear-exclusions", method: "POST",
                                         headers: [("X-Curator-Token", server.token), ("Content-Type", "application/x-www-form-urlencoded")],
                                         body: Array("a=1".utf8))
        XCTAssertEqual(form.status, 415)
        let broken = try HTTPExchange.send(port: server.port, "/api/exclusions", method: "POST",
                                           headers: [("X-Curator-Token", server.token), ("Content-Type", "application/json")],
                                           body: Array("{not json".utf8))
        XCTAssertEqual(broken.status, 400)
        XCTAssertEqual(try server.post("exclusions", ["add": ["7"]]).status, 400, "ids are numbers")
        XCTAssertEqual(try server.post("exclusions", ["add": [1.5]]).status, 400)
        XCTAssertEqual(try server.post("exclusions", [:] as [String: Any]).status, 400)
        XCTAssertEqual(try server.post("no-such-action", [:] as [String: Any]).status, 404)
    }

    // MARK: Reads

    func testStateImagesRunAndSetsHaveTheirShape() throws {
        let state = try server.get("/api/state")
        XCTAssertEqual(state.status, 200)
        let albumInfo = try XCTUnwrap(state.json["album"] as? [String: Any])
        XCTAssertEqual(albumInfo["images"] as? Int, 18)
        XCTAssertEqual(albumInfo["name"] as? String, album.name)
        XCTAssertEqual(state.json["initialRun"] as? Int, Int(run.id))
        let generation = try XCTUnwrap(state.json["generation"] as? [String: Any])
        XCTAssertEqual(generation["runs"] as? Int, Int(run.id))
        XCTAssertNotNil(generation["sets"] as? Int)
        let runs = try XCTUnwrap(state.json["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.map { $0["id"] as? Int }, [Int(run.id)])

        let images = try server.get("/api/images").json
        XCTAssertEqual(images["ids"] as? [Int], album.images.map { Int($0.id) }, "the album's order: a[i] is ids[i-1]")
        XCTAssertNil(images["paths"], "paths come a page at a time")
        let folders = try XCTUnwrap(images["folders"] as? [String])
        XCTAssertEqual(folders, Set(album.images.map(\.path.folder.string)).sorted())
        XCTAssertEqual((images["folderOf"] as? [Int])?.map { folders[$0] }, album.images.map(\.path.folder.string))
        let page = try server.get("/api/paths?from=1&count=3").json
        XCTAssertEqual(page["from"] as? Int, 1)
        XCTAssertEqual(page["paths"] as? [String], album.images[1..<4].map(\.path.string))
        XCTAssertEqual(try server.get("/api/paths?from=\(album.images.count - 1)&count=1000").json["paths"] as? [String],
                       [album.images.last!.path.string], "a page past the end is cut short")
        XCTAssertEqual(try server.get("/api/paths?from=-1&count=3").status, 400)
        XCTAssertEqual(try server.get("/api/paths?from=0&count=100000").status, 400)
        XCTAssertEqual(try server.get("/api/paths?from=x").status, 400)

        let shown = try server.get("/api/run/\(run.id)").json
        XCTAssertEqual(shown["count"] as? Int, 6)
        XCTAssertEqual(shown["iterations"] as? Int, 10)
        XCTAssertEqual(shown["selection"] as? Int, run.selection.count)
        let ids = try XCTUnwrap(shown["ids"] as? [Int])
        XCTAssertEqual(Array(ids.prefix(run.selection.count)), run.selection.map(Int.init), "the page numbers tiles as r.selection")
        XCTAssertEqual(ids, run.ranking.map { Int($0.image) })
        XCTAssertEqual(shown["votes"] as? [Int], run.ranking.map(\.votes))
        let tiers = try XCTUnwrap(shown["tiers"] as? String)
        XCTAssertEqual(Array(tiers), run.ranking.map { $0.tier.rawValue.first! })
        XCTAssertEqual(shown["seed"] as? String, "1")
        XCTAssertEqual(shown["paths"] as? [String], run.ranking.map { album.image(id: $0.image)!.path.string },
                       "the run brings its images' paths (its first page needs no album list)")

        let sets = try server.get("/api/sets").json
        XCTAssertEqual(sets["exclusions"] as? [Int], [])
        XCTAssertEqual(sets["favorites"] as? [Int], [])

        let info = try server.get("/api/image/\(album.images.first { $0.path.string == "sunset/000.jpg" }!.id)").json
        XCTAssertEqual(info["path"] as? String, "sunset/000.jpg")
        XCTAssertEqual(info["folder"] as? String, "sunset")
        XCTAssertEqual(info["caption"] as? String, "a red sky over the sea")
        XCTAssertEqual(info["width"] as? Int, 64)
        XCTAssertEqual(info["present"] as? Bool, true)
        XCTAssertNotNil(info["stats"] as? [String: Any], "the pixels embedder's statistics")

        let search = try server.get("/api/search?q=RED%20SKY").json
        XCTAssertEqual(search["ids"] as? [Int], [Int(album.image(path: "sunset/000.jpg")!.id)], "captions are searched, case-insensitively")
        XCTAssertEqual((try server.get("/api/search?q=forest/").json["ids"] as? [Int])?.count, 6, "and paths")
    }

    func testThumbnailsAreJPEGsMadeOnceAndMissingFilesSaySo() throws {
        let image = album.images[3]
        let first = try server.get("/api/thumb/\(image.id)")
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(first.headers["content-type"], "image/jpeg")
        XCTAssertEqual(Array(first.body.prefix(3)), [0xFF, 0xD8, 0xFF])
        let cache = ThumbnailCache(indexPath: album.database.path, size: 256)
        XCTAssertTrue(cache.contains(image), "kept under .curator/thumbnails")
        XCTAssertTrue(cache.folder.hasPrefix(folder.path + "/.curator/thumbnails/"), cache.folder)
        XCTAssertEqual(try server.get("/api/thumb/\(image.id)").body, first.body)
        XCTAssertEqual(try server.get("/api/thumb/\(image.id)?size=large").status, 200)

        // A file removed after indexing: its tile says missing; nothing crashes.
        let gone = album.images[4]
        try FileManager.default.removeItem(atPath: album.absolutePath(of: gone).string)
        let missing = try server.get("/api/thumb/\(gone.id)")
        XCTAssertEqual(missing.status, 404)
        XCTAssertTrue((missing.json["error"] as? String)?.hasPrefix("missing") == true, missing.text)
        XCTAssertEqual(try server.get("/api/image/\(gone.id)").json["present"] as? Bool, false)
        XCTAssertEqual(try server.get("/api/state").status, 200)
        // Gone with its thumbnail cached: missing all the same (the cache does not hide it).
        try FileManager.default.removeItem(atPath: album.absolutePath(of: image).string)
        XCTAssertTrue(cache.contains(image))
        let cachedButGone = try server.get("/api/thumb/\(image.id)")
        XCTAssertEqual(cachedButGone.status, 404)
        XCTAssertTrue((cachedButGone.json["error"] as? String)?.hasPrefix("missing") == true, cachedButGone.text)
    }

    func testAThumbnailOfAFileNamedInBytesThatAreNotUTF8IsMade() throws {
        // The missing-file check stats the name's exact bytes: through a
        // String it would be a different (absent) file, and the tile "missing".
        let other = ReviewFolder()
        other.writeJPEG("plain.jpg", seed: 3)
        let latin1 = FileSystemPath(other.path).appending(Array("caf".utf8) + [0xE9] + Array(".jpg".utf8))
        XCTAssertEqual(FileSystemPath(other.path + "/plain.jpg").withCPath { from in latin1.withCPath { rename(from, $0) } }, 0)
        let album = try Album.open(other.path)
        let image = try XCTUnwrap(album.images.first)
        XCTAssertEqual(album.absolutePath(of: image), latin1)
        let server = try ReviewServer.start(album: album)
        defer { server.close() }
        let thumb = try server.get("/api/thumb/\(image.id)")
        XCTAssertEqual(thumb.status, 200, thumb.text)
        XCTAssertEqual(Array(thumb.body.prefix(3)), [0xFF, 0xD8, 0xFF])
    }

    func testUnknownIdsAre404AndChangeNothing() throws {
        for target in ["/api/image/999999", "/api/thumb/999999", "/api/run/99", "/api/run/99/csv", "/api/image/0", "/api/thumb/-3",
                       "/api/image/1.5", "/api/nothing-here"] {
            let reply = try server.get(target)
            XCTAssertEqual(reply.status, 404, target)
        }
        XCTAssertEqual(try server.post("exclusions", ["add": [album.images[0].id, 999_999]]).status, 404)
        XCTAssertEqual(try server.post("exclude-threshold", ["run": 99, "min": 0.9]).status, 404)
        try album.exclusions.refresh()
        XCTAssertEqual(album.exclusions.count, 0, "a request naming an unknown image changes nothing")
    }

    func testPathTraversalNeverReachesAFile() throws {
        for target in ["/api/thumb/..%2F..%2F..%2Fetc%2Fpasswd", "/api/thumb/../../../etc/passwd", "/../../etc/passwd",
                       "/%2e%2e/%2e%2e/etc/passwd", "/api/image/1%2F..%2F..%2Fetc%2Fpasswd", "/app.js/../../../../etc/passwd",
                       "/api/thumb/%2Fetc%2Fpasswd", "/api/run/1/..%2F..%2Fcsv"] {
            let reply = try server.get(target)
            XCTAssertTrue([400, 404].contains(reply.status), "\(target): \(reply.status)")
            XCTAssertFalse(reply.text.contains("root:"), target)
        }
    }

    // MARK: Actions

    func testExclusionsFromThePageReachTheREPLAndBack() throws {
        let a = album.images[0].id, b = album.images[1].id
        let added = try server.post("exclusions", ["add": [a, b]])
        XCTAssertEqual(added.status, 200)
        XCTAssertEqual(added.json["changed"] as? Int, 2)
        try album.exclusions.refresh()
        XCTAssertEqual(album.exclusions.ids, [a, b], "the REPL's album sees the page's clicks, in order")

        XCTAssertEqual(try server.post("exclusions", ["remove": [a]]).json["changed"] as? Int, 1)
        try album.exclusions.refresh()
        XCTAssertEqual(album.exclusions.ids, [b])

        // The REPL excludes: the page's next read has it, with a new generation.
        let before = try XCTUnwrap(try server.get("/api/state").json["generation"] as? [String: Any])["sets"] as? Int
        try album.exclusions.add([album.images[5].id])
        let after = try XCTUnwrap(try server.get("/api/state").json["generation"] as? [String: Any])["sets"] as? Int
        XCTAssertNotEqual(before, after)
        XCTAssertEqual(try server.get("/api/sets").json["exclusions"] as? [Int], [Int(b), Int(album.images[5].id)])

        // A new run from the REPL shows up in the state.
        let second = try album.select(SelectOptions(method: "fps", count: 4, iterations: 5, seed: 2))
        let state = try server.get("/api/state").json
        XCTAssertEqual((state["generation"] as? [String: Any])?["runs"] as? Int, Int(second.id))
        XCTAssertEqual((state["runs"] as? [[String: Any]])?.count, 2)
    }

    func testExcludeThresholdClearFavoritesAndDone() throws {
        let core = run.images(minimumFrequency: 0.9)
        let reply = try server.post("exclude-threshold", ["run": run.id, "min": 0.9])
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(reply.json["changed"] as? Int, core.count)
        try album.exclusions.refresh()
        XCTAssertEqual(album.exclusions.ids, core, "Exclude ≥ 90 % is r:where(0.9)")
        XCTAssertEqual(try server.post("exclude-threshold", ["run": run.id, "min": 1.5]).status, 400)

        XCTAssertEqual(try server.post("favorite-selection", ["run": run.id]).status, 200)
        try album.favorites.refresh()
        XCTAssertEqual(album.favorites.ids, run.selection.filter { !core.contains($0) }, "as r:favorite(): the selection minus exclusions")
        let one = album.images[2].id
        XCTAssertEqual(try server.post("favorites", ["remove": album.favorites.ids]).status, 200)
        XCTAssertEqual(try server.post("favorites", ["add": [one]]).status, 200)
        try album.favorites.refresh()
        XCTAssertEqual(album.favorites.ids, [one])

        XCTAssertEqual(try server.post("clear-exclusions", [:] as [String: Any]).json["changed"] as? Int, core.count)
        try album.exclusions.refresh()
        XCTAssertEqual(album.exclusions.count, 0)

        XCTAssertFalse(server.session.isDone)
        XCTAssertEqual(try server.post("done", [:] as [String: Any]).status, 200)
        XCTAssertTrue(server.session.isDone)
        XCTAssertTrue(server.session.waitUntilDone(timeout: 0))
    }

    func testCSVAndExportFollowTheCoreRules() throws {
        try album.exclusions.add([run.selection[0]])
        let csv = try server.get("/api/run/\(run.id)/csv")
        XCTAssertEqual(csv.status, 200)
        XCTAssertTrue(csv.headers["content-type"]?.hasPrefix("text/csv") == true)
        XCTAssertTrue(csv.headers["content-disposition"]?.contains("attachment") == true)
        XCTAssertEqual(csv.text, CurationCSV.render(album.curationEntries(for: run)), "the same CSV as r:csv")

        // Outside the album: an export into the album itself is refused (it would grow the album).
        let out = folder.path + "-export"
        defer { try? FileManager.default.removeItem(atPath: out); try? FileManager.default.removeItem(atPath: out + "-k") }
        XCTAssertEqual(try server.post("export", ["run": run.id, "folder": folder.path + "/export"]).status, 400,
                       "never into the album")
        let first = try server.post("export", ["run": run.id, "folder": out])
        XCTAssertEqual(first.status, 200, first.text)
        XCTAssertEqual(first.json["exported"] as? Int, run.selection.count - 1, "never an excluded image")
        let again = try server.post("export", ["run": run.id, "folder": out])
        XCTAssertEqual(again.json["unchanged"] as? Int, run.selection.count - 1, "the same bytes are not copied twice")
        XCTAssertEqual(again.json["exported"] as? Int, 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".jpg") }
        XCTAssertEqual(files.count, run.selection.count - 1)
        XCTAssertEqual(try server.post("export", ["run": run.id, "folder": "relative/dir"]).status, 400)
        XCTAssertEqual(try server.post("export", ["run": run.id, "folder": out, "layout": "kohya"]).status, 400, "kohya needs a concept")
        let kohya = try server.post("export", ["run": run.id, "folder": out + "-k", "layout": "kohya", "concept": "sky", "repeats": 3])
        XCTAssertEqual(kohya.status, 200, kohya.text)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "-k/3_sky"))
    }

    func testTheMapGivesAPointPerImage() throws {
        var reply = try server.get("/api/map")
        let deadline = Date().addingTimeInterval(120)
        while reply.status == 202, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
            reply = try server.get("/api/map")
        }
        XCTAssertEqual(reply.status, 200, reply.text)
        XCTAssertEqual(reply.body.count, album.images.count * 8)
        let points = reply.body.withUnsafeBytes { Array($0.bindMemory(to: Float32.self)) }
        XCTAssertTrue(points.allSatisfy(\.isFinite), "every embedded image is placed")
        let state = try server.get("/api/state").json
        XCTAssertEqual((state["map"] as? [String: Any])?["state"] as? String, "ready")
    }

    /// GET /api/duplicates (at `query`) until it is no longer computing (202).
    private func duplicates(_ query: String = "") throws -> HTTPExchange {
        var reply = try server.get("/api/duplicates" + query)
        let deadline = Date().addingTimeInterval(60)
        while reply.status == 202, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            reply = try server.get("/api/duplicates" + query)
        }
        return reply
    }

    func testDuplicatesAreFoundInTheBackgroundKeeperFirstAndAgainAfterAChange() throws {
        // Distinct pictures: no group.
        var reply = try duplicates()
        XCTAssertEqual(reply.status, 200, reply.text)
        XCTAssertEqual(reply.json["threshold"] as? Double, 0.997, "the pixels embedder's a.duplicate_threshold")
        XCTAssertEqual((reply.json["groups"] as? [Any])?.count, 0)
        // A byte-identical copy arrives (a rescan in the REPL): found again, the original kept (the first path).
        folder.writeJPEG("inbox/copy.jpg", seed: 1)
        _ = try album.scan()
        _ = try album.embed()
        reply = try duplicates()
        XCTAssertEqual(reply.status, 200, reply.text)
        let groups = try XCTUnwrap(reply.json["groups"] as? [[String: Any]])
        let original = try XCTUnwrap(album.images.first { $0.path.string == "forest/001.jpg" }?.id)
        let copy = try XCTUnwrap(album.images.first { $0.path.string == "inbox/copy.jpg" }?.id)
        XCTAssertEqual(groups.count, 1)
        XCTAssertEqual(groups.first?["ids"] as? [Int], [Int(original), Int(copy)], "the keeper first")
        XCTAssertEqual(groups.first?["keeper"] as? Int, Int(original))
        // The copy excluded from the page (whose poll has seen the new image): the groups are found again without it.
        _ = try server.get("/api/state")
        XCTAssertEqual(try server.post("exclusions", ["add": [copy]]).status, 200)
        reply = try duplicates()
        XCTAssertEqual((reply.json["groups"] as? [Any])?.count, 0, reply.text)
    }

    func testTheDuplicatesViewAsksAtTheSimilarityItsFieldHolds() throws {
        // The sample's pictures are alike at a low similarity, not at the pixels embedder's 0.997.
        var reply = try duplicates()
        XCTAssertEqual((reply.json["groups"] as? [Any])?.count, 0, reply.text)
        reply = try duplicates("?threshold=0.6")
        XCTAssertEqual(reply.status, 200, reply.text)
        XCTAssertEqual(reply.json["threshold"] as? Double, 0.6)
        let groups = try XCTUnwrap(reply.json["groups"] as? [[String: Any]])
        let expected = try album.duplicateSearch(threshold: 0.6).groups
        XCTAssertFalse(expected.isEmpty, "the fixture has images alike at 0.6")
        XCTAssertEqual(groups.map { $0["keeper"] as? Int }, expected.map { Int($0.keeper) })
        // Back to the default: found again at it, not the 0.6 answer.
        reply = try duplicates()
        XCTAssertEqual(reply.json["threshold"] as? Double, 0.997)
        XCTAssertEqual((reply.json["groups"] as? [Any])?.count, 0, reply.text)
        for bad in ["0.2", "1.5", "much", ""] {
            reply = try server.get("/api/duplicates?threshold=\(bad)")
            XCTAssertEqual(reply.status, 400, bad)
            XCTAssertEqual(reply.json["error"] as? String, "threshold must be a similarity from 0.5 to 1 (got '\(bad)')")
        }
    }

    // MARK: Bad situations

    func testATakenPortIsAClearErrorOrTheNextOne() throws {
        XCTAssertThrowsError(try ReviewServer.start(album: album, options: .init(port: server.port))) { error in
            XCTAssertTrue("\(error)".contains("port \(server.port) on 127.0.0.1 is in use"), "\(error)")
        }
        let other = try ReviewServer.start(album: album)
        defer { other.close() }
        XCTAssertNotEqual(other.port, server.port, "without a port asked for, a free one is taken")
        XCTAssertEqual(try other.get("/api/state").status, 200)
    }

    func testTwoPagesStayInSync() throws {
        // Two servers on one album (two pages, or a page and `curator review` in another shell).
        let other = try ReviewServer.start(album: album)
        defer { other.close() }
        let generation = { (s: ReviewServer) in ((try? s.get("/api/state").json["generation"] as? [String: Any])?["sets"] as? Int) ?? -1 }
        let before = generation(other)
        let id = album.images[7].id
        XCTAssertEqual(try server.post("exclusions", ["add": [id]]).status, 200)
        XCTAssertNotEqual(generation(other), before, "the other page's poll sees a change")
        XCTAssertEqual(generation(other), generation(server))
        XCTAssertEqual(try other.get("/api/sets").json["exclusions"] as? [Int], [Int(id)])
        XCTAssertEqual(try other.post("exclusions", ["remove": [id]]).status, 200)
        XCTAssertEqual(try server.get("/api/sets").json["exclusions"] as? [Int], [])
    }

    func testDeletingTheIndexUnderARunningServerIsAClearError() throws {
        XCTAssertEqual(try server.get("/api/state").status, 200)
        let index = album.database.path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: index + suffix) }
        let state = try server.get("/api/state")
        XCTAssertEqual(state.status, 503)
        XCTAssertTrue((state.json["error"] as? String)?.contains("was deleted") == true, state.text)
        XCTAssertEqual(try server.post("exclusions", ["add": [album.images[0].id]]).status, 503)
        XCTAssertEqual(try server.get("/api/sets").status, 503)
        XCTAssertEqual(try server.get("/?token=\(server.token)").status, 200, "the page still loads, to show the error")
    }

    func testClosingWithConnectionsOpenNeitherCrashesNorHangs() throws {
        // A browser keeps idle connections open, opens spare ones before it needs
        // them, and may be half-way through a request when the REPL says v:close().
        var sockets: [Int32] = []
        defer { for fd in sockets { close(fd) } }
        for i in 0..<24 {
            let fd = try HTTPExchange.connect(port: server.port)
            sockets.append(fd)
            if i % 3 == 1 { _ = "GET /api/state HTTP/1.1\r\nHost: 127.0.0.1".withCString { send(fd, $0, strlen($0), 0) } }
        }
        XCTAssertEqual(try server.get("/api/state").status, 200)
        // And thumbnails asked for while it closes, as a page scrolling at that moment does.
        let port = server.port, token = server.token, ids = album.images.map(\.id)
        let askers = DispatchGroup()
        for k in 0..<8 {
            DispatchQueue.global().async(group: askers) {
                for id in ids.shuffled() {
                    guard (try? HTTPExchange.send(port: port, "/api/thumb/\(id)?k=\(k)", headers: [("X-Curator-Token", token)])) != nil else { return }
                }
            }
        }
        Thread.sleep(forTimeInterval: 0.05)
        let start = Date()
        server.close()
        XCTAssertLessThan(Date().timeIntervalSince(start), 10, "close() returns once the server stopped")
        XCTAssertTrue(server.isClosed)
        XCTAssertThrowsError(try HTTPExchange.send(port: server.port, "/api/state"), "nothing listens any more")
        askers.wait()
    }

    func testClosingWaitsForTheMapAndScoresComputedInTheBackground() throws {
        // The session starts the map and the uniqueness scores at once; closing
        // right away must leave no BLAS call running (one running when the
        // process exits can hang it in OpenBLAS's exit handler).
        let start = Date()
        server.close()
        XCTAssertFalse(server.session.hasBackgroundWork, "the map and the scores ended with the review")
        XCTAssertLessThan(Date().timeIntervalSince(start), 20, "the map stops when the review closes, it does not run to its end")
    }

    func testLeavingTheProcessEndsTheBackgroundWorkOfPagesLeftOpen() throws {
        // os.exit() in a script, or a script ending with a page open: the exit
        // hook stops every live session's map and scores before OpenBLAS's own
        // exit handler runs.
        let other = try ReviewServer.start(album: album)
        ReviewSessionRegistry.shared.stopAll()
        XCTAssertFalse(other.session.hasBackgroundWork)
        XCTAssertFalse(server.session.hasBackgroundWork)
        other.close()
    }

    func testClosingFreesThePort() throws {
        let port = server.port
        server.close()
        XCTAssertTrue(server.isClosed)
        XCTAssertThrowsError(try HTTPExchange.send(port: port, "/api/state"))
        let again = try ReviewServer.start(album: album, options: .init(port: port))
        defer { again.close() }
        XCTAssertEqual(again.port, port)
    }
}
