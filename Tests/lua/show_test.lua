-- Terminal previews (SPEC §9): img:show(), s:show(), r:show{} draw numbered
-- contact sheets; their numbers are r.selection's, excluded images stay in
-- place; a log (stdout not a terminal) gets the numbers with their paths.
local T = ...
local maker = dofile(T.dir .. "/lib/album_maker.lua")

local function run(code, dir, env)
  return T.run({ "--no-plugins", "-e", code, dir },
    "", "CURATOR_PLUGIN_PATH= XDG_CONFIG_HOME=/nonexistent CURATOR_HOME=/nonexistent " .. (env or ""))
end

local function album(n)
  local dir = maker.album(T.tempdir() .. "/album", n or 9)
  assert(curator.open(dir)) -- index and embed once, outside the timed runs
  return dir
end

-- Text without escape sequences.
local function visible(s) return (s:gsub("\27%[[%d;]*m", "")) end

-- The "number  path ..." lines a sheet prints after itself in a log.
local function listed(out)
  local rows = {}
  for line in out:gmatch("[^\n]+") do
    local n, rest = line:match("^%s*(%d+)  (img%d+%.png.*)$")
    if n then rows[tonumber(n)] = rest end
  end
  return rows
end

T.test("r:show numbers tiles as r.selection does, also after an exclusion, and lists paths in a log", function()
  local dir = album(9)
  local out, err, code = run([[
local a = curator.open(arg[1])
local r = a:select{count = 5, iterations = 4, seed = 3}
for i, img in ipairs(r.selection) do print("pick", i, img.path) end
a.exclusions:add(r.selection[2])
r:show{width = 60}
]], dir)
  T.eq(code, 0, err)
  local picks = {}
  for i, path in out:gmatch("pick\t(%d+)\t([^\n]+)") do picks[tonumber(i)] = path end
  T.eq(#picks, 5)
  local rows = listed(out)
  for i = 1, 5 do
    T.ok(rows[i] and rows[i]:sub(1, #picks[i]) == picks[i], "#" .. i .. " is r.selection[" .. i .. "]: " .. tostring(rows[i]))
  end
  T.contains(rows[2], "excluded", "the excluded pick keeps its number")
  T.ok(not rows[1]:find("excluded"), rows[1])
  T.contains(out, "run 1 (fps, count 5 × 4): 5 images")
  -- The label under the excluded tile: red, struck through, marked.
  T.contains(out, "\27[38;2;255;59;48m\27[9m2 ✗ " .. picks[2]:match("[^/]*$"))
  -- Every line of the sheet fits the width asked for.
  for line in out:match("run 1[^\n]*\n(.*)"):gmatch("[^\n]*") do
    if line:find("^%s*%d+  img") then break end
    T.ok(utf8.len(visible(line)) <= 60, "wider than 60 cells: " .. visible(line))
  end
end)

T.test("a sheet is the same bytes every time for a fixed width and format", function()
  local dir = album(6)
  local code = [[
local a = curator.open(arg[1])
a:set(a:images()):show{width = 50, format = "symbols", colors = "256", size = 12}
]]
  local one, err = run(code, dir)
  local two = run(code, dir)
  T.eq(one, two)
  T.contains(one, "ImageSet set of \"album\": 6 images")
  T.contains(visible(one), "\n1 img01.png  2 img02.png  3 img03.png\n")
  T.contains(visible(one), "\n4 img04.png  5 img05.png  6 img06.png\n")
  T.ok(not one:find("38;2;"), "256 colours: no 24-bit sequences")
  T.eq(err, "")
end)

T.test("tier=, from= and limit= choose the tiles; what is left says how to see it", function()
  local dir = album(9)
  local out, err, code = run([[
local a = curator.open(arg[1])
local r = a:select{count = 6, iterations = 5, seed = 2}
local core = {}
for i, img in ipairs(r.selection) do if r:tier(img) == "core" then core[#core + 1] = i end end
print("core", table.concat(core, ","))
r:show{tier = "core", width = 40}
print("== limit")
r.selection:show{limit = 2, width = 40}
print("== from")
r.selection:show{from = 5, width = 40}
print("== errors")
print(pcall(r.show, r, {tier = "best"}))
print(pcall(r.show, r, {format = "png"}))
]], dir)
  T.eq(code, 0, err)
  local core = out:match("core\t([%d,]*)")
  local tiers, limited, from = out:match("(run %d+ .-)== limit(.-)== from(.-)== errors")
  T.contains(tiers, "run 1 (fps, count 6 × 5): core: ")
  local shown = {}
  for n in pairs(listed(tiers)) do shown[#shown + 1] = n end
  table.sort(shown)
  T.eq(table.concat(shown, ","), core, "only core images, with their own numbers")
  local rows = listed(limited)
  T.ok(rows[1] and rows[2] and not rows[3], limited)
  T.contains(limited, "… 4 more images: s:show{from=3}")
  rows = listed(from)
  T.ok(rows[5] and rows[6] and not rows[4], "from=5 starts at #5: " .. from)
  T.contains(out, "run:show: tier must be one of \"core\", \"stable\", \"variable\", \"excluded\" (got \"best\")")
  T.contains(out, "run:show: format must be one of \"auto\", \"symbols\", \"sixel\", \"kitty\", \"iterm\" (got \"png\")")
end)

T.test("img:show draws one image; graphics formats when asked", function()
  local dir = album(3)
  local out, err, code = run([[
local a = curator.open(arg[1])
a[2]:show{width = 40}
a[1]:show{format = "kitty", width = 40}
a[3]:show{format = "iterm", width = 40}
a[3]:show{format = "sixel", width = 40}
]], dir)
  T.eq(code, 0, err)
  T.contains(out, "img02.png\n")
  T.contains(out, "\27_Ga=T,f=32,")
  T.contains(out, "\27]1337;File=inline=1;")
  T.contains(out, "\27P")
end)

T.test("an unreadable file is a grey tile that says so; nothing crashes", function()
  local dir = album(3)
  local out, err, code = run([[
local a = curator.open(arg[1])
os.remove(arg[1] .. "/img02.png")
a:set(a:images()):show{width = 60}
]], dir)
  T.eq(code, 0, err)
  T.contains(out, "2 ? img02.png")
  T.contains(out, "2  img02.png  (unreadable: no such file)")
end)

T.test("without libchafa, show warns naming it and lists the numbered paths", function()
  local dir = album(3)
  local out, err, code = run("local a = curator.open(arg[1]); a:set(a:images()):show(); print('still here')", dir,
    "CURATOR_LIBCHAFA=/nonexistent/libchafa.so.0")
  T.eq(code, 0, err)
  T.contains(err, "cannot draw pictures in the terminal: libchafa (/nonexistent/libchafa.so.0) could not be loaded")
  T.contains(err, "CURATOR_LIBCHAFA")
  T.contains(out, "1  img01.png\n2  img02.png\n3  img03.png\n")
  T.contains(out, "still here")
end)

T.test("libchafa is loaded by the first sheet, not at start", function()
  local f = io.open("/proc/self/maps")
  if not f then return end -- no /proc (macOS)
  f:close()
  local dir = album(2)
  local probe = [[
local function mapped()
  for line in io.lines("/proc/self/maps") do if line:find("libchafa", 1, true) then return "mapped" end end
  return "not mapped"
end
local a = curator.open(arg[1])
print(mapped())
a[1]:show{width = 20}
print(mapped())
]]
  local out, err, code = run(probe, dir)
  T.eq(code, 0, err)
  T.ok(out:match("^not mapped\n"), out)
  T.ok(out:match("\nmapped\n$"), out)
end)
