-- The album map from Lua (issue #8): a:map, m:xy, m:points, m:plot, and the
-- report's map option.
local T = ...
local maker = dofile(T.dir .. "/lib/album_maker.lua")

-- The error fn raises must contain part.
local function fails(part, fn) T.contains(T.raises(nil, fn), part) end

local read = T.read

T.test("a:map is seeded, cached and places every image", function()
  local dir = maker.album(T.tempdir() .. "/album", 12)
  local a = assert(curator.open(dir))
  local m = a:map()
  T.eq(#m, #a)
  T.eq(m.source, "umap")
  T.eq(m.method, "umap")
  T.eq(m.cached, false)
  T.eq(m.n_neighbors, 15)
  T.eq(m.seed, 0)
  T.contains(tostring(m), "<Map UMAP of the")
  local x, y = m:xy(a[1])
  T.eq(math.type(x), "float")
  T.eq(math.type(y), "float")
  local again = a:map()
  T.eq(again.cached, true, "the second map comes from the index")
  local x2, y2 = again:xy(a[1])
  T.eq(x2, x)
  T.eq(y2, y)
  local pts = m:points()
  T.eq(#pts, #a)
  T.eq(pts[1].image.album, a)
  T.eq(type(pts[1].x), "number")
  local other = a:map { seed = 3, min_dist = 0.2, n_neighbors = 5 }
  T.eq(other.cached, false)
  T.eq(other.min_dist, 0.2)
end)

T.test("a:map and m:plot say what is wrong", function()
  local dir = maker.album(T.tempdir() .. "/album", 6)
  local a = assert(curator.open(dir))
  T.raises("album:map: n_neighbors must be an integer from 2 to 200 (got 1)", function() a:map { n_neighbors = 1 } end)
  T.raises("album:map: unknown option 'seeed' (did you mean 'seed'?)", function() a:map { seeed = 1 } end)
  fails("source must be one of", function() a:map { source = "tsne" } end)
  fails("photomap_index/umap.npz: does not exist", function() a:map { source = "photomap" } end)
  local m = a:map()
  fails("run must be a Run", function() m:plot(T.tempdir() .. "/x.png", { run = a }) end)
  fails("size must be from 200 to 8000", function() m:plot(T.tempdir() .. "/x.png", { size = 50 }) end)
end)

T.test("m:plot draws the run and never overwrites", function()
  local dir = maker.album(T.tempdir() .. "/album", 10)
  local a = assert(curator.open(dir))
  a.exclusions:add(a[2])
  local r = a:select { count = 3, iterations = 4, seed = 1 }
  local m = a:map()
  local png = T.tempdir() .. "/map.png"
  m:plot(png, { run = r, highlight = r.selection[1], size = 400 })
  T.eq(read(png):sub(2, 4), "PNG")
  fails("exists", function() m:plot(png) end)
  m:plot(png, { overwrite = true })
  local svg = T.tempdir() .. "/map.svg"
  m:plot(svg, { run = r })
  T.contains(read(svg), "<svg")
  T.contains(read(svg), "excluded")
end)

T.test("r:report draws the album's map, or none when asked", function()
  local dir = maker.album(T.tempdir() .. "/album", 8)
  local a = assert(curator.open(dir))
  local r = a:select { count = 3, iterations = 3, seed = 2 }
  local out = T.tempdir()
  r:report(out .. "/umap.html")
  T.contains(read(out .. "/umap.html"), "UMAP of the")
  T.eq(a:map().cached, true, "the report stored the map it drew")
  r:report(out .. "/pca.html", { map = "pca" })
  T.contains(read(out .. "/pca.html"), "PCA of the")
  r:report(out .. "/none.html", { map = false })
  T.eq(read(out .. "/none.html"):find('<svg class="map"', 1, true), nil)
  r:report(out .. "/seeded.html", { map = { seed = 5 } })
  T.contains(read(out .. "/seeded.html"), "seed 5")
  fails('map must be one of "auto"', function() r:report(out .. "/bad.html", { map = "tsne" }) end)
end)
