-- Scenario A — cleaning an album.
--
--   curator clean ALBUM [--count 20] [--iterations 20] [--threshold 0.9]
--                       [--rounds 3] [--seed 1] [--yes [--all]]
--                       [--text WORDS [--min-score X] [--text-count 20]]
--
-- Farthest-point sampling hunts outliers: the images it picks in nearly
-- every run (the "core", frequency >= threshold) are the album's oddest,
-- often blurry, dark or broken — or merely unusual. Each round lists them,
-- numbered, those the quality plugin flags first, and asks which to
-- exclude: `all`, `none` (the default), `flagged`, numbers such as
-- `1,3-5`, or `view` to see them as a contact sheet in the terminal. Then
-- it runs again on what is left. --yes answers without asking: the flagged
-- ones (or, without the quality plugin, all of them), every one with --all. It stops when a round finds no core image, when
-- you decline, or after --rounds rounds. Exclusions are stored in the
-- album's index, so Scenario B (curator trainset) leaves them out.
--
-- --text "watermark, logo" first lists the images that look like the words
-- (a CLIP or SigLIP album: `curator models get NAME` installs a model), best
-- first: the --text-count (20) best scores, only those scoring at least
-- --min-score when given, excluded images left out, and asks the same
-- question; --yes excludes all of them, and needs --min-score to say how
-- alike is enough.
--
-- `curator -i clean ALBUM` leaves you at the prompt with the
-- album in `a`, the last run in `r` and the quality plugin in `quality` to
-- look further (r:report("r.html"), quality.flag(a)).

local usage = "usage: curator clean ALBUM [--count 20] [--iterations 20] "
  .. "[--threshold 0.9] [--rounds 3] [--seed 1] [--yes [--all]] [--text WORDS [--min-score X] [--text-count 20]]"

local function fail(message)
  io.stderr:write("clean.lua: ", message, "\n", usage, "\n")
  os.exit(2)
end

-- Options: name -> kind; values start at their defaults.
local kinds = { count = "integer", iterations = "integer", threshold = "fraction", rounds = "integer",
                seed = "integer", yes = "flag", all = "flag", text = "text", ["min-score"] = "number",
                ["text-count"] = "integer" }
local opts = { count = 20, iterations = 20, threshold = 0.9, rounds = 3, seed = 1, yes = false, all = false }
local album_path
local i = 1
while i <= #arg do
  local word = arg[i]
  if word == "--help" or word == "-h" then
    print(usage)
    print("Excludes the images farthest-point sampling picks in >= threshold of its runs, round after round.")
    os.exit(0)
  end
  local name, inline = word:match("^%-%-([%w-]+)=(.*)$")
  name = name or word:match("^%-%-([%w-]+)$")
  if name then
    local kind = kinds[name] or fail("unknown option --" .. name)
    if kind == "flag" then
      if inline then fail("--" .. name .. " takes no value") end
      opts[name] = true
    else
      local value = inline
      if not value then i = i + 1; value = arg[i] end
      if not value or (kind == "text" and value == "") then fail("--" .. name .. " needs a value") end
      local n = tonumber(value)
      if kind == "integer" and not (math.type(n) == "integer" and n >= (name == "seed" and 0 or 1)) then
        fail("--" .. name .. " must be a positive integer (got " .. value .. ")")
      elseif kind == "fraction" and not (n and n > 0 and n <= 1) then
        fail("--" .. name .. " must be a number in (0, 1] (got " .. value .. ")")
      elseif kind == "number" and not (n and n == n) then
        fail("--" .. name .. " must be a number (got " .. value .. ")")
      end
      opts[name] = kind == "text" and value or n
    end
  elseif word:sub(1, 1) == "-" then
    fail("unknown option " .. word)
  elseif album_path then
    fail("one album only (got " .. album_path .. " and " .. word .. ")")
  else
    album_path = word
  end
  i = i + 1
end
if not album_path then fail("the album folder is missing") end
if opts.all and not opts.yes then fail("--all only goes with --yes (at the prompt, answer all)") end
if (opts["min-score"] or opts["text-count"]) and not opts.text then fail("--min-score and --text-count go with --text WORDS") end
if opts.text and opts.yes and not opts["min-score"] then
  fail("--text with --yes needs --min-score X: without it, the best --text-count matches would be excluded however unlike the words they are")
end

local err
a, err = curator.open(album_path)   -- global on purpose: `curator -i` keeps it
if not a then
  io.stderr:write("clean.lua: ", err, "\n")
  os.exit(1)
end
print(tostring(a))

-- The quality plugin (when loaded) says why an outlier is odd. Global, like
-- a and r, so that it is at hand after `curator -i`.
quality = curator.plugins.quality
-- Its checks read each image's statistics: a PhotoMapAI or imported album has none until measured.
if quality and not a.index_only then
  -- Safe mode may not write them: the checks then skip the unmeasured images.
  local ok, measured = pcall(a.measure, a)
  if not ok then print("note: " .. tostring(measured)); measured = 0 end
  if measured > 0 then print(("measured %d image(s) for the quality checks"):format(measured)) end
end
local function why(img)
  local issues = quality and quality.issues(img)
  return issues and #issues > 0 and ("  [" .. table.concat(issues, ", ") .. "]") or ""
end

-- Files curator could not use never reach a selection: list them first
-- (a:skipped() includes images whose pixels could not be decoded).
local unreadable = {}
for _, s in ipairs(a:skipped()) do unreadable[#unreadable + 1] = s.path .. ": " .. s.reason end
if #unreadable > 0 then
  print(("%d file(s) could not be read (fix or delete them):"):format(#unreadable))
  for _, line in ipairs(unreadable) do print("  " .. line) end
end

-- stdin is a terminal: ask; otherwise (a pipe, a test) only --yes excludes.
local interactive = os.execute("test -t 0") == true

-- Which of the numbered `candidates` to exclude: --yes takes `automatic`,
-- a terminal is asked (`flagged` lists the quality plugin's, when any), and
-- otherwise nothing is excluded (nil).
local function ask(candidates, automatic, flagged)
  if opts.yes then return automatic end
  if not interactive then
    print("(not a terminal: run with --yes to exclude them)")
    return nil
  end
  while true do
    io.write(("exclude which? all, none, %snumbers like 1,3-5, or view [none] ")
      :format(flagged and #flagged > 0 and "flagged, " or ""))
    io.flush()
    local answer = (io.read("l") or "none"):lower():gsub("^%s+", ""):gsub("%s+$", "")
    if answer == "" or answer == "none" or answer == "n" or answer == "no" then
      return {}
    elseif answer == "all" then
      return candidates
    elseif answer == "flagged" and flagged then
      return flagged
    elseif answer == "view" then
      a:set(candidates):show()   -- numbered like the list above
    else
      local chosen, why = curator.pick(candidates, answer)
      if chosen then return chosen end
      print("  " .. why)
    end
  end
end

local excluded_now = 0

-- Asked by meaning: the images that look like --text, best first.
if opts.text then
  local ok, hits = pcall(a.search, a, opts.text, { k = opts["text-count"] or 20, min_score = opts["min-score"] })
  if not ok then
    io.stderr:write("clean.lua: --text: ", (tostring(hits):gsub("^[^:]*:%d+: ", "")), "\n")
    os.exit(1)
  end
  local matches, scores = {}, {}
  for _, h in ipairs(hits) do
    if not h.image.excluded then matches[#matches + 1] = h.image; scores[#matches] = h.score end
  end
  if #matches == 0 then
    print(("text %q: no image left to show%s"):format(opts.text,
      opts["min-score"] and (" scoring at least %s"):format(opts["min-score"]) or " (every match is excluded)"))
  else
    print(("text %q: the %d image(s) most like it%s:"):format(opts.text, #matches,
      opts["min-score"] and (" scoring at least %s"):format(opts["min-score"]) or ""))
    local column = 40
    for _, img in ipairs(matches) do column = math.max(column, math.min(80, #img.path)) end
    for n, img in ipairs(matches) do
      print(("  %3d  %-" .. column .. "s %.3f%s"):format(n, img.path, scores[n], why(img)))
    end
    local chosen = ask(matches, matches)
    if chosen and #chosen > 0 then
      excluded_now = excluded_now + a.exclusions:add(chosen)
      print(("excluded %d of the %d"):format(#chosen, #matches))
    end
  end
end

for round = 1, opts.rounds do
  r = a:select { method = "fps", count = opts.count, iterations = opts.iterations,
                 seed = opts.seed + round - 1 }
  local core = r:where(opts.threshold)
  if #core == 0 then
    print(("round %d: no image picked in >= %d%% of %d runs: the picks look clean")
      :format(round, math.floor(opts.threshold * 100 + 0.5), opts.iterations))
    break
  end
  -- Flagged images first (they are the likely faults), then the rest, each in FPS's order.
  local candidates, flagged = {}, {}
  for _, img in ipairs(core) do if why(img) ~= "" then candidates[#candidates + 1] = img; flagged[#candidates] = true end end
  for _, img in ipairs(core) do if why(img) == "" then candidates[#candidates + 1] = img end end
  local nflagged = 0
  for _ in pairs(flagged) do nflagged = nflagged + 1 end
  print(("round %d: %d image(s) picked in >= %d%% of %d runs%s:")
    :format(round, #core, math.floor(opts.threshold * 100 + 0.5), opts.iterations,
      quality and (", %d flagged by the quality plugin (listed first)"):format(nflagged) or ""))
  -- The path column is as wide as the longest path (up to 80), so the percentages line up.
  local column = 40
  for _, img in ipairs(candidates) do column = math.max(column, math.min(80, #img.path)) end
  for n, img in ipairs(candidates) do
    print(("  %3d  %-" .. column .. "s %5.1f%%%s"):format(n, img.path, 100 * r:frequency(img), why(img)))
  end
  local flagged_ones = {}
  for n, img in ipairs(candidates) do if flagged[n] then flagged_ones[#flagged_ones + 1] = img end end
  if not opts.yes and not interactive then
    print("(not a terminal: run with --yes to exclude the flagged ones, --yes --all for every one)")
  end
  local chosen = (opts.yes or interactive) and ask(candidates, (opts.all or not quality) and candidates or flagged_ones, flagged_ones)
  if not chosen or #chosen == 0 then break end
  excluded_now = excluded_now + a.exclusions:add(chosen)
  if #chosen < #candidates then
    print(("excluded %d of the %d; the others stay in the album"):format(#chosen, #candidates))
    -- The ones kept would be picked again next round: stop here.
    break
  end
end
print(("excluded %d image(s) now; the album excludes %d in all"):format(excluded_now, #a.exclusions))

-- FPS finds what is far from everything else; a blurred or darkened copy of
-- an ordinary picture can sit close to its neighbours. The quality checks
-- catch those: list what they flag that is still included.
-- An album whose images have no statistics (index-only, or none could be
-- decoded) has nothing for the checks to read: quality.flag says so with an
-- error, and the section is left out.
local measured_flags = quality and not a.index_only and select(2, pcall(quality.flag, a))
if type(measured_flags) == "table" then
  local left = {}
  for _, f in ipairs(measured_flags) do
    if not f.image.excluded then left[#left + 1] = f end
  end
  if #left > 0 then
    -- Counts by flag first: on a large album the list can be long.
    print(("the quality plugin also flags %d included image(s): %s")
      :format(#left, quality.summary(left):gsub("^.-: ", "")))
    local shown = math.min(#left, 20)
    local lines = {}
    for n = 1, shown do lines[n] = left[n] end
    print("  " .. quality.describe(lines):gsub("\n", "\n  "))
    if #left > shown then print(("  ... and %d more (quality.flag(a) at the prompt)"):format(#left - shown)) end
    print("  (to exclude them: curator -e 'local a = curator.open(arg[1]); local q = curator.plugins.quality; "
      .. "a.exclusions:add(q.images(q.flag(a)))' ALBUM, or a.exclusions:add(quality.images(quality.flag(a))) after -i)")
  end
end

-- Copies of one picture are not outliers (each is close to the other), so
-- FPS leaves them; say how many there are and where to go through them.
-- Only up to 100,000 images, where a:duplicates takes seconds (every pair
-- below 8,000 images, its index beyond); a million takes half a minute.
if #a <= 100000 then
  local ok, groups = pcall(a.duplicates, a)
  if ok and #groups > 0 then
    local copies = 0
    for _, g in ipairs(groups) do copies = copies + #g.images - 1 end
    print(("near-duplicates: %d group(s) at similarity >= %s, %d cop%s beside their keepers "
      .. "(curator dedup %s goes through them)"):format(#groups, a.duplicate_threshold, copies,
      copies == 1 and "y" or "ies", album_path:match("^[%w%._/-]+$") and album_path or "'" .. album_path:gsub("'", "'\\''") .. "'"))
  end
end
