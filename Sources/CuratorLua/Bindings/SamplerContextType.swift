import CLuaShims
import CuratorCore
import Foundation

/// One iteration's context for a Lua sampler (`ctx`): valid only while its
/// iteration runs.
final class SamplerContext {
    let owner: AlbumHandle
    let matrix: AlbumMatrix
    /// Distance queries over the album's vectors (`ctx:distance`, `ctx:nearest`, `ctx:farthest_from`).
    let geometry: SamplerGeometry
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
        geometry = SamplerGeometry(matrix: matrix.matrix)
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

}

/// Every member of `SamplerContext` (`ctx`): what a Lua sampler gets for one
/// iteration.
enum SamplerContextType {
    static func install(_ types: CuratorTypes, host: CuratorHost) {
        let t = types.samplerContext
        t.describe { ctx in
            "<SamplerContext iteration \(ctx.iteration + 1): \(ctx.candidateRows.count) candidates, count \(ctx.count)\(ctx.active ? "" : ", ended")>"
        }
        t.property("candidates", type: "ImageSet", summary: "The images the sampler may pick (album minus exclusions, filter and include)") { ctx, lua in
            types.push(set: ctx.candidates, on: lua)
        }
        t.property("count", type: "integer", summary: "How many images to return (at most)") { ctx, lua in lua.push(ctx.count) }
        t.property("seed", type: "integer|string", summary: "This iteration's seed (drawn from the run's master seed)") { ctx, lua in
            LuaSeed.push( ctx.seed, on: lua)
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
            lua_setfield(lua.L, curator_registryindex(), SamplerContextType.binderKey)
        } catch {
            lua.top = top
        }
        lua.top = top
        for (member, summary) in [("random", "ctx.random() -> number in [0,1); ctx.random(n) -> integer 1..n (seeded: the same run gives the same numbers)"),
                                  ("score", "ctx.score(name, img) -> number: a registered score of img")] {
            t.property(member, type: "function", summary: summary) { _, lua in
                lua_getfield(lua.L, curator_registryindex(), SamplerContextType.binderKey)
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
            call.lua.push(Double(try ctx.geometry.distance(a, b)))
            return 1
        }
        t.method("nearest", signature: "ctx:nearest(img, k) -> {Image, ...}", summary: "The k candidates nearest img (img itself left out), nearest first") { ctx, call in
            try ctx.checkActive(call)
            let query = try image(ctx, call, 1)
            let k = try call.positiveInteger(2, "k")
            let chosen = try ctx.geometry.nearest(to: query, count: k, among: ctx.candidateRows)
            call.lua.newTable(array: chosen.count)
            for (i, row) in chosen.enumerated() {
                types.push(image: ctx.matrix.imageIDs[row], of: ctx.owner, on: call.lua)
                call.lua.rawSet(-2, index: i + 1)
            }
            return 1
        }
        t.method("farthest_from", signature: "ctx:farthest_from(set) -> Image | nil",
                 summary: "The candidate whose nearest member of set (images, a list or an ImageSet) is farthest; nil when none is left") { ctx, call in
            try ctx.checkActive(call)
            guard call.count >= 1 else { throw call.typeError(1, expected: "Image, list or ImageSet") }
            let members = try types.imageIDs(call, 1, of: ctx.owner).map { try ctx.row($0, call) }
            // An empty set leaves every candidate equally far: the first one, as an FPS start.
            let best = members.isEmpty ? ctx.candidateRows.first
                                       : try ctx.geometry.farthest(from: members, among: ctx.candidateRows)
            guard let best else { call.lua.pushNil(); return 1 }
            types.push(image: ctx.matrix.imageIDs[best], of: ctx.owner, on: call.lua)
            return 1
        }
    }

    static let binderKey = "curator.sampler_binder"
}
