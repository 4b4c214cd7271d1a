-- Selections from Lua (README: Selection, Lua API reference): a:select, Run objects, custom samplers,
-- scores, duplicates.
local T = ...
local maker = dofile(T.dir .. "/lib/album_maker.lua")

local function new_album(n)
  local dir = maker.album(T.tempdir() .. "/album", n or 12)
  return assert(curator.open(dir)), dir
end

local function paths(list)
  local out = {}
  for i, img in ipairs(list) do out[i] = img.path end
  return table.concat(out, " ")
end

T.test("a count past the candidates picks every one, and says so", function()
  local _, dir = new_album(6)
  local script = "local a = curator.open(arg[1]); a.exclusions:add(a[1]); for _, m in ipairs{'fps', 'kmeans'} do "
    .. "local r = a:select{method=m, count=50, iterations=2}; print(m, r.count, #r.selection) end; "
    .. "print(#a:select{method='fps', count=5, iterations=2}.selection)"
  local out, err, code = T.run({ "--no-plugins", "-e", script, dir })
  T.eq(code, 0, err)
  T.eq(out, "fps\t50\t5\nkmeans\t50\t5\n5\n", "the run keeps the count asked for and picks the 5 candidates")
  local _, warnings = err:gsub("warning: album:select: count 50 is more than the 5 candidates; every one is picked\n", "")
  T.eq(warnings, 2, err)
  T.eq(err:find("count 5 "), nil, "a count equal to the candidates is not warned about")
end)

T.test("fps and kmeans select count images; the same seed gives the same selection", function()
  local a = new_album(12)
  T.eq(a.embedder, "pixels")
  local r = a:select { method = "fps", count = 4, iterations = 5, seed = 7 }
  T.eq(r.method, "fps")
  T.eq(r.count, 4)
  T.eq(r.iterations, 5)
  T.eq(r.seed, 7)
  T.eq(#r.selection, 4)
  T.eq(r.inertia, nil, "fps has no inertia")
  local again = a:select { method = "fps", count = 4, iterations = 5, seed = 7 }
  T.eq(paths(again.selection), paths(r.selection))
  T.ok(again.id > r.id, "runs get increasing ids")
  local k = a:select { method = "kmeans", count = 3, iterations = 4, seed = 1 }
  T.eq(k.method, "kmeans")
  T.eq(#k.selection, 3)
  T.eq(type(k.inertia), "number")
  T.contains(tostring(r), "<Run " .. r.id .. " fps count=4 iterations=5 seed=7: ")
  T.ok(tostring(r):match("%d+ core, %d+ stable, %d+ variable>$"), tostring(r))
  -- A random seed is recorded.
  local s = a:select { count = 2, iterations = 1 }
  T.ok(s.seed ~= nil)
  T.eq(s.method, "fps", "fps is the default")
end)

T.test("a run's votes, frequencies, tiers, picks and ranking agree", function()
  local a = new_album(12)
  local r = a:select { method = "fps", count = 4, iterations = 10, seed = 3 }
  T.ok(#r >= 4, "at least count images were voted")
  local total_votes = 0
  for i, e in ipairs(r) do
    T.eq(r:votes(e.image), e.votes)
    T.eq(r:frequency(e.image), e.votes / 10)
    T.eq(r:tier(e.image), e.tier)
    if i > 1 then T.ok(r[i - 1].votes >= e.votes, "ranked by votes") end
    total_votes = total_votes + e.votes
  end
  T.eq(total_votes, 40, "10 iterations of 4 picks")
  for i = 1, 4 do T.eq(r.selection[i], r[i].image) end
  for k = 1, 10 do T.eq(#r:picks(k), 4) end
  local core = r:where(0.9)
  for _, img in ipairs(core) do T.eq(r:tier(img), "core") end
  for _, e in ipairs(r) do
    if e.frequency >= 0.9 then T.ok(core:contains(e.image)) end
  end
  T.eq(#r:where(0), #r)
  -- Tier boundaries are inclusive.
  for _, e in ipairs(r) do
    local want = e.frequency >= 0.9 and "core" or e.frequency >= 0.7 and "stable" or "variable"
    T.eq(e.tier, want)
  end
  local unpicked
  for _, img in ipairs(a) do if r:votes(img) == 0 then unpicked = img end end
  if unpicked then
    T.eq(r:tier(unpicked), nil)
    T.eq(r:frequency(unpicked), 0.0)
  end
  T.eq(r:frequency(r.selection[1].path), r:frequency(r.selection[1]), "paths name images too")
  T.ok(rawequal(r.selection, r.selection), "the selection is one value")
end)

T.test("exclusions are honoured and take a run's sets", function()
  local a = new_album(10)
  a.exclusions:add(a[1], a[2])
  local r = a:select { count = 3, iterations = 6, seed = 5 }
  for _, e in ipairs(r) do T.ok(not e.image.excluded, "an excluded image was picked: " .. e.image.path) end
  a.exclusions:clear()
  T.eq(a.exclusions:add(r.selection), 3)
  a.exclusions:clear()
  local n = a.exclusions:add(r:where(0.9))
  T.eq(#a.exclusions, n)
  T.raises("imageset:add: the selection of run " .. r.id .. " is read-only; copy it with a:set(s) to change it",
    function() r.selection:add(a[1]) end)
end)

T.test("count >= candidates takes them all; include and start are honoured", function()
  local a = new_album(6)
  local r = a:select { count = 100, iterations = 3, seed = 1 }
  T.eq(#r.selection, 6)
  for _, e in ipairs(r) do T.eq(e.frequency, 1.0) end
  local inc = a:select { count = 3, iterations = 2, seed = 1, include = { a[1] } }
  for k = 1, 2 do
    for _, img in ipairs(inc:picks(k)) do T.ok(img ~= a[1], "included images are not picked again") end
  end
  local st = a:select { count = 2, iterations = 1, seed = 1, start = a[3] }
  T.eq(st:picks(1)[1], a[3])
end)

T.test("runs come back after reopening the album", function()
  local a, dir = new_album(8)
  local r = a:select { method = "kmeans", count = 3, iterations = 4, seed = 11 }
  local want = paths(r.selection)
  local id = r.id
  r, a = nil, nil
  collectgarbage()
  collectgarbage()
  local b = assert(curator.open(dir))
  local runs = b:runs()
  T.eq(#runs, 1)
  T.eq(runs[1].id, id)
  T.eq(paths(runs[1].selection), want)
  T.eq(runs[1].seed, 11)
  T.eq(b:run(id).method, "kmeans")
  local none, err = b:run(999)
  T.eq(none, nil)
  T.eq(err, 'no run #999 in album "album"')
end)

T.test("seeds above math.maxinteger are strings", function()
  local a = new_album(6)
  local r = a:select { count = 2, iterations = 2, seed = "18446744073709551615" }
  T.eq(r.seed, "18446744073709551615")
  local again = a:select { count = 2, iterations = 2, seed = "18446744073709551615" }
  T.eq(paths(again.selection), paths(r.selection))
  T.eq(a:select { count = 2, iterations = 1, seed = "42" }.seed, 42)
end)

T.test("bad arguments name the API and the option", function()
  local a = new_album(6)
  local function sel(opts) return function() return a:select(opts) end end
  T.raises("album:select: count must be a positive integer (got -3)", sel { count = -3 })
  T.raises("album:select: count must be a positive integer (got 0)", sel { count = 0 })
  T.raises("album:select: count must be a positive integer (got 1.5)", sel { count = 1.5 })
  T.raises("album:select: count must be a positive integer (got nan)", sel { count = 0 / 0 })
  T.raises("album:select: count must be a positive integer (got inf)", sel { count = math.huge })
  T.raises("album:select: count must be a positive integer (got 1e+300)", sel { count = 1e300 })
  T.raises('album:select: count must be a positive integer (got "3")', sel { count = "3" })
  T.raises('album:select: count is required: a positive integer (or "auto" with min_distance=), e.g. a:select{count=20}', sel {})
  T.raises("album:select: iterations must be a positive integer (got 0)", sel { count = 2, iterations = 0 })
  T.raises("album:select: iterations must be at most 1,000,000 (got 9223372036854775807)",
    sel { count = 2, iterations = math.maxinteger })
  T.raises("album:select: unknown option 'cout' (did you mean 'count'?)", sel { cout = 2 })
  T.raises("album:select: seed must be a non-negative integer or a decimal string of one up to 18446744073709551615 (got -1)",
    sel { count = 2, seed = -1 })
  T.contains(T.raises(nil, sel { count = 2, method = "fsp" }), "album:select: unknown method 'fsp' (did you mean 'fps'?) (built in: fps, kmeans")
  T.raises("album:select: bad argument #1 (table expected, got number)", function() return a:select(5) end)
  T.raises("album:select: filter must be a function or {score=name|text=prompt, min=, max=} (got number)", sel { count = 2, filter = 3 })
  T.contains(T.raises(nil, sel { count = 2, filter = { score = "nope" } }), "album:select: unknown score 'nope' (")
  T.raises("album:select: start: Image, path or id expected, got table", sel { count = 2, start = {} })
  T.raises("album:select: no image 'nope.png' in album \"album\"", sel { count = 2, include = { "nope.png" } })
  for _, img in ipairs(a) do a.exclusions:add(img) end
  T.contains(T.raises(nil, sel { count = 2 }), "album:select: no candidates: every image is excluded (6)")
  a.exclusions:clear()
  local r = a:select { count = 2, iterations = 3, seed = 1 }
  T.raises("run:picks: iteration must be an integer from 1 to 3 (got 4)", function() return r:picks(4) end)
  T.raises("run:where: min_frequency must be a number from 0 to 1 (got 2)", function() return r:where(2) end)
  T.raises("run:frequency: bad argument #1 (Image, path or id expected, got no value)", function() return r:frequency() end)
  T.raises("run.id is read-only", function() r.id = 3 end)
end)

T.test("an album without embeddings says how to make them", function()
  local dir = maker.album(T.tempdir() .. "/album", 3)
  local a = assert(curator.open(dir, { embed = false }))
  T.contains(T.raises(nil, function() return a:select { count = 1 } end), "embed first with a:embed()")
end)

T.test("progress callbacks see the iterations", function()
  local a = new_album(6)
  local last
  a:select { count = 2, iterations = 4, seed = 1, progress = function(done, total, label) last = { done, total, label } end }
  T.eq(last[1], 4)
  T.eq(last[2], 4)
  T.eq(last[3], "fps")
end)

T.test("custom samplers run per iteration with a seeded context", function()
  local a = new_album(10)
  local seen = {}
  curator.register_sampler("test_random", function(ctx)
    seen[#seen + 1] = { iteration = ctx.iteration, count = ctx.count, n = #ctx.candidates, seed = ctx.seed }
    local pool = ctx.candidates:list()
    local out = {}
    while #out < ctx.count do
      local i = ctx.random(#pool)
      out[#out + 1] = table.remove(pool, i)
    end
    T.ok(ctx:random() < 1)
    return out
  end)
  local r = a:select { method = "test_random", count = 3, iterations = 5, seed = 9 }
  T.eq(r.method, "test_random")
  T.eq(#seen, 5)
  T.eq(seen[5].iteration, 5)
  T.eq(seen[1].count, 3)
  T.eq(seen[1].n, 10)
  local again = a:select { method = "test_random", count = 3, iterations = 5, seed = 9 }
  T.eq(paths(again.selection), paths(r.selection), "ctx.random is seeded")
  for k = 1, 5 do T.eq(paths(again:picks(k)), paths(r:picks(k))) end
end)

T.test("a sampler's context measures distances and finds neighbours", function()
  local a = new_album(8)
  local saved
  curator.register_sampler("test_far", function(ctx)
    saved = ctx
    T.eq(ctx:distance(a[1], a[1]) < 1e-6, true)
    local d12 = ctx:distance(a[1], a[2])
    T.ok(d12 > 0 and d12 <= 2)
    local near = ctx:nearest(a[1], 3)
    T.eq(#near, 3)
    T.ok(ctx:distance(a[1], near[1]) <= ctx:distance(a[1], near[3]))
    local picked = { ctx.candidates[1] }
    local function gap(img)
      local g = math.huge
      for _, p in ipairs(picked) do g = math.min(g, ctx:distance(img, p)) end
      return g
    end
    while #picked < ctx.count do
      local far = ctx:farthest_from(picked)
      for _, c in ipairs(ctx.candidates) do T.ok(gap(c) <= gap(far) + 1e-6, "farthest_from is the farthest") end
      picked[#picked + 1] = far
    end
    return picked
  end)
  local r = a:select { method = "test_far", count = 3, iterations = 1, seed = 1 }
  T.eq(#r.selection, 3)
  T.contains(T.raises(nil, function() return saved:distance(a[1], a[2]) end), "iteration has ended")
  T.contains(tostring(saved), "<SamplerContext iteration 1")
end)

T.test("sampler errors and bad returns are clear", function()
  local a = new_album(6)
  curator.register_sampler("test_boom", function() error("kaboom") end)
  local err = T.raises(nil, function() return a:select { method = "test_boom", count = 2, iterations = 2 } end)
  T.contains(err, "album:select: sampler 'test_boom' failed: ")
  T.contains(err, "kaboom (iteration 1 of 2)")
  T.contains(err, "stack traceback")
  curator.register_sampler("test_nothing", function() end)
  T.contains(T.raises(nil, function() return a:select { method = "test_nothing", count = 2 } end),
    "sampler 'test_nothing' failed: returned nothing, not a list of images")
  curator.register_sampler("test_strings", function() return { "x" } end)
  T.contains(T.raises(nil, function() return a:select { method = "test_strings", count = 2 } end),
    "returned \"x\" at [1], not an Image")
  curator.register_sampler("test_many", function(ctx) return ctx.candidates:list() end)
  T.contains(T.raises(nil, function() return a:select { method = "test_many", count = 2 } end),
    "more than count 2")
  curator.register_sampler("test_twice", function(ctx) return { ctx.candidates[1], ctx.candidates[1] } end)
  T.contains(T.raises(nil, function() return a:select { method = "test_twice", count = 2 } end), "twice")
  curator.register_sampler("test_empty", function() return {} end)
  T.contains(T.raises(nil, function() return a:select { method = "test_empty", count = 2 } end), "returned no images")
end)

T.test("scores filter the candidates and are available to samplers", function()
  local a = new_album(10)
  curator.register_score("test_index", function(img) return tonumber(img.name:match("%d+")) end)
  local r = a:select { count = 3, iterations = 3, seed = 2, filter = { score = "test_index", min = 6 } }
  for _, e in ipairs(r) do T.ok(tonumber(e.image.name:match("%d+")) >= 6, e.image.name) end
  local f = a:select { count = 2, iterations = 2, seed = 2, filter = function(img) return img.name < "img04" end }
  for _, e in ipairs(f) do T.ok(e.image.name < "img04") end
  curator.register_sampler("test_scored", function(ctx)
    local best = {}
    for _, img in ipairs(ctx.candidates) do best[#best + 1] = img end
    table.sort(best, function(x, y) return ctx.score("test_index", x) > ctx.score("test_index", y) end)
    return { best[1], best[2] }
  end)
  local s = a:select { method = "test_scored", count = 2, iterations = 2, seed = 1 }
  T.eq(paths(s.selection), "img10.png img09.png")
  curator.register_score("test_bad", function() return "high" end)
  T.contains(T.raises(nil, function() return a:select { count = 2, filter = { score = "test_bad" } } end),
    "album:select: score 'test_bad' returned \"high\" for \"img01.png\", not a number")
  T.contains(T.raises(nil, function() return a:select { count = 2, filter = function() error("nope") end } end),
    "album:select: filter failed for \"img01.png\": ")
end)

T.test("duplicates groups identical images and suggests a keeper", function()
  local dir = maker.album(T.tempdir() .. "/album", 5)
  assert(os.execute("cp " .. T.quote(dir .. "/img02.png") .. " " .. T.quote(dir .. "/copy.png")))
  local a = assert(curator.open(dir))
  local groups = a:duplicates { threshold = 0.999 }
  T.eq(#groups, 1)
  T.eq(paths(groups[1].images), "copy.png img02.png")
  T.ok(groups[1].keeper == a:get("copy.png") or groups[1].keeper == a:get("img02.png"))
  T.ok(groups[1].similarity > 0.999)
  T.eq(groups[1].keeper_by, "sharpness")
  T.eq(groups[1].chain, 1, "split from the first chain of pairs")
  -- keeper= picks the keeper among the images it is given.
  local offered
  local chosen = a:duplicates { threshold = 0.999, keeper = function(images)
    offered = images
    for _, img in ipairs(images) do if img.name == "copy.png" then return img end end
  end }
  T.eq(paths(offered), "copy.png img02.png")
  T.eq(chosen[1].keeper, a:get("copy.png"))
  T.eq(chosen[1].keeper_by, "keeper")
  T.raises("album:duplicates: keeper must return one of the images it is given (got nil)",
    function() return a:duplicates { threshold = 0.999, keeper = function() end } end)
  T.raises("album:duplicates: keeper must return one of the images it is given",
    function() return a:duplicates { threshold = 0.999, keeper = function() return a:get("img01.png") end } end)
  T.raises("album:duplicates: keeper must be a function (got string)",
    function() return a:duplicates { keeper = "sharpest" } end)
  T.eq(a.duplicate_threshold, 0.997, "the pixels embedder's")
  T.eq(#a:duplicates(), 1, "default threshold: a.duplicate_threshold")
  T.eq(#a:duplicates { threshold = 0.96 }, 1)
  T.raises("album:duplicates: threshold must be a number from -1 to 1 (got 2.0)", function() return a:duplicates { threshold = 2 } end)
  -- A small album compares every pair; the index gives the same groups here, and is kept.
  local _, how = a:duplicates { threshold = 0.999 }
  T.eq(how.method, "exact")
  T.eq(how.index, nil)
  local indexed, via = a:duplicates { threshold = 0.999, method = "index" }
  T.eq(via.method, "index")
  T.eq(via.index, "built")
  T.eq(via.lists, 1)
  T.eq(#indexed, 1)
  T.eq(paths(indexed[1].images), "copy.png img02.png")
  local _, again = assert(curator.open(dir)):duplicates { threshold = 0.999, method = "index" }
  T.eq(again.index, "stored")
  T.raises('album:duplicates: method must be "auto", "exact", "index" (got "ivf")', function() return a:duplicates { method = "ivf" } end)
end)

T.test("help and completion know the new bindings", function()
  local a = new_album(4)
  local r = a:select { count = 2, iterations = 1, seed = 1 }
  T.contains(curator.doc(r), "Run — ")
  T.contains(curator.doc(r), "r:where(min_frequency) -> ImageSet")
  T.contains(curator.doc("album:select"), "a:select{method=")
  T.contains(curator.doc("run:export"), "r:export(dir")
  T.contains(curator.doc("SamplerContext"), "ctx:farthest_from(set)")
end)

T.test("a:import matches another tool's vectors by path and makes them active", function()
  local dir = T.tempdir() .. "/imported"
  os.execute("mkdir -p '" .. dir .. "'")
  local png = maker.png(8, 8, function(x, y) return x * 30, y * 30, 90 end)
  maker.write(dir .. "/one.jpg", png)
  maker.write(dir .. "/twó.png", png)
  local a = curator.open(dir)
  local file = T.dir .. "/../CuratorCoreTests/Fixtures/numpy/import/emb_paths.npz"
  local report = a:import(file, {name = "mine"})
  T.eq(report.embedded, 2, "embedded")
  T.eq(a.embedder, "mine")
  T.eq(a.dim, 4)
  local missing, message = a:import(dir .. "/nope.npz")
  T.eq(missing, nil)
  T.contains(message, "nope.npz")
  T.raises("album:import: bad argument #1 (string expected, got number)", function() a:import(3) end)
end)

T.test("count='auto' with min_distance: FPS stops once every candidate is that close; r:coverage", function()
  local a = new_album(12)
  T.raises('album:select: count="auto" needs min_distance= (a cosine distance, e.g. 0.15): FPS stops once every candidate is that close to a pick',
    function() return a:select { count = "auto" } end)
  T.raises('album:select: min_distance works with method "fps" only (got "kmeans")',
    function() return a:select { method = "kmeans", count = "auto", min_distance = 0.1 } end)
  T.raises("album:select: min_distance must be a cosine distance above 0 and at most 2 (got -0.5)",
    function() return a:select { count = "auto", min_distance = -0.5 } end)
  local full = a:select { count = 12, iterations = 1, seed = 3 }
  local c = full:coverage()
  T.ok(c.max < 1e-5, "every candidate picked: nothing is uncovered")
  T.eq(c.candidates, 12)
  local r = a:select { count = "auto", min_distance = 0.05, iterations = 5, seed = 3 }
  T.eq(r.min_distance, 0.05)
  T.ok(r.count >= 1 and r.count <= 12, "a count between 1 and the album")
  T.eq(#r.selection, r.count)
  for k = 1, r.iterations do
    local picks = r:picks(k)
    local cover = a:select { count = #picks, iterations = 1, start = picks[1], seed = 1 }:coverage()
    T.ok(cover.max < 0.05, "iteration " .. k .. " covers every candidate within min_distance")
  end
  local few = a:select { count = 2, iterations = 1, seed = 3 }
  local cov = few:coverage()
  T.ok(cov.max >= cov.p95 and cov.p95 >= 0 and cov.mean <= cov.max, "max >= p95, mean <= max")
  T.ok(not few.selection:contains(cov.farthest), "the worst covered image is not a pick")
  T.ok(few:coverage(few.selection).max < 1e-5, "the picks cover themselves")
  local loose = a:select { count = "auto", min_distance = 1.5, iterations = 3, seed = 3 }
  T.ok(loose.count <= r.count, "a larger distance needs no more images")
end)

T.test("method='facility' picks exactly count representative images under the Monte Carlo harness", function()
  local a = new_album(12)
  local r = a:select { method = "facility", count = 4, iterations = 6, seed = 2 }
  T.eq(r.method, "facility")
  T.eq(#r.selection, 4)
  for k = 1, 6 do T.eq(#r:picks(k), 4, "iteration " .. k .. " picks exactly count") end
  local one = a:select { method = "facility", count = 4, iterations = 1, seed = 2 }
  local other = a:select { method = "facility", count = 4, iterations = 1, seed = 99 }
  T.eq(paths(one.selection), paths(other.selection), "one iteration is the plain greedy, whatever the seed")
  T.raises("curator.register_sampler: 'facility' is built in and cannot be replaced", curator.register_sampler, "facility", print)
end)

-- 12 images: (top)/img12, a/img01-08, b/img09-11; captions on img01-06.
local function strata_album()
  local dir = maker.album(T.tempdir() .. "/album", 12)
  os.execute("mkdir -p " .. T.quote(dir .. "/a") .. " " .. T.quote(dir .. "/b"))
  for i = 1, 11 do
    local name = string.format("img%02d", i)
    assert(os.rename(dir .. "/" .. name .. ".png", dir .. (i <= 8 and "/a/" or "/b/") .. name .. ".png"))
    if i <= 6 then
      local f = assert(io.open(dir .. "/a/" .. name .. ".txt", "w"))
      f:write(i <= 4 and "a red Sunset over water" or "a forest, no sunsets here")
      f:close()
    end
  end
  return assert(curator.open(dir))
end

local function per_stratum(r)
  local out = {}
  for _, s in ipairs(r.strata) do out[s.name] = s end
  return out
end

local function folder_counts(list)
  local out = {}
  for _, img in ipairs(list) do
    local f = img.folder == "" and "(top)" or img.folder
    out[f] = (out[f] or 0) + 1
  end
  return out
end

T.test("balance={by='folder'}: equal and proportional shares, every iteration and the selection keep them", function()
  local a = strata_album()
  for _, method in ipairs { "fps", "kmeans", "facility" } do
    local r = a:select { method = method, count = 6, iterations = 5, seed = 4, balance = { by = "folder" } }
    local s = per_stratum(r)
    T.eq(s["(top)"].quota, 1)
    T.eq(s["(top)"].candidates, 1)
    T.contains(s["(top)"].note, "fewer than an equal share: all of them")
    T.eq(s.a.quota, 3, method .. ": the larger stratum takes the remainder")
    T.eq(s.b.quota, 2)
    local got = folder_counts(r.selection)
    T.eq(got.a, 3); T.eq(got.b, 2); T.eq(got["(top)"], 1)
    T.eq(s.a.selected, 3)
    for k = 1, r.iterations do
      local c = folder_counts(r:picks(k))
      T.eq(c.a, 3, method .. " iteration " .. k); T.eq(c.b, 2); T.eq(c["(top)"], 1)
    end
    for _, e in ipairs(r) do T.ok(e.frequency > 0 and e.frequency <= 1) end
  end
  local p = a:select { count = 6, iterations = 3, seed = 4, balance = { by = "folder", mode = "proportional" } }
  local s = per_stratum(p)
  T.eq(s.a.quota, 4); T.eq(s.b.quota, 1); T.eq(s["(top)"].quota, 1)
  T.eq(#p.selection, 6)
  -- The same seed gives the same balanced run.
  local again = a:select { count = 6, iterations = 3, seed = 4, balance = { by = "folder", mode = "proportional" } }
  T.eq(paths(again.selection), paths(p.selection))
end)

T.test("balance quotas: a quota larger than its stratum takes all of it, with a note; count defaults to the total", function()
  local a = strata_album()
  local r = a:select { iterations = 4, seed = 1, balance = { by = "folder", mode = { a = 2, b = 5 } } }
  local s = per_stratum(r)
  T.eq(s.a.quota, 2)
  T.eq(s.b.quota, 3)
  T.eq(s.b.note, "quota 5 is more than its 3 candidates: all of them")
  T.eq(s["(top)"].quota, 0)
  T.eq(#r.selection, 5)
  local loaded = a:run(r.id)
  T.eq(paths(loaded.selection), paths(r.selection), "the strata are saved with the run")
  T.eq(per_stratum(loaded).b.note, s.b.note)
  local c = folder_counts(r.selection)
  T.eq(c.a, 2); T.eq(c.b, 3); T.eq(c["(top)"], nil)
  local missing = a:select { iterations = 2, seed = 1, balance = { by = "folder", mode = { a = 1, nowhere = 2 } } }
  T.eq(per_stratum(missing).nowhere.candidates, 0)
  T.eq(per_stratum(missing).nowhere.note, "quota 2 is more than its 0 candidates: all of them")
  T.raises("album:select: balance gives no stratum any image (strata: (top), a, b, nowhere)",
    function() return a:select { balance = { by = "folder", mode = { nowhere = 3 } } } end)
end)

T.test("balance by caption tag: images without a caption form an 'unknown' stratum, counted and reported", function()
  local a = strata_album()
  local r = a:select { count = 6, iterations = 3, seed = 2, balance = { by = "caption:sunset" } }
  local s = per_stratum(r)
  T.eq(s.sunset.candidates, 4, "whole words, any case: 'sunsets' does not count")
  T.eq(s["not sunset"].candidates, 2)
  T.eq(s.unknown.candidates, 6)
  T.eq(s.unknown.note, "images with no caption:sunset value")
  T.eq(r.strata[#r.strata].name, "unknown", "the unknown stratum comes last")
  T.eq(s.sunset.quota + s["not sunset"].quota + s.unknown.quota, 6)
  T.eq(s.sunset.quota, 2); T.eq(s.unknown.quota, 2)
end)

T.test("balance by a function, and with a custom Lua sampler (each stratum its own candidates)", function()
  local a = strata_album()
  local r = a:select { count = 4, iterations = 2, seed = 1,
    balance = { by = function(img) return tonumber(img.name:match("%d+")) % 2 == 0 end } }
  local s = per_stratum(r)
  T.eq(s["true"].quota, 2); T.eq(s["false"].quota, 2)
  local seen = {}
  curator.register_sampler("first_few", function(ctx)
    seen[#seen + 1] = #ctx.candidates
    local out = {}
    for i = 1, ctx.count do out[i] = ctx.candidates[i] end
    return out
  end)
  local c = a:select { method = "first_few", count = 6, iterations = 2, seed = 1, balance = { by = "folder" } }
  -- (top) has one candidate for a quota of one: taken whole, without calling the sampler.
  T.eq(table.concat(seen, ","), "8,8,3,3", "strata in name order, each with its candidates")
  local got = folder_counts(c.selection)
  T.eq(got.a, 3); T.eq(got.b, 2); T.eq(got["(top)"], 1)
  T.raises("album:select: balance.by must be \"folder\", \"aspect\", \"cluster\", \"caption:<tag>\", a Clusters or a function img -> stratum name (got \"foldr\") (did you mean 'folder'?)",
    function() return a:select { count = 2, balance = { by = "foldr" } } end)
  T.raises("album:select: balance.mode must be \"equal\", \"proportional\" or a table of quotas {name=n, ...} (got \"even\")",
    function() return a:select { count = 2, balance = { by = "folder", mode = "even" } } end)
  T.raises("album:select: balance.mode quota for 'a' must be a non-negative integer (got -1)",
    function() return a:select { balance = { by = "folder", mode = { a = -1 } } } end)
  T.raises("album:select: balance.by is required: \"folder\", \"aspect\", \"caption:<tag>\" or a function img -> stratum name",
    function() return a:select { count = 2, balance = {} } end)
  T.raises("album:select: balance cannot be combined with count=\"auto\" (give a count)",
    function() return a:select { count = "auto", min_distance = 0.1, balance = { by = "folder" } } end)
end)

T.test("printing a run's sets shows their first paths with frequencies, numbered as s[i] at the prompt", function()
  local a = new_album(12)
  local r = a:select { method = "fps", count = 4, iterations = 5, seed = 7 }
  local where = r:where(0)
  local first = where[1]
  T.ok(tostring(where):find('^<ImageSet frequency >= 0 in run ' .. r.id .. ' of "album": %d+ images: '), tostring(where))
  T.contains(tostring(where), first.path .. " " .. string.format("%.1f", 100 * r:frequency(first)) .. " % " .. r:tier(first) .. ", ")
  a.exclusions:add(r.selection[2])
  local long = curator.pretty(r.selection)
  local lines = {}
  for line in long:gmatch("[^\n]+") do lines[#lines + 1] = line end
  T.eq(lines[1], '<ImageSet selection of run ' .. r.id .. ' of "album": 4 images>')
  for i = 1, 4 do
    local img = r.selection[i]
    T.ok(lines[i + 1]:find("^  " .. i .. "  " .. img.path:gsub("%p", "%%%0") .. " +" .. string.format("%5.1f", 100 * r:frequency(img)) .. " %%  " .. r:tier(img)),
      lines[i + 1])
  end
  T.contains(lines[3], "excluded", "an image excluded since the run says so")
  T.ok(not lines[2]:find("excluded"))
  -- Inside a table, a set keeps its one-line form.
  local nested = curator.pretty({ r.selection })
  T.contains(nested, "<ImageSet selection of run " .. r.id .. ' of "album": 4 images: ')
  T.ok(not nested:find("\n%s+1  "), nested)
  -- Long sets end with how many are left.
  local all = a:set(a:images())
  T.contains(curator.pretty(all), "\n  … 2 more images (s:list(), s:show())")
  T.eq(select(2, curator.pretty(all):gsub("\n", "")), 11)
end)

T.test("uniqueness and typicality: image properties and built-in scores for filter=", function()
  local a = new_album(12)
  local top, most = -1, nil
  for _, img in ipairs(a) do
    T.ok(img.uniqueness >= 0 and img.uniqueness <= 1, img.path)
    T.ok(img.typicality > 0, img.path)
    if img.uniqueness > top then top, most = img.uniqueness, img end
  end
  T.eq(top, 1, "the most isolated image scores 1")
  local r = a:select { count = 3, iterations = 2, seed = 1, filter = { score = "uniqueness", max = 0.999 } }
  T.ok(not r.selection:contains(most), "the filter leaves out the most unique image")
  local t = a:select { count = 3, iterations = 2, seed = 1, filter = { score = "typicality", min = most.typicality + 1e-9 } }
  T.ok(#t.selection == 3)
  T.raises("curator.register_score: 'uniqueness' is built in and cannot be replaced", curator.register_score, "uniqueness", print)
end)
