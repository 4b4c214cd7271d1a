-- Scenario B — a training set.
--
--   curator trainset ALBUM --count 150 [--method fps|kmeans] [--iterations 20]
--       [--seed N] [--out DIR [--update|--replace]] [--kohya REPEATS_CONCEPT]
--       [--csv FILE] [--report FILE] [--overwrite] [--favorites]
--
-- Picks `count` images by Monte Carlo selection (fps: diverse; kmeans:
-- representative), leaving out the album's exclusions (curator clean,
-- or a.exclusions:add(...) at the prompt). Then, as asked:
--   --out DIR       copies the selection with its caption files into DIR
--                   (flat; nothing there is ever overwritten). DIR must be
--                   new or empty, unless:
--   --update        DIR becomes the new selection: what is new is added,
--                   images already there are not copied again (their
--                   captions are brought up to date), and what is no
--                   longer selected moves to DIR.trash/<date-time>/
--   --replace       the selection goes into a new folder that is swapped in
--                   for DIR in one step; the old DIR moves to DIR.trash/
--                   (curator never empties DIR.trash: it says what it keeps)
--   --kohya 10_name lays DIR out for kohya-ss: DIR/10_name/ (10 repeats of
--                   concept "name") plus DIR/dataset.toml when the kohya
--                   plugin is loaded
--   --csv FILE      PhotoMapAI's CSV (Filename,Subfolder,Count,Frequency(%),...)
--   --report FILE   a self-contained HTML page with thumbnails and a map
--   --overwrite     lets --csv and --report replace existing files
--   --caption-first-line, --caption-language CODE, --caption-words N,
--   --caption-tokens N [--caption-vocabulary PATH], --caption-prefix WORD
--                   clean the exported captions (the captions plugin): the
--                   first line, or the line for one language ("de: ..."),
--                   at most N words, at most N CLIP tokens (prefix included;
--                   counted with the vocabulary of PATH — a CLIP model
--                   folder, tokenizer.json or bpe_simple_vocab_16e6.txt.gz —
--                   or of the installed CLIP model), a trigger word first.
--                   The album's own caption files are never changed.
--   --favorites     makes the selection the album's favorites
--   --prompt TEXT [--negative TEXT] [--min-score X]
--                   picks only among images that match TEXT (a CLIP or
--                   SigLIP album: `curator models get NAME` installs a
--                   model): scoring at least X (default: the model family's
--                   floor, 0.2 for OpenAI's CLIP), NEGATIVE's score taken off
--
-- Reviewing: `curator -i trainset ALBUM --count 150` leaves you
-- at the prompt with the album in `a` and the run in `r`. Exclude what you
-- do not want (a.exclusions:add(r.selection[3])) and run the script again:
-- fresh alternatives fill the freed places (with --update, the same --out).
--
-- Every file the script will write is checked before anything is written:
-- a problem stops it with a message and nothing changed.

local usage = "usage: curator trainset ALBUM --count 150 [--method fps|kmeans] [--iterations 20] "
  .. "[--seed N] [--out DIR [--update|--replace]] [--kohya REPEATS_CONCEPT] [--csv FILE] [--report FILE] [--overwrite] [--favorites] "
  .. "[--caption-first-line] [--caption-language CODE] [--caption-words N] [--caption-tokens N [--caption-vocabulary PATH]] [--caption-prefix WORD] "
  .. "[--prompt TEXT [--negative TEXT] [--min-score X]]"

local function fail(message)
  io.stderr:write("trainset.lua: ", message, "\n", usage, "\n")
  os.exit(2)
end

local kinds = { count = "integer", iterations = "integer", seed = "integer", method = "method",
                out = "path", kohya = "kohya", csv = "path", report = "path", favorites = "flag",
                update = "flag", replace = "flag", overwrite = "flag",
                ["caption-first-line"] = "flag", ["caption-language"] = "text", ["caption-words"] = "integer",
                ["caption-tokens"] = "integer", ["caption-vocabulary"] = "path", ["caption-prefix"] = "text",
                prompt = "text", negative = "text", ["min-score"] = "number" }
local opts = { count = 150, iterations = 20, seed = 1, method = "fps", favorites = false,
               update = false, replace = false, overwrite = false }
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
      elseif kind == "number" then
        local n = tonumber(value)
        if not n or n ~= n then fail("--" .. name .. " must be a number (got " .. value .. ")") end
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
if opts.update and opts.replace then fail("--update and --replace exclude each other") end
if (opts.negative or opts["min-score"]) and not opts.prompt then fail("--negative and --min-score go with --prompt TEXT") end
local clean_opts
if opts["caption-vocabulary"] and not opts["caption-tokens"] then fail("--caption-vocabulary needs --caption-tokens N") end
if opts["caption-first-line"] or opts["caption-language"] or opts["caption-words"] or opts["caption-tokens"] or opts["caption-prefix"] then
  if not opts.out then fail("--caption-... options need --out DIR") end
  if not curator.plugins.captions then
    io.stderr:write("trainset.lua: --caption-... options need the captions plugin, which is not loaded\n")
    os.exit(1)
  end
  clean_opts = { first_line = opts["caption-first-line"] or nil, language = opts["caption-language"],
                 max_words = opts["caption-words"], max_tokens = opts["caption-tokens"],
                 vocabulary = opts["caption-vocabulary"], prefix = opts["caption-prefix"] }
  local ok, err = pcall(curator.plugins.captions.clean, "", clean_opts)
  if not ok then
    err = tostring(err):gsub("^[^:]*:%d+: ", "")
    local why = err:match("no CLIP vocabulary to count tokens with: .- — (.*)$")
    if why then
      err = "--caption-tokens needs a CLIP vocabulary: give --caption-vocabulary PATH (a CLIP model folder, "
        .. "tokenizer.json or bpe_simple_vocab_16e6.txt.gz) or install a CLIP model (" .. why .. ")"
    end
    fail(err)
  end
end
if (opts.update or opts.replace) and not opts.out then fail("--" .. (opts.update and "update" or "replace") .. " needs --out DIR") end

-- Every file this run will write is checked now, before anything is
-- written: a re-run must not die half-way with the export already done.
local function stop(message)
  io.stderr:write("trainset.lua: ", message, "\n")
  os.exit(1)
end
local function kind_of(path)
  local info = curator.stat(path)
  return info and (info.kind == "folder" and "dir" or "file") or "none"
end
local function parent_of(path)
  local parent = path:match("^(.*)/[^/]*$")
  return parent == nil and "." or parent == "" and "/" or parent
end
for _, name in ipairs({ "csv", "report" }) do
  local file = opts[name]
  if file then
    local kind = kind_of(file)
    if kind == "dir" then stop("--" .. name .. " " .. file .. " is a folder, not a file") end
    if kind == "file" and not opts.overwrite then
      stop("--" .. name .. " " .. file .. " already exists (add --overwrite to replace it)")
    end
    -- Missing folders are made when the file is written; one that is a file would stop it then.
    local folder = parent_of(file)
    while kind_of(folder) == "none" and folder ~= parent_of(folder) do folder = parent_of(folder) end
    if kind_of(folder) == "file" then stop("--" .. name .. " " .. file .. ": " .. folder .. " is a file, not a folder") end
  end
end
if opts.csv and opts.report and opts.csv == opts.report then stop("--csv and --report name the same file") end
if opts.out then
  local kind = kind_of(opts.out)
  if kind == "file" then stop("--out " .. opts.out .. " is a file, not a folder") end
  if kind == "dir" and not (opts.update or opts.replace) then
    local info, why = curator.stat(opts.out)
    if not info then stop("--out " .. why) end
    if info.entries > 0 then
      stop("--out " .. opts.out .. " is not empty: add --update to add what is new and move what is no longer selected "
        .. "to " .. opts.out .. ".trash/, or --replace to swap in a new folder (the old one goes to the trash)")
    end
  end
end

local err
a, err = curator.open(album_path)   -- globals on purpose: `curator -i` keeps a and r
if not a then
  io.stderr:write("trainset.lua: ", err, "\n")
  os.exit(1)
end
print(tostring(a))

local selected
selected, r = pcall(a.select, a, { method = opts.method, count = opts.count, iterations = opts.iterations, seed = opts.seed,
                                   prompt = opts.prompt, negative = opts.negative, min_score = opts["min-score"] })
if not selected then
  -- The album's own words (no text side, no model, nothing matching) say what to do; no traceback.
  io.stderr:write("trainset.lua: ", (tostring(r):gsub("^[^:]*:%d+: ", "")), "\n")
  r = nil
  os.exit(1)
end
if opts.prompt then
  print(("prompt %q: %d of the %d images not excluded match it (score at least %s)")
    :format(opts.prompt, r.candidates, #a - #a.exclusions,
      opts["min-score"] and tostring(opts["min-score"]) or "the model's floor"))
end
local tiers = { core = 0, stable = 0, variable = 0 }
for _, img in ipairs(r.selection) do
  local t = r:tier(img)
  if t then tiers[t] = tiers[t] + 1 end
end
print(("selected %d image(s) by %s, %d runs (seed %d): %d core, %d stable, %d variable; %d excluded")
  :format(#r.selection, opts.method, opts.iterations, opts.seed, tiers.core, tiers.stable, tiers.variable,
    #a.exclusions))

if opts.out then
  local kohya_plugin = curator.plugins.kohya
  local mode = opts.update and "update" or opts.replace and "replace" or "add"
  local failures, export
  if opts.kohya and kohya_plugin then
    -- curator's kohya export, plus dataset.toml for sd-scripts from the plugin.
    local report = kohya_plugin.write(r, opts.out, { repeats = opts.kohya.repeats, concept = opts.kohya.concept, mode = mode })
    export = report.export
    print(("exported %d image(s) with captions to %s; dataset config %s")
      :format(export.exported, export.destination, report.toml))
    failures = report.failed
  else
    if opts.kohya then
      io.stderr:write("trainset.lua: the kohya plugin is not loaded: no dataset.toml is written\n")
    end
    local export_opts = { mode = mode }
    if opts.kohya then
      export_opts = { layout = "kohya", repeats = opts.kohya.repeats, concept = opts.kohya.concept, mode = mode }
    end
    export = r:export(opts.out, export_opts)
    print(("exported %d image(s) with their captions to %s"):format(export.exported, export.destination))
    failures = export.errors
  end
  if export.unchanged > 0 then
    print(("  %d image(s) were there already (same bytes): not copied again"):format(export.unchanged))
  end
  if (export.refreshed_captions or 0) > 0 and not clean_opts then  -- (cleaning rewrites them anyway)
    print(("  %d caption file(s) of those brought up to date with the album's"):format(export.refreshed_captions))
  end
  if clean_opts and not (failures and #failures > 0) then
    local cleaned = curator.plugins.captions.clean_export(export, clean_opts)
    print(("  captions cleaned: %d changed, %d already clean (the album's caption files are untouched)")
      :format(cleaned.changed, cleaned.kept))
    for _, e in ipairs(cleaned.errors) do failures[#failures + 1] = e end
  end
  if #export.trashed > 0 then
    print(("  %s moved to %s (nothing is deleted)")
      :format(mode == "replace" and "the previous folder" or (#export.trashed .. " file(s) no longer selected"), export.trash))
    -- curator never empties the trash: say where it is and how much it keeps.
    local root = export.trash:match("^(.*)/[^/]*$")
    local info = root and curator.stat(root)
    if info and info.entries then
      print(("  %s keeps %d earlier version(s); remove it (rm -r %s) once you no longer need them")
        :format(root, info.entries, root))
    end
  end
  -- Every failure is shown, none skipped silently.
  for _, f in ipairs(failures or {}) do
    io.stderr:write(("  failed: %s: %s\n"):format(f.path, f.reason))
  end
  if failures and #failures > 0 then os.exit(1) end
end
if opts.csv then
  print("CSV: " .. r:csv(opts.csv, { overwrite = opts.overwrite }))
end
if opts.report then
  print("report: " .. r:report(opts.report, { overwrite = opts.overwrite }))
end
if opts.favorites then
  r:favorite()
  print(("favorites: the %d selected image(s)"):format(#a.favorites))
end
