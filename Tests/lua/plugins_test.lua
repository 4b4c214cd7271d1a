-- The shipped plugins (plugins/*.lua) on the sample album.
local T = ...
dofile(T.dir .. "/sample_support.lua")(T)

local function open_sample()
  local dir = T.sample_album()
  return assert(curator.open(dir)), dir
end

local function registered(kind, name)
  for _, e in ipairs(curator[kind .. "s"]()) do
    if e.name == name then return e end
  end
end

T.test("quality.flag on an album never measured says so and names a:measure(), then flags", function()
  local quality = T.plugin("quality")
  local a = assert(curator.open(T.fixture_album(), { embed = false }))
  T.eq(a[1].stats, nil)
  -- Not "nothing flagged", and not every image "unreadable".
  T.contains(T.raises(nil, quality.flag, a), "quality.flag: none of the " .. #a .. " images has statistics")
  T.contains(T.raises(nil, quality.flag, a, { unreadable = true }), "a:measure() measures them")
  T.eq(a:measure(), #a)
  T.eq(type(quality.flag(a)), "table")
  T.eq(#quality.flag({}), 0, "an empty list is not an unmeasured album")
end)

T.test("quality flags exactly the sample album's blurry, dark, overexposed and blank images", function()
  local quality = T.plugin("quality")
  T.eq(quality.name, "quality")
  local a = open_sample()
  local flagged = quality.flag(a)
  local lines = {}
  for _, f in ipairs(flagged) do lines[#lines + 1] = f.image.path .. "=" .. table.concat(f.issues, "+") end
  T.eq(table.concat(lines, " "),
    "city/009.jpg=dark city/010.jpg=low_information forest/021.jpg=blurry forest/022.jpg=dark+low_information "
    .. "inbox/IMG_0004.jpg=dark+low_information ocean/009.jpg=blurry ocean/010.jpg=overexposed "
    .. "sunset/031.jpg=blurry sunset/032.jpg=dark sunset/033.jpg=overexposed")
  T.eq(T.paths(quality.flag(a, { only = "blurry" })), "forest/021.jpg ocean/009.jpg sunset/031.jpg")
  -- The truncated JPEG has no statistics: listed only when asked for.
  local unreadable = {}
  for _, f in ipairs(quality.flag(a, { unreadable = true })) do
    if f.issues[1] == "unreadable" then unreadable[#unreadable + 1] = f.image.path end
  end
  T.eq(table.concat(unreadable, " "), "inbox/IMG_0001.jpg")
  T.eq(quality.issues(a:get("inbox/IMG_0001.jpg")), nil)
  T.eq(#quality.issues(a:get("sunset/001.jpg")), 0)
  T.eq(quality.describe(quality.flag(a, { only = "overexposed" })), "ocean/010.jpg: overexposed\nsunset/033.jpg: overexposed")
  -- Thresholds can be tightened per call, and typos are caught.
  T.ok(#quality.flag(a, { thresholds = { dark = 0.25, robust_z = 0 } }) > #flagged)
  -- Counts by check come before any list.
  T.eq(quality.summary(flagged, #a), "10 of 84 images flagged: 3 blurry, 4 dark, 2 overexposed, 3 low_information")
  T.contains(T.raises(nil, quality.flag, a, { thresholds = { drak = 0.2 } }), "unknown threshold 'drak'")
  -- Excluding the flagged images is one line.
  T.eq(a.exclusions:add(quality.images(flagged)), #flagged)
  T.ok(a:get("sunset/031.jpg").excluded)
end)

T.test("the host's quality checks (curator.quality_*): the plugin's thresholds, baselines and z, following the album when it changes", function()
  local quality = T.plugin("quality")
  local dir = T.sample_album()
  local a = assert(curator.open(dir))
  -- The host's defaults are the plugin's thresholds.
  T.eq(table.concat(curator.quality_issues(a:get("city/009.jpg")), "+"), "dark")
  T.eq(curator.quality_issues(a:get("inbox/IMG_0001.jpg")), nil, "no statistics")
  T.eq(#curator.quality_issues(a:get("sunset/001.jpg"), { dark = 0.99, robust_z = 0 }), 1, "thresholds reach the host")
  T.contains(T.raises(nil, curator.quality_issues, a:get("sunset/001.jpg"), { drak = 0.2 }), "drak")
  T.contains(T.raises(nil, curator.quality_z, a:get("sunset/001.jpg"), "brightnes"), "unknown measure 'brightnes'")
  T.contains(T.raises(nil, quality.z, a:get("sunset/001.jpg"), "brightnes"), "quality: unknown measure 'brightnes'")
  -- quality.thresholds changed at run time is what the host checks with.
  local before = #quality.flag(a)
  quality.thresholds.dark, quality.thresholds.robust_z = 0.25, 0
  local absolute = #quality.flag(a)
  quality.thresholds.dark, quality.thresholds.robust_z = 0.12, 2
  T.ok(absolute > before, absolute .. " flagged by the looser absolute rules, " .. before .. " by the defaults")
  T.eq(#quality.flag(a), before)
  -- The baseline: every image with statistics, the median's own z is 0.
  local b = quality.baseline(a)
  T.eq(b.count, 84)
  T.eq(b.brightness.n, 83)
  T.ok(b.brightness.spread >= 0.03 and b.entropy.spread >= 0.25, "spreads keep their floors")
  T.ok(quality.z(a:get("city/009.jpg"), "brightness") < -2, "the dark image stands out below")
  T.eq(quality.z(a:get("inbox/IMG_0001.jpg"), "brightness"), nil)
  -- A rescan that removes images moves the baseline (the host does not keep a stale one).
  T.ok(os.execute("rm " .. T.quote(dir) .. "/sunset/0[0-2]*.jpg"))
  a:scan()
  T.ok(quality.baseline(a).brightness.n < 83, "baseline after the rescan: " .. quality.baseline(a).brightness.n)
end)

T.test("quality registers its scores", function()
  local quality = T.plugin("quality")
  local a = open_sample()
  for _, name in ipairs({ "sharpness", "brightness", "entropy", "relative_sharpness", "quality_issues" }) do
    T.ok(registered("score", name), "score " .. name)
  end
  T.ok(quality.relative_sharpness(a:get("sunset/031.jpg")) < quality.thresholds.blurry)
  T.ok(quality.relative_sharpness(a:get("sunset/001.jpg")) > quality.thresholds.blurry)
  T.eq(quality.relative_sharpness(a:get("city/010.jpg")), nil, "flat: no contrast to relate to")
  T.eq(quality.relative_sharpness(a:get("inbox/IMG_0001.jpg")), nil, "no statistics")
  local s = a:get("forest/005.jpg").stats
  T.ok(math.abs(quality.relative_sharpness(a:get("forest/005.jpg")) - s.sharpness / (255 * s.contrast) ^ 2) < 1e-12,
    "the host's formula: sharpness / (255·contrast)²")
  T.contains(T.raises(nil, curator.quality_relative_sharpness, { stats = s }), "Image")
  -- A selection can keep to the images that pass every check.
  local r = a:select { count = 20, iterations = 3, seed = 1, filter = { score = "quality_issues", max = 0 } }
  T.eq(#r.selection, 20)
  for _, img in ipairs(r.selection) do T.eq(#quality.issues(img), 0, img.path) end
end)

T.test("captions finds images by keyword, length and missing captions", function()
  local captions = T.plugin("captions")
  local a = open_sample()
  local missing = captions.missing(a)
  T.ok(#missing >= 5 and #missing <= 20, "most images have captions (" .. #missing .. " missing)")
  for _, img in ipairs(missing) do T.eq(img.caption, nil, img.path) end
  T.ok(T.paths(missing):find("inbox/IMG_0003.jpg", 1, true))
  -- Whole words, any case: "sea" is not "season"; phrases match across spacing.
  local img = a:get("sunset/001.jpg")
  T.ok(captions.has(img, "SUN"), img.caption)
  T.ok(not captions.has(img, "su"))
  T.ok(captions.has(a:get("ocean/001.jpg"), { "blue   sea", "deep blue" }))
  local forests = captions.with(a, "forest")
  for _, f in ipairs(forests) do T.eq(f.folder, "forest") end
  T.ok(#forests >= 10)
  T.eq(#captions.with(a, { "forest", "moss" }, { all = true }) <= #forests, true)
  local not_sunsets = captions.without(a, { "sunset", "sun" })
  for _, f in ipairs(not_sunsets) do T.ok(f.caption and not f.caption:lower():find("sun"), f.path) end
  T.eq(#captions.without(a, "nothing-like-this", { missing = true }), #a)
  T.eq(captions.length(a:get("city/010.jpg")), 5, "overcast sky over the city")
  local short = captions.shorter(a, 6)
  T.ok(#short > 0 and T.paths(short):find("city/010.jpg", 1, true))
  for _, s in ipairs(short) do T.ok(captions.length(s) < 6, s.path) end
  T.eq(#captions.longer(a, 100), 0)
  T.eq(captions.vocabulary(a)[1].count >= captions.vocabulary(a)[2].count, true)
  T.contains(T.raises(nil, captions.with, a, {}), "keywords must be a string or a non-empty list")
  T.ok(registered("score", "caption_length"))
  T.ok(registered("score", "has_caption"))
end)

T.test("captions.clean cuts to a CLIP token limit, prefix included, after a whole word", function()
  local captions = T.plugin("captions")
  -- The vocabulary of OpenAI's CLIP (and of Stable Diffusion's text encoder).
  local vocab = T.dir .. "/../CuratorCoreTests/Fixtures/clip/tokenizer/bpe_simple_vocab_16e6.txt.gz"
  local function tokens(s) return curator.count_tokens(s, { vocabulary = vocab }) end
  T.eq(tokens("a photo of a cat"), 5)
  T.eq(tokens("sks, a photo"), 4, "the comma is a token")
  T.eq(tokens(""), 0)
  local text = ("a watercolour illustration of a snowy owl perched on a birch branch, "):rep(8)
  T.ok(tokens(text) > 100)
  local cut = captions.clean(text, { max_tokens = 75, vocabulary = vocab, prefix = "sks" })
  T.ok(cut:match("^sks, a watercolour illustration"), cut)
  local n = tokens(cut)
  T.ok(n <= 75 and n >= 70, n .. " tokens: " .. cut)
  -- The next word would not have fitted.
  local body = cut:sub(#"sks, " + 1)
  local next_word = text:sub(#body + 1):match("^[^%w]*([%w']+)")
  T.ok(tokens(cut .. " " .. next_word) > 75, next_word)
  T.ok(#captions.words(cut) < 75, "fewer words than tokens: a word limit would let it overflow")
  T.eq(captions.clean("a photo of a cat", { max_tokens = 75, vocabulary = vocab }), "a photo of a cat", "short captions stay")
  T.eq(captions.clean("a photo of a cat", { max_tokens = 2, vocabulary = vocab, prefix = "sks" }), "sks",
    "'sks, a' is 3 tokens: the prefix stays even when nothing else fits")
  T.contains(T.raises(nil, captions.clean, "x", { max_tokens = 5, vocabulary = "/nowhere" }), "/nowhere: no such file or folder")
  T.contains(T.raises(nil, captions.clean, "x", { max_tokens = 0 }), "max_tokens must be a positive integer")
end)

T.test("kohya writes <repeats>_<concept>/ with a caption per image and a dataset TOML", function()
  local kohya = T.plugin("kohya")
  local a = open_sample()
  T.ok(registered("exporter", "kohya_toml"))
  local out = T.tempdir() .. "/train"
  -- Same names in different folders, an image without caption, an excluded one.
  a.exclusions:add("forest/002.jpg")
  local pick = { a:get("sunset/001.jpg"), a:get("forest/001.jpg"), a:get("ocean/deep/001.jpg"),
                 a:get("forest/002.jpg"), a:get("ocean/001.jpg") }
  local report = kohya.write(pick, out, { repeats = 5, concept = "scenery" })
  T.eq(#report.written, 4)
  T.eq(#report.failed, 0)
  T.eq(report.skipped[1].path, "forest/002.jpg")
  local listing = T.sh("cd " .. T.quote(out) .. " && find . -type f | sort")
  T.eq(listing, "./5_scenery/001.jpg\n./5_scenery/001.txt\n./5_scenery/deep_001.jpg\n./5_scenery/deep_001.txt\n"
    .. "./5_scenery/forest_001.jpg\n./5_scenery/forest_001.txt\n./5_scenery/ocean_001.jpg\n./5_scenery/ocean_001.txt\n"
    .. "./dataset.toml\n")
  local function read(p) local f = assert(io.open(p, "rb")) local s = f:read("a") f:close() return s end
  T.eq(read(out .. "/5_scenery/001.txt"), a:get("sunset/001.jpg").caption .. "\n")
  T.eq(read(out .. "/5_scenery/001.jpg"), read(a:get("sunset/001.jpg").file))
  T.eq(read(out .. "/5_scenery/deep_001.txt"), "scenery\n", "no caption of its own: the concept")
  local toml = read(out .. "/dataset.toml")
  T.contains(toml, "[general]")
  T.contains(toml, "[[datasets]]")
  T.contains(toml, "[[datasets.subsets]]")
  T.contains(toml, 'image_dir = "' .. out .. '/5_scenery"')
  T.contains(toml, "num_repeats = 5")
  T.contains(toml, 'caption_extension = ".txt"')
  -- A second export into the same folder overwrites nothing, and its
  -- dataset.toml already describes it: no dataset_1.toml beside it.
  local again = kohya.write({ a:get("sunset/001.jpg") }, out, { repeats = 5, concept = "scenery" })
  T.eq(again.written[1].image, out .. "/5_scenery/sunset_001.jpg")
  T.eq(again.toml, out .. "/dataset.toml")
  T.eq(again.toml_status, "unchanged")
  T.eq(read(out .. "/dataset.toml"), toml, "the config is left as it was")
  T.eq(T.sh("cd " .. T.quote(out) .. " && ls *.toml"), "dataset.toml\n")
  -- Progress for a list's copies, when asked.
  local seen = {}
  kohya.write({ a:get("sunset/001.jpg"), a:get("forest/001.jpg") }, T.tempdir() .. "/p",
    { progress = function(done, total) seen[#seen + 1] = done .. "/" .. total end })
  T.eq(table.concat(seen, " "), "1/2 2/2")
  T.contains(T.raises(nil, kohya.write, pick, out, { repeats = 0 }), "repeats must be a positive integer")
  T.contains(T.raises(nil, kohya.write, pick, out, { caption_extension = ".md" }), 'caption_extension must be ".txt" or ".caption"')
  local dry = kohya.write(pick, T.tempdir() .. "/dry", { dry_run = true })
  T.eq(#dry.written, 4)
  T.eq(T.sh("ls " .. T.quote(dry.folder) .. " 2>/dev/null | wc -l"), "0\n")
end)

T.test("kohya_toml is an exporter runs use: r:export(dir, {exporter=, params=})", function()
  T.plugin("kohya")
  local a = open_sample()
  local r = a:select { method = "fps", count = 6, iterations = 3, seed = 2 }
  local out = T.tempdir() .. "/ds"
  local report = r:export(out, { exporter = "kohya_toml", params = { repeats = 3, concept = "scenery" } })
  T.eq(report.exported, 6)
  T.eq(report.failed, 0)
  T.eq(report.data.folder, out .. "/3_scenery")
  T.eq(report.data.toml, out .. "/dataset.toml")
  T.eq(T.sh("ls " .. T.quote(out .. "/3_scenery") .. " | grep -c '[.]txt$'"), "6\n")
  T.contains(T.sh("cat " .. T.quote(out .. "/dataset.toml")), "num_repeats = 3")
  local bad = T.raises(nil, r.export, r, T.tempdir(), { exporter = "kohya_toml", params = { repeats = -1 } })
  T.contains(bad, "repeats must be a positive integer")
end)

T.test("kohya_toml reports what it copied, with copy progress, and keeps one dataset.toml per folder", function()
  T.plugin("kohya")
  local a = open_sample()
  local r = a:select { method = "fps", count = 6, iterations = 3, seed = 2 }
  local out = T.tempdir() .. "/ds"
  -- The copies report progress while they happen: each call finds the image it counts already there.
  local copied_when_told = {}
  local first = r:export(out, { exporter = "kohya_toml", params = { repeats = 3, concept = "scenery" },
    progress = function(done, total)
      copied_when_told[#copied_when_told + 1] = tonumber((T.sh("ls " .. T.quote(out .. "/3_scenery") .. " 2>/dev/null | grep -vc '[.]txt$'")))
    end })
  T.eq(first.exported, 6)
  T.eq(first.data.toml_status, "written")
  T.eq(#copied_when_told, 6, "progress once, during the copies (the quick loop that reports them is quiet)")
  T.ok(copied_when_told[1] < 6, "the first call comes before the last copy, not after: " .. copied_when_told[1])
  local toml = T.sh("cat " .. T.quote(out .. "/dataset.toml"))
  -- The same export again copies nothing, says so, and writes no second TOML.
  local again = r:export(out, { exporter = "kohya_toml", params = { repeats = 3, concept = "scenery" } })
  T.eq(again.exported, 0)
  T.eq(again.data.unchanged, 6)
  T.eq(#again.items, 0)
  T.eq(again.data.toml, out .. "/dataset.toml")
  T.eq(again.data.toml_status, "unchanged")
  T.eq(T.sh("cat " .. T.quote(out .. "/dataset.toml")), toml)
  -- Another concept in the same folder: one more [[datasets]] entry in the same file.
  local other = r:export(out, { exporter = "kohya_toml", params = { repeats = 2, concept = "night" } })
  T.eq(other.exported, 6)
  T.eq(other.data.toml_status, "added")
  local both = T.sh("cat " .. T.quote(out .. "/dataset.toml"))
  T.eq(both:sub(1, #toml), toml, "the first subset's lines stay as they were")
  T.contains(both, 'image_dir = "' .. out .. '/2_night"')
  T.eq(select(2, both:gsub("%[%[datasets%]%]", "")), 2)
  T.eq(T.sh("cd " .. T.quote(out) .. " && ls"), "2_night\n3_scenery\ndataset.toml\n")
  -- A dataset.toml curator did not write is never touched, and nothing is copied next to it.
  local mine = T.tempdir() .. "/mine"
  os.execute("mkdir -p " .. T.quote(mine) .. " && printf '# my own config\\n' > " .. T.quote(mine .. "/dataset.toml"))
  local refused = T.raises(nil, r.export, r, mine, { exporter = "kohya_toml", params = { repeats = 2, concept = "night" } })
  T.contains(refused, mine .. "/dataset.toml exists and was not written by curator")
  T.eq(T.sh("ls " .. T.quote(mine)), "dataset.toml\n")
  T.eq(T.sh("cat " .. T.quote(mine .. "/dataset.toml")), "# my own config\n")
end)

T.test("dedup keeps the original of each near-duplicate pair and excludes the copy", function()
  local dedup = T.plugin("dedup")
  local a = open_sample()
  local ok, has = pcall(function() return a.duplicates end)
  if not (ok and type(has) == "function") then
    T.contains(T.raises(nil, dedup.plan, a), "no album:duplicates")
    return
  end
  local plan, added = dedup.exclude(a)
  local kept = {}
  for _, g in ipairs(plan) do kept[g.keep.path] = T.paths(g.drop) end
  T.eq(kept["sunset/005.jpg"], "sunset/005 copy.jpg")
  T.eq(kept["forest/004.jpg"], "forest/004-edit.jpg")
  T.eq(kept["city/002.jpg"], "inbox/IMG_0003.jpg", "a byte-identical import: the first path stays")
  T.eq(#plan, 3, "distinct forest textures are not duplicates")
  T.eq(added, 3)
  T.ok(a:get("sunset/005 copy.jpg").excluded)
  T.ok(not a:get("sunset/005.jpg").excluded)
  -- Excluded images are left alone the second time.
  local _, again = dedup.exclude(a)
  T.eq(again, 0)
end)

T.test("quality on real clip art: under 5 % flagged (transparent, white and flat is normal there), planted blurs still caught", function()
  local source = "/usr/share/openclipart/png/animals"
  if not io.open(source .. "/../README", "r") and not os.execute("test -d " .. T.quote(source)) then
    print("SKIP plugins_test.lua clip-art test: openclipart-png is not installed (scripts/setup installs it)")
    return
  end
  local quality = T.plugin("quality")
  local dir = T.tempdir() .. "/clipart"
  local _, err, code = T.sh("mkdir -p " .. T.quote(dir .. "/planted") .. " && find " .. T.quote(source)
    .. " -name '*.png' | sort | head -120 | xargs -I{} cp {} " .. T.quote(dir) .. "/"
    .. " && n=0; for f in $(find " .. T.quote(source) .. " -name '*.png' | sort | sed -n '200,260p'); do"
    .. " n=$((n+1)); [ $n -le 3 ] || break; vips gaussblur \"$f\" " .. T.quote(dir) .. "/planted/blur_$n.png 8; done")
  T.eq(code, 0, err)
  local a = assert(curator.open(dir))
  local flagged = quality.flag(a)
  local ordinary, planted = 0, 0
  for _, f in ipairs(flagged) do
    if f.image.path:find("^planted/") then planted = planted + 1 else ordinary = ordinary + 1 end
  end
  local summary = quality.summary(flagged, #a)
  T.ok(ordinary < 0.05 * (#a - 3), summary .. "\n" .. quality.describe(flagged))
  -- The absolute rules alone would flag a large part of it.
  T.ok(#quality.flag(a, { thresholds = { robust_z = 0, blurry_outlier = 0 } }) > 0.3 * #a, "the absolute rules misfire here")
  T.ok(planted >= 2, "planted blurs flagged: " .. summary .. "\n" .. quality.describe(flagged))
end)
