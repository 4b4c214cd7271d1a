-- Scenarios A and B end to end: the shipped scripts run by curator (with the
-- shipped plugins) on a copy of the sample album, with asserted outcomes.
local T = ...
dofile(T.dir .. "/sample_support.lua")(T)

local clean = T.repo .. "/workflows/clean.lua"
local trainset = T.repo .. "/workflows/trainset.lua"
local dedup = T.repo .. "/workflows/dedup.lua"

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function files(dir)
  local out = T.sh("cd " .. T.quote(dir) .. " && find . -type f | sed 's|^./||' | sort")
  local list = {}
  for line in out:gmatch("[^\n]+") do list[#list + 1] = line end
  return list
end

T.test("Scenario A lists the unreadable files and excludes the outliers FPS keeps picking", function()
  local dir = T.sample_album()
  local out, err, code = T.run({ clean, dir, "--rounds", "1", "--yes" })
  T.eq(code, 0, err)
  T.contains(out, "3 file(s) could not be read")
  T.contains(out, "inbox/IMG_0001.jpg: truncated or corrupt JPEG")
  T.contains(out, "inbox/IMG_0002.jpg: empty file")
  T.contains(out, "inbox/notes.png: not an image")
  T.contains(out, "round 1:")
  local a = assert(curator.open(dir))
  T.contains(tostring(a), "3 skipped", "the album counts what a:skipped() lists, the unreadable JPEG's pixels too")
  T.eq(#a:skipped(), 3)
  T.ok(#a.exclusions > 0, "round 1 excluded its core")
  -- The planted faults FPS finds first: the blank and the near-black frames.
  for _, path in ipairs({ "city/010.jpg", "inbox/IMG_0004.jpg" }) do
    T.ok(a:get(path).excluded, path .. " excluded")
    T.contains(out, path)
  end
  T.contains(out, "[low_information", "the quality plugin says why")
  -- Blurred and darkened copies of ordinary pictures are not far from
  -- their neighbours; the quality checks list them after the rounds.
  for _, line in ipairs({ "sunset/031.jpg: blurry", "ocean/009.jpg: blurry", "forest/021.jpg: blurry",
                          "sunset/032.jpg: dark", "city/009.jpg: dark" }) do
    T.contains(out, line)
  end
  T.contains(out, ("the album excludes %d in all"):format(#a.exclusions))
end)

T.test("Scenario A without --yes and without a terminal excludes nothing", function()
  local dir = T.sample_album()
  local out, err, code = T.run({ clean, dir, "--rounds", "2" })
  T.eq(code, 0, err)
  T.contains(out, "run with --yes to exclude the flagged ones")
  T.eq(#assert(curator.open(dir)).exclusions, 0)
end)

T.test("Scenario A stops when no image reaches the threshold", function()
  local dir = T.sample_album()
  -- One pick per run from a random start: no image is picked in every run.
  local out, err, code = T.run({ clean, dir, "--count", "1", "--threshold", "1", "--rounds", "3", "--yes" })
  T.eq(code, 0, err)
  T.contains(out, "round 1: no image picked in >= 100% of 20 runs: the picks look clean")
  T.ok(not out:find("round 2", 1, true))
  T.contains(out, "excluded 0 image(s) now")
end)

T.test("Scenario B exports the requested number of images with their captions, never an excluded one", function()
  local dir = T.sample_album()
  local excluded = { "sunset/031.jpg", "forest/022.jpg", "city/010.jpg", "inbox/IMG_0004.jpg", "ocean/010.jpg" }
  -- Excluded in another process, as a user would at an earlier session's
  -- prompt (this process opens the album only afterwards: an open album
  -- does not see set changes other processes make).
  local _, xerr, xcode = T.run({ "--no-plugins", "-e", "assert(curator.open(" .. string.format("%q", dir)
    .. ")).exclusions:add(" .. curator.json.encode(excluded):gsub("^%[", "{"):gsub("%]$", "}") .. ")" })
  T.eq(xcode, 0, xerr)
  local work = T.tempdir()
  local out, err, code = T.run({ trainset, dir, "--count", "15", "--iterations", "10", "--seed", "3",
    "--out", work .. "/set", "--csv", work .. "/set.csv", "--report", work .. "/report.html", "--favorites" })
  T.eq(code, 0, err)
  T.contains(out, "selected 15 image(s) by fps")
  T.contains(out, "; 5 excluded")
  local a = assert(curator.open(dir))
  T.eq(#a.exclusions, #excluded)

  local exported = files(work .. "/set")
  local images, captions = {}, {}
  for _, f in ipairs(exported) do
    if f:match("%.jpg$") then images[#images + 1] = f else captions[f] = true end
  end
  T.eq(#images, 15, "exported images")
  -- Captions beside the images: every exported image whose source has a
  -- caption has a sidecar of the same stem, with the same text.
  local excluded_bytes = {}
  for _, p in ipairs(excluded) do excluded_bytes[read(a:get(p).file)] = p end
  local by_bytes = {}
  for _, img in ipairs(a) do by_bytes[read(img.file) or ""] = img end
  local with_caption = 0
  for _, f in ipairs(images) do
    local bytes = read(work .. "/set/" .. f)
    T.eq(excluded_bytes[bytes], nil, f .. " is an excluded image")
    local source = by_bytes[bytes]
    T.ok(source, f .. " is an album image")
    local sidecar = source:sidecars()[1]
    if sidecar then
      with_caption = with_caption + 1
      local ext = sidecar:match("%.[^.]+$")
      local name = f:gsub("%.jpg$", ext)
      T.ok(captions[name], name .. " beside " .. f)
      T.eq(read(work .. "/set/" .. name), read(dir .. "/" .. sidecar))
    end
  end
  T.ok(with_caption > 0)

  local csv = read(work .. "/set.csv")
  T.contains(csv, "Filename,Subfolder,Count,Frequency(%),Index,Status")
  local rows = select(2, csv:gsub("\n", "\n"))
  T.eq(rows, 1 + 15 + #excluded, "header, included rows, excluded rows")
  T.contains(read(work .. "/report.html") or "", "<html")
  T.eq(#a.favorites, 15)
end)

T.test("Scenario B with --kohya writes <repeats>_<concept>/ and dataset.toml", function()
  local dir = T.sample_album()
  local work = T.tempdir()
  local _, err, code = T.run({ trainset, dir, "--count", "12", "--method", "kmeans", "--iterations", "5",
    "--out", work .. "/ds", "--kohya", "7_scenery" })
  T.eq(code, 0, err)
  local listing = files(work .. "/ds")
  local jpgs, txts = 0, 0
  for _, f in ipairs(listing) do
    if f:match("^7_scenery/[^/]+%.jpg$") then jpgs = jpgs + 1 end
    if f:match("^7_scenery/[^/]+%.txt$") then txts = txts + 1 end
  end
  T.eq(jpgs, 12)
  T.eq(txts, 12, "one caption per image")
  local toml = read(work .. "/ds/dataset.toml")
  T.contains(toml, "num_repeats = 7")
  T.contains(toml, "/7_scenery\"")
end)

T.test("Scenario B: --csv and --report into folders not made yet; a file in their way stops it before anything is written", function()
  local dir = T.sample_album()
  local work = T.tempdir()
  local _, err, code = T.run({ trainset, dir, "--count", "6", "--iterations", "3", "--out", work .. "/new/ds",
    "--csv", work .. "/new/sel.csv", "--report", work .. "/pages/deeper/sel.html" })
  T.eq(code, 0, err)
  T.contains(read(work .. "/new/sel.csv") or "", "Filename,Subfolder")
  T.contains(read(work .. "/pages/deeper/sel.html") or "", "<html")
  local f = assert(io.open(work .. "/taken", "w")); f:write("mine"); f:close()
  _, err, code = T.run({ trainset, dir, "--count", "6", "--iterations", "3", "--out", work .. "/other",
    "--csv", work .. "/taken/sub/sel.csv" })
  T.eq(code, 1)
  T.contains(err, "--csv " .. work .. "/taken/sub/sel.csv: " .. work .. "/taken is a file, not a folder")
  T.eq((curator.stat(work .. "/other")), nil, "nothing was exported")
  T.eq(read(work .. "/taken"), "mine")
end)

T.test("Scenario B re-run: a non-empty --out is refused, --update adds and trashes, --replace swaps, files checked first", function()
  local dir = T.sample_album()
  local work = T.tempdir()
  local out = work .. "/trainset"
  local base = { trainset, dir, "--count", "10", "--iterations", "5", "--seed", "1", "--out", out,
                 "--kohya", "10_scenery", "--csv", work .. "/sel.csv", "--report", work .. "/sel.html" }
  local function with(extra)
    local args = {}
    for _, w in ipairs(base) do args[#args + 1] = w end
    for _, w in ipairs(extra or {}) do args[#args + 1] = w end
    return args
  end
  local stdout, err, code = T.run(with())
  T.eq(code, 0, err)
  local first = files(out)
  T.eq(#first, 21, "10 images, 10 captions and dataset.toml")
  T.contains(stdout, "CSV: " .. work .. "/sel.csv")

  -- The same command again: refused before anything is written.
  local csv_before = read(work .. "/sel.csv")
  stdout, err, code = T.run(with())
  T.eq(code, 1)
  T.contains(err, "--csv " .. work .. "/sel.csv already exists (add --overwrite to replace it)")
  T.ok(not err:find("traceback", 1, true), err)
  stdout, err, code = T.run(with({ "--overwrite" }))
  T.eq(code, 1)
  T.contains(err, "--out " .. out .. " is not empty: add --update")
  T.eq(table.concat(files(out), " "), table.concat(first, " "), "nothing was written")
  T.eq(read(work .. "/sel.csv"), csv_before)

  -- Exclude two picks, then --update: they leave for the trash with
  -- whatever else the new run no longer picks, alternatives come in, and
  -- the images still picked are not copied again.
  local a = assert(curator.open(dir))
  local r = a:run(a:runs()[#a:runs()].id)
  a.exclusions:add({ r.selection[1], r.selection[2] })
  stdout, err, code = T.run(with({ "--update", "--overwrite" }))
  T.eq(code, 0, err)
  local copied = tonumber(stdout:match("exported (%d+) image"))
  local kept = tonumber(stdout:match("(%d+) image%(s%) were there already %(same bytes%): not copied again"))
  T.ok(copied and kept, stdout)
  T.eq(copied + kept, 10)
  T.ok(copied >= 2 and kept >= 1, stdout)
  T.contains(stdout, (2 * copied) .. " file(s) no longer selected moved to " .. out .. ".trash/")
  local now = files(out)
  T.eq(#now, 21, "still 10 images, 10 captions and one dataset.toml: " .. table.concat(now, " "))
  for _, f in ipairs(now) do T.ok(not f:find("dataset_1", 1, true), "no second dataset config") end
  local trashed = T.sh("cd " .. T.quote(out .. ".trash") .. " && find . -type f | wc -l")
  T.eq(trashed, (2 * copied) .. "\n", "the images no longer picked and their captions, in the trash")
  for _, img in ipairs({ r.selection[1], r.selection[2] }) do
    T.ok(not read(out .. "/10_scenery/" .. img.name) or read(out .. "/10_scenery/" .. img.name) ~= read(img.file),
      img.path .. " left the folder")
  end

  -- --replace: a fresh folder swapped in; the previous one kept in the trash.
  stdout, err, code = T.run(with({ "--replace", "--overwrite" }))
  T.eq(code, 0, err)
  T.contains(stdout, "the previous folder moved to " .. out .. ".trash/")
  T.eq(#files(out), 21)
  _, err, code = T.run(with({ "--replace", "--update" }))
  T.eq(code, 2)
  T.contains(err, "--update and --replace exclude each other")
end)

T.test("Scenario A decides image by image: flagged ones first, all/none/flagged/1,3-5, view, bad input asked again", function()
  local dir = T.sample_album()
  local script = T.tempdir() .. "/answers.lua"
  -- A terminal is needed for the prompt: run the workflow in tmux.
  local terminal = dofile(T.dir .. "/lib/terminal.lua")(T)
  if not terminal.available() then
    print("SKIP scenarios_test.lua prompt test: tmux is not installed")
    return
  end
  local tmux = terminal.Tmux.start("NO_COLOR=1 " .. T.quote(T.curator) .. " " .. T.quote(clean)
    .. " " .. T.quote(dir) .. " --rounds 2; echo CLEAN-EXIT=$?; sleep 30", { 160, 60 })
  local ok, err = pcall(function()
    local s = tmux:wait("exclude which? all, none, flagged, numbers like 1,3-5, or view [none]")
    -- Flagged ones first: the four planted faults FPS finds, with their diagnosis.
    T.contains(s, "4 flagged by the quality plugin (listed first)")
    local first_four = {}
    for n, path, rest in s:gmatch("\n +(%d+)  (%S+) +[%d.]+%%([^\n]*)") do
      if tonumber(n) <= 4 then first_four[#first_four + 1] = path; T.contains(rest, "[", path) end
    end
    T.eq(#first_four, 4, s)
    -- How many images the core holds depends on the pixel vectors' last
    -- bits (libvips' vector paths or not): take it from the screen, and
    -- check that every later message agrees with it.
    local core = tonumber(s:match("round 1: (%d+) image%(s%) picked"))
    T.ok(core and core >= 5, s)
    local beyond = core + 1
    tmux:line("3-" .. beyond)
    tmux:wait("'3-" .. beyond .. "' is not a number or range from 1 to " .. core)
    tmux:line("view")
    tmux:wait('ImageSet set of "sample-album": ' .. core .. " images")
    tmux:line("2,4")
    s = tmux:wait("CLEAN-EXIT=0")
    T.contains(s, "excluded 2 of the " .. core .. "; the others stay in the album")
    local a = assert(curator.open(dir))
    T.eq(#a.exclusions, 2)
    T.ok(a:get(first_four[2]).excluded and a:get(first_four[4]).excluded, "the two chosen")
    T.ok(not a:get(first_four[1]).excluded, "the others stay")
  end)
  local screen = ok and "" or tmux:screen()
  tmux:stop()
  if not ok then error(tostring(err) .. "\n--- screen ---\n" .. screen, 0) end
end)

T.test("curator dedup lists each group's keeper and copies; without a terminal it excludes nothing, --yes every copy", function()
  local dir = T.sample_album()
  local out, err, code = T.run({ dedup, dir })
  T.eq(code, 0, err)
  T.contains(out, "3 group(s) of near-duplicates at similarity >= 0.997 (the default for the pixels embedder): 3 copies to exclude")
  T.contains(out, "keep city/002.jpg; exclude inbox/IMG_0003.jpg")
  T.contains(out, "keep forest/004.jpg; exclude forest/004-edit.jpg")
  T.contains(out, "keep sunset/005.jpg; exclude sunset/005 copy.jpg")
  T.contains(out, "(not a terminal: run with --yes to exclude the copies of every group)")
  T.contains(out, "excluded 0 copies from 0 group(s); the album excludes 0 in all")
  out, err, code = T.run({ dedup, dir, "--yes" })
  T.eq(code, 0, err)
  T.contains(out, "excluded 3 copies from 3 group(s); the album excludes 3 in all")
  local a = assert(curator.open(dir))
  local excluded = T.paths(a.exclusions:list())
  for _, path in ipairs({ "forest/004-edit.jpg", "inbox/IMG_0003.jpg", "sunset/005 copy.jpg" }) do T.contains(excluded, path) end
  T.eq(#a.exclusions, 3)
  -- Excluded copies are out of the album's groups: nothing is left to do.
  out, err, code = T.run({ dedup, dir, "--yes" })
  T.eq(code, 0, err)
  T.contains(out, "no near-duplicates at similarity >= 0.997")
  _, err, code = T.run({ "--no-plugins", dedup, dir })
  T.eq(code, 1)
  T.contains(err, "the dedup plugin is not loaded")
end)

T.test("curator dedup asks group by group: view N shows a group keeper first, bad input is asked again", function()
  local dir = T.sample_album()
  local terminal = dofile(T.dir .. "/lib/terminal.lua")(T)
  if not terminal.available() then
    print("SKIP scenarios_test.lua dedup prompt test: tmux is not installed")
    return
  end
  local tmux = terminal.Tmux.start("NO_COLOR=1 " .. T.quote(T.curator) .. " " .. T.quote(dedup)
    .. " " .. T.quote(dir) .. "; echo DEDUP-EXIT=$?; sleep 30", { 160, 50 })
  local ok, err = pcall(function()
    tmux:wait("exclude the copies of which groups? all, none, numbers like 1,3-5, or view N [none]")
    tmux:line("view 2")
    local s = tmux:wait('ImageSet set of "sample-album": 2 images')
    T.contains(s, "group 2: 1 is kept, 2 would be excluded")
    tmux:line("view 7")
    tmux:wait("view which group? view 1 to view 3")
    tmux:line("2-4")
    tmux:wait("'2-4' is not a number or range from 1 to 3")
    tmux:line("1,3")
    s = tmux:wait("DEDUP-EXIT=0")
    T.contains(s, "excluded 2 copies from 2 group(s); the album excludes 2 in all")
    local a = assert(curator.open(dir))
    T.eq(#a.exclusions, 2)
    T.ok(a:get("inbox/IMG_0003.jpg").excluded and a:get("sunset/005 copy.jpg").excluded, "the copies of groups 1 and 3")
  end)
  local screen = ok and "" or tmux:screen()
  tmux:stop()
  if not ok then error(tostring(err) .. "\n--- screen ---\n" .. screen, 0) end
end)

T.test("Scenario A --yes excludes only what the quality plugin flags; --yes --all the whole core", function()
  local dir = T.sample_album()
  local out, err, code = T.run({ clean, dir, "--rounds", "1", "--yes" })
  T.eq(code, 0, err)
  local a = assert(curator.open(dir))
  local quality = T.plugin("quality")
  for _, img in ipairs(a.exclusions:list()) do
    T.ok(#quality.issues(img) > 0, img.path .. " was excluded without a quality flag")
  end
  T.eq(#a.exclusions, 4)
  local core = tonumber(out:match("round 1: (%d+) image%(s%) picked"))
  T.ok(core and core > 4, out)
  T.contains(out, "excluded 4 of the " .. core .. "; the others stay in the album")
  T.contains(out, "near-duplicates: 3 group(s) at similarity >= 0.997, 3 copies beside their keepers (curator dedup " .. dir .. " goes through them)")
  dir = T.sample_album()
  out, err, code = T.run({ clean, dir, "--rounds", "1", "--yes", "--all" })
  T.eq(code, 0, err)
  T.eq(#assert(curator.open(dir)).exclusions, core)
  _, err, code = T.run({ clean, dir, "--all" })
  T.eq(code, 2)
  T.contains(err, "--all only goes with --yes")
end)

T.test("Scenario B cleans exported captions (first line, a language, a word limit, a trigger word); the album's files stay as they were", function()
  local dir = T.sample_album()
  -- Captions as real albums have them: several lines, several languages.
  local originals = {}
  local p = io.popen("cd " .. T.quote(dir) .. " && ls sunset/*.txt forest/*.txt")
  for file in p:lines() do
    local text = read(dir .. "/" .. file):gsub("\n$", "")
    local long = text .. " with many more words about the light and the colours of the evening\n"
      .. "de: ein Sonnenuntergang\nfr: un coucher de soleil\n"
    local f = assert(io.open(dir .. "/" .. file, "wb"))
    f:write(long)
    f:close()
    originals[file] = long
  end
  p:close()
  local out = T.tempdir() .. "/train"
  local stdout, err, code = T.run({ trainset, dir, "--count", "10", "--iterations", "5", "--out", out,
    "--caption-language", "fr", "--caption-words", "3", "--caption-prefix", "sks" })
  T.eq(code, 0, err)
  T.contains(stdout, "captions cleaned: ")
  local changed = tonumber(stdout:match("captions cleaned: (%d+) changed"))
  T.ok(changed and changed > 0, stdout)
  local seen = 0
  for _, file in ipairs(files(out)) do
    if file:match("%.txt$") then
      local text = read(out .. "/" .. file)
      T.ok(text:match("^sks, "), file .. ": " .. text)
      T.ok(not text:find("\n.", 1), file .. " is one line")
      if text == "sks, un coucher de\n" then seen = seen + 1 end
    end
  end
  T.ok(seen > 0, "the French line, three words, the prefix")
  for file, long in pairs(originals) do T.eq(read(dir .. "/" .. file), long, file .. " in the album is untouched") end
  local _, err2, code2 = T.run({ trainset, dir, "--caption-words", "0", "--out", T.tempdir() .. "/x" })
  T.eq(code2, 2)
  T.contains(err2, "--caption-words must be a positive integer (got 0)")
end)

T.test("Scenario B --update with --caption-words cleans the captions of images already in the folder too", function()
  local dir = T.sample_album()
  local out = T.tempdir() .. "/train"
  local base = { trainset, dir, "--count", "6", "--iterations", "5", "--out", out, "--kohya", "10_scenery" }
  local _, err, code = T.run(base)
  T.eq(code, 0, err)
  local again = {}
  for i, w in ipairs(base) do again[i] = w end
  for _, w in ipairs({ "--update", "--caption-words", "2", "--caption-prefix", "sks" }) do again[#again + 1] = w end
  local stdout
  stdout, err, code = T.run(again)
  T.eq(code, 0, err)
  T.contains(stdout, "6 image(s) were there already")
  T.contains(stdout, "captions cleaned: 6 changed")
  for _, file in ipairs(files(out .. "/10_scenery")) do
    if file:match("%.txt$") then
      local text = read(out .. "/10_scenery/" .. file)
      local rest = text:match("^sks, ([^\n]*)\n$")
      T.ok(rest and select(2, rest:gsub("%S+", "")) <= 2, file .. ": " .. tostring(text))
    end
  end
end)

T.test("Scenario B --update refreshes a changed caption; --caption-tokens keeps each caption within a CLIP token limit", function()
  local dir = T.sample_album()
  local out = T.tempdir() .. "/train"
  local base = { trainset, dir, "--count", "6", "--iterations", "5", "--out", out }
  local _, err, code = T.run(base)
  T.eq(code, 0, err)
  local captioned
  for _, file in ipairs(files(out)) do
    if file:match("%.txt$") then captioned = file break end
  end
  T.ok(captioned, "a caption was exported")
  -- The album's caption of that image changes: --update brings it over.
  local a = assert(curator.open(dir))
  local source
  for _, img in ipairs(a) do
    if img.name:gsub("%.[^.]*$", "") == captioned:gsub("%.txt$", "") and read(out .. "/" .. img.name) == read(img.file) then
      source = dir .. "/" .. img.path:gsub("%.[^.]*$", ".txt")
    end
  end
  T.ok(source, "found the album's caption of " .. captioned)
  local f = assert(io.open(source, "wb"))
  f:write("a changed caption\n")
  f:close()
  local again = { table.unpack(base) }
  again[#again + 1] = "--update"
  local stdout
  stdout, err, code = T.run(again)
  T.eq(code, 0, err)
  T.contains(stdout, "1 caption file(s) of those brought up to date with the album's")
  T.eq(read(out .. "/" .. captioned), "a changed caption\n")

  -- A token limit, counted with CLIP's vocabulary, prefix included.
  local vocab = T.dir .. "/../CuratorCoreTests/Fixtures/clip/tokenizer/bpe_simple_vocab_16e6.txt.gz"
  local limited = { table.unpack(again) }
  for _, w in ipairs({ "--caption-tokens", "4", "--caption-vocabulary", vocab, "--caption-prefix", "sks" }) do limited[#limited + 1] = w end
  stdout, err, code = T.run(limited)
  T.eq(code, 0, err)
  T.contains(stdout, "captions cleaned: ")
  local checked = 0
  for _, file in ipairs(files(out)) do
    if file:match("%.txt$") then
      local text = read(out .. "/" .. file):gsub("\n$", "")
      T.ok(text:match("^sks"), text)
      T.ok(curator.count_tokens(text, { vocabulary = vocab }) <= 4, file .. ": " .. text)
      checked = checked + 1
    end
  end
  T.ok(checked > 0)
  _, err, code = T.run({ trainset, dir, "--out", T.tempdir() .. "/x", "--caption-tokens", "10", "--caption-vocabulary", "/nowhere" })
  T.eq(code, 2)
  T.contains(err, "/nowhere: no such file or folder")
  -- No vocabulary given and no CLIP model installed: the workflow's own option is named.
  _, err, code = T.run({ trainset, dir, "--out", T.tempdir() .. "/y", "--caption-tokens", "10" }, nil,
    "HOME=" .. T.quote(T.tempdir()) .. " CURATOR_MODELS=" .. T.quote(T.tempdir()))
  T.eq(code, 2)
  T.contains(err, "--caption-tokens needs a CLIP vocabulary: give --caption-vocabulary PATH")
end)

-- A copy of the sample album `dir` in `work`, embedded with the tiny CLIP
-- fixture model; the model folder's absolute path ($CURATOR_CLIP_MODEL takes
-- one, else a folder name under the model folders); and the score at which
-- exactly `n` of its images match `words`, for --min-score.
local function clip_copy(dir, work, words, n)
  local model = (T.sh("cd " .. T.quote(T.dir .. "/../CuratorCoreTests/Fixtures/clip/tiny-hf") .. " && pwd")):gsub("\n$", "")
  local copy = work .. "/album"
  os.execute("cp -r " .. T.quote(dir) .. " " .. T.quote(copy) .. " && rm -rf " .. T.quote(copy .. "/.curator"))
  local a = assert(curator.open(copy, { embedder = "clip", model = model }))
  local score = curator.text_score(a, words)
  local values = {}
  for _, img in ipairs(a) do if score(img) then values[#values + 1] = score(img) end end
  table.sort(values, function(x, y) return x > y end)
  return copy, model, a, score, values[n]
end

T.test("Scenario B with --prompt picks only among the images that match it; without a text side it says what to install", function()
  local dir = T.sample_album()
  local work = T.tempdir()
  -- The sample album is embedded with pixels here: no words.
  local _, err, code = T.run({ trainset, dir, "--count", "6", "--iterations", "3", "--prompt", "a red sunset" })
  T.eq(code, 1)
  T.contains(err, "trainset.lua: album:select: the album's vectors come from the 'pixels' embedder")
  T.contains(err, "`curator models get clip-vit-base-patch32`")
  T.ok(not err:find("stack traceback"), err)
  -- With the tiny CLIP fixture model: the picks come from the images scoring at least --min-score.
  local copy, model, a, score, cut = clip_copy(dir, work, "a red sunset", 20)
  local matching = {}
  for _, img in ipairs(a) do if score(img) and score(img) >= cut then matching[img.path] = true end end
  local out
  out, err, code = T.run({ trainset, copy, "--count", "6", "--iterations", "3", "--prompt", "a red sunset",
    "--min-score", string.format("%.17g", cut), "--csv", work .. "/sel.csv" }, nil,
    "CURATOR_CLIP_MODEL=" .. T.quote(model))
  T.eq(code, 0, err)
  T.contains(out, ('prompt "a red sunset": 20 of the %d images not excluded match it (score at least'):format(#a - #a.exclusions))
  local csv = read(work .. "/sel.csv")
  local picked = 0
  for line in csv:gmatch("[^\r\n]+") do
    -- Filename,Subfolder,Count,Frequency(%),Index,Status,Path,Tier (the sample's paths have no commas)
    local status, path = line:match("^[^,]*,[^,]*,[^,]*,[^,]*,[^,]*,(%a+),([^,]+),")
    if status == "Included" then
      picked = picked + 1
      T.ok(matching[path], path .. " matches the prompt")
    end
  end
  T.eq(picked, 6)
  _, err, code = T.run({ trainset, copy, "--count", "6", "--min-score", "0.3" })
  T.eq(code, 2)
  T.contains(err, "--negative and --min-score go with --prompt TEXT")
end)

T.test("Scenario A with --text lists the images that look like the words and excludes them with --yes --min-score", function()
  local dir = T.sample_album()
  local work = T.tempdir()
  local _, err, code = T.run({ clean, dir, "--rounds", "1", "--text", "a watermark" })
  T.eq(code, 1)
  T.contains(err, "clean.lua: --text: album:search: the album's vectors come from the 'pixels' embedder")
  _, err, code = T.run({ clean, dir, "--yes", "--text", "a watermark" })
  T.eq(code, 2)
  T.contains(err, "--text with --yes needs --min-score X")
  -- With the tiny CLIP fixture model: exactly the images scoring at least --min-score go.
  local copy, model, a, score, cut = clip_copy(dir, work, "a watermark", 5)
  local out
  out, err, code = T.run({ clean, copy, "--rounds", "1", "--count", "3", "--iterations", "2", "--text", "a watermark",
    "--min-score", string.format("%.17g", cut), "--yes" }, nil, "CURATOR_CLIP_MODEL=" .. T.quote(model))
  T.eq(code, 0, err)
  T.contains(out, 'text "a watermark": the 5 image(s) most like it scoring at least')
  T.contains(out, "excluded 5 of the 5")
  local b = assert(curator.open(copy, { model = model, scan = false, embed = false }))
  local excluded_by_text = 0
  for _, img in ipairs(b) do
    if score(a:get(img.path)) and score(a:get(img.path)) >= cut then
      T.ok(img.excluded, img.path .. " looks like the words and is excluded")
      excluded_by_text = excluded_by_text + 1
    end
  end
  T.eq(excluded_by_text, 5)
end)
