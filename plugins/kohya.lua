-- kohya: export a selection as a kohya-ss (sd-scripts) training folder,
-- with a dataset config TOML beside it.
--
--   r:export(dir, {exporter="kohya_toml", params={repeats=10, concept="mychar"}})
--   kohya.write(images, dir, {repeats=10, concept="mychar"})   -- any list/ImageSet
--
-- Writes
--   dir/10_mychar/<image>             the images (never excluded ones)
--   dir/10_mychar/<image stem>.txt    one caption per image: its own caption,
--                                     else the concept (sd-scripts wants one)
--   dir/dataset.toml                  [general] / [[datasets]] /
--                                     [[datasets.subsets]] for train_network.py
--                                     --dataset_config
--
-- Options: repeats (≥ 1, default 10), concept (default: the album's name),
-- caption_extension (".txt" or ".caption", default ".txt"), resolution
-- (default 512), batch_size (default 1), dry_run (plan only).
-- Names that collide get `<parent>_name`, then `<parent>_<stem>_1`, ... as
-- curator's folder export does; nothing is ever overwritten. One
-- dataset.toml per folder: an export whose subset it already lists leaves it
-- as it is, edits included ("unchanged"); another
-- concept or repeats exported into the same folder is added to curator's
-- dataset.toml as one more [[datasets]] entry ("added"); a dataset.toml
-- curator did not write is never touched, and the export stops before
-- copying anything. The report's toml_status says which.

local M = {
  name = "kohya",
  description = "Exporter kohya_toml: <repeats>_<concept>/ images + captions, and a dataset TOML for sd-scripts",
}

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function read_all(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local data = f:read("a")
  f:close()
  return data
end

-- Writes through a temporary file and a rename, so a reader never sees half a
-- file. An existing `path` is an error (it is never replaced).
local function write_atomic(path, data)
  local tmp = path .. ".curator-tmp"
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  local ok, werr = f:write(data)
  f:close()
  if not ok then os.remove(tmp) return nil, werr end
  if exists(path) then os.remove(tmp) return nil, path .. ": already exists" end
  local renamed, rerr = os.rename(tmp, path)
  if not renamed then os.remove(tmp) return nil, rerr end
  return true
end

-- The first line of every dataset.toml this plugin writes: how it knows its own.
local TOML_HEADER = "# Dataset config for kohya-ss sd-scripts (train_network.py --dataset_config FILE),"

local function toml_string(s)
  return '"' .. s:gsub('[\\"]', "\\%0"):gsub("\n", "\\n") .. '"'
end

local function split_name(name)
  local stem, ext = name:match("^(.*)(%.[^.]*)$")
  if not stem or stem == "" then return name, "" end
  return stem, ext
end

-- A free file name for img in `folder`, given the names taken so far:
-- name.ext, <parent>_name.ext, <parent>_<stem>_1.ext, _2, ...
local function free_name(img, folder, taken, caption_ext)
  local stem, ext = split_name(img.name)
  local parent = img.folder:match("([^/]+)$") or "root"
  local function free(s)
    return not taken[s .. ext] and not exists(folder .. "/" .. s .. ext)
      and not taken[s .. caption_ext] and not exists(folder .. "/" .. s .. caption_ext)
  end
  if free(stem) then return stem end
  if free(parent .. "_" .. stem) then return parent .. "_" .. stem end
  local i = 1
  while not free(parent .. "_" .. stem .. "_" .. i) do i = i + 1 end
  return parent .. "_" .. stem .. "_" .. i
end

local function check_options(opts, album_name)
  opts = opts or {}
  local o = {
    repeats = opts.repeats or 10,
    concept = opts.concept or album_name or "concept",
    caption_extension = opts.caption_extension or opts.caption_ext or ".txt",
    resolution = opts.resolution or 512,
    batch_size = opts.batch_size or 1,
    dry_run = opts.dry_run and true or false,
    mode = opts.mode or "add",
    progress = opts.progress,
  }
  if o.mode ~= "add" and o.mode ~= "update" and o.mode ~= "replace" then
    error("kohya: mode must be \"add\", \"update\" or \"replace\" (got " .. tostring(o.mode) .. ")", 3)
  end
  if math.type(o.repeats) ~= "integer" or o.repeats < 1 then
    error("kohya: repeats must be a positive integer (got " .. tostring(o.repeats) .. ")", 3)
  end
  if type(o.concept) ~= "string" or o.concept == "" or o.concept:find("[/%z]") then
    error("kohya: concept must be a non-empty name without '/' (got " .. tostring(o.concept) .. ")", 3)
  end
  if o.caption_extension ~= ".txt" and o.caption_extension ~= ".caption" then
    error("kohya: caption_extension must be \".txt\" or \".caption\" (got " .. tostring(o.caption_extension) .. ")", 3)
  end
  if math.type(o.resolution) ~= "integer" or o.resolution < 64 then
    error("kohya: resolution must be an integer ≥ 64 (got " .. tostring(o.resolution) .. ")", 3)
  end
  if o.progress ~= nil and type(o.progress) ~= "function" then
    error("kohya: progress must be a function(done, total, label) (got " .. type(o.progress) .. ")", 3)
  end
  return o
end

-- Stops an "add" export into a folder whose dataset.toml curator did not
-- write, before anything is copied: that file is the user's and is never
-- touched, and images without their config would train wrongly.
local function check_toml(dir, mode)
  if mode ~= "add" then return end
  local existing = read_all(dir .. "/dataset.toml")
  if existing and existing:sub(1, #TOML_HEADER) ~= TOML_HEADER then
    error("kohya: " .. dir .. "/dataset.toml exists and was not written by curator (it is never changed); "
      .. "export into another folder, or move that file away", 0)
  end
end

--- Starts an export into `dir`; returns the state store/finalize use.
function M.initialize(dir, opts, album_name)
  if type(dir) ~= "string" or dir == "" then error("kohya: a destination folder is required", 2) end
  local o = check_options(opts, album_name)
  check_toml(dir, o.mode)
  local st = { dir = dir, opts = o, folder = dir .. "/" .. o.repeats .. "_" .. o.concept,
               taken = {}, written = {}, failed = {}, skipped = {} }
  if not o.dry_run then
    local ok = os.execute("mkdir -p '" .. st.folder:gsub("'", "'\\''") .. "'")
    if not ok then error("kohya: cannot create " .. st.folder, 2) end
  end
  return st
end

--- Copies one image and writes its caption. Returns the entry
--- {source=, image=, caption=}, or nil and the reason (also recorded in
--- st.failed; an excluded image is recorded in st.skipped).
function M.store(st, img)
  if img.excluded then
    st.skipped[#st.skipped + 1] = { path = img.path, reason = "excluded" }
    return nil, img.path .. ": excluded"
  end
  local ext = st.opts.caption_extension
  local stem = free_name(img, st.folder, st.taken, ext)
  local _, image_ext = split_name(img.name)
  local image_name, caption_name = stem .. image_ext, stem .. ext
  st.taken[image_name], st.taken[caption_name] = true, true
  local caption = img.caption
  if caption == nil or caption:match("^%s*$") then caption = st.opts.concept end
  local entry = { source = img.path, image = st.folder .. "/" .. image_name, caption = st.folder .. "/" .. caption_name }
  if not st.opts.dry_run then
    local data, err = read_all(img.file)
    local ok
    if data then ok, err = write_atomic(entry.image, data) end
    if ok then ok, err = write_atomic(entry.caption, caption .. "\n") end
    if not ok then
      st.failed[#st.failed + 1] = { path = img.path, reason = tostring(err) }
      return nil, img.path .. ": " .. tostring(err)
    end
  end
  st.written[#st.written + 1] = entry
  return entry
end

-- The subset folder as the TOML names it (absolute).
local function image_dir(st)
  local abs = st.folder
  if abs:sub(1, 1) ~= "/" then
    local pwd = os.getenv("PWD")
    if pwd then abs = pwd .. "/" .. abs end
  end
  return abs
end

-- The [[datasets]] entry of the export in `st`, with its one subset.
local function dataset_entry(st)
  local o = st.opts
  return table.concat({
    "[[datasets]]",
    "resolution = " .. o.resolution,
    "batch_size = " .. o.batch_size,
    "enable_bucket = true",
    "",
    "  [[datasets.subsets]]",
    "  image_dir = " .. toml_string(image_dir(st)),
    "  num_repeats = " .. o.repeats,
    "  caption_extension = " .. toml_string(o.caption_extension),
    "  class_tokens = " .. toml_string(o.concept),
    "",
  }, "\n")
end

--- The dataset TOML for the export in `st` (sd-scripts' --dataset_config).
function M.toml(st)
  local o = st.opts
  return table.concat({
    TOML_HEADER,
    "# written by curator's kohya plugin. Adjust resolution and batch size to your run.",
    "[general]",
    "shuffle_caption = false",
    "caption_extension = " .. toml_string(o.caption_extension),
    "keep_tokens = 0",
    "",
    dataset_entry(st),
  }, "\n")
end

--- Writes dir/dataset.toml for an "add" export and returns the report
--- {folder=, toml=, toml_status=, written={{source=, image=, caption=}, ...},
--- failed=, skipped=}. toml_status: "written" (there was none), "unchanged"
--- (it lists this subset already: left as it is, edits included), "added"
--- (curator's, for other subsets: this one appended as one more
--- [[datasets]] entry). A dry run says what it would do.
function M.finalize(st)
  local name = st.dir .. "/dataset.toml"
  local wanted = M.toml(st)
  local existing = read_all(name)
  local status, data
  if not existing then
    status, data = "written", wanted
  elseif existing:find("image_dir = " .. toml_string(image_dir(st)), 1, true) then
    status = "unchanged"
  elseif existing:sub(1, #TOML_HEADER) == TOML_HEADER then
    status, data = "added", existing:gsub("\n*$", "\n\n") .. dataset_entry(st)
  else
    -- check_toml stops such an export first; a file that appeared since is left alone too.
    st.failed[#st.failed + 1] = { path = name, reason = "exists and was not written by curator: left as it is" }
    status = "unchanged"
  end
  if data and not st.opts.dry_run then
    -- Through a temporary file and a rename: a reader sees the old or the new file, never half.
    local tmp = name .. ".curator-tmp"
    local f, err = io.open(tmp, "wb")
    local ok = f and f:write(data)
    if f then f:close() end
    if ok then ok, err = os.rename(tmp, name) end
    if not ok then
      os.remove(tmp)
      st.failed[#st.failed + 1] = { path = name, reason = tostring(err) }
    end
  end
  return { folder = st.folder, toml = name, toml_status = status, written = st.written, failed = st.failed,
           skipped = st.skipped, dry_run = st.opts.dry_run }
end

-- A run's selection, an ImageSet or a list of images -> (list, album name).
local function images_of(source)
  local ok, selection = pcall(function() return source.selection end)
  if ok and selection ~= nil then source = selection end
  local list, album = {}, nil
  for _, img in ipairs(source) do
    list[#list + 1] = img
    album = album or img.album.name
  end
  return list, album
end

-- Whether `x` is a Run (a:select's result) rather than a list or ImageSet.
local function is_run(x)
  local ok, yes = pcall(function() return x.selection ~= nil and x.export ~= nil end)
  return ok and yes
end

--- Exports `source` (a run, an ImageSet or a list of images) into `dir`.
--- A run goes through curator's own kohya export (r:export with
--- layout="kohya": its collision naming, atomic copies, images already
--- there not copied again, and mode="update"/"replace"); the TOML is then
--- written beside it, replacing the old one in those two modes. A plain
--- list or ImageSet is copied here (initialize/store/finalize below), with
--- the host's naming scheme redone in Lua, because the host exports runs
--- only (its export reads a run's entries), and a list's re-export behaves
--- differently today, as its tests pin: a second copy under the next free
--- name where the host reports "unchanged" (mode "add" only).
function M.write(source, dir, opts)
  if is_run(source) then
    local o = check_options(opts, source.album and source.album.name)
    check_toml(dir, o.mode)
    local st = { dir = dir, opts = o, folder = dir .. "/" .. o.repeats .. "_" .. o.concept, written = {}, failed = {}, skipped = {} }
    local files
    if o.mode ~= "add" then
      -- Written by the export itself: in replace mode inside the new folder
      -- before the swap, so the trainer never sees images without their config.
      files = { ["dataset.toml"] = M.toml(st) }
    end
    local export = source:export(dir, { layout = "kohya", repeats = o.repeats, concept = o.concept,
                                        caption_ext = o.caption_extension, concept_caption = true,
                                        dry_run = o.dry_run, mode = o.mode, files = files,
                                        progress = o.progress })
    st.folder = export.destination
    for _, item in ipairs(export.items) do
      if item.status == "exported" or item.status == "planned" or item.status == "unchanged" then
        st.written[#st.written + 1] = { source = item.path, image = item.destination,
                                        caption = item.sidecars[1], unchanged = item.status == "unchanged" }
      end
    end
    for _, e in ipairs(export.errors) do st.failed[#st.failed + 1] = e end
    local report
    if o.mode == "add" then
      report = M.finalize(st)
    else
      report = { folder = st.folder, toml = export.files[1] or (dir .. "/dataset.toml"), toml_status = "written",
                 written = st.written, failed = st.failed, skipped = st.skipped, dry_run = o.dry_run }
    end
    report.export = export
    return report
  end
  if opts and opts.mode and opts.mode ~= "add" then
    error("kohya: mode=\"" .. tostring(opts.mode) .. "\" needs a run (r), not a list of images", 2)
  end
  local images, album = images_of(source)
  local st = M.initialize(dir, opts, album)
  for i, img in ipairs(images) do
    M.store(st, img)
    if st.opts.progress then st.opts.progress(i, #images, "kohya: copying") end
  end
  return M.finalize(st)
end

-- As an exporter for r:export(dir, {exporter="kohya_toml", params={repeats=, concept=, ...}, progress=}):
-- initialize exports the run exactly as kohya.write(run) does (curator's own
-- kohya layout and naming, the TOML beside it), the copies reporting to
-- r:export's progress (its progress= function, or the terminal's bar; the
-- spec's progress = "initialize" keeps the host's loop over the copied
-- images from showing a second one), and hands the host's export loop the images it copied (or plans to), so the
-- report's `exported` counts copies; store then reports each one's outcome
-- (a failed image raises, so it is counted and listed as failed). Images
-- already there count in data.unchanged. ctx.data comes back in the export
-- report (data.folder, data.toml, data.toml_status, data.unchanged).
curator.register_exporter("kohya_toml", {
  description = M.description,
  progress = "initialize",
  initialize = function(ctx)
    local opts = {}
    for k, v in pairs(ctx.params or {}) do opts[k] = v end
    opts.dry_run = ctx.dry_run
    opts.progress = ctx.progress
    local report = M.write(ctx.run, ctx.dir, opts)
    ctx.data.folder, ctx.data.toml, ctx.data.toml_status = report.folder, report.toml, report.toml_status
    local items, unchanged = {}, 0
    for _, item in ipairs(report.export.items) do
      if item.status == "unchanged" then
        unchanged = unchanged + 1
      else
        items[#items + 1] = item
      end
    end
    ctx.data.unchanged = unchanged
    return items
  end,
  store = function(ctx, item)
    if item.status == "failed" then error(item.path .. ": " .. tostring(item.reason), 0) end
    return item.destination
  end,
})

return M
