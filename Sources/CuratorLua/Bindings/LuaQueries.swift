import CLuaShims
import CuratorCore
import Foundation

/// The readers of text queries that `a:search`, `a:select{prompt=}`,
/// `filter={text=}`, `a:labels` and `curator.text_score` share (the members
/// themselves are registered with their type, in `AlbumType`).
enum LuaQueries {
    /// CLIP's short prompt ensemble, used by `a:labels(list, {templates=true})`.
    static let defaultTemplates = ["a photo of a {}.", "a photo of the {}.", "a close-up photo of a {}.", "a good photo of a {}.",
                                   "a bright photo of a {}.", "a dark photo of a {}.", "a cropped photo of the {}.", "a photo of one {}."]

    /// Warns about texts longer than the text tower's context: they are cut
    /// (start token, the first 75 tokens, end token), as CLIP's own tokenizers cut them.
    static func noteTruncation(_ host: CuratorHost, _ call: LuaCall, _ album: Album, _ texts: [String]) {
        guard let encoder = try? album.textEncoder() else { return }
        for text in texts {
            let encoding = encoder.tokenize(text)
            if encoding.truncated {
                host.warn("\(call.name): \"\(text.prefix(40))…\" is \(encoding.fullLength) tokens; the text tower reads the first \(encoding.ids.count) (the rest is ignored)")
            }
        }
    }

    /// The texts of a query (positives and negatives).
    static func texts(of query: SearchQuery) -> [String] {
        query.positives.compactMap { p -> String? in if case .text(let t) = p { return t }; return nil } + query.negatives
    }

    // MARK: Reading queries

    /// The query at stack `index`: a text, an Image, or a list of them; `what` names it in messages.
    static func positives(_ call: LuaCall, at index: Int32, what: String, types: CuratorTypes,
                          owner: AlbumHandle) throws -> [SearchQuery.Positive] {
        let lua = call.lua
        func one(_ i: Int32, _ label: String) throws -> SearchQuery.Positive {
            switch lua.type(at: i) {
            case .string:
                return .text(lua.string(at: i) ?? "")
            case .userdata:
                guard let image = types.image.object(at: i, in: lua) else { break }
                guard image.owner === owner else { throw call.failure("\(label): image of album \"\(image.owner.album.name)\", not \"\(owner.album.name)\"") }
                return .image(image.id)
            default:
                break
            }
            throw call.failure("\(label): a text or an Image expected, got \(LuaCall.shown(lua, i))")
        }
        if lua.type(at: index) == .table {
            let n = lua.rawLength(at: index)
            guard n > 0 else { throw call.failure("\(what): the list is empty") }
            var out: [SearchQuery.Positive] = []
            for i in 1...n {
                lua.rawGet(index, index: i)
                defer { lua.pop() }
                out.append(try one(lua.absolute(-1), "\(what)[\(i)]"))
            }
            return out
        }
        return [try one(index, what)]
    }

    /// Option `key` as a list of texts (a string or a list of strings); empty when absent.
    static func texts(_ options: LuaOptions, _ key: String) throws -> [String] {
        let lua = options.call.lua
        defer { lua.pop() }
        switch options.pushValue(key) {
        case .nil: return []
        case .string: return [lua.string(at: -1) ?? ""]
        case .table:
            let table = lua.absolute(-1)
            var out: [String] = []
            for i in stride(from: 1, through: lua.rawLength(at: table), by: 1) {
                lua.rawGet(table, index: i)
                defer { lua.pop() }
                guard lua.type(at: -1) == .string, let s = lua.string(at: -1) else {
                    throw options.call.failure("\(key)[\(i)] must be a string (got \(LuaCall.shown(lua, -1)))")
                }
                out.append(s)
            }
            return out
        default:
            throw options.call.failure("\(key) must be a string or a list of strings (got \(LuaCall.shown(lua, -1)))")
        }
    }

    /// The query of `a:select{prompt=, negative=}` or `filter={text=, negative=}` (nil without `key`).
    static func prompt(_ options: LuaOptions, key: String = "prompt", types: CuratorTypes, owner: AlbumHandle) throws -> SearchQuery? {
        let lua = options.call.lua
        defer { lua.pop() }
        guard options.pushValue(key) != .nil else {
            if options.has("negative") { throw options.call.failure("negative needs a prompt (\(key)=\"...\")") }
            return nil
        }
        let positives = try positives(options.call, at: lua.absolute(-1), what: key, types: types, owner: owner)
        return SearchQuery(positives: positives, negatives: try texts(options, "negative"))
    }
}
