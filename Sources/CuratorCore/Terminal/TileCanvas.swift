/// An 8-bit RGBA picture a contact sheet composes a row of tiles on:
/// thumbnails placed, tier frames and exclusion strokes drawn, the rest
/// transparent (libchafa leaves transparent cells to the terminal's own
/// background), then handed to libchafa.
struct TileCanvas {
    /// Width in pixels.
    let width: Int
    /// Height in pixels.
    let height: Int
    /// `width * height * 4` bytes, RGBA (not premultiplied), row after row.
    private(set) var pixels: [UInt8]

    /// A transparent picture.
    init(width: Int, height: Int) {
        self.width = max(1, width)
        self.height = max(1, height)
        pixels = [UInt8](repeating: 0, count: self.width * self.height * 4)
    }

    /// Fills a rectangle (clipped to the picture) with an opaque colour.
    mutating func fill(x: Int, y: Int, width w: Int, height h: Int, colour: SIMD3<UInt8>) {
        let x0 = max(0, x), x1 = min(width, x + w), y0 = max(0, y), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1 else { return }
        let stride = width
        pixels.withUnsafeMutableBufferPointer { p in
            for row in y0..<y1 {
                var o = (row * stride + x0) * 4
                for _ in x0..<x1 {
                    p[o] = colour.x; p[o + 1] = colour.y; p[o + 2] = colour.z; p[o + 3] = 255
                    o += 4
                }
            }
        }
    }

    /// Copies the opaque `image` with its top-left corner at (x, y) (clipped).
    mutating func place(_ image: RGBImage, x: Int, y: Int) {
        let x0 = max(0, x), x1 = min(width, x + image.width)
        let y0 = max(0, y), y1 = min(height, y + image.height)
        guard x0 < x1, y0 < y1 else { return }
        let stride = width
        pixels.withUnsafeMutableBufferPointer { target in
            image.pixels.withUnsafeBufferPointer { source in
                for row in y0..<y1 {
                    var from = ((row - y) * image.width + (x0 - x)) * 3
                    var to = (row * stride + x0) * 4
                    for _ in x0..<x1 {
                        target[to] = source[from]; target[to + 1] = source[from + 1]; target[to + 2] = source[from + 2]
                        target[to + 3] = 255
                        from += 3
                        to += 4
                    }
                }
            }
        }
    }

    /// A frame `thickness` pixels wide (`height` pixels high at the top and
    /// bottom) just inside the rectangle.
    mutating func frame(x: Int, y: Int, width w: Int, height h: Int, thickness: Int, height t: Int, colour: SIMD3<UInt8>) {
        let side = max(1, min(thickness, w / 2)), edge = max(1, min(t, h / 2))
        fill(x: x, y: y, width: w, height: edge, colour: colour)
        fill(x: x, y: y + h - edge, width: w, height: edge, colour: colour)
        fill(x: x, y: y, width: side, height: h, colour: colour)
        fill(x: x + w - side, y: y, width: side, height: h, colour: colour)
    }

    /// Darkens the rectangle's colours to `factor` (0…1) of their value.
    mutating func dim(x: Int, y: Int, width w: Int, height h: Int, factor: Double) {
        let x0 = max(0, x), x1 = min(width, x + w), y0 = max(0, y), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1 else { return }
        let stride = width
        let scale = UInt16(max(0, min(1, factor)) * 256)
        pixels.withUnsafeMutableBufferPointer { p in
            for row in y0..<y1 {
                var o = (row * stride + x0) * 4
                for _ in x0..<x1 {
                    for c in 0..<3 { p[o + c] = UInt8((UInt16(p[o + c]) * scale) >> 8) }
                    o += 4
                }
            }
        }
    }

    /// Both diagonals of the rectangle, `thickness` pixels wide
    /// (horizontally): the mark of an excluded image.
    mutating func cross(x: Int, y: Int, width w: Int, height h: Int, thickness: Int, colour: SIMD3<UInt8>) {
        guard w > 0, h > 0 else { return }
        let t = max(1, min(thickness, w))
        for row in 0..<h {
            let along = h == 1 ? 0 : row * (w - t) / (h - 1)
            fill(x: x + along, y: y + row, width: t, height: 1, colour: colour)
            fill(x: x + w - t - along, y: y + row, width: t, height: 1, colour: colour)
        }
    }
}

extension RGBImage {
    /// The image enlarged (bilinear) to fit `width`×`height`, aspect kept,
    /// or itself when it already touches either side: the decoder never
    /// enlarges, and a 64-pixel icon would be a speck on a 160-pixel tile.
    func enlarged(toFit width: Int, _ height: Int) -> RGBImage {
        guard self.width > 0, self.height > 0, self.width < width, self.height < height else { return self }
        let scale = min(Double(width) / Double(self.width), Double(height) / Double(self.height))
        let w = max(1, min(width, Int((Double(self.width) * scale).rounded())))
        let h = max(1, min(height, Int((Double(self.height) * scale).rounded())))
        var out = [UInt8](repeating: 0, count: w * h * 3)
        let sw = self.width, sh = self.height
        pixels.withUnsafeBufferPointer { source in
            for y in 0..<h {
                let fy = max(0, min(Double(sh - 1), (Double(y) + 0.5) / scale - 0.5))
                let y0 = Int(fy), y1 = min(y0 + 1, sh - 1), wy = fy - Double(y0)
                for x in 0..<w {
                    let fx = max(0, min(Double(sw - 1), (Double(x) + 0.5) / scale - 0.5))
                    let x0 = Int(fx), x1 = min(x0 + 1, sw - 1), wx = fx - Double(x0)
                    for c in 0..<3 {
                        let top = Double(source[(y0 * sw + x0) * 3 + c]) * (1 - wx) + Double(source[(y0 * sw + x1) * 3 + c]) * wx
                        let bottom = Double(source[(y1 * sw + x0) * 3 + c]) * (1 - wx) + Double(source[(y1 * sw + x1) * 3 + c]) * wx
                        out[(y * w + x) * 3 + c] = UInt8((top * (1 - wy) + bottom * wy).rounded())
                    }
                }
            }
        }
        return RGBImage(width: w, height: h, pixels: out, sourceWidth: sourceWidth, sourceHeight: sourceHeight)
    }
}
