-- A run's selection leaving curator from Lua (README: Export): folder and kohya
-- exports, CSV, report, favorites, custom exporters.
local T = ...
local maker = dofile(T.dir .. "/lib/album_maker.lua")

local function selected(n, count)
  local dir = maker.album(T.tempdir() .. "/album", n or 8)
  local f = assert(io.open(dir .. "/img01.txt", "w"))
  f:write("first image")
  f:close()
  local a = assert(curator.open(dir))
  local r = a:select { count = count or 3, iterations = 3, seed = 4, include = nil }
  return a, r, dir
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local read = T.read

T.test("export copies the selection and reports what it did", function()
  local a, r = selected(8, 3)
  local out = T.tempdir() .. "/train"
  local plan = r:export(out, { dry_run = true })
  T.eq(plan.dry_run, true)
  T.eq(plan.exported, 3)
  T.eq(exists(out .. "/" .. r.selection[1].name), false, "a dry run writes nothing")
  local rep = r:export(out)
  T.eq(rep.exported, 3)
  T.eq(rep.renamed, 0)
  T.eq(#rep.errors, 0)
  T.eq(#rep.items, 3)
  for i, item in ipairs(rep.items) do
    T.eq(item.status, "exported")
    T.eq(item.image, r.selection[i])
    T.ok(exists(item.destination), item.destination)
  end
  -- Again into the same folder: the images are there already (same
  -- bytes), so nothing is copied a second time under another name.
  local again = r:export(out)
  T.eq(again.exported, 0)
  T.eq(again.unchanged, 3)
  T.eq(#again.errors, 0)
  for i, item in ipairs(again.items) do
    T.eq(item.status, "unchanged")
    T.eq(item.destination, rep.items[i].destination)
  end
  local p = io.popen("ls " .. T.quote(out) .. " | wc -l")
  local files = tonumber(p:read("l"))
  p:close()
  T.eq(files, 4, "three images and one caption, no second copies")
end)

T.test("mode=update adds what is new and moves what is no longer selected to a trash folder", function()
  local a, r = selected(8, 3)
  local out = T.tempdir() .. "/train"
  T.eq(r:export(out).exported, 3)
  local gone = r.selection[1]
  a.exclusions:add(gone)
  local r2 = a:select { count = 3, iterations = 3, seed = 4 }
  local plan = r2:export(out, { mode = "update", dry_run = true })
  T.ok(#plan.trashed >= 1, "a dry run lists what would move")
  T.ok(exists(out .. "/" .. gone.name), "a dry run moves nothing")
  local rep = r2:export(out, { mode = "update" })
  T.eq(#rep.errors, 0)
  T.eq(rep.exported + rep.unchanged, 3)
  T.ok(rep.unchanged >= 1, "kept images are not copied again")
  T.eq(exists(out .. "/" .. gone.name), false, "the image no longer selected left the folder")
  T.ok(rep.trash and rep.trash:find(out .. ".trash/", 1, true) == 1, tostring(rep.trash))
  local moved = false
  for _, path in ipairs(rep.trashed) do
    if path == rep.trash .. "/" .. gone.name then moved = exists(path) end
  end
  T.ok(moved, "it is in the trash, not deleted")
  for _, img in ipairs(r2.selection) do T.ok(exists(out .. "/" .. img.name), img.name) end
end)

T.test("mode=replace swaps a new folder in and keeps the old one in the trash", function()
  local a, r = selected(8, 3)
  local out = T.tempdir() .. "/train"
  T.eq(r:export(out).exported, 3)
  local f = assert(io.open(out .. "/notes.md", "w"))
  f:write("mine")
  f:close()
  local rep = r:export(out, { mode = "replace" })
  T.eq(#rep.errors, 0)
  T.eq(rep.exported, 3, "a fresh folder: every image copied")
  T.eq(rep.destination, out)
  for _, item in ipairs(rep.items) do T.ok(exists(item.destination), item.destination) end
  T.eq(exists(out .. "/notes.md"), false)
  T.ok(exists(rep.trash .. "/notes.md"), "the old folder is in the trash, whole")
  -- Into a folder that does not exist yet: simply created.
  local fresh = T.tempdir() .. "/new/train"
  T.eq(r:export(fresh, { mode = "replace" }).exported, 3)
  T.raises('run:export: mode must be one of "add", "update", "replace" (got "swap")',
    function() r:export(out, { mode = "swap" }) end)
end)

T.test("export skips excluded images and honours caption choices and the kohya layout", function()
  local a, r = selected(8, 8)
  a.exclusions:add(r.selection[8])
  local out = T.tempdir() .. "/kohya"
  local rep = r:export(out, { layout = "kohya", repeats = 10, concept = "mychar", caption_ext = ".caption" })
  T.eq(rep.exported, 7)
  T.ok(exists(out .. "/10_mychar/img01.png"))
  T.eq(read(out .. "/10_mychar/img01.caption"), "first image")
  local flat = T.tempdir() .. "/flat"
  local none = r:export(flat, { captions = false })
  T.eq(none.captions, 0)
  T.eq(exists(flat .. "/img01.txt"), false)
  T.raises('run:export: repeats only applies to layout="kohya"', function() r:export(flat, { repeats = 3 }) end)
  T.raises('run:export: layout="kohya" needs concept="name"', function() r:export(flat, { layout = "kohya" }) end)
  T.raises('run:export: layout must be one of "flat", "kohya", "imagefolder" (got "kohia"); did you mean "kohya"?',
    function() r:export(flat, { layout = "kohia" }) end)
  T.raises("run:export: unknown option 'dryrun' (did you mean 'dry_run'?)", function() r:export(flat, { dryrun = true }) end)
  T.contains(T.raises(nil, function() r:export(flat, { captions = { "txt" } }) end), "run:export: captions")
  T.raises("run:export: bad argument #1 (string expected, got no value)", function() r:export() end)
end)

T.test("csv, report and favorite write what the user asked", function()
  local a, r = selected(6, 2)
  local dir = T.tempdir()
  r:csv(dir .. "/curation.csv")
  local csv = read(dir .. "/curation.csv")
  T.eq(csv:match("^[^\r\n]*"), "Filename,Subfolder,Count,Frequency(%),Index,Status,Path,Tier")
  T.contains(csv, r.selection[1].name)
  T.contains(T.raises(nil, function() r:csv(dir .. "/curation.csv") end), "already exists (pass overwrite=true")
  r:csv(dir .. "/curation.csv", { overwrite = true })
  r:report(dir .. "/report.html")
  T.contains(read(dir .. "/report.html"), "<html")
  T.eq(r:favorite(), 2)
  T.eq(#a.favorites, 2)
  T.ok(a.favorites:contains(r.selection))
end)

T.test("csv, report and plot make the folders their file needs, and name a file in the way", function()
  local a, r = selected(6, 2)
  local dir = T.tempdir()
  T.eq(r:csv(dir .. "/new/deeper/curation.csv"), dir .. "/new/deeper/curation.csv")
  T.contains(read(dir .. "/new/deeper/curation.csv"), "Filename,Subfolder")
  T.eq(r:report(dir .. "/pages/report.html", { map = false }), dir .. "/pages/report.html")
  T.contains(read(dir .. "/pages/report.html"), "<html")
  T.eq(a:map { source = "pca" }:plot(dir .. "/maps/map.svg"), dir .. "/maps/map.svg")
  T.contains(read(dir .. "/maps/map.svg"), "<svg")
  -- A file where a folder should be: the error names it, and nothing is written.
  local f = assert(io.open(dir .. "/taken", "w")); f:write("mine"); f:close()
  T.contains(T.raises(nil, function() r:csv(dir .. "/taken/sub/curation.csv") end), dir .. "/taken: is not a folder")
  T.eq(read(dir .. "/taken"), "mine")
end)

T.test("custom exporters get initialize, store per item and finalize", function()
  local a, r = selected(6, 3)
  local calls = {}
  curator.register_exporter("test_list", {
    initialize = function(ctx, items)
      calls[#calls + 1] = "initialize " .. #items
      ctx.data.lines = {}
      T.eq(ctx.run, r)
      local kept = {}
      for i = 1, 2 do kept[i] = items[i] end
      return kept
    end,
    store = function(ctx, item, n, total)
      calls[#calls + 1] = "store " .. n .. "/" .. total
      T.eq(type(item.frequency), "number")
      T.ok(item.tier == "core" or item.tier == "stable" or item.tier == "variable")
      T.eq(item.path, item.image.file)
      ctx.data.lines[#ctx.data.lines + 1] = item.name
      if n == 2 then error("disk on fire") end
      return n
    end,
    finalize = function(ctx, results)
      calls[#calls + 1] = "finalize " .. #results
      local f = assert(io.open(ctx.dir .. "/list.txt", "w"))
      f:write(table.concat(ctx.data.lines, "\n"))
      f:close()
    end,
  })
  local dir = T.tempdir()
  local rep = r:export(dir, { exporter = "test_list" })
  T.eq(table.concat(calls, ","), "initialize 3,store 1/2,store 2/2,finalize 2")
  T.eq(rep.exported, 1)
  T.eq(rep.failed, 1)
  T.eq(#rep.errors, 1)
  T.eq(rep.errors[1].path, r.selection[2].file)
  T.contains(rep.errors[1].reason, "disk on fire")
  T.eq(rep.items[1].ok, true)
  T.eq(rep.items[1].value, 1)
  T.eq(rep.items[2].ok, false)
  T.eq(read(dir .. "/list.txt"), r.selection[1].name .. "\n" .. r.selection[2].name)
  -- The message lists every registered exporter. The registry is the
  -- process's: test files that ran before this one (plugins_test loads
  -- kohya_toml) have added theirs, so the list is read from it, not assumed.
  local registered = {}
  for _, e in ipairs(curator.exporters()) do registered[#registered + 1] = e.name end
  T.contains(table.concat(registered, ", "), "test_list")
  T.raises("run:export: unknown exporter 'test_lst' (did you mean 'test_list'?) (registered: " .. table.concat(registered, ", ") .. ")",
    function() r:export(dir, { exporter = "test_lst" }) end)
  T.raises('run:export: layout does not apply to a custom exporter (exporter="test_list"); pass exporter settings in params={...}',
    function() r:export(dir, { exporter = "test_list", layout = "kohya" }) end)
  calls = {}
  local plan = r:export(dir, { exporter = "test_list", dry_run = true, params = { x = 1 } })
  T.eq(table.concat(calls, ","), "initialize 3", "a dry run plans only")
  T.eq(plan.dry_run, true)
  T.eq(plan.exported, 0)
  T.eq(#plan.items, 2, "the plan is initialize's list")
  curator.register_exporter("test_params", { store = function(ctx, item) T.eq(ctx.params.tag, "v1"); return item.name end })
  T.eq(r:export(dir, { exporter = "test_params", params = { tag = "v1" } }).exported, 3)
  curator.register_exporter("test_badinit", { initialize = function() error("no setup") end, store = function() end })
  T.contains(T.raises(nil, function() r:export(dir, { exporter = "test_badinit" }) end),
    "run:export: exporter 'test_badinit' failed in initialize: ")
end)

T.test("layout=imagefolder: images flat, captions in metadata.jsonl as Hugging Face datasets reads them", function()
  local a, r, dir = selected(8, 4)
  local out = T.tempdir() .. "/hf"
  local rep = r:export(out, { layout = "imagefolder" })
  T.eq(#rep.errors, 0)
  T.eq(rep.exported, 4)
  T.eq(rep.captions, 0, "no caption files beside the images")
  local lines = {}
  for line in T.read(out .. "/metadata.jsonl"):gmatch("[^\n]+") do lines[#lines + 1] = curator.json.decode(line) end
  T.eq(#lines, 4)
  for i, img in ipairs(r.selection) do
    T.eq(lines[i].file_name, img.name)
    T.eq(lines[i].text, img.caption or "")
    T.ok(exists(out .. "/" .. img.name))
    T.eq(exists(out .. "/" .. img.name:gsub("%.%w+$", ".txt")), false)
  end
  -- An update keeps one line per image in the folder, the metadata itself included in what stays.
  a.exclusions:add(r.selection[1])
  local r2 = a:select { count = 4, iterations = 3, seed = 4 }
  local up = r2:export(out, { layout = "imagefolder", mode = "update" })
  T.eq(#up.errors, 0)
  local names = {}
  for line in T.read(out .. "/metadata.jsonl"):gmatch("[^\n]+") do names[#names + 1] = curator.json.decode(line).file_name end
  table.sort(names)
  local want = {}
  for _, img in ipairs(r2.selection) do want[#want + 1] = img.name end
  table.sort(want)
  T.eq(table.concat(names, " "), table.concat(want, " "))
  T.ok(exists(out .. "/metadata.jsonl"))
end)

T.test("mode=update brings the captions of images already there up to date with the album's", function()
  local dir = maker.album(T.tempdir() .. "/album", 6)
  local a0 = assert(curator.open(dir))
  for _, img in ipairs(a0) do
    local f = assert(io.open(dir .. "/" .. img.name:gsub("%.png$", ".txt"), "w"))
    f:write("old caption of " .. img.name)
    f:close()
  end
  local a = assert(curator.open(dir))
  local r = a:select { count = 3, iterations = 3, seed = 4 }
  local out = T.tempdir() .. "/train"
  T.eq(r:export(out).exported, 3)
  local img = r.selection[1]
  local caption = dir .. "/" .. img.name:gsub("%.png$", ".txt")
  local f = assert(io.open(caption, "w"))
  f:write("new caption")
  f:close()
  local rep = r:export(out, { mode = "update" })
  T.eq(#rep.errors, 0)
  T.eq(rep.unchanged, 3)
  T.eq(rep.refreshed_captions, 1, "only the caption that changed is rewritten")
  T.eq(read(out .. "/" .. img.name:gsub("%.png$", ".txt")), "new caption")
  T.eq(read(out .. "/" .. r.selection[2].name:gsub("%.png$", ".txt")), "old caption of " .. r.selection[2].name)
  T.eq(r:export(out, { mode = "update" }).refreshed_captions, 0, "nothing to bring up to date the second time")
end)

T.test("files= go with the export: never over a file in add mode, replaced in update mode, inside the new folder in replace mode", function()
  local _, r = selected(8, 3)
  local out = T.tempdir() .. "/train"
  local rep = r:export(out, { files = { ["dataset.toml"] = "one\n" } })
  T.eq(#rep.errors, 0)
  T.eq(rep.files[1], out .. "/dataset.toml")
  T.eq(read(out .. "/dataset.toml"), "one\n")
  rep = r:export(out, { files = { ["dataset.toml"] = "two\n" } })
  T.eq(#rep.errors, 1, "add mode never replaces a file")
  T.eq(read(out .. "/dataset.toml"), "one\n")
  rep = r:export(out, { mode = "update", files = { ["dataset.toml"] = "two\n" } })
  T.eq(#rep.errors, 0)
  T.eq(read(out .. "/dataset.toml"), "two\n")
  rep = r:export(out, { mode = "replace", files = { ["dataset.toml"] = "three\n" } })
  T.eq(#rep.errors, 0)
  T.eq(rep.files[1], out .. "/dataset.toml", "reported where it is after the swap")
  T.eq(read(out .. "/dataset.toml"), "three\n")
  T.eq(read(rep.trash .. "/dataset.toml"), "two\n", "the old folder, with its own config, in the trash")
  local dry = r:export(T.tempdir() .. "/dry", { dry_run = true, files = { ["x.toml"] = "x" } })
  T.eq(#dry.files, 0, "a dry run writes no file")
  T.contains(T.raises(nil, r.export, r, out, { files = { ["../x"] = "y" } }), "must be a plain file name")
  T.contains(T.raises(nil, r.export, r, out, { files = { "y" } }), "files must map file names to their text")
end)

T.test("curator.pick: the entries an answer such as 1,3-5 names, or why not", function()
  local list = { "a", "b", "c", "d", "e" }
  T.eq(table.concat(curator.pick(list, "1,3-4"), " "), "a c d")
  T.eq(table.concat(curator.pick(list, " 5 1 2-2 "), " "), "a b e", "in the list's order, each once")
  for _, bad in ipairs({ "2-9", "0", "x", "3-2", "1-", "-1", "1.5" }) do
    local picked, why = curator.pick(list, "1," .. bad)
    T.eq(picked, nil, bad)
    T.eq(why, "'" .. bad .. "' is not a number or range from 1 to 5")
  end
  T.raises("curator.pick: bad argument #1 (table expected, got string)", function() return curator.pick("abc", "1") end)
end)

T.test("curator.stat tells a folder (and how full) from a file, a dangling link and nothing", function()
  local dir = T.tempdir()
  T.eq(curator.stat(dir).kind, "folder")
  T.eq(curator.stat(dir).entries, 0)
  local f = assert(io.open(dir .. "/a.txt", "w"))
  f:write("12345")
  f:close()
  T.eq(curator.stat(dir).entries, 1)
  local info = curator.stat(dir .. "/a.txt")
  T.eq(info.kind, "file")
  T.eq(info.size, 5)
  T.eq(info.entries, nil)
  T.eq(os.execute("ln -s " .. T.quote(dir .. "/nowhere") .. " " .. T.quote(dir .. "/dangling")), true)
  T.eq(curator.stat(dir .. "/dangling").kind, "link")
  local none, why = curator.stat(dir .. "/missing")
  T.eq(none, nil)
  T.contains(why, dir .. "/missing: No such file or directory")
end)
