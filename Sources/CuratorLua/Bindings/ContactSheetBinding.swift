import CuratorCore
import Foundation

/// What `img:show()`, `s:show()` and `r:show{}` share: their options, and
/// drawing a `ContactSheet` on standard output (with a warning and the
/// numbered paths where libchafa is missing).
enum ContactSheetBinding {
    /// The options every `show` takes.
    static let optionNames = ["size", "columns", "format", "colors", "width", "list", "from", "limit"]
    /// The options' part of a `show` signature.
    static let optionsSignature = "size=16, columns=, from=1, limit=200, format=\"auto\"|\"symbols\"|\"sixel\"|\"kitty\"|\"iterm\", colors=\"auto\"|\"truecolor\"|\"256\"|\"16\"|\"none\", width=, list="

    /// How a call asked for its sheet.
    struct Request {
        var display: TerminalDisplay
        var size: Int?
        var columns: Int?
        var list: Bool?
        /// The first tile shown (from 1) and how many at most.
        var from: Int
        var limit: Int
    }

    /// Reads the options (`optionNames` and the caller's `extra` ones) of
    /// argument `n`; the terminal is detected unless they say.
    static func request(_ call: LuaCall, options n: Int, extra: [String] = []) throws -> (Request, LuaOptions) {
        let options = try call.options(n, allowed: optionNames + extra)
        var display = TerminalDisplay.detect(environment: ProcessInfo.processInfo.environment)
        if let format = try options.choice("format", ["auto"] + TerminalImageFormat.allCases.map(\.rawValue)), format != "auto" {
            display.format = TerminalImageFormat(rawValue: format)!
        }
        if let colors = try options.choice("colors", ["auto"] + TerminalColors.allCases.map(\.rawValue)), colors != "auto" {
            display.colors = TerminalColors(rawValue: colors)!
        }
        if let width = try options.positiveInteger("width") { display.columns = width }
        let request = Request(display: display, size: try options.positiveInteger("size"),
                              columns: try options.positiveInteger("columns"), list: try options.boolean("list"),
                              from: try options.positiveInteger("from") ?? 1, limit: try options.positiveInteger("limit") ?? 200)
        return (request, options)
    }

    /// Draws `tiles[from...]` (at most `limit`) on standard output, under
    /// `title`; when tiles remain, says how to see them (`again` is the call
    /// to repeat up to its `from=` option, e.g. `r:show{tier="core", `).
    /// Where libchafa is missing, warns and
    /// prints the numbered paths instead.
    static func show(_ tiles: [ContactSheet.Tile], _ request: Request, title: String, again: String,
                     host: CuratorHost) throws {
        let start = min(request.from - 1, tiles.count)
        let shown = Array(tiles[start..<min(tiles.count, start + request.limit)])
        var footer: String?
        if start + shown.count < tiles.count {
            footer = "… \(Wording.counted(tiles.count - start - shown.count, "more image")): \(again)from=\(start + shown.count + 1)}"
        } else if shown.isEmpty {
            footer = tiles.isEmpty ? "(no images)" : "(no images from \(request.from) on: there are \(tiles.count))"
        }
        let sheet = ContactSheet(tiles: shown, display: request.display, size: request.size, columns: request.columns,
                                 list: request.list, title: title, footer: footer)
        var text: String
        if shown.isEmpty {
            text = title + "\n" + (footer.map { $0 + "\n" } ?? "")
        } else {
            do {
                text = try sheet.render()
            } catch let error as LibraryUnavailable {
                host.warn("cannot draw pictures in the terminal: \(error); listing the images instead")
                text = title + "\n" + sheet.listing() + (footer.map { $0 + "\n" } ?? "")
            }
        }
        // The C stdout Lua's print writes to: the sheet lands in order with it.
        print(text, terminator: "")
        fflush(nil)
    }

    /// The tile of image `id` of `owner`, numbered `number`.
    static func tile(_ id: Int64, of owner: AlbumHandle, number: Int?, tier: SelectionTier? = nil,
                     detail: String? = nil, markExcluded: Bool = true) -> ContactSheet.Tile? {
        let album = owner.album
        guard let record = album.image(id: id) else { return nil }
        return ContactSheet.Tile(number: number, path: record.path.string,
                                 file: album.absolutePath(of: record), tier: tier,
                                 excluded: markExcluded && album.exclusions.contains(id), detail: detail)
    }
}
