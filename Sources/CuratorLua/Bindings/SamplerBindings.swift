import CLuaShims
import CuratorCore
import Foundation

/// Scores registered with `curator.register_score`, computed on demand and
/// cached for one selection. Errors name the score and the image.
final class ScoreBook {
    private let host: CuratorHost
    private let types: CuratorTypes
    private let owner: AlbumHandle
    private let call: LuaCall
    private var cache: [String: [Int64: Double]] = [:]
    /// The first error a score raised inside the core (where only Swift errors pass).
    var pendingError: LuaBindingError?

    init(host: CuratorHost, types: CuratorTypes, owner: AlbumHandle, call: LuaCall) {
        self.host = host
        self.types = types
        self.owner = owner
        self.call = call
    }

    /// Throws unless `name` is a registered score.
    func check(_ name: String) throws {
        if cache[name] != nil { return }
        let names = host.registeredNames(.score)
        guard names.contains(name) else {
            var message = "unknown score '\(name)'"
            if let guess = DidYouMean.suggestion(for: name, among: names) { message += " (did you mean '\(guess)'?)" }
            else { message += names.isEmpty ? " (none registered: curator.register_score(name, fn))" : " (registered: \(names.joined(separator: ", ")))" }
            throw call.failure(message)
        }
    }

    /// Score `name` of image `id`: `fn(img)`, which must return a number.
    func score(_ name: String, _ id: Int64) throws -> Double {
        if let value = cache[name]?[id] { return value }
        try check(name)
        if cache[name] == nil { cache[name] = [:] } // checked: later images skip the registry walk
        let lua = call.lua
        let top = lua.top
        defer { lua.top = top }
        guard lua.ensureSpace(4), host.pushExtension(.score, named: name, on: lua) else { throw call.failure("stack overflow") }
        lua.rawGet(-1, "fn")
        types.push(image: id, of: owner, on: lua)
        let path = owner.album.image(id: id)?.path.string ?? "#\(id)"
        do {
            try lua.call(arguments: 1, results: 1, traceback: true)
        } catch {
            throw remember(call.failure("score '\(name)' failed for \"\(path)\": \(error.message)"))
        }
        guard let value = lua.number(at: -1), !value.isNaN else {
            throw remember(call.failure("score '\(name)' returned \(LuaCall.shown(lua, -1)) for \"\(path)\", not a number"))
        }
        cache[name, default: [:]][id] = value
        return value
    }

    private func remember(_ error: LuaBindingError) -> LuaBindingError {
        if pendingError == nil { pendingError = error }
        return error
    }
}

/// One iteration's context for a Lua sampler (`ctx`): valid only while its
/// iteration runs.
final class SamplerContext {
    let owner: AlbumHandle
    let matrix: AlbumMatrix
    /// Album rows of the candidates (ascending).
    let candidateRows: [Int]
    let count: Int
    let seed: UInt64
    let iteration: Int
    let include: [Int64]
    let scores: ScoreBook
    var generator: Xoshiro256StarStar
    var active = true
    /// The Lua value of `ctx.candidates` (shared by the run's iterations).
    let candidates: MemoryImageSet

    init(owner: AlbumHandle, matrix: AlbumMatrix, candidateRows: [Int], candidates: MemoryImageSet, count: Int,
         seed: UInt64, iteration: Int, include: [Int64], scores: ScoreBook) {
        self.owner = owner
        self.matrix = matrix
        self.candidateRows = candidateRows
        self.candidates = candidates
        self.count = count
        self.seed = seed
        self.iteration = iteration
        self.include = include
        self.scores = scores
        generator = Xoshiro256StarStar(seed: seed)
    }

    func checkActive(_ call: LuaCall) throws {
        guard active else { throw call.failure("this sampler context's iteration has ended (use ctx only inside the sampler call)") }
    }

    /// The row of image `id`, or an error saying it has no vector.
    func row(_ id: Int64, _ call: LuaCall) throws -> Int {
        guard let row = matrix.rowOf[id] else {
            throw call.failure("\(owner.album.image(id: id)?.path.string ?? "#\(id)") has no embedding")
        }
        return row
    }

    func similarity(_ a: Int, _ b: Int) -> Float {
        BLAS.dot(matrix.matrix.dimension, matrix.matrix.row(a), matrix.matrix.row(b))
    }

    /// The cosine similarity of every album row to row `query` (one GEMV pass).
    func similarities(to query: Int) -> [Float] {
        let m = matrix.matrix
        var out = [Float](repeating: 0, count: m.rows)
        out.withUnsafeMutableBufferPointer { y in
            BLAS.gemv(m: m.rows, n: m.dimension, a: m.row(0), lda: m.dimension, x: m.row(query), y: y.baseAddress!)
        }
        return out
    }
}

/// Lua samplers (`curator.register_sampler`) in the Monte Carlo harness,
/// their `ctx`, and the `filter=` option of `a:select`.
final class SamplerBindings {
    private let host: CuratorHost
    private let types: CuratorTypes
    let contextType: HostType<SamplerContext>
    /// The first Lua error raised inside the core, re-raised once it returns.
    var pendingError: LuaBindingError?

    init(host: CuratorHost, types: CuratorTypes) {
        self.host = host
        self.types = types
        contextType = host.state.defineType(SamplerContext.self, name: "SamplerContext", prefix: "ctx", variable: "ctx",
                                            summary: "What a custom sampler's function gets for one iteration")
        defineContext()
    }

    static func failureMessage(_ name: String, iteration: Int, iterations: Int, reason: String) -> String {
        var lines = reason.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        lines[0] += " (iteration \(iteration + 1) of \(iterations))"
        return "sampler '\(name)' failed: " + lines.joined(separator: "\n")
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
            return { [types] record in
                let top = lua.top
                defer { lua.top = top }
                lua.pushValue(at: fn)
                types.push(image: record.id, of: owner, on: lua)
                do {
                    try lua.call(arguments: 1, results: 1, traceback: true)
                } catch {
                    let failure = call.failure("filter failed for \"\(record.path.string)\": \(LuaState.describe(error))")
                    if self.pendingError == nil { self.pendingError = failure }
                    throw failure
                }
                return lua.truthy(at: -1)
            }
        case .table:
            let table = lua.absolute(-1)
            defer { lua.pop() }
            let spec = LuaOptions(call: call, table: table)
            try spec.checkKeys(allowed: ["score", "min", "max"])
            guard let name = try spec.string("score") else { throw call.failure("filter.score must name a registered score") }
            try scores.check(name)
            let low = try spec.number("min") ?? -.infinity
            let high = try spec.number("max") ?? .infinity
            return { record in
                let value = try scores.score(name, record.id)
                return value >= low && value <= high
            }
        default:
            defer { lua.pop() }
            throw call.failure("filter must be a function or {score=name, min=, max=} (got \(lua.typeName(at: -1)))")
        }
    }

    // MARK: Custom samplers

    func sampler(named name: String, call: LuaCall, owner: AlbumHandle, scores: ScoreBook) throws -> ClosureSampler {
        let lua = call.lua
        let names = host.registeredNames(.sampler)
        guard host.pushExtension(.sampler, named: name, on: lua) else {
            var message = "unknown method '\(name)'"
            if let guess = DidYouMean.suggestion(for: name, among: ["fps", "kmeans"] + names) { message += " (did you mean '\(guess)'?)" }
            message += " (built in: fps, kmeans" + (names.isEmpty ? "; register one with curator.register_sampler" : "; registered: \(names.joined(separator: ", "))") + ")"
            throw call.failure(message)
        }
        lua.rawGet(-1, "fn")
        lua.remove(at: -2)
        let fn = lua.absolute(-1) // stays on the stack for the call
        let matrix: AlbumMatrix
        do { matrix = try owner.album.matrix() } catch let error as IndexError {
            throw call.failure("\(error); embed first with a:embed()")
        }
        var candidatesSet: MemoryImageSet?
        let contextType = self.contextType
        return ClosureSampler(method: name) { [types] iteration in
            let candidates = candidatesSet ?? MemoryImageSet(owner: owner, label: "candidates",
                                                             ids: iteration.candidates.map { matrix.imageIDs[$0] }, readOnly: true)
            candidatesSet = candidates
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

    // MARK: ctx

    private func defineContext() {
        let t = contextType
        let types = self.types
        t.describe { ctx in
            "<SamplerContext iteration \(ctx.iteration + 1): \(ctx.candidateRows.count) candidates, count \(ctx.count)\(ctx.active ? "" : ", ended")>"
        }
        t.property("candidates", type: "ImageSet", summary: "The images the sampler may pick (album minus exclusions, filter and include)") { ctx, lua in
            types.push(set: ctx.candidates, on: lua)
        }
        t.property("count", type: "integer", summary: "How many images to return (at most)") { ctx, lua in lua.push(ctx.count) }
        t.property("seed", type: "integer|string", summary: "This iteration's seed (drawn from the run's master seed)") { ctx, lua in
            RunBindings.push(seed: ctx.seed, on: lua)
        }
        t.property("iteration", type: "integer", summary: "This iteration's number, from 1") { ctx, lua in lua.push(ctx.iteration + 1) }
        t.property("include", type: "ImageSet", summary: "Images already in the picked set (include=); do not return them") { ctx, lua in
            types.push(set: MemoryImageSet(owner: ctx.owner, label: "include", ids: ctx.include, readOnly: true), on: lua)
        }

        // ctx.random and ctx.score are functions bound to ctx (called with . or :).
        let state = host.state
        let lua = state.stack
        let top = lua.top
        state.push(state.makeFunction(name: "ctx.random") { [t] call in
            let ctx = try call.object(1, t)
            try ctx.checkActive(call)
            let args = LuaCall(call.lua, name: call.name, base: call.index(2))
            if args.isNil(1) {
                call.lua.push(ctx.generator.nextDouble())
            } else {
                let n = try args.positiveInteger(1, "n")
                call.lua.push(ctx.generator.nextInt(below: n) + 1)
            }
            return 1
        }, on: lua)
        state.push(state.makeFunction(name: "ctx.score") { [t] call in
            let ctx = try call.object(1, t)
            try ctx.checkActive(call)
            let args = LuaCall(call.lua, name: call.name, base: call.index(2))
            let name = try args.string(1)
            guard args.count >= 2 else { throw args.typeError(2, expected: "Image, path or id") }
            let id = try types.imageID(args, at: args.index(2), what: "bad argument #2", of: ctx.owner)
            call.lua.push(try ctx.scores.score(name, id))
            return 1
        }, on: lua)
        do {
            try lua.load(Array("""
                local random, score = ...
                return function(ctx, which)
                  local impl = which == "random" and random or score
                  return function(first, ...)
                    if rawequal(first, ctx) then return impl(ctx, ...) end
                    return impl(ctx, first, ...)
                  end
                end
                """.utf8), name: "=sampler context")
            lua.insert(at: -3)
            try lua.call(arguments: 2, results: 1)
            lua_setfield(lua.L, curator_registryindex(), SamplerBindings.binderKey)
        } catch {
            lua.top = top
        }
        lua.top = top
        for (member, summary) in [("random", "ctx.random() -> number in [0,1); ctx.random(n) -> integer 1..n (seeded: the same run gives the same numbers)"),
                                  ("score", "ctx.score(name, img) -> number: a registered score of img")] {
            t.property(member, type: "function", summary: summary) { _, lua in
                lua_getfield(lua.L, curator_registryindex(), SamplerBindings.binderKey)
                lua.pushValue(at: 1)
                lua.push(member)
                try lua.call(arguments: 2, results: 1)
            }
        }

        func image(_ ctx: SamplerContext, _ call: LuaCall, _ n: Int) throws -> Int {
            guard call.count >= n else { throw call.typeError(n, expected: "Image, path or id") }
            return try ctx.row(try types.imageID(call, at: call.index(n), what: "bad argument #\(n)", of: ctx.owner), call)
        }
        t.method("distance", signature: "ctx:distance(a, b) -> number", summary: "The cosine distance (1 - similarity) of two images' embeddings") { ctx, call in
            try ctx.checkActive(call)
            let a = try image(ctx, call, 1), b = try image(ctx, call, 2)
            call.lua.push(Double(1 - ctx.similarity(a, b)))
            return 1
        }
        t.method("nearest", signature: "ctx:nearest(img, k) -> {Image, ...}", summary: "The k candidates nearest img (img itself left out), nearest first") { ctx, call in
            try ctx.checkActive(call)
            let query = try image(ctx, call, 1)
            let k = try call.positiveInteger(2, "k")
            let similarity = ctx.similarities(to: query)
            var scored: [(Int, Float)] = []
            scored.reserveCapacity(ctx.candidateRows.count)
            for row in ctx.candidateRows where row != query { scored.append((row, similarity[row])) }
            scored.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
            let chosen = scored.prefix(k)
            call.lua.newTable(array: chosen.count)
            for (i, entry) in chosen.enumerated() {
                types.push(image: ctx.matrix.imageIDs[entry.0], of: ctx.owner, on: call.lua)
                call.lua.rawSet(-2, index: i + 1)
            }
            return 1
        }
        t.method("farthest_from", signature: "ctx:farthest_from(set) -> Image | nil",
                 summary: "The candidate whose nearest member of set (images, a list or an ImageSet) is farthest; nil when none is left") { ctx, call in
            try ctx.checkActive(call)
            guard call.count >= 1 else { throw call.typeError(1, expected: "Image, list or ImageSet") }
            let ids = try types.imageIDs(call, 1, of: ctx.owner)
            let members = try ids.map { try ctx.row($0, call) }
            let taken = Set(members)
            // Each candidate's highest similarity to the set, one GEMV per member.
            var closest = [Float](repeating: -.infinity, count: ctx.matrix.matrix.rows)
            for m in taken {
                let similarity = ctx.similarities(to: m)
                for row in ctx.candidateRows where similarity[row] > closest[row] { closest[row] = similarity[row] }
            }
            var best: Int?
            var bestSimilarity = Float.infinity
            for row in ctx.candidateRows where !taken.contains(row) && closest[row] < bestSimilarity {
                bestSimilarity = closest[row]
                best = row
            }
            guard let best else { call.lua.pushNil(); return 1 }
            types.push(image: ctx.matrix.imageIDs[best], of: ctx.owner, on: call.lua)
            return 1
        }
    }

    static let binderKey = "curator.sampler_binder"
}

