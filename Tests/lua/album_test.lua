-- Albums, images and image sets as Lua objects (README: Lua API reference).
local T = ...

local function open_fixture()
  local dir = T.fixture_album()
  local a = assert(curator.open(dir, { embed = false }))
  return a, dir
end

T.test("an album lists its images by path, skipping hidden folders and unreadable files", function()
  local a, dir = open_fixture()
  T.eq(#a, 4)
  local paths = {}
  for i, img in ipairs(a) do paths[i] = img.path end
  T.eq(table.concat(paths, " "), "green.jpg red.png sub/blue.png sub/deeper/gray.png")
  T.eq(a[5], nil)
  T.eq(a[0], nil)
  T.eq(a.path, dir)
  T.eq(a.name, "album")
  T.eq(a.root, dir)
  T.eq(a.index_only, false)
  T.eq(type(a.dim), "number")
  local skipped = a:skipped()
  T.eq(#skipped, 1)
  T.eq(skipped[1].path, "broken.png")
  T.contains(skipped[1].reason, "not an image")
  T.eq(#a:images(), 4)
  T.eq(a:images()[2], a[2])
end)

T.test("images expose their file facts and captions", function()
  local a, dir = open_fixture()
  local red = a:get("red.png")
  T.eq(red.name, "red.png")
  T.eq(red.folder, "")
  T.eq(red.width, 24)
  T.eq(red.height, 16)
  T.eq(red.caption, "a red rectangle")
  T.eq(red.file, dir .. "/red.png")
  T.eq(red.size, 104)
  T.ok(red.mtime > 0)
  T.eq(a:get("green.jpg").caption, "green")
  local blue = a:get("sub/blue.png")
  T.eq(blue.folder, "sub")
  T.eq(blue.caption, "a blue square", "a JSON sidecar's caption field")
  T.eq(a:get("sub/deeper/gray.png").caption, nil)
  T.eq(a:get("sub/deeper/gray.png").folder, "sub/deeper")
  T.eq(red:sidecars()[1], "red.txt")
  T.eq(red.album, a)
  T.eq(tostring(red), '<Image "red.png" 24×16>')
  T.eq(curator.json.encode({ red }), '["red.png"]')
end)

T.test("get finds images by relative path, absolute path or id; a miss returns nil and a message", function()
  local a, dir = open_fixture()
  local red = a:get("red.png")
  T.eq(a:get(dir .. "/red.png"), red)
  T.eq(a:get("./red.png"), red)
  T.eq(a:get(red.id), red)
  local img, err = a:get("nope.png")
  T.eq(img, nil)
  T.eq(err, 'no image \'nope.png\' in album "album"')
  img, err = a:get(99999)
  T.eq(img, nil)
  T.eq(err, 'no image #99999 in album "album"')
end)

T.test("a file name only one image has finds it everywhere an image is taken; one several have is an error listing them", function()
  local a, dir = open_fixture()
  T.eq(a:get("gray.png"), a:get("sub/deeper/gray.png"))
  T.eq(a:set("gray.png", "blue.png")[2].path, "sub/blue.png")
  T.eq(a.exclusions:add("gray.png"), 1)
  T.ok(a.exclusions:contains("sub/deeper/gray.png"))
  local img, err = a:get("deeper/gray.png")
  T.eq(img, nil, "a partial path is not a name")
  T.eq(err, 'no image \'deeper/gray.png\' in album "album"')

  -- A path wins over a name; a second blue.png makes that name ambiguous:
  -- an error naming both, wherever an image is taken.
  local maker = dofile(T.dir .. "/lib/album_maker.lua")
  local pixel = function() return 200, 10, 10 end
  maker.write(dir .. "/sub/red.png", maker.png(8, 8, pixel))
  maker.write(dir .. "/sub/deeper/blue.png", maker.png(8, 8, pixel))
  a:scan()
  T.eq(a:get("red.png").path, "red.png", "a path still finds its image")
  T.raises("album:get: 2 images have the name 'blue.png': sub/blue.png, sub/deeper/blue.png; give one's path", a.get, a, "blue.png")
  local message = T.raises(nil, a.exclusions.add, a.exclusions, { "gray.png", "blue.png" })
  T.contains(message, "imageset:add: bad argument #1")
  T.contains(message, "[2]: 2 images have the name 'blue.png': sub/blue.png, sub/deeper/blue.png; give one's path")
  T.eq(#a.exclusions, 1, "nothing was added")
end)

T.test("the same image is the same Lua value", function()
  local a = open_fixture()
  T.ok(rawequal(a[1], a[1]))
  T.ok(rawequal(a[1], a:get(a[1].path)))
  T.ok(rawequal(a.exclusions, a.exclusions))
  local seen = { [a[1]] = true }
  T.ok(seen[a:get(a[1].id)])
  T.ok(a[1] ~= a[2])
end)

T.test("exclusions and favorites are persisted ImageSets", function()
  local a, dir = open_fixture()
  local ex = a.exclusions
  T.eq(#ex, 0)
  T.eq(ex:add(a[1], "sub/blue.png"), 2)
  T.eq(ex:add(a[1]), 0, "already a member")
  T.eq(#ex, 2)
  T.eq(ex[1], a[1])
  T.eq(ex[2].path, "sub/blue.png")
  T.ok(ex:contains(a[1]))
  T.ok(ex:contains("sub/blue.png"))
  T.ok(ex:contains({ a[1], "sub/blue.png" }))
  T.ok(not ex:contains({ a[1], a[2] }))
  T.eq(a[1].excluded, true)
  T.eq(a[2].excluded, false)
  a[2].excluded = true
  T.eq(#ex, 3)
  a[2].excluded = false
  T.eq(#ex, 2)
  a:get("sub/deeper/gray.png").favorite = true
  T.eq(#a.favorites, 1)
  T.eq(tostring(ex), '<ImageSet exclusions of "album": 2 images: green.jpg, sub/blue.png>')
  T.eq(tostring(a), '<Album "album": 4 images, 2 excluded, 1 skipped, embedder ' .. tostring(a.embedder) .. '>')
  T.eq(curator.json.encode(ex), '["green.jpg","sub/blue.png"]')

  -- Reopening (a new session) keeps what the user decided.
  local b = assert(curator.open(dir, { embed = false }))
  T.eq(#b.exclusions, 2)
  T.eq(b.exclusions[2].path, "sub/blue.png")
  T.ok(b:get("sub/deeper/gray.png").favorite)

  T.eq(ex:remove("sub/blue.png", a[4]), 1)
  T.eq(#ex, 1)
  ex:clear()
  T.eq(#ex, 0)
end)

T.test("sets take images, paths, ids, lists and other sets of the same album", function()
  local a = open_fixture()
  local s = a:set(a[1], { a[2].id, { "sub/blue.png" } })
  T.eq(#s, 3)
  T.eq(s.name, "set")
  a.exclusions:add(s)
  T.eq(#a.exclusions, 3)
  local ids = {}
  for i, img in ipairs(a.exclusions) do ids[i] = img.id end
  T.eq(#ids, 3)
  local n = 0
  for i, img in pairs(s) do n = n + 1; T.eq(img, s[i]) end
  T.eq(n, 3)
  T.eq(#s:list(), 3)
end)

T.test("pairs over an image lists its properties", function()
  local a = open_fixture()
  local keys = {}
  for k, v in pairs(a:get("red.png")) do keys[#keys + 1] = k end
  T.eq(table.concat(keys, ","), "id,path,name,folder,file,caption,width,height,size,mtime,excluded,favorite,stats,uniqueness,typicality,album")
end)

T.test("a rescan drops removed files; their old handles are stale", function()
  local a, dir = open_fixture()
  local gray = a:get("sub/deeper/gray.png")
  local id = gray.id
  a.exclusions:add(gray)
  assert(os.remove(dir .. "/sub/deeper/gray.png"))
  local report = a:scan()
  T.eq(report.removed, 1)
  T.eq(report.unchanged, 3)
  T.eq(#a, 3)
  T.eq(#a.exclusions, 0, "a removed image leaves the exclusions")
  T.raises("image.width: stale object: image #" .. id .. ' is no longer in album "album" (removed by a rescan)',
    function() return gray.width end)
  T.eq(tostring(gray), "<Image #" .. id .. " (no longer in the album)>")
  T.raises("imageset:add: stale object: image #" .. id .. ' is no longer in album "album" (removed by a rescan)',
    function() a.favorites:add(gray) end)
end)

T.test("file names that are not UTF-8 pass through as bytes", function()
  local dir = T.fixture_album()
  local src = assert(io.open(dir .. "/red.png", "rb")):read("a")
  local name = "caf\xe9.png" -- Latin-1, invalid UTF-8
  local f = assert(io.open(dir .. "/" .. name, "wb"))
  f:write(src)
  f:close()
  local a = assert(curator.open(dir, { embed = false }))
  local img = assert(a:get(name))
  T.eq(img.path, name)
  T.eq(img.name, name)
  T.eq(img.file, dir .. "/" .. name)
  a.exclusions:add(name)
  T.ok(img.excluded)
end)

T.test("expected failures return nil and a message", function()
  local a, err = curator.open("/nonexistent/curator-test-album")
  T.eq(a, nil)
  T.eq(err, "/nonexistent/curator-test-album: no such folder or embeddings file")
end)

T.test("progress callbacks are called, and an error in one stops the operation", function()
  local dir = T.fixture_album()
  local calls = 0
  local a = assert(curator.open(dir, { embed = false, progress = function(done, total, label)
    calls = calls + 1
    T.eq(label, "scan")
    T.ok(done <= total)
  end }))
  T.ok(calls > 0, "the callback ran")
  local err = T.raises(nil, function() a:scan { progress = function() error("stop here") end } end)
  T.contains(err, "stop here")
  T.eq(#a, 4, "the album is still usable")
end)

T.test("opening an album that is already open gives the same album (one state per index)", function()
  local a, dir = open_fixture()
  local b = assert(curator.open(dir .. "/", { embed = false }))
  T.ok(rawequal(a, b))
  b.exclusions:add("red.png")
  T.eq(#a.exclusions, 1)
  T.ok(a:get("red.png").excluded)
end)

T.test("opening embeds with the built-in pixels embedder; images get statistics", function()
  local dir = T.fixture_album()
  local a = assert(curator.open(dir))
  T.eq(a.embedder, "pixels")
  T.ok(a.dim > 0, "vectors have a length")
  T.eq(tostring(a), '<Album "album": 4 images, 0 excluded, 1 skipped, embedder pixels ' .. a.dim .. '-d>',
       "the unreadable broken.png is counted where it is seen")
  local stats = a:get("red.png").stats
  T.eq(type(stats), "table")
  T.ok(stats.brightness > 0 and stats.brightness < 1)
  T.eq(stats.sharpness, 0.0, "a flat image has no edges")
  local report = a:embed()
  T.eq(report.embedder, "pixels")
  T.eq(report.already_embedded, 4)
  T.eq(report.embedded, 0)
  -- The issue's example: exclude by a statistic.
  for _, img in ipairs(a) do if img.stats.sharpness < 0.1 then a.exclusions:add(img) end end
  T.eq(#a.exclusions, 4)
end)

T.test("an embeddings file opens as an index-only album; a damaged one gives nil and a message", function()
  local dir = T.tempdir()
  assert(os.execute("cp " .. T.quote(T.fixtures .. "/embeddings/photomap_f32.npz") .. " " .. T.quote(T.fixtures .. "/embeddings/bad_nan.npz") .. " " .. T.quote(dir)))
  local a = assert(curator.open(dir .. "/photomap_f32.npz"))
  T.eq(a.index_only, true)
  T.eq(#a, 5)
  T.eq(a.embedder, "photomap")
  T.eq(a.model, "open-clip:ViT-L-14/dfn2b_s39b")
  T.eq(a.dim, 8)
  T.eq(a[1].path, "a.jpg")
  T.eq(a[1].file, "/photos/a.jpg", "rows keep the file's absolute paths")
  local bad, err = curator.open(dir .. "/bad_nan.npz")
  T.eq(bad, nil)
  T.contains(err, "bad_nan.npz: key 'embeddings': row 2")
end)

T.test("precision=\"f16\" keeps an album's vectors as float16, remembered; f32 goes back; other values are errors", function()
  local dir = T.tempdir()
  assert(os.execute("cp " .. T.quote(T.fixtures .. "/embeddings/photomap_f32.npz") .. " " .. T.quote(dir)))
  local path = dir .. "/photomap_f32.npz"
  local a = assert(curator.open(path))
  T.eq(a.precision, "f32")
  local before = a:select{method = "fps", count = 3, iterations = 2, seed = 1}
  a = assert(curator.open(path, { precision = "f16" }))
  T.eq(a.precision, "f16")
  local after = a:select{method = "fps", count = 3, iterations = 2, seed = 1}
  for k = 1, 2 do
    for i, img in ipairs(before:picks(k)) do T.eq(after:picks(k)[i].path, img.path) end
  end
  T.eq(a:search(a[1], { k = 1 })[1].image.path, a[1].path)
  T.eq(a.precision_note, nil)
  a:map{ source = "pca" }
  T.contains(a.precision_note, "float32 copy")
  T.eq(assert(curator.open(path)).precision, "f16", "kept without saying")
  T.eq(assert(curator.open(path, { precision = "f32" })).precision, "f32")
  T.raises('curator.open: precision must be "f32" (float32, the default) or "f16" (float16, half the memory), not "half"',
           curator.open, path, { precision = "half" })
  T.eq(assert(curator.open(path)).precision, "f32", "a bad value changes nothing")
end)

T.test("a clip-retrieval output folder opens as it is: shards, Parquet paths and captions", function()
  local dir = T.tempdir()
  local parquet = T.dir .. "/../CuratorCoreTests/Fixtures/parquet"
  assert(os.execute("cp -R " .. T.quote(parquet .. "/clip_three_shards") .. " " .. T.quote(dir .. "/laion-subset")))
  assert(os.execute("cp -R " .. T.quote(parquet .. "/clip_count_mismatch") .. " " .. T.quote(dir .. "/mismatch")))
  local a = assert(curator.open(dir .. "/laion-subset"))
  T.eq(a.index_only, true)
  T.eq(#a, 13)
  T.eq(a.dim, 4)
  T.eq(a.root, "/data/laion")
  T.eq(a[1].path, "00000/000000000.jpg")
  T.eq(a[1].caption, "caption 0.0")
  T.eq(a[2].caption, nil, "a null caption")
  T.eq(a[13].caption, "caption 2.5")
  local bad, err = curator.open(dir .. "/mismatch")
  T.eq(bad, nil)
  T.contains(err, "mismatch/metadata/metadata_1.parquet: has 5 rows but its shard")
  T.contains(err, "img_emb_1.npy has 3")
end)

T.test("a:buckets: kohya's aspect buckets, the images each upscales, small buckets marked dropped", function()
  local a = curator.open(T.fixture_album())
  local buckets, unsized = a:buckets { resolution = 512 }
  local total = 0
  for _, b in ipairs(buckets) do
    total = total + b.count
    T.eq(#b.images, b.count)
    T.ok(b.width % 64 == 0 and b.height % 64 == 0, b.width .. "x" .. b.height)
    for _, u in ipairs(b.upscaled) do T.ok(u.scale > 1, u.image.path) end
    T.eq(b.dropped, false)
  end
  T.eq(total + #unsized, #a - #a.exclusions)
  local big = a:buckets { resolution = 512, min_bucket = 1000 }
  for _, b in ipairs(big) do T.eq(b.dropped, true) end
  T.raises("album:buckets: resolution is required, e.g. a:buckets{resolution=1024} (kohya's resolution)", function() return a:buckets {} end)
  T.raises("album:buckets: resolution, min_reso and max_reso must be multiples of steps 64", function() return a:buckets { resolution = 1000 } end)
  T.raises("album:buckets: max_reso 1024 is smaller than the resolution 1280 (kohya refuses this too)",
    function() return a:buckets { resolution = 1280, max_reso = 1024 } end)
  local only = a:buckets { resolution = 512, images = { a[1] } }
  T.eq(#only, 1)
  T.eq(only[1].images[1].path, a[1].path)
end)

T.test("a:measure gives images without statistics the pixels embedder's, once", function()
  local dir = T.fixture_album()
  local a = assert(curator.open(dir, { embed = false }))
  T.eq(a[1].stats, nil, "not embedded: no statistics yet")
  T.eq(a:measure(), #a)
  for _, img in ipairs(a) do T.ok(img.stats and img.stats.sharpness, img.path) end
  T.eq(a:measure(), 0, "nothing left to measure")
  -- The same numbers the pixels embedder records.
  local measured = a[1].stats
  local b = assert(curator.open(T.fixture_album()))
  T.eq(b.embedder, "pixels")
  T.eq(b:get(a[1].path).stats.sharpness, measured.sharpness)
  T.eq(b:get(a[1].path).stats.entropy, measured.entropy)
end)
