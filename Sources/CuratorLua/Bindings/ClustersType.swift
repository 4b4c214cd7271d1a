import CuratorCore
import Foundation

/// An album's clusters as Lua holds them: a snapshot, with their labels
/// when a text tower pairs with the vectors.
public final class ClustersHandle {
    /// The album clustered.
    public let owner: AlbumHandle
    /// The clusters.
    public let clusters: AlbumClusters
    /// One label per cluster, or nil without a text tower (or with `labels=false`).
    public let labels: [ClusterLabel]?
    /// Why there are no labels, when there are none.
    public let labelNote: String?

    init(owner: AlbumHandle, clusters: AlbumClusters, labels: [ClusterLabel]?, labelNote: String?) {
        self.owner = owner
        self.clusters = clusters
        self.labels = labels
        self.labelNote = labelNote
    }

    /// The name balance and reports give cluster `index` (0-based): its label, or "cluster N".
    func name(_ index: Int) -> String {
        labels?[index].label ?? "cluster \(clusters.clusters[index].id)"
    }
}

/// Every member of `Clusters` (issue 18); `a:clusters` is registered with Album's members.
enum ClustersType {
    /// The options of `a:clusters` besides `progress`.
    static let optionNames = ["method", "min_size", "k", "seed", "labels", "vocabulary"]

    /// The shipped vocabulary, the user's own (`~/.config/curator/vocabulary.txt`),
    /// then `vocabulary=` (a file or a list of phrases).
    static func vocabulary(_ options: LuaOptions, call: LuaCall) throws -> [String] {
        var lists: [[String]] = []
        for file in vocabularyFiles() where FileManager.default.fileExists(atPath: file) {
            do { lists.append(try Vocabulary.phrases(file: file)) } catch { throw call.failure("\(error)") }
        }
        let lua = call.lua
        switch options.pushValue("vocabulary") {
        case .nil: lua.pop()
        case .string:
            let file = CuratorHost.absolutePath(lua.string(at: -1) ?? "")
            lua.pop()
            do { lists.append(try Vocabulary.phrases(file: file)) } catch { throw call.failure("\(error)") }
        case .table:
            lua.pop()
            let phrases = try LuaQueries.texts(options, "vocabulary")
            guard !phrases.isEmpty else { throw call.failure("vocabulary: the list of phrases is empty") }
            lists.append(phrases)
        default:
            defer { lua.pop() }
            throw call.failure("vocabulary must be a file (one phrase a line) or a list of phrases (got \(lua.typeName(at: -1)))")
        }
        return Vocabulary.merged(lists)
    }

    /// Where vocabulary files are read from, in order: the installation's
    /// `data/vocabulary.txt`, then `$XDG_CONFIG_HOME/curator/vocabulary.txt`.
    static func vocabularyFiles(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var files: [String] = []
        if let folder = Installation.folder(environment: environment) {
            files.append(folder.appendingPathComponent("data/vocabulary.txt").path)
        }
        let config = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        files.append(config + "/curator/vocabulary.txt")
        return files
    }

    /// Reads `a:clusters` options and clusters (and labels) the album.
    static func make(_ handle: AlbumHandle, _ options: LuaOptions, call: LuaCall, sink: LuaProgress) throws -> ClustersHandle {
        let method = try options.choice("method", ClusterMethod.allCases.map(\.rawValue)).flatMap(ClusterMethod.init(rawValue:)) ?? .hdbscan
        var settings = ClusterOptions(method: method)
        if let minSize = try options.integer("min_size") {
            guard method == .hdbscan else { throw call.failure("min_size is HDBSCAN's setting; K-Means takes k") }
            guard minSize >= 2 else { throw call.failure("min_size must be an integer of at least 2 (got \(minSize))") }
            settings.minSize = minSize
        }
        if let k = try options.integer("k") {
            guard method == .kmeans else { throw call.failure("k is K-Means' setting (method=\"kmeans\"); HDBSCAN finds the count itself") }
            guard k >= 1 else { throw call.failure("k must be a positive integer (got \(k))") }
            settings.k = k
        }
        if let seed = try LuaSeed.read(options) { settings.seed = seed }
        let wantLabels = try options.boolean("labels") ?? true
        let phrases = wantLabels ? try vocabulary(options, call: call) : []
        sink.title = "Clusters"
        let album = handle.album
        let clusters = try album.clusters(settings, progress: sink)
        var labels: [ClusterLabel]?
        var note: String?
        if !wantLabels {
            note = "labels=false: no labels"
        } else if clusters.clusters.isEmpty {
            labels = []
        } else if phrases.isEmpty {
            note = "no labels: no vocabulary found (looked for \(vocabularyFiles().joined(separator: ", "))); pass vocabulary=FILE or a list of phrases"
        } else {
            do {
                labels = try album.clusterLabels(clusters, phrases: phrases)
                // The review page reads the index's newest clusters: it names them too.
                try? album.storeLabels(labels ?? [], of: clusters)
            } catch let error as TextSearchError {
                note = "no labels: \(error)"
            }
        }
        return ClustersHandle(owner: handle, clusters: clusters, labels: labels, labelNote: note)
    }

    /// The `clusters=` option of `m:plot` and `r:report`: a Clusters of the
    /// album, or true for `a:clusters()` with its defaults (nil when absent or false).
    static func option(_ options: LuaOptions, owner: AlbumHandle, types: CuratorTypes, call: LuaCall) throws -> ClustersHandle? {
        let lua = call.lua
        defer { lua.pop() }
        switch options.pushValue("clusters") {
        case .nil: return nil
        case .boolean:
            guard lua.truthy(at: -1) else { return nil }
            let sink = LuaProgress(lua: lua, callback: nil)
            return try make(owner, LuaOptions(call: call, table: nil), call: call, sink: sink)
        default:
            guard let handle = types.clusters.object(at: -1, in: lua) else {
                throw call.failure("clusters must be a Clusters (from a:clusters()) or true (got \(lua.typeName(at: -1)))")
            }
            guard handle.owner === owner else { throw call.failure("clusters: the clusters belong to another album") }
            return handle
        }
    }

    /// Pushes cluster `index` (0-based) as a plain table.
    static func pushCluster(_ h: ClustersHandle, _ index: Int, types: CuratorTypes, on lua: LuaStack) {
        let cluster = h.clusters.clusters[index]
        lua.newTable(record: 7)
        lua.push(cluster.id); lua.rawSet(-2, "id")
        lua.push(cluster.members.count); lua.rawSet(-2, "size")
        if let label = h.labels?[index] {
            lua.push(label.label); lua.rawSet(-2, "label")
            lua.push(Double(label.score)); lua.rawSet(-2, "score")
            lua.newTable(array: label.alternates.count)
            for (i, alternate) in label.alternates.enumerated() { lua.push(alternate.label); lua.rawSet(-2, index: i + 1) }
            lua.rawSet(-2, "alternates")
        }
        types.push(image: cluster.medoid, of: h.owner, on: lua); lua.rawSet(-2, "medoid")
        types.push(set: MemoryImageSet(owner: h.owner, label: "cluster \(cluster.id)", ids: cluster.members, readOnly: true), on: lua)
        lua.rawSet(-2, "images")
    }

    static func install(_ types: CuratorTypes, host: CuratorHost) {
        let t = types.clusters
        t.describe { h in
            let c = h.clusters
            var text = "<Clusters \(Wording.counted(c.clusters.count, "cluster")), \(Wording.counted(c.noise.count, "noise image")) (\(c.options.method.rawValue)"
            if let minSize = c.options.minSize { text += ", min_size \(minSize)" }
            if let k = c.options.k { text += ", k \(k)" }
            return text + (c.cached ? ", cached" : "") + ")>"
        }
        t.pretty { h in
            var lines = ["<Clusters: \(h.clusters.description)\(h.clusters.cached ? " (cached)" : "")>"]
            for (i, cluster) in h.clusters.clusters.enumerated().prefix(20) {
                let medoid = h.owner.album.image(id: cluster.medoid)?.path.string ?? "#\(cluster.medoid)"
                var line = "  [\(cluster.id)] \(Wording.counted(cluster.members.count, "image"))"
                if let label = h.labels?[i] {
                    line += "  \(label.label) (\(String(format: "%.2f", label.score)))"
                    if !label.alternates.isEmpty { line += ", " + label.alternates.map(\.label).joined(separator: ", ") }
                }
                lines.append(line + "  medoid \(medoid)")
            }
            if h.clusters.clusters.count > 20 { lines.append("  … \(h.clusters.clusters.count - 20) more (c[i] for each)") }
            if let note = h.clusters.note { lines.append("  " + note) }
            if let note = h.labelNote { lines.append("  " + note) }
            return lines.joined(separator: "\n")
        }
        t.length(note: "#c — how many clusters") { $0.clusters.clusters.count }
        t.elements(note: "c[i] — cluster i (largest first): {id=, size=, label=, score=, alternates={...}, medoid=Image, images=ImageSet}") { h, i, lua in
            guard i >= 1, i <= h.clusters.clusters.count else { return false }
            pushCluster(h, i - 1, types: types, on: lua)
            return true
        }
        t.method("of", signature: "c:of(img) -> cluster|nil",
                 summary: "The image's cluster (the table c[i] gives), nil for noise and images without a vector") { h, call in
            guard call.count >= 1 else { throw call.typeError(1, expected: "Image, path or id") }
            let id = try types.imageID(call, at: call.index(1), what: "bad argument #1", of: h.owner)
            guard let cluster = h.clusters.cluster(of: id) else { call.lua.pushNil(); return 1 }
            pushCluster(h, cluster.id - 1, types: types, on: call.lua)
            return 1
        }
        t.property("noise", type: "ImageSet", summary: "The embedded images in no cluster (HDBSCAN's noise)") { h, lua in
            types.push(set: MemoryImageSet(owner: h.owner, label: "noise", ids: h.clusters.noise, readOnly: true), on: lua)
        }
        t.property("method", type: "string", summary: "\"hdbscan\" or \"kmeans\"") { h, lua in lua.push(h.clusters.options.method.rawValue) }
        t.property("min_size", type: "integer|nil", summary: "HDBSCAN's smallest cluster (nil for K-Means)") { h, lua in
            if let v = h.clusters.options.minSize { lua.push(v) } else { lua.pushNil() }
        }
        t.property("k", type: "integer|nil", summary: "K-Means' cluster count (nil for HDBSCAN)") { h, lua in
            if let v = h.clusters.options.k { lua.push(v) } else { lua.pushNil() }
        }
        t.property("seed", type: "integer|string", summary: "The seed of the map HDBSCAN ran on, or of K-Means") { h, lua in
            LuaSeed.push(h.clusters.options.seed, on: lua)
        }
        t.property("cached", type: "boolean", summary: "Whether the clusters came from the index") { h, lua in lua.push(h.clusters.cached) }
        t.property("description", type: "string", summary: "What was clustered, how, and what came out") { h, lua in lua.push(h.clusters.description) }
        t.property("note", type: "string|nil", summary: "Why there are no clusters or no labels (how to get labels), nil when there is nothing to say") { h, lua in
            let notes = [h.clusters.note, h.labelNote].compactMap { $0 }
            if notes.isEmpty { lua.pushNil() } else { lua.push(notes.joined(separator: "; ")) }
        }
        t.property("album", type: "Album", summary: "The album clustered") { h, lua in types.album.push(h.owner, on: lua) }
    }
}
