import CChafaShims
import Foundation

/// Images drawn in the terminal as a numbered contact sheet (`img:show()`,
/// `s:show()`, `r:show{}`): rows of thumbnails as wide as the terminal,
/// each framed in its tier's colour (excluded ones red and crossed out),
/// with its number and name under it. Numbers are the caller's (a run's
/// rank, a set's position), so excluded images keep their place and number.
///
/// Pictures are decoded by libvips (`ImageDecoder`) and drawn by libchafa:
/// kitty, iTerm2 or sixel graphics where the terminal shows them, Unicode
/// block symbols elsewhere (`TerminalDisplay` decides). Output that is not a
/// terminal gets symbols followed by the list of numbers and paths, so a log
/// says which image was which. The same tiles, display and options always
/// give the same bytes.
public struct ContactSheet {
    /// One picture on the sheet.
    public struct Tile: Sendable, Equatable {
        /// The number shown (a run's rank, a set's position); nil for none.
        public var number: Int?
        /// The image's path inside its album (the list shows it).
        public var path: String
        /// The text under the picture after its number: the path, cut by its
        /// folders first where the tile is narrow.
        public var label: String
        /// The file decoded.
        public var file: FileSystemPath
        /// The tier whose colour frames the picture; nil for no frame.
        public var tier: SelectionTier?
        /// Whether the image is excluded: framed and crossed out in red, its label struck through.
        public var excluded: Bool
        /// What the list says after the path, e.g. "core 95 %".
        public var detail: String?

        /// Creates a tile; the label defaults to the path.
        public init(number: Int?, path: String, label: String? = nil, file: FileSystemPath, tier: SelectionTier? = nil,
                    excluded: Bool = false, detail: String? = nil) {
            self.number = number
            self.path = path
            self.label = label ?? path
            self.file = file
            self.tier = tier
            self.excluded = excluded
            self.detail = detail
        }
    }

    /// The pictures, in the order they are laid out.
    public var tiles: [Tile]
    /// Where the sheet is shown.
    public var display: TerminalDisplay
    /// A tile's width in character cells; nil picks one (`defaultSize`, or
    /// what `columns` leaves).
    public var size: Int?
    /// Tiles per row; nil fits as many as the terminal's width holds.
    public var columns: Int?
    /// Whether the numbered paths follow the sheet; nil lists them when the
    /// output is not a terminal.
    public var list: Bool?
    /// A line printed above the sheet.
    public var title: String?
    /// A line printed below it (e.g. how to see the rest).
    public var footer: String?

    /// A tile's width in cells when neither `size` nor `columns` says.
    public static let defaultSize = 16

    /// Creates a sheet.
    public init(tiles: [Tile], display: TerminalDisplay, size: Int? = nil, columns: Int? = nil, list: Bool? = nil,
                title: String? = nil, footer: String? = nil) {
        self.tiles = tiles
        self.display = display
        self.size = size
        self.columns = columns
        self.list = list
        self.title = title
        self.footer = footer
    }

    /// How the tiles are laid out, in cells and in the pixels libchafa is given.
    struct Geometry: Equatable {
        /// A tile's width in cells (tiles are one cell apart).
        var tileCells: Int
        /// Tiles per row.
        var perRow: Int
        /// A cell's size in the composed picture's pixels.
        var cellWidth: Int, cellHeight: Int
        /// The square-ish box a thumbnail fits in, in pixels: `tileCells`
        /// cells wide, as many whole cells high as make it square on screen.
        var boxWidth: Int, boxHeight: Int
    }

    /// The layout for the display and options.
    var geometry: Geometry {
        let width = display.columns
        let tileCells: Int, perRow: Int
        if let columns, columns > 0 {
            perRow = columns
            tileCells = max(2, size ?? ((width + 1) / columns - 1))
        } else {
            tileCells = max(2, min(size ?? Self.defaultSize, width))
            perRow = max(1, (width + 1) / (tileCells + 1))
        }
        // Symbols: libchafa works on 8×8 pixels a cell; a cell on screen is
        // about twice as high as wide, so the composed picture uses 8×16
        // pixels a cell and libchafa halves its height. Graphics: the
        // terminal's own cell size, so pixels land 1:1.
        let (cellWidth, cellHeight) = display.format == .symbols ? (8, 16) : (display.cellWidth, display.cellHeight)
        let boxWidth = tileCells * cellWidth
        let boxRows = max(1, Int((Double(boxWidth) / Double(cellHeight)).rounded()))
        return Geometry(tileCells: tileCells, perRow: perRow, cellWidth: cellWidth, cellHeight: cellHeight,
                        boxWidth: boxWidth, boxHeight: boxRows * cellHeight)
    }

    /// Draws the sheet: the bytes to write to the terminal.
    ///
    /// - Throws: `LibraryUnavailable` when libchafa cannot be loaded (then
    ///   `listing()` still says what the sheet holds); `ContactSheetError`
    ///   when libchafa fails.
    public func render() throws -> String {
        try Libchafa.require()
        let g = geometry
        let pictures = decodeAll(fitting: min(g.boxWidth, g.boxHeight))
        var out = title.map { $0 + "\n" } ?? ""
        var reasons: [Int: String] = [:]
        for start in stride(from: 0, to: tiles.count, by: g.perRow) {
            let row = start..<min(start + g.perRow, tiles.count)
            let tallest = row.map { i -> Int in
                if case let .success(picture) = pictures[i] { return picture.height }
                return g.boxHeight
            }.max() ?? g.boxHeight
            let rows = max(1, (tallest + g.cellHeight - 1) / g.cellHeight)
            let cells = row.count * g.tileCells + (row.count - 1)
            var canvas = TileCanvas(width: cells * g.cellWidth, height: rows * g.cellHeight)
            for (k, i) in row.enumerated() {
                let x = k * (g.tileCells + 1) * g.cellWidth
                switch pictures[i] {
                case let .success(picture):
                    draw(picture, of: tiles[i], at: x, rowHeight: rows * g.cellHeight, on: &canvas, g)
                case let .failure(error):
                    reasons[i] = error.reason.description
                    drawMissing(tiles[i], at: x, rowHeight: rows * g.cellHeight, on: &canvas, g)
                }
            }
            out += try Self.draw(canvas, columns: cells, rows: rows, g, display)
            out += "\n" + labels(row, g, unreadable: reasons) + "\n"
        }
        if list ?? !display.isTerminal { out += listing(unreadable: reasons) }
        if let footer { out += footer + "\n" }
        return out
    }

    /// The numbered paths, one a line, with each tile's detail, "excluded",
    /// and why a picture could not be read (`unreadable`, by tile index).
    public func listing(unreadable: [Int: String] = [:]) -> String {
        let width = tiles.compactMap(\.number).map { String($0).count }.max() ?? 0
        var out = ""
        for (i, tile) in tiles.enumerated() {
            var number = tile.number.map(String.init) ?? ""
            number = String(repeating: " ", count: max(0, width - number.count)) + number
            var line = width > 0 ? "\(number)  \(tile.path)" : tile.path
            if let detail = tile.detail, !detail.isEmpty { line += "  \(detail)" }
            if tile.excluded { line += "  excluded" }
            if let reason = unreadable[i] { line += "  (unreadable: \(reason))" }
            out += line + "\n"
        }
        return out
    }

    // MARK: - Pictures

    /// Every tile's thumbnail fitting `size`×`size` pixels, decoded on every core.
    private func decodeAll(fitting size: Int) -> [Result<RGBImage, ImageDecodeError>] {
        let decoder = ImageDecoder(thumbnailSize: size)
        let results = SharedBuffer<Result<RGBImage, ImageDecodeError>?>(repeating: nil, count: tiles.count)
        let files = tiles.map(\.file)
        parallelFor(files.count) { i in
            do throws(ImageDecodeError) {
                results[i] = .success(try decoder.decode(path: files[i]).enlarged(toFit: size, size))
            } catch {
                results[i] = .failure(error)
            }
        }
        return results.array.map { $0! }
    }

    /// Places a thumbnail centred in its box, framed in its tier's colour,
    /// crossed out in red when excluded.
    private func draw(_ picture: RGBImage, of tile: Tile, at left: Int, rowHeight: Int, on canvas: inout TileCanvas, _ g: Geometry) {
        let x = left + (g.boxWidth - picture.width) / 2
        let y = (rowHeight - picture.height) / 2
        canvas.place(picture, x: x, y: y)
        let (side, edge) = frameThickness(g)
        if tile.excluded {
            let red = Self.rgb(SelectionTier.excludedColour)
            canvas.dim(x: x, y: y, width: picture.width, height: picture.height, factor: 0.5)
            canvas.frame(x: x, y: y, width: picture.width, height: picture.height, thickness: side, height: edge, colour: red)
            canvas.cross(x: x, y: y, width: picture.width, height: picture.height, thickness: strokeWidth(g), colour: red)
        } else if let tier = tile.tier {
            canvas.frame(x: x, y: y, width: picture.width, height: picture.height, thickness: side, height: edge,
                         colour: Self.rgb(tier.colour))
        }
    }

    /// A grey box where a picture could not be read (its label and the list say why).
    private func drawMissing(_ tile: Tile, at left: Int, rowHeight: Int, on canvas: inout TileCanvas, _ g: Geometry) {
        let height = min(g.boxHeight, rowHeight)
        let y = (rowHeight - height) / 2
        canvas.fill(x: left, y: y, width: g.boxWidth, height: height, colour: SIMD3(58, 58, 64))
        let (side, edge) = frameThickness(g)
        let colour = tile.excluded ? Self.rgb(SelectionTier.excludedColour) : SIMD3<UInt8>(110, 110, 120)
        canvas.frame(x: left, y: y, width: g.boxWidth, height: height, thickness: side, height: edge, colour: colour)
        if tile.excluded { canvas.cross(x: left, y: y, width: g.boxWidth, height: height, thickness: strokeWidth(g), colour: colour) }
    }

    /// Frame widths (sides, top and bottom) in pixels: half a cell wide and
    /// a quarter high in symbols, so they survive as half blocks; a few
    /// pixels in graphics.
    private func frameThickness(_ g: Geometry) -> (Int, Int) {
        if display.format == .symbols { return (g.cellWidth / 2, g.cellHeight / 4) }
        let t = max(2, g.boxWidth / 64)
        return (t, t)
    }

    /// The width of the strokes crossing out an excluded picture: a whole
    /// cell in symbols (thinner ones blend into the picture's colours), a
    /// fortieth of the tile in graphics.
    private func strokeWidth(_ g: Geometry) -> Int {
        display.format == .symbols ? g.cellWidth : max(3, g.boxWidth / 40)
    }

    /// The canvas as terminal output through libchafa.
    private static func draw(_ canvas: TileCanvas, columns: Int, rows: Int, _ g: Geometry, _ display: TerminalDisplay) throws -> String {
        let format: curator_chafa_format
        switch display.format {
        case .symbols: format = CURATOR_CHAFA_SYMBOLS
        case .sixel: format = CURATOR_CHAFA_SIXELS
        case .kitty: format = CURATOR_CHAFA_KITTY
        case .iterm: format = CURATOR_CHAFA_ITERM2
        }
        let colors: curator_chafa_colors
        switch display.colors {
        case .truecolor: colors = CURATOR_CHAFA_TRUECOLOR
        case .indexed256: colors = CURATOR_CHAFA_COLORS_256
        case .indexed16: colors = CURATOR_CHAFA_COLORS_16
        case .none: colors = CURATOR_CHAFA_NO_COLOR
        }
        var bytes: UnsafeMutablePointer<UInt8>? = nil
        var length = 0
        var message: UnsafeMutablePointer<CChar>? = nil
        let status = canvas.pixels.withUnsafeBufferPointer { pixels in
            curator_chafa_draw(pixels.baseAddress, Int32(canvas.width), Int32(canvas.height), Int32(canvas.width * 4),
                               Int32(columns), Int32(rows), Int32(g.cellWidth), Int32(g.cellHeight),
                               format, colors, &bytes, &length, &message)
        }
        guard status == 0, let bytes else {
            defer { free(message) }
            throw ContactSheetError(message: message.map { String(cString: $0) } ?? "libchafa failed")
        }
        defer { free(bytes) }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
    }

    // MARK: - Labels

    /// The line under a row of tiles: each tile's number and label, cut to
    /// the tile's width, coloured like its frame; excluded ones struck through.
    private func labels(_ row: Range<Int>, _ g: Geometry, unreadable: [Int: String]) -> String {
        var line = ""
        for (k, i) in row.enumerated() {
            let tile = tiles[i]
            var marks = tile.number.map { "\($0) " } ?? ""
            if tile.excluded { marks += "✗ " }
            if unreadable[i] != nil { marks += "? " }
            let room = g.tileCells - TerminalCells.count(marks)
            let cut = room > 0 ? marks + Self.fitPath(tile.label, width: room) : Self.fit(marks, width: g.tileCells)
            let padding = String(repeating: " ", count: g.tileCells - TerminalCells.count(cut))
            if k > 0 { line += " " }
            line += style(tile) + cut + (style(tile).isEmpty ? "" : "\u{1B}[0m") + (k == row.count - 1 ? "" : padding)
        }
        return line
    }

    /// The escape sequence that colours a tile's label, "" without colour.
    private func style(_ tile: Tile) -> String {
        guard display.colors != .none, tile.excluded || tile.tier != nil else { return "" }
        let hex = tile.excluded ? SelectionTier.excludedColour : tile.tier!.colour
        var sequence: String
        if display.colors == .truecolor {
            let c = Self.rgb(hex)
            sequence = "\u{1B}[38;2;\(c.x);\(c.y);\(c.z)m"
        } else {
            // The bright ANSI colours closest to the tiers' own.
            let code = tile.excluded ? 91 : tile.tier == .core ? 95 : tile.tier == .stable ? 96 : 92
            sequence = "\u{1B}[\(code)m"
        }
        if tile.excluded { sequence += "\u{1B}[9m" }
        return sequence
    }

    /// A path cut to `width` cells by its folders first ("…/deep/003.jpg"),
    /// since the file name tells most; a name too long itself is cut in the
    /// middle.
    static func fitPath(_ path: String, width: Int) -> String {
        guard TerminalCells.count(path) > width else { return path }
        var components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        while components.count > 1 {
            components.removeFirst()
            let shorter = "…/" + components.joined(separator: "/")
            if TerminalCells.count(shorter) <= width { return shorter }
        }
        return fit(components.last ?? path, width: width)
    }

    /// `text` cut to `width` cells, an ellipsis in the middle so the start
    /// (the number) and the end (the extension) stay.
    static func fit(_ text: String, width: Int) -> String {
        guard TerminalCells.count(text) > width else { return text }
        guard width > 1 else { return String(text.prefix(width)) }
        let characters = Array(text)
        let tail = min(5, (width - 1) / 2)
        var end: [Character] = []
        var used = 1 // the ellipsis
        for c in characters.reversed() {
            let w = TerminalCells.count(c)
            guard end.count < tail, used + w <= width else { break }
            end.insert(c, at: 0)
            used += w
        }
        var start = ""
        for c in characters {
            let w = TerminalCells.count(c)
            guard used + w <= width else { break }
            start.append(c)
            used += w
        }
        return start + "…" + String(end)
    }

    /// "#ff3b30" → (255, 59, 48).
    static func rgb(_ hex: String) -> SIMD3<UInt8> {
        let value = UInt32(hex.dropFirst(), radix: 16) ?? 0
        return SIMD3(UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF))
    }
}

/// libchafa could not draw a contact sheet.
public struct ContactSheetError: Error, Sendable, CustomStringConvertible, LocalizedError {
    /// libchafa's or the shim's message.
    public let message: String
    public var description: String { "cannot draw in the terminal: \(message)" }
    public var errorDescription: String? { description }
}
