-- Scenario B — a training set.
--
--   curator trainset ALBUM --count 150 [--method fps|kmeans] [--iterations 20]
--       [--seed N] [--out DIR] [--kohya REPEATS_CONCEPT] [--csv FILE] [--report FILE] [--favorites]
--
-- Picks `count` images by Monte Carlo selection (fps: diverse; kmeans:
-- representative), leaving out the album's exclusions (curator clean,
-- or a.exclusions:add(...) at the prompt). Then, as asked:
--   --out DIR       copies the selection with its caption files into DIR
--                   (flat; nothing there is ever overwritten)
--   --kohya 10_name lays DIR out for kohya-ss: DIR/10_name/ (10 repeats of
--                   concept "name") plus DIR/dataset.toml when the kohya
--                   plugin is loaded
--   --csv FILE      PhotoMapAI's CSV (Filename,Subfolder,Count,Frequency(%),...)
--   --report FILE   a self-contained HTML page with thumbnails and a map
--   --favorites     makes the selection the album's favorites
--
-- Reviewing: `curator -i trainset ALBUM --count 150` leaves you
-- at the prompt with the album in `a` and the run in `r`. Exclude what you
-- do not want (a.exclusions:add(r.selection[3])) and run the script again:
-- fresh alternatives fill the freed places.

local usage = "usage: curator trainset ALBUM --count 150 [--method fps|kmeans] [--iterations 20] "
  .. "[--seed N] [--out DIR] [--kohya REPEATS_CONCEPT] [--csv FILE] [--report FILE] [--favorites]"

local function fail(message)
  io.stderr:write("trainset.lua: ", message, "\n", usage, "\n")
  os.exit(2)
end

local kinds = { count = "integer", iterations = "integer", seed = "integer", method = "method",
                out = "path", kohya = "kohya", csv = "path", report = "path", favorites = "flag" }
local opts = { count = 150, iterations = 20, seed = 1, method = "fps", favorites = false }
local album_path
local i = 1
while i <= #arg do
  local word = arg[i]
  if word == "--help" or word == "-h" then
    print(usage)
    print("Selects a training set (keeping the album's exclusions) and exports it, its CSV and a report.")
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
      if not value or value == "" then fail("--" .. name .. " needs a value") end
      if kind == "integer" then
        local n = tonumber(value)
        if not (math.type(n) == "integer" and n >= (name == "seed" and 0 or 1)) then
          fail("--" .. name .. " must be a positive integer (got " .. value .. ")")
        end
        value = n
      elseif kind == "method" and value ~= "fps" and value ~= "kmeans" then
        -- (a sampler registered by a plugin works too: curator.samplers())
        local known = false
        for _, s in ipairs(curator.samplers()) do known = known or s.name == value end
        if not known then fail("--method must be fps or kmeans (got " .. value .. ")") end
      elseif kind == "kohya" then
        local repeats, concept = value:match("^(%d+)_(.+)$")
        if not repeats or tonumber(repeats) < 1 or concept:find("/") then
          fail("--kohya must look like 10_mychar: repeats, '_', concept (got " .. value .. ")")
        end
        value = { repeats = math.tointeger(tonumber(repeats)), concept = concept }
      end
      opts[name] = value
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
if opts.kohya and not opts.out then fail("--kohya needs --out DIR") end

local err
a, err = curator.open(album_path)   -- globals on purpose: `curator -i` keeps a and r
if not a then
  io.stderr:write("trainset.lua: ", err, "\n")
  os.exit(1)
end
print(tostring(a))

r = a:select { method = opts.method, count = opts.count, iterations = opts.iterations, seed = opts.seed }
local tiers = { core = 0, stable = 0, variable = 0 }
for _, img in ipairs(r.selection) do
  local t = r:tier(img)
  if t then tiers[t] = tiers[t] + 1 end
end
print(("selected %d image(s) by %s, %d runs (seed %d): %d core, %d stable, %d variable; %d excluded")
  :format(#r.selection, opts.method, opts.iterations, opts.seed, tiers.core, tiers.stable, tiers.variable,
    #a.exclusions))

if opts.out then
  local kohya_plugin
  for _, p in ipairs(curator.plugins) do
    if p.name == "kohya" then kohya_plugin = p end
  end
  local failures
  if opts.kohya and kohya_plugin then
    -- The plugin also writes dataset.toml for sd-scripts.
    local report = kohya_plugin.write(r, opts.out, opts.kohya)
    print(("exported %d image(s) with captions to %s; dataset config %s")
      :format(#report.written, report.folder, report.toml))
    failures = report.failed
  else
    local export_opts
    if opts.kohya then
      export_opts = { layout = "kohya", repeats = opts.kohya.repeats, concept = opts.kohya.concept }
    end
    local report = r:export(opts.out, export_opts)
    print(("exported %d image(s) with their captions to %s"):format(report.exported, report.destination))
    failures = report.errors
  end
  -- Every failure is shown, none skipped silently.
  for _, f in ipairs(failures or {}) do
    io.stderr:write(("  failed: %s: %s\n"):format(f.path, f.reason))
  end
  if failures and #failures > 0 then os.exit(1) end
end
if opts.csv then
  r:csv(opts.csv)
  print("CSV: " .. opts.csv)
end
if opts.report then
  r:report(opts.report)
  print("report: " .. opts.report)
end
if opts.favorites then
  r:favorite()
  print(("favorites: the %d selected image(s)"):format(#a.favorites))
end
