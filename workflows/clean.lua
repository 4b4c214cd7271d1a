-- Scenario A — cleaning an album.
--
--   curator clean ALBUM [--count 20] [--iterations 20] [--threshold 0.9]
--                                   [--rounds 3] [--seed 1] [--yes]
--
-- Farthest-point sampling hunts outliers: the images it picks in nearly
-- every run (the "core", frequency >= threshold) are the album's oddest,
-- often blurry, dark or broken. Each round shows them and excludes them
-- (asking first on a terminal; --yes excludes without asking), then runs
-- again on what is left. It stops when a round finds no core image, when
-- you decline, or after --rounds rounds. Exclusions are stored in the
-- album's index, so Scenario B (curator trainset) leaves them out.
--
-- `curator -i clean ALBUM` leaves you at the prompt with the
-- album in `a`, the last run in `r` and the quality plugin in `quality` to
-- look further (r:report("r.html"), quality.flag(a)).

local usage = "usage: curator clean ALBUM [--count 20] [--iterations 20] "
  .. "[--threshold 0.9] [--rounds 3] [--seed 1] [--yes]"

local function fail(message)
  io.stderr:write("clean.lua: ", message, "\n", usage, "\n")
  os.exit(2)
end

-- Options: name -> kind; values start at their defaults.
local kinds = { count = "integer", iterations = "integer", threshold = "fraction", rounds = "integer",
                seed = "integer", yes = "flag" }
local opts = { count = 20, iterations = 20, threshold = 0.9, rounds = 3, seed = 1, yes = false }
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
      if not value then fail("--" .. name .. " needs a value") end
      local n = tonumber(value)
      if kind == "integer" and not (math.type(n) == "integer" and n >= (name == "seed" and 0 or 1)) then
        fail("--" .. name .. " must be a positive integer (got " .. value .. ")")
      elseif kind == "fraction" and not (n and n > 0 and n <= 1) then
        fail("--" .. name .. " must be a number in (0, 1] (got " .. value .. ")")
      end
      opts[name] = n
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

local err
a, err = curator.open(album_path)   -- global on purpose: `curator -i` keeps it
if not a then
  io.stderr:write("clean.lua: ", err, "\n")
  os.exit(1)
end
print(tostring(a))

-- The quality plugin (when loaded) says why an outlier is odd. Global, like
-- a and r, so that it is at hand after `curator -i`.
quality = nil
for _, p in ipairs(curator.plugins) do
  if p.name == "quality" then quality = p end
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

local excluded_now = 0
for round = 1, opts.rounds do
  r = a:select { method = "fps", count = opts.count, iterations = opts.iterations,
                 seed = opts.seed + round - 1 }
  local core = r:where(opts.threshold)
  if #core == 0 then
    print(("round %d: no image picked in >= %d%% of %d runs: the picks look clean")
      :format(round, math.floor(opts.threshold * 100 + 0.5), opts.iterations))
    break
  end
  print(("round %d: %d image(s) picked in >= %d%% of %d runs:")
    :format(round, #core, math.floor(opts.threshold * 100 + 0.5), opts.iterations))
  for _, img in ipairs(core) do
    print(("  %-40s %5.1f%%%s"):format(img.path, 100 * r:frequency(img), why(img)))
  end
  local go = opts.yes
  if not go and interactive then
    io.write(("exclude these %d image(s)? [y/N] "):format(#core))
    io.flush()
    go = (io.read("l") or ""):lower():match("^y") ~= nil
  elseif not go then
    print("(not a terminal: run with --yes to exclude them)")
  end
  if not go then break end
  excluded_now = excluded_now + a.exclusions:add(core)
end
print(("excluded %d image(s) now; the album excludes %d in all"):format(excluded_now, #a.exclusions))

-- FPS finds what is far from everything else; a blurred or darkened copy of
-- an ordinary picture can sit close to its neighbours. The quality checks
-- catch those: list what they flag that is still included.
if quality then
  local left = {}
  for _, f in ipairs(quality.flag(a)) do
    if not f.image.excluded then left[#left + 1] = f end
  end
  if #left > 0 then
    print(("the quality plugin also flags %d included image(s):"):format(#left))
    print("  " .. quality.describe(left):gsub("\n", "\n  "))
    print("  (at the prompt: a.exclusions:add(quality.images(quality.flag(a))))")
  end
end
