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

    /// Throws unless `name` is a registered or built-in score.
    func check(_ name: String) throws {
        if cache[name] != nil || NeighborScore(rawValue: name) != nil { return }
        let names = host.registeredNames(.score) + NeighborScore.allCases.map(\.rawValue)
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
        if let builtIn = NeighborScore(rawValue: name) {
            guard let value = try owner.album.neighborScore(builtIn, of: id) else {
                throw call.failure("score '\(name)': \(owner.album.image(id: id)?.path.string ?? "#\(id)") has no embedding")
            }
            cache[name, default: [:]][id] = value
            return value
        }
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
