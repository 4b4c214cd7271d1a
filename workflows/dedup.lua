-- Removing near-duplicates from an album, group by group.
--
--   curator dedup ALBUM [--threshold T] [--yes]
--
-- Groups the album's near-duplicates with the dedup plugin (a:duplicates
-- and its keeper rule: the sharpest within 20 %, then more pixels, then the
-- larger file), lists each group's keeper and the copies it would exclude, and asks
-- which groups to act on: `all`, `none` (the default), numbers such as
-- `1,3-5`, or `view N` to see group N as a contact sheet in the terminal,
-- its keeper first. Only the copies are excluded, never a keeper, and every
-- copy is at least T similar to the image kept in its place. --yes acts on
-- every group without asking; without a terminal nothing is excluded unless
-- --yes is given. Exclusions are stored in the album's index, so selections
-- and exports (curator trainset) leave the copies out.
--
-- The threshold is cosine similarity: by default a.duplicate_threshold, 0.997
-- for the built-in pixels embedder (re-encoded and resized copies score 0.999
-- and up, distinct pictures of one texture 0.994), 0.96 for CLIP-like vectors.
--
-- `curator -i dedup ALBUM` leaves you at the prompt with the album in `a`,
-- the plan in `plan` and the plugin in `dedup` (dedup.describe(plan)).

local usage = "usage: curator dedup ALBUM [--threshold T] [--yes]"

local function fail(message)
  io.stderr:write("dedup.lua: ", message, "\n", usage, "\n")
  os.exit(2)
end

local opts = { yes = false }
local album_path
local i = 1
while i <= #arg do
  local word = arg[i]
  if word == "--help" or word == "-h" then
    print(usage)
    print("Excludes near-duplicate copies, keeping the best image of each group (the sharpest within 20 %, then more pixels, then the larger file).")
    os.exit(0)
  end
  local name, inline = word:match("^%-%-([%w-]+)=(.*)$")
  name = name or word:match("^%-%-([%w-]+)$")
  if name == "yes" then
    if inline then fail("--yes takes no value") end
    opts.yes = true
  elseif name == "threshold" then
    local value = inline
    if not value then i = i + 1; value = arg[i] end
    if not value then fail("--threshold needs a value") end
    local n = tonumber(value)
    if not (n and n > 0 and n <= 1) then fail("--threshold must be a number in (0, 1] (got " .. value .. ")") end
    opts.threshold = n
  elseif name then
    fail("unknown option --" .. name)
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

-- Globals on purpose: `curator -i` keeps them.
dedup = curator.plugins.dedup
if not dedup then
  io.stderr:write("dedup.lua: the dedup plugin is not loaded (curator --no-plugins, or its file is missing)\n")
  os.exit(1)
end
local err
a, err = curator.open(album_path)
if not a then
  io.stderr:write("dedup.lua: ", err, "\n")
  os.exit(1)
end
print(tostring(a))
-- The keeper rule reads each image's sharpness and size: a PhotoMapAI album has no statistics until measured.
if not a.index_only then
  -- Safe mode may not write them: the keeper rule then falls back to the most central copy.
  local ok, measured = pcall(a.measure, a)
  if not ok then print("note: " .. tostring(measured)); measured = 0 end
  if measured > 0 then print(("measured %d image(s) for the keeper rule (sharpness)"):format(measured)) end
end

local function copies_of(n) return n .. (n == 1 and " copy" or " copies") end

local threshold = opts.threshold or a.duplicate_threshold
plan = dedup.plan(a, { threshold = threshold })
local copies = 0
for _, g in ipairs(plan) do copies = copies + #g.drop end
if #plan == 0 then
  print(("no near-duplicates at similarity >= %s%s"):format(threshold,
    opts.threshold and "" or " (the default for the " .. tostring(a.embedder) .. " embedder; --threshold to change it)"))
  return
end
print(("%d group(s) of near-duplicates at similarity >= %s%s: %s to exclude, one image kept in each")
  :format(#plan, threshold, opts.threshold and "" or " (the default for the " .. tostring(a.embedder) .. " embedder)", copies_of(copies)))

-- One line per group: its keeper and its copies, the list cut on a large album.
local shown = math.min(#plan, 40)
for n = 1, shown do
  local g = plan[n]
  local names = {}
  for k, img in ipairs(g.drop) do
    if k > 3 then names[#names + 1] = ("and %d more"):format(#g.drop - 3) break end
    names[#names + 1] = img.path
  end
  print(("  %3d  keep %s; exclude %s"):format(n, g.keep.path, table.concat(names, ", ")))
end
if #plan > shown then print(("  ... and %d more group(s) (dedup.describe(plan) after -i lists them all)"):format(#plan - shown)) end

-- stdin is a terminal: ask; otherwise (a pipe, a test) only --yes excludes.
local interactive = os.execute("test -t 0") == true
local chosen
if opts.yes then
  chosen = plan
elseif interactive then
  while not chosen do
    io.write("exclude the copies of which groups? all, none, numbers like 1,3-5, or view N [none] ")
    io.flush()
    local answer = (io.read("l") or "none"):lower():gsub("^%s+", ""):gsub("%s+$", "")
    local view = answer:match("^view%s*(%d+)$")
    if answer == "" or answer == "none" or answer == "n" or answer == "no" then
      chosen = {}
    elseif answer == "all" then
      chosen = plan
    elseif view or answer == "view" then
      local n = tonumber(view)
      if not n or n < 1 or n > #plan then
        print(("  view which group? view 1 to view %d"):format(#plan))
      else
        -- Numbered as on the sheet: 1 is the keeper, the rest its copies.
        local copies_range = #plan[n].drop == 1 and "2" or ("2-%d"):format(#plan[n].drop + 1)
        print(("group %d: 1 is kept, %s would be excluded"):format(n, copies_range))
        a:set(plan[n].keep, plan[n].drop):show()
      end
    else
      local why
      chosen, why = curator.pick(plan, answer)
      if not chosen then print("  " .. why) end
    end
  end
else
  print("(not a terminal: run with --yes to exclude the copies of every group)")
  chosen = {}
end

local drop = {}
for _, g in ipairs(chosen) do
  for _, img in ipairs(g.drop) do drop[#drop + 1] = img end
end
local added = #drop > 0 and a.exclusions:add(drop) or 0
print(("excluded %s from %d group(s); the album excludes %d in all"):format(copies_of(added), #chosen, #a.exclusions))
