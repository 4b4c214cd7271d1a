import CuratorCore
import Dispatch
import Foundation

/// What the review page reads and changes, through CuratorCore: an album of
/// its own on the index (its own connection pool, never the REPL's `Album`),
/// the runs it shows, thumbnails and the map. Every reply is built here, so
/// the HTTP layer (`ReviewServer`) only routes and guards.
///
/// The album is not thread-safe, so one lock serialises its use; decoding
/// thumbnails and computing the map happen outside it.
/// `@unchecked Sendable`: the album and the runs are used only under the session's one lock; what runs outside it (thumbnails, the map) has its own connection.
public final class ReviewSession: @unchecked Sendable {
    /// The album the page shows (this session's own connection).
    let album: Album
    /// The index file; the page says so when it disappears.
    let indexPath: String
    /// The run the page opens with (nil: the album, or the newest run when there is one).
    public let initialRun: Int64?
    private let lock = NSLock()
    private let grid: ThumbnailCache
    private let preview: ThumbnailCache
    private var runs: [Int64: SelectionRun] = [:]
    private var seen: IndexGenerations?
    private var imagesJSON: [UInt8]?
    private var captions: [Int64: String]?
    private let mapper: ReviewMapper
    private let duplicates: ReviewDuplicates
    private let warmer: ThumbnailWarmer
    private let finished = DispatchSemaphore(value: 0)
    private var isFinished = false
    private var donePressed = false
    /// Quality flags the REPL gave the page (`v:flags(quality.flag(a))`,
    /// e.g. with its own thresholds): issues by image id; nil until then.
    private var givenFlags: [Int64: [String]]?
    /// The quality checks' flags from the index's statistics (`QualityChecks`),
    /// computed when first asked for and again after the images change.
    private var computedFlags: [Int64: [String]]?
    /// How many images the computed flags had statistics for.
    private var checkedImages = 0
    /// Moves with every change of the flags, so the page knows to fetch them again.
    private var flagsGeneration = 1
    /// Clusters the REPL gave the page (`v:clusters(c)`, with their labels); nil until then.
    private var givenClusters: (clusters: AlbumClusters, labels: [String?])?
    /// The creation time of the index's newest clustering the page was last told of.
    private var seenClustering: Date?
    /// Moves when the clusters the page shows change (`v:clusters`, a new `a:clusters()` in the index).
    private var clustersGeneration = 1
    /// Uniqueness by image id (`Album.neighborScores`), computed in the background for small albums.
    private let uniqueness = ReviewUniqueness()

    /// A session on `album`'s index (opened again: the caller's album stays
    /// the caller's), starting on run `run` when given.
    public init(album source: Album, run: Int64? = nil) throws {
        album = try source.reopened()
        indexPath = album.database.path
        initialRun = run
        grid = ThumbnailCache(indexPath: indexPath, size: 256)
        preview = ThumbnailCache(indexPath: indexPath, size: 1024, quality: 85)
        mapper = ReviewMapper(album: try source.reopened())
        duplicates = ReviewDuplicates(album: try source.reopened())
        warmer = ThumbnailWarmer(cache: grid)
        seen = try album.database.generations()
        // The page asks for the map right after its first page: start reading (or computing) it now.
        mapper.prepare()
        sweepThumbnails()
        uniqueness.prepare(try source.reopened())
        seenClustering = try? album.newestClusteringDate()
        ReviewSessionRegistry.shared.add(self)
    }

    /// Deletes, in the background, the cached thumbnails of images gone from
    /// the album or changed since (see `ThumbnailCache.removeStale`). Called
    /// with the album's image list current (at the start, and under the lock).
    private func sweepThumbnails() {
        let images = album.images
        DispatchQueue.global(qos: .background).async { [grid, preview] in
            grid.removeStale(keeping: images)
            preview.removeStale(keeping: images)
        }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: Index health

    /// Why the index cannot be used any more, or nil while it can.
    func indexProblem() -> String? {
        guard access(indexPath, F_OK) == 0 else {
            return "the index \(indexPath) was deleted while the page was open: nothing can be read or saved; "
                + "open the album again (curator.open or curator review) to index it anew"
        }
        return nil
    }

    /// Catches up with other connections' changes to the image list (a rescan in the REPL).
    private func refreshImages() throws -> IndexGenerations {
        let now = try album.database.generations()
        if let seen, now.imagesDiffer(from: seen) {
            try album.reload()
            imagesJSON = nil
            captions = nil
            mapper.invalidate()
            sweepThumbnails()
        }
        // The checks' flags read the statistics, which `a:measure()` in the
        // REPL changes without touching the images (a changed list moves them too).
        if let seen, now.statisticsDiffer(from: seen), computedFlags != nil {
            computedFlags = nil
            flagsGeneration += 1
        }
        seen = now
        return now
    }

    /// Reads the exclusions and favorites again if another connection
    /// changed them: an export or CSV must never work from a stale set.
    private func catchUpWithSets() throws {
        try album.exclusions.refresh()
        try album.favorites.refresh()
    }

    // MARK: Reads

    /// `GET /api/state`: the album, its runs, and the counters the page polls.
    func state() -> ReviewReply {
        if let problem = indexProblem() { return .error(503, problem) }
        do {
            return try locked {
                let generations = try refreshImages()
                var runList: [[String: Any]] = []
                for id in try album.runIDs() {
                    guard let run = try loadRun(id) else { continue }
                    runList.append(["id": run.id, "method": run.method, "count": run.count, "iterations": run.iterations,
                                    "seed": String(run.seed), "created": run.created.timeIntervalSince1970])
                }
                let thumbs = warmer.progress
                var album: [String: Any] = ["name": self.album.name, "images": self.album.images.count,
                                            "indexOnly": self.album.isIndexOnly, "root": self.album.rootPath]
                album["embedder"] = self.album.embedder ?? NSNull()
                return .json(["album": album, "runs": runList, "initialRun": initialRun ?? NSNull(),
                              "generation": ["sets": generations.imageSets, "runs": generations.latestRun,
                                             "images": "\(generations.imageCount)-\(generations.maximumImageID)-\(generations.embeddings)"],
                              "thumbnails": ["made": thumbs.done, "queued": thumbs.total],
                              "map": mapper.status, "finished": isFinished, "flags": flagsGeneration,
                              "clusters": clustersGenerationNow()])
            }
        } catch {
            return .error(500, "reading the index failed: \(error)")
        }
    }

    /// `GET /api/images`: every image's id, in the album's order (`a[i]` is
    /// `ids[i-1]`), and its folder (an index into `folders`, sorted). The
    /// paths come a page at a time (`paths(from:count:)`): at 85,000 images
    /// they are most of the list, and the page needs only those it shows.
    func images() -> ReviewReply {
        if let problem = indexProblem() { return .error(503, problem) }
        do {
            return try locked {
                _ = try refreshImages()
                if let imagesJSON { return .json(bytes: imagesJSON) }
                var names = Set<String>()
                for image in album.images { names.insert(image.path.folder.string) }
                let folders = names.sorted()
                var number: [String: Int] = [:]
                for (k, name) in folders.enumerated() { number[name] = k }
                var out: [UInt8] = []
                out.reserveCapacity(album.images.count * 12)
                out += Array("{\"count\":\(album.images.count),\"page\":\(Self.pathPage),\"ids\":".utf8)
                ReviewJSON.appendIntegers(album.images.lazy.map(\.id), to: &out)
                out += Array(",\"folders\":[".utf8)
                for (k, name) in folders.enumerated() {
                    if k > 0 { out.append(UInt8(ascii: ",")) }
                    ReviewJSON.appendString(name, to: &out)
                }
                out += Array("],\"folderOf\":".utf8)
                ReviewJSON.appendIntegers(album.images.lazy.map { Int64(number[$0.path.folder.string]!) }, to: &out)
                out += Array("}".utf8)
                imagesJSON = out
                return .json(bytes: out)
            }
        } catch {
            return .error(500, "reading the index failed: \(error)")
        }
    }

    /// How many paths a page asks for at once (`GET /api/paths`).
    static let pathPage = 1000

    /// `GET /api/paths?from=N&count=M`: the paths of images `N ..< N+M` in
    /// the album's order (0-based; at most 10,000 at once), `{"from": N, "paths": [...]}`.
    func paths(from: Int, count: Int) -> ReviewReply {
        if let problem = indexProblem() { return .error(503, problem) }
        guard from >= 0, count >= 0, count <= 10 * Self.pathPage else {
            return .error(400, "paths: from must be 0 or more and count from 0 to \(10 * Self.pathPage)")
        }
        do {
            return try locked {
                _ = try refreshImages()
                let images = album.images
                let range = min(from, images.count)..<min(from + count, images.count)
                var out: [UInt8] = Array("{\"from\":\(from),\"paths\":[".utf8)
                for (k, image) in images[range].enumerated() {
                    if k > 0 { out.append(UInt8(ascii: ",")) }
                    ReviewJSON.appendString(image.path.string, to: &out)
                }
                out += Array("]}".utf8)
                return .json(bytes: out)
            }
        } catch {
            return .error(500, "reading the index failed: \(error)")
        }
    }

    private func loadRun(_ id: Int64) throws -> SelectionRun? {
        if let run = runs[id] { return run }
        guard let run = try album.run(id: id) else { return nil }
        runs[id] = run
        return run
    }

    /// `GET /api/run/ID`: the run's parameters and its ranking; the first
    /// `count` ranked images are `r.selection`, in its order.
    func run(_ id: Int64) -> ReviewReply {
        if let problem = indexProblem() { return .error(503, problem) }
        do {
            return try locked {
                guard let run = try loadRun(id) else { return .error(404, "no run #\(id) in album \"\(album.name)\"") }
                let ranking = run.ranking
                warmer.enqueue(ranking.prefix(2000).compactMap { entry in
                    album.image(id: entry.image).map { ($0, album.absolutePath(of: $0)) }
                })
                var out: [UInt8] = []
                out += Array("{\"id\":\(run.id),\"count\":\(run.count),\"iterations\":\(run.iterations),\"selection\":\(run.selection.count),".utf8)
                out += Array("\"method\":".utf8); ReviewJSON.appendString(run.method, to: &out)
                out += Array(",\"seed\":".utf8); ReviewJSON.appendString(String(run.seed), to: &out)
                out += Array(",\"embedder\":".utf8); ReviewJSON.appendString(run.embedder, to: &out)
                out += Array(",\"candidates\":\(run.candidates),\"created\":\(run.created.timeIntervalSince1970)".utf8)
                out += Array(",\"ids\":".utf8); ReviewJSON.appendIntegers(ranking.lazy.map(\.image), to: &out)
                out += Array(",\"votes\":".utf8); ReviewJSON.appendIntegers(ranking.lazy.map(\.votes), to: &out)
                // One letter per ranked image: c(ore), s(table), v(ariable), as the core's tiers say.
                let letters = String(ranking.map { $0.tier.rawValue.first ?? "v" })
                out += Array(",\"tiers\":".utf8); ReviewJSON.appendString(letters, to: &out)
                // The ranked images' paths: the page draws the run before it has the album's list.
                out += Array(",\"paths\":[".utf8)
                for (i, entry) in ranking.enumerated() {
                    if i > 0 { out.append(UInt8(ascii: ",")) }
                    ReviewJSON.appendString(album.image(id: entry.image)?.path.string ?? "", to: &out)
                }
                out += Array("]".utf8)
                out += Array("}".utf8)
                return .json(bytes: out)
            }
        } catch {
            return .error(500, "reading run #\(id) failed: \(error)")
        }
    }

    /// `GET /api/sets`: the exclusions and favorites, in the order they were added.
    func sets() -> ReviewReply {
        if let problem = indexProblem() { return .error(503, problem) }
        return locked {
            do {
                try catchUpWithSets()
                let generation = try album.database.generations().imageSets
                var out: [UInt8] = Array("{\"generation\":\(generation),\"exclusions\":".utf8)
                ReviewJSON.appendIntegers(album.exclusions.ids, to: &out)
                out += Array(",\"favorites\":".utf8)
                ReviewJSON.appendIntegers(album.favorites.ids, to: &out)
                out += Array("}".utf8)
                return .json(bytes: out)
            } catch {
                return .error(500, "reading the exclusions failed: \(error)")
            }
        }
    }

    /// `GET /api/map`: the points (little-endian float32 x, y per image, in
    /// the album's order; NaN for images the map does not place), or its
    /// progress (202), or why there is none (JSON, `"state": "failed"`).
    func map() -> ReviewReply {
        if let problem = indexProblem() { return .error(503, problem) }
        let order: [Int64] = locked { album.images.map(\.id) }
        return mapper.reply(order: order)
    }

    /// `GET /api/image/ID`: what the side panel shows.
    func info(_ id: Int64) -> ReviewReply {
        if let problem = indexProblem() { return .error(503, problem) }
        return locked {
            guard let image = album.image(id: id) else { return .error(404, "no image #\(id) in album \"\(album.name)\"") }
            try? catchUpWithSets()
            let absolute = album.absolutePath(of: image).string
            var reply: [String: Any] = [
                "id": id, "path": image.path.string, "name": image.path.name, "folder": image.path.folder.string,
                "absolutePath": absolute, "width": image.width, "height": image.height, "size": image.size,
                "position": (album.position(of: id) ?? 0) + 1,
                "excluded": album.exclusions.contains(id), "favorite": album.favorites.contains(id),
                "present": access(absolute, F_OK) == 0, "flags": currentFlags()[id] ?? [],
            ]
            reply["caption"] = album.caption(of: image) ?? NSNull()
            reply["uniqueness"] = uniqueness.value(of: id) ?? NSNull()
            if let (clusters, labels) = currentClusters(), let cluster = clusters.cluster(of: id) {
                reply["cluster"] = ["id": cluster.id, "label": labels[cluster.id - 1].map { $0 as Any } ?? NSNull(), "size": cluster.members.count]
            } else {
                reply["cluster"] = NSNull()
            }
            if let stats = try? album.statistics(of: image) {
                reply["stats"] = ["sharpness": stats.sharpness, "brightness": stats.brightness, "contrast": stats.contrast,
                                  "colourfulness": stats.colourfulness, "entropy": stats.entropy]
            }
            return .json(reply)
        }
    }

    /// `GET /api/thumb/ID` (`large`: the side panel's preview): a JPEG, or
    /// 404 with the reason when the image is unknown or its file unreadable.
    func thumbnail(_ id: Int64, large: Bool = false) -> ReviewReply {
        let found: (ImageRecord, FileSystemPath)? = locked {
            album.image(id: id).map { ($0, album.absolutePath(of: $0)) }
        }
        guard let (image, source) = found else { return .error(404, "no image #\(id) in the album") }
        // A file gone since it was indexed says so, even with its thumbnail cached: the user must
        // see that it is missing (one stat per tile).
        if source.withCPath({ access($0, F_OK) }) != 0, errno == ENOENT || errno == ENOTDIR {
            return .error(404, "missing: \(image.path.string) is no longer on disk")
        }
        do {
            let bytes = try (large ? preview : grid).thumbnail(of: image, source: source)
            return ReviewReply(contentType: "image/jpeg", body: bytes, headers: [("Cache-Control", "private, max-age=3600")])
        } catch let error as ImageDecodeError {
            if case .notFound = error.reason { return .error(404, "missing: \(image.path.string) is no longer on disk") }
            return .error(404, "unreadable: \(error.description)")
        } catch {
            return .error(500, "thumbnail of \(image.path.string) failed: \(error)")
        }
    }

    /// `GET /api/search?q=`: the ids whose path or caption contains `q` (case-insensitive).
    func search(_ query: String) -> ReviewReply {
        if let problem = indexProblem() { return .error(503, problem) }
        return locked {
            let needle = query.lowercased()
            if captions == nil {
                var found: [Int64: String] = [:]
                for image in album.images { if let caption = album.caption(of: image) { found[image.id] = caption.lowercased() } }
                captions = found
            }
            var ids: [Int64] = []
            for image in album.images where image.path.string.lowercased().contains(needle)
                || (captions?[image.id]?.contains(needle) ?? false) {
                ids.append(image.id)
            }
            var out: [UInt8] = Array("{\"ids\":".utf8)
            ReviewJSON.appendIntegers(ids, to: &out)
            out += Array("}".utf8)
            return .json(bytes: out)
        }
    }

    /// `GET /api/run/ID/csv`: PhotoMapAI's CSV of the run, as `r:csv` writes it.
    func csv(_ id: Int64) -> ReviewReply {
        if let problem = indexProblem() { return .error(503, problem) }
        return locked {
            do {
                guard let run = try loadRun(id) else { return .error(404, "no run #\(id) in album \"\(album.name)\"") }
                try catchUpWithSets()
                let text = CurationCSV.render(album.curationEntries(for: run))
                let name = "\(album.name)-run\(id).csv".replacingOccurrences(of: "\"", with: "")
                return ReviewReply(contentType: "text/csv; charset=utf-8", body: Array(text.utf8),
                                   headers: [("Content-Disposition", "attachment; filename=\"\(name)\"")])
            } catch {
                return .error(500, "reading run #\(id) failed: \(error)")
            }
        }
    }

    /// Replaces the quality flags the page shows (issues by image id; an
    /// empty list drops an image's) with the REPL's — the quality plugin
    /// with its own thresholds, say — for as long as the session lasts.
    /// Until then the page shows the quality checks' own (`QualityChecks`).
    public func setFlags(_ issues: [Int64: [String]]) {
        locked {
            givenFlags = issues.filter { !$0.value.isEmpty }
            flagsGeneration += 1
        }
    }

    /// The flags the page shows (under the lock): the REPL's when it gave
    /// some, else the quality checks' on the index's statistics.
    private func currentFlags() -> [Int64: [String]] {
        if let givenFlags { return givenFlags }
        if let computedFlags { return computedFlags }
        let checks = try? album.qualityChecks()
        computedFlags = checks?.flagged() ?? [:]
        checkedImages = checks?.checkedCount ?? 0
        return computedFlags!
    }

    /// `GET /api/flags`: `{"generation": N, "source": "checks"|"repl",
    /// "checked": images with statistics, "flags": {"id": ["blurry", ...], ...}}`.
    func flagList() -> ReviewReply {
        if let problem = indexProblem() { return .error(503, problem) }
        return locked {
            _ = try? refreshImages()
            var out: [String: Any] = [:]
            for (id, issues) in currentFlags() { out[String(id)] = issues }
            return .json(["generation": flagsGeneration, "source": givenFlags == nil ? "checks" : "repl",
                          "checked": givenFlags == nil ? checkedImages as Any : NSNull(), "flags": out])
        }
    }

    /// Shows `clusters` (with a label per cluster, nil where there is
    /// none) on the page instead of the index's newest clustering.
    public func setClusters(_ clusters: AlbumClusters, labels: [String?]) {
        locked {
            givenClusters = (clusters, labels)
            clustersGeneration += 1
        }
    }

    /// The clusters generation, moved on when the index holds a newer clustering (under the lock).
    private func clustersGenerationNow() -> Int {
        if givenClusters == nil, let newest = try? album.newestClusteringDate(), newest != seenClustering {
            seenClustering = newest
            clustersGeneration += 1
        }
        return clustersGeneration
    }

    /// The clusters the page shows (under the lock): the REPL's, else the
    /// index's newest; their labels (nil: none); nil when there are none.
    private func currentClusters() -> (AlbumClusters, [String?])? {
        if let givenClusters { return givenClusters }
        guard let (clusters, labels, _) = (try? album.newestCachedClusters()) ?? nil else { return nil }
        return (clusters, labels)
    }

    /// `GET /api/clusters`: `{"source": "repl"|"index"|"none", "generation": N,
    /// "description": "...", "clusters": [{"id", "label", "size", "medoid", "colour", "members": [ids]}]}`
    /// (`colour`: the map plot's and the report's for that cluster, "#rrggbb").
    func clusterList() -> ReviewReply {
        if let problem = indexProblem() { return .error(503, problem) }
        return locked {
            _ = try? refreshImages()
            let generation = clustersGenerationNow()
            guard let (clusters, labels) = currentClusters() else {
                return .json(["source": "none", "generation": generation, "clusters": [Any](),
                              "description": "no clusters: a:clusters() in the REPL makes them (cached in the index), v:clusters(c) shows them with labels"])
            }
            var out: [UInt8] = Array("{\"source\":\"\(givenClusters == nil ? "index" : "repl")\",\"generation\":\(generation),\"description\":".utf8)
            ReviewJSON.appendString(clusters.description, to: &out)
            out += Array(",\"clusters\":[".utf8)
            for (k, cluster) in clusters.clusters.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                out += Array("{\"id\":\(cluster.id),\"size\":\(cluster.members.count),\"medoid\":\(cluster.medoid),".utf8)
                out += Array("\"colour\":\"\(MapPlot.Clusters.hex(k))\",\"label\":".utf8)
                if let label = labels[k] { ReviewJSON.appendString(label, to: &out) } else { out += Array("null".utf8) }
                out += Array(",\"members\":".utf8)
                ReviewJSON.appendIntegers(cluster.members, to: &out)
                out.append(UInt8(ascii: "}"))
            }
            out += Array("]}".utf8)
            return .json(bytes: out)
        }
    }

    /// `GET /api/duplicates[?threshold=0.95]`: the album's near-duplicate
    /// groups at the threshold (default `a.duplicate_threshold`), each keeper
    /// first, the exclusions left out; 202 while they are being found
    /// (`ReviewDuplicates`). A threshold that is not a similarity from 0.5
    /// to 1 is a 400 naming it.
    func duplicateList(threshold text: String?) -> ReviewReply {
        // The session's album, under its lock: the search's own album is its background task's alone.
        var threshold = locked { album.defaultDuplicateThreshold }
        if let text {
            guard let given = Double(text), given >= Self.lowestDuplicateThreshold, given <= 1 else {
                return .error(400, "threshold must be a similarity from \(Self.lowestDuplicateThreshold) to 1 (got '\(text)')")
            }
            threshold = given
        }
        if let problem = indexProblem() { return .error(503, problem) }
        return duplicates.reply(threshold: threshold)
    }

    /// Below this, "near-duplicates" are merely alike, and one group can take
    /// most of an album: the page's field stops here.
    static let lowestDuplicateThreshold = 0.5

    // MARK: Actions

    /// `POST /api/ACTION` with a JSON body: every change goes through the
    /// album's sets and exporter, each in its own transaction.
    func perform(_ action: String, body: [UInt8]) -> ReviewReply {
        if let problem = indexProblem() { return .error(503, problem) }
        guard let request = ReviewJSON.object(body) else { return .error(400, "\(action): the body must be a JSON object") }
        return locked {
            do {
                try catchUpWithSets()
                return try performLocked(action, request)
            } catch let error as ReviewRequestError {
                return .error(error.status, error.message)
            } catch {
                return .error(500, "\(action) failed: \(error)")
            }
        }
    }

    private func performLocked(_ action: String, _ request: [String: Any]) throws -> ReviewReply {
        func ids(_ key: String) throws -> [Int64]? {
            guard let value = request[key] else { return nil }
            guard let ids = ReviewJSON.ids(value) else {
                throw ReviewRequestError(400, "\(action): \(key) must be a list of image ids")
            }
            if let unknown = ids.first(where: { album.image(id: $0) == nil }) {
                throw ReviewRequestError(404, "\(action): no image #\(unknown) in album \"\(album.name)\"")
            }
            return ids
        }
        func run() throws -> SelectionRun {
            guard let number = request["run"] as? NSNumber, let id = Int64(exactly: number.doubleValue) else {
                throw ReviewRequestError(400, "\(action): run must be a run id")
            }
            guard let run = try loadRun(id) else { throw ReviewRequestError(404, "\(action): no run #\(id) in album \"\(album.name)\"") }
            return run
        }
        func set(_ target: ImageIDSet) throws -> ReviewReply {
            let add = try ids("add") ?? [], remove = try ids("remove") ?? []
            guard !add.isEmpty || !remove.isEmpty || request["add"] != nil || request["remove"] != nil else {
                throw ReviewRequestError(400, "\(action): give add=[ids] or remove=[ids]")
            }
            let added = try target.add(add)
            let removed = try target.remove(remove)
            return try changed(added + removed)
        }
        switch action {
        case "exclusions":
            return try set(album.exclusions)
        case "favorites":
            return try set(album.favorites)
        case "exclude-threshold":
            guard let minimum = (request["min"] as? NSNumber)?.doubleValue, minimum >= 0, minimum <= 1 else {
                throw ReviewRequestError(400, "\(action): min must be a number from 0 to 1")
            }
            return try changed(album.exclusions.add(try run().images(minimumFrequency: minimum)))
        case "clear-exclusions":
            let count = album.exclusions.count
            try album.exclusions.clear()
            return try changed(count)
        case "favorite-selection":
            try album.favorite(try run())
            return try changed(album.favorites.count)
        case "export":
            return try export(try run(), request)
        case "done":
            donePressed = true
            if !isFinished {
                isFinished = true
                finished.signal()
            }
            return .json(["done": true])
        default:
            throw ReviewRequestError(404, "no action \"\(action)\"")
        }
    }

    private func changed(_ count: Int) throws -> ReviewReply {
        .json(["changed": count, "generation": try album.database.generations().imageSets])
    }

    private func export(_ run: SelectionRun, _ request: [String: Any]) throws -> ReviewReply {
        guard let folder = request["folder"] as? String, !folder.isEmpty else {
            throw ReviewRequestError(400, "export: folder must be the path of the folder to export into")
        }
        var options = ExportOptions(dryRun: (request["dryRun"] as? Bool) ?? false)
        if (request["layout"] as? String) == "kohya" {
            guard let concept = request["concept"] as? String, !concept.isEmpty else {
                throw ReviewRequestError(400, "export: the kohya layout needs a concept name")
            }
            let repeats = (request["repeats"] as? NSNumber)?.intValue ?? 1
            options.layout = .kohya(KohyaLayout(repeats: repeats, concept: concept,
                                                captionExtension: (request["captionExt"] as? String) ?? ".txt",
                                                conceptAsMissingCaption: false))
        }
        do { try options.validate() } catch let ExportError.invalidOption(name, reason) {
            throw ReviewRequestError(400, "export: \(name) \(reason)")
        }
        // Relative folders would depend on where curator was started: the page asks for absolute ones.
        guard folder.hasPrefix("/") || folder.hasPrefix("~") else {
            throw ReviewRequestError(400, "export: give an absolute folder (starting with / or ~), got \"\(folder)\"")
        }
        let report: ExportReport
        do { report = try album.export(run, to: folder, options: options) } catch let error as ExportError {
            // The user's folder is wrong (inside the album, not a folder, ...): say so as a bad request.
            throw ReviewRequestError(400, "export: \(error.description)")
        }
        return .json(["exported": report.exported, "unchanged": report.unchanged, "renamed": report.renamed,
                      "captions": report.captions,
                      "excluded": report.excluded, "dryRun": report.dryRun, "destination": report.destination.string,
                      "errors": report.errors.map(\.description)])
    }

    // MARK: Ending

    /// Whether the page's Done button was pressed.
    public var isDone: Bool { locked { donePressed } }

    /// Blocks until the page says it is done or the server stops, or
    /// `timeout` seconds pass; returns whether one of the two happened.
    public func waitUntilDone(timeout: Double) -> Bool {
        if locked({ isFinished }) { return true }
        guard finished.wait(timeout: .now() + timeout) == .success else { return false }
        finished.signal()  // later waiters see it too
        return true
    }

    /// Whether the map, the uniqueness scores or the near-duplicates are still being computed.
    var hasBackgroundWork: Bool { mapper.isWorking || uniqueness.isWorking || duplicates.isWorking }

    /// Ends background work (thumbnails, the map, the scores, the
    /// near-duplicates), and waits for the map, the scores and the
    /// near-duplicates: their BLAS calls must not outlive the review.
    func stop() {
        ReviewSessionRegistry.shared.remove(self)
        warmer.stop()
        mapper.stop()
        uniqueness.stop()
        duplicates.stop()
        locked {
            if !isFinished { isFinished = true; finished.signal() }
        }
    }
}

/// A request the page made wrongly: its status and what was wrong.
struct ReviewRequestError: Error {
    let status: Int
    let message: String
    init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
}
