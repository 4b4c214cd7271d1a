-- Shared albums and embeddings files are someone else's input: an export, a
-- report or a copy never reads a file outside the album's root or one that is
-- not an image, and never writes into the album unless asked.
local T = ...
local maker = dofile(T.dir .. "/lib/album_maker.lua")

local function write(path, bytes)
  local f = assert(io.open(path, "wb"))
  f:write(bytes)
  f:close()
end

--- An .npy of float32 rows, as numpy writes it.
local function npy(rows)
  local shape = "(" .. #rows .. ", " .. #rows[1] .. ")"
  local text = "{'descr': '<f4', 'fortran_order': False, 'shape': " .. shape .. ", }"
  while (10 + #text + 1) % 64 ~= 0 do text = text .. " " end
  text = text .. "\n"
  local out = { "\x93NUMPY\1\0", string.pack("<I2", #text), text }
  for _, row in ipairs(rows) do
    for _, v in ipairs(row) do out[#out + 1] = string.pack("<f", v) end
  end
  return table.concat(out)
end

local function slurp_dir(dir)
  local names = {}
  local p = io.popen("ls -A " .. T.quote(dir) .. " 2>/dev/null")
  for line in p:lines() do names[#names + 1] = line end
  p:close()
  return names
end

-- An index-only album from a stranger's .npy whose path list names two real
-- images, a text file named like an image, a PNG outside the album (through
-- '..') and /etc/hostname (absolute and through '..').
local function stranger_album()
  local root = T.tempdir()
  local dir = root .. "/shared/album"
  os.execute("mkdir -p " .. T.quote(dir))
  write(dir .. "/a.png", maker.png(8, 8, function(x, y) return x * 30, y * 30, 0 end))
  write(dir .. "/b.png", maker.png(8, 8, function(x, y) return 0, x * 30, y * 30 end))
  write(dir .. "/notes.png", "not an image, just text someone named .png\n")
  write(root .. "/private.png", maker.png(8, 8, function() return 200, 0, 0 end))
  write(dir .. "/index.npy", npy { { 1, 0, 0, 0 }, { 0, 1, 0, 0 }, { 0, 0, 1, 0 }, { 0, 0, 0, 1 }, { 1, 1, 0, 0 }, { 0, 1, 1, 0 } })
  write(dir .. "/index.txt", table.concat({ "a.png", "b.png", "notes.png", "../../private.png",
    "../../../../../../../../etc/hostname", "/etc/hostname" }, "\n") .. "\n")
  local a = assert(curator.open(dir .. "/index.npy"))
  local r = a:select { method = "fps", count = 6, iterations = 1, seed = 1 }
  return a, r, root
end

T.test("an export reads only image files under the album's root; the rest are listed as refused", function()
  local _, r, root = stranger_album()
  T.eq(#r.selection, 6)
  local out = root .. "/dataset"
  local rep = r:export(out)
  T.eq(rep.exported, 2, "only a.png and b.png are images under the root")
  local names = slurp_dir(out)
  table.sort(names)
  T.eq(table.concat(names, " "), "a.png b.png")
  local reasons = {}
  for _, e in ipairs(rep.errors) do reasons[#reasons + 1] = e.path .. ": " .. e.reason end
  local all = table.concat(reasons, "\n")
  T.eq(#rep.errors, 4, all)
  T.contains(all, "private.png: its path leads out of the album")
  T.contains(all, "/etc/hostname: its path leads out of the album")
  T.contains(all, "notes.png: is not an image libvips can read")
  -- The report's thumbnails never show the file outside the root.
  local html = root .. "/report.html"
  r:report(html, { map = false })
  local page = T.read(html)
  local thumbnails = select(2, page:gsub("<img ", ""))
  T.eq(thumbnails, 2, "thumbnails of a.png and b.png only")
end)

T.test("a custom exporter is given only the image files under the album's root", function()
  local _, r, root = stranger_album()
  local seen = {}
  curator.register_exporter("test_hostile_paths", { store = function(ctx, item) seen[#seen + 1] = item.album_path end })
  local rep = r:export(root .. "/custom", { exporter = "test_hostile_paths" })
  table.sort(seen)
  T.eq(table.concat(seen, " "), "a.png b.png")
  T.eq(rep.exported, 2)
  T.eq(#rep.errors, 4)
end)

T.test("an empty destination is an error; the album itself only when asked", function()
  local dir = maker.album(T.tempdir() .. "/album", 6)
  local a = assert(curator.open(dir))
  local r = a:select { count = 2, iterations = 2, seed = 1 }
  T.contains(T.raises(nil, r.export, r, ""), "destination': is empty")
  T.contains(T.raises(nil, r.export, r, "  "), "destination': is empty")
  T.contains(T.raises(nil, r.export, r, dir .. "/picked"), "is inside the album")
  T.contains(T.raises(nil, r.export, r, dir), "is inside the album")
  T.eq(#slurp_dir(dir .. "/picked"), 0, "nothing was written")
  local rep = r:export(dir .. "/picked", { into_album = true })
  T.eq(rep.exported, 2)
end)
