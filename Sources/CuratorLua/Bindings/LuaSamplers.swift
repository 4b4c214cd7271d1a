import CLuaShims
import CuratorCore
import Foundation

/// Lua samplers (`curator.register_sampler`) in the Monte Carlo harness,
/// and the `filter=` option of `a:select` (their `ctx` is `SamplerContextType`).
final class LuaSamplers {
    private let host: CuratorHost
    private let types: CuratorTypes
    /// The first Lua error raised inside the core, re-raised once it returns.
    var pendingError: LuaBindingError?

    init(host: CuratorHost, types: CuratorTypes) {
        self.host = host
        self.types = types
    }

    static func failureMessage(_ name: String, iteration: Int, iterations: Int, reason: String) -> String {
        var lines = reason.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        lines[0] += " (iteration \(iteration + 1) of \(iterations))"
        return "sampler '\(name)' failed: " + lines.joined(separator: "\n")
    }

    /// Calls the function at stack index `fn` with the image of `record`,
    /// leaving its one result on the stack; a failure names `what` and the
    /// image, and is remembered to be re-raised once the core returns.
    private func callPerImage(_ fn: Int32, _ record: ImageRecord, owner: AlbumHandle, call: LuaCall, what: String) throws {
        let lua = call.lua
        lua.pushValue(at: fn)
        types.push(image: record.id, of: owner, on: lua)
        do {
            try lua.call(arguments: 1, results: 1, traceback: true)
        } catch {
            let failure = call.failure("\(what) failed for \"\(record.path.string)\": \(LuaState.describe(error))")
            if pendingError == nil { pendingError = failure }
            throw failure
        }
    }

    // MARK: balance=

    /// Reads `balance={by=, mode=}`; the function (if `by` is one) stays on
    /// the stack for the selection's duration, like `filter`'s.
    func balance(_ options: LuaOptions, call: LuaCall, owner: AlbumHandle) throws -> SelectBalance? {
        let lua = call.lua
        let type = options.pushValue("balance")
        guard type != .nil else { lua.pop(); return nil }
        guard type == .table else {
            defer { lua.pop() }
            throw call.failure("balance must be a table {by=\"folder\"|\"aspect\"|\"caption:<tag>\"|fn, mode=\"equal\"|\"proportional\"|{name=quota, ...}} (got \(lua.typeName(at: -1)))")
        }
        let spec = LuaOptions(call: call, table: lua.absolute(-1))
        defer { lua.pop() }
        try spec.checkKeys(allowed: ["by", "mode"])
        var mode = BalanceMode.equal
        switch spec.pushValue("mode") {
        case .nil: lua.pop()
        case .string:
            let name = lua.string(at: -1) ?? ""
            lua.pop()
            switch name {
            case "equal": mode = .equal
            case "proportional": mode = .proportional
            default: throw call.failure("balance.mode must be \"equal\", \"proportional\" or a table of quotas {name=n, ...} (got \"\(name)\")")
            }
        case .table:
            let table = lua.absolute(-1)
            defer { lua.pop() }
            var quotas: [String: Int] = [:]
            lua.pushNil()
            while lua.next(table) {
                defer { lua.pop() }
                // Copy the key before reading it as a string: lua_tostring on a number key would confuse lua_next.
                lua.pushValue(at: -2)
                let name: String
                switch lua.type(at: -1) {
                case .string: name = lua.string(at: -1) ?? ""
                case .number: name = lua.integer(at: -1).map { String($0) } ?? LuaStack.format(number: lua.number(at: -1) ?? 0)
                default:
                    throw call.failure("balance.mode quotas must be {name=n, ...} with stratum names as keys (got a \(lua.typeName(at: -1)) key)")
                }
                lua.pop()
                guard let value = lua.integer(at: -1), value >= 0 else {
                    throw call.failure("balance.mode quota for '\(name)' must be a non-negative integer (got \(LuaCall.shown(lua, -1)))")
                }
                quotas[name] = Int(value)
            }
            guard !quotas.isEmpty else { throw call.failure("balance.mode quotas are empty: give {name=n, ...}") }
            mode = .quotas(quotas)
        default:
            defer { lua.pop() }
            throw call.failure("balance.mode must be \"equal\", \"proportional\" or a table of quotas {name=n, ...} (got \(lua.typeName(at: -1)))")
        }

        let album = owner.album
        switch spec.pushValue("by") {
        case .string:
            let by = lua.string(at: -1) ?? ""
            lua.pop()
            let key: BalanceKey
            switch by {
            case "folder": key = .folder
            case "aspect": key = .aspect
            case "cluster":
                // The default clusters (cached after the first time); noise images form their own stratum.
                let clusters = try album.clusters()
                return SelectBalance(by: by, mode: mode) { Self.clusterStratum(clusters, $0.id) }
            case let text where text.hasPrefix("caption:"):
                let tag = String(text.dropFirst("caption:".count))
                guard !CaptionWords.words(tag).isEmpty else { throw call.failure("balance.by \"caption:<tag>\" needs a tag with words (got \"\(by)\")") }
                key = .caption(tag)
            default:
                var message = "balance.by must be \"folder\", \"aspect\", \"cluster\", \"caption:<tag>\", a Clusters or a function img -> stratum name (got \"\(by)\")"
                if let guess = DidYouMean.suggestion(for: by, among: ["folder", "aspect", "cluster"]) { message += " (did you mean '\(guess)'?)" }
                throw call.failure(message)
            }
            return SelectBalance(by: by, mode: mode) { key.stratum(of: $0, in: album) }
        case .function:
            lua.insert(at: -2)          // below the balance table, which the defer pops
            let fn = lua.absolute(-2)   // stays on the stack for the calls
            return SelectBalance(by: "function", mode: mode) { record in
                let top = lua.top
                defer { lua.top = top }
                try self.callPerImage(fn, record, owner: owner, call: call, what: "balance.by")
                switch lua.type(at: -1) {
                case .nil: return nil
                case .string: return lua.string(at: -1)
                case .number: return lua.integer(at: -1).map { String($0) } ?? LuaStack.format(number: lua.number(at: -1) ?? 0)
                case .boolean: return lua.truthy(at: -1) ? "true" : "false"
                default:
                    let failure = call.failure("balance.by returned \(LuaCall.shown(lua, -1)) for \"\(record.path.string)\": a stratum is a string, number, boolean or nil")
                    if self.pendingError == nil { self.pendingError = failure }
                    throw failure
                }
            }
        case .userdata where types.clusters.object(at: -1, in: lua) != nil:
            let handle = types.clusters.object(at: -1, in: lua)!
            lua.pop()
            guard handle.owner === owner else { throw call.failure("balance.by: the clusters belong to another album") }
            return SelectBalance(by: "cluster", mode: mode) { Self.clusterStratum(handle.clusters, $0.id) }
        case .nil:
            lua.pop()
            throw call.failure("balance.by is required: \"folder\", \"aspect\", \"caption:<tag>\" or a function img -> stratum name")
        default:
            defer { lua.pop() }
            throw call.failure("balance.by must be \"folder\", \"aspect\", \"caption:<tag>\" or a function (got \(lua.typeName(at: -1)))")
        }
    }

    /// A balance stratum by cluster: "cluster N" (as `c[N]`), "noise" for HDBSCAN's noise.
    static func clusterStratum(_ clusters: AlbumClusters, _ id: Int64) -> String {
        clusters.cluster(of: id).map { "cluster \($0.id)" } ?? "noise"
    }

    // MARK: filter=

    func filter(_ options: LuaOptions, call: LuaCall, owner: AlbumHandle, scores: ScoreBook) throws -> ((ImageRecord) throws -> Bool)? {
        let lua = call.lua
        switch options.pushValue("filter") {
        case .nil:
            lua.pop()
            return nil
        case .function:
            let fn = lua.absolute(-1) // stays on the stack for the call
            return { record in
                let top = lua.top
                defer { lua.top = top }
                try self.callPerImage(fn, record, owner: owner, call: call, what: "filter")
                return lua.truthy(at: -1)
            }
        case .table:
            let table = lua.absolute(-1)
            defer { lua.pop() }
            let spec = LuaOptions(call: call, table: table)
            try spec.checkKeys(allowed: ["score", "text", "negative", "min", "max"])
            let low = try spec.number("min") ?? -.infinity
            let high = try spec.number("max") ?? .infinity
            if spec.has("text") {
                guard !spec.has("score") else { throw call.failure("filter takes score= or text=, not both") }
                // Text scores come from one GEMV over the album's vectors, read by row.
                guard let query = try LuaQueries.prompt(spec, key: "text", types: types, owner: owner) else {
                    throw call.failure("filter.text must be a text, an Image or a list of them")
                }
                let scores = try owner.album.scores(query)
                let rows = try owner.album.matrix().rowOf
                return { record in
                    guard let row = rows[record.id] else { return false }
                    let value = Double(scores[row])
                    return value >= low && value <= high
                }
            }
            guard let name = try spec.string("score") else { throw call.failure("filter.score must name a registered score (or filter.text a prompt)") }
            try scores.check(name)
            return { record in
                let value = try scores.score(name, record.id)
                return value >= low && value <= high
            }
        default:
            defer { lua.pop() }
            throw call.failure("filter must be a function or {score=name|text=prompt, min=, max=} (got \(lua.typeName(at: -1)))")
        }
    }

    // MARK: Custom samplers

    func sampler(named name: String, call: LuaCall, owner: AlbumHandle, scores: ScoreBook) throws -> ClosureSampler {
        let lua = call.lua
        let names = host.registeredNames(.sampler)
        guard host.pushExtension(.sampler, named: name, on: lua) else {
            var message = "unknown method '\(name)'"
            if let guess = DidYouMean.suggestion(for: name, among: BuiltInSampler.names + names) { message += " (did you mean '\(guess)'?)" }
            message += " (built in: \(BuiltInSampler.names.joined(separator: ", "))" + (names.isEmpty ? "; register one with curator.register_sampler" : "; registered: \(names.joined(separator: ", "))") + ")"
            throw call.failure(message)
        }
        lua.rawGet(-1, "fn")
        lua.remove(at: -2)
        let fn = lua.absolute(-1) // stays on the stack for the call
        let matrix: AlbumMatrix
        do { matrix = try owner.album.matrix() } catch let error as IndexError {
            throw call.failure("\(error); embed first with a:embed()")
        }
        // One set per candidate list: the iterations of a run share it, and a
        // balanced run's strata each have their own.
        var candidatesSet: (rows: [Int], set: MemoryImageSet)?
        let contextType = types.samplerContext
        return ClosureSampler(method: name) { [types] iteration in
            let candidates: MemoryImageSet
            if let cached = candidatesSet, cached.rows == iteration.candidates {
                candidates = cached.set
            } else {
                candidates = MemoryImageSet(owner: owner, label: "candidates",
                                            ids: iteration.candidates.map { matrix.imageIDs[$0] }, readOnly: true)
                candidatesSet = (iteration.candidates, candidates)
            }
            let context = SamplerContext(owner: owner, matrix: matrix, candidateRows: iteration.candidates, candidates: candidates,
                                         count: iteration.count, seed: iteration.seed, iteration: iteration.iteration,
                                         include: iteration.include.map { matrix.imageIDs[$0] }, scores: scores)
            defer { context.active = false }
            let top = lua.top
            defer { lua.top = top }
            guard lua.ensureSpace(6) else { throw LuaBindingError("stack overflow") }
            lua.pushValue(at: fn)
            contextType.push(context, on: lua)
            do {
                try lua.call(arguments: 1, results: 1, traceback: true)
            } catch {
                // Ctrl-C while the sampler ran: a cancelled selection, not a failed sampler.
                if curator_interrupt_requested() != 0 { throw CancelledError("select") }
                if let pending = scores.pendingError { throw LuaBindingError(pending.message) }
                throw LuaBindingError(LuaState.describe(error))
            }
            guard lua.type(at: -1) == .table else {
                throw LuaBindingError("returned \(lua.type(at: -1) == .nil ? "nothing" : lua.typeName(at: -1)), not a list of images")
            }
            let list = lua.absolute(-1)
            let n = lua.rawLength(at: list)
            var rows: [Int] = []
            rows.reserveCapacity(n)
            for i in stride(from: 1, through: n, by: 1) {
                lua.rawGet(list, index: i)
                defer { lua.pop() }
                guard let image = types.image.object(at: -1, in: lua) else {
                    throw LuaBindingError("returned \(LuaCall.shown(lua, -1)) at [\(i)], not an Image")
                }
                guard image.owner === owner else { throw LuaBindingError("returned an image of another album at [\(i)]") }
                guard let row = matrix.rowOf[image.id] else {
                    throw LuaBindingError("returned \(owner.album.image(id: image.id)?.path.string ?? "#\(image.id)") at [\(i)], which has no embedding")
                }
                rows.append(row)
            }
            return rows
        }
    }

}
