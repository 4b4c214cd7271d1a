-- Random-argument fuzzing of every registered function, method and property.
--
--   curator Tests/lua/fuzz.lua ALBUM_DIR OTHER_ALBUM_DIR [CALLS] [SEED]
--
-- Every call runs in pcall: it may succeed or raise, but must raise a string
-- naming the API (or a Lua error from a callback), never crash the process.
-- Prints "fuzz: N calls (S ok, E errors), lua heap A -> B KB, rss C -> D KB".

local dir, other_dir = arg[1], arg[2]
local calls = tonumber(arg[3]) or 30000
local seed = tonumber(arg[4]) or 42
math.randomseed(seed)

local a = assert(curator.open(dir, { embed = false }))
local other = assert(curator.open(other_dir, { embed = false }))
-- One album with vectors, a run of it, and a (finished) sampler context.
a:embed()
local run = a:select { count = 2, iterations = 2, seed = 1 }
local map = a:map()
local clusters = a:clusters { min_size = 2 }
-- A review page, closed at once: its members are fuzzed without a server
-- (v:wait on an open one would block); pages the fuzzer opens are closed below.
local review = run:review()
review:close()
local ctx
curator.register_sampler("fuzz_capture", function(c) ctx = c; return { c.candidates[1] } end)
a:select { method = "fuzz_capture", count = 2, iterations = 1, seed = 1 }
-- Methods that write files get a fresh path here instead of a random one.
local out_dir = dir .. "/../fuzz-out"
os.execute("mkdir -p '" .. out_dir .. "'")
local writers = { export = true, csv = true, report = true, plot = true }
local written = 0

local function rss()
  local f = io.open("/proc/self/status")
  if not f then return 0 end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)")) or 0
end

-- Values to pass: every type, edge numbers, paths, nested and hostile tables,
-- throwing callbacks, objects of every host type and of another album.
local function pool()
  return {
    nil, true, false, 0, 1, -1, 2, 3, 4, 5, 1.5, -3, 0 / 0, math.huge, -math.huge, 2 ^ 53, 2 ^ 63,
    math.maxinteger, math.mininteger, 1e308, -0.0,
    "", "x", "red.png", "sub/blue.png", "green.jpg", "/nonexistent/zz", "\0", "\xff\xfe", string.rep("a", 300),
    "fps", "pixels", "auto", "photomap", "album:get", "Image", "%s%n",
    {}, { 1, 2, 3 }, { count = -3 }, { progress = function() error("progress callback failed") end },
    { progress = function() end }, { embed = false }, { scan = false, embed = false }, { indent = 2 },
    { a[1], "red.png", 2 }, { { { { { a[1] } } } } }, { [0 / 0 == 0 / 0 and 1 or 2] = 1, [true] = 1 },
    setmetatable({}, { __index = function() error("hostile __index") end, __len = function() error("hostile __len") end }),
    setmetatable({}, { __tostring = function() error("hostile __tostring") end }),
    print, function() error("boom") end, function() return 1 end, function(...) return ... end,
    coroutine.create(function() end),
    a, a[1], a[2], a[#a], a.exclusions, a.favorites, a:set(a[1]), clusters,
    other, other[1], other.exclusions,
    curator.json.null, io.stdout,
  }
end
local values = pool()
local nvalues = 0
for k in pairs(values) do if k > nvalues then nvalues = k end end

local function random_value()
  return values[math.random(1, nvalues)]
end

-- Targets: documented functions (resolved by name) and every type's members.
local catalog = curator.catalog()
local functions = {}
for _, f in ipairs(catalog.functions) do
  if f.name ~= "help" then -- help prints; curator.doc covers the same code
    local v = _G
    for part in f.name:gmatch("[^.]+") do v = type(v) == "table" and v[part] or nil end
    if type(v) == "function" then functions[#functions + 1] = { name = f.name, fn = v } end
  end
end

local instances = {
  Album = function() return ({ a, other })[math.random(2)] end,
  Image = function() return ({ a[1], a[2], a[3], other[1] })[math.random(4)] end,
  ImageSet = function() return ({ a.exclusions, a.favorites, a:set(a[2]), other.favorites })[math.random(4)] end,
  Run = function() return run end,
  Map = function() return map end,
  SamplerContext = function() return ctx end,
  Review = function() return review end,
  Clusters = function() return clusters end,
}
local members = {}
for _, t in ipairs(catalog.types) do
  local make = instances[t.name]
  if make then
    for _, m in ipairs(t.methods) do members[#members + 1] = { kind = "method", type = t.name, name = m.name, make = make } end
    for _, p in ipairs(t.properties) do
      members[#members + 1] = { kind = "get", type = t.name, name = p.name, make = make }
      members[#members + 1] = { kind = "set", type = t.name, name = p.name, make = make }
    end
    members[#members + 1] = { kind = "index", type = t.name, make = make }
    members[#members + 1] = { kind = "len", type = t.name, make = make }
    members[#members + 1] = { kind = "tostring", type = t.name, make = make }
    members[#members + 1] = { kind = "pairs", type = t.name, make = make }
  else
    error("fuzz: no instance maker for host type " .. t.name .. "; add one")
  end
end

-- curator.open must not be pointed at arbitrary folders (it would index them).
local safe_open_paths = { "/nonexistent/zz", dir, "", nil, 5, {}, a }
local function args_for(name)
  local n = math.random(0, 4)
  local args = {}
  for i = 1, n do args[i] = random_value() end
  if writers[name] and (type(args[1]) == "string" or math.random() < 0.8) then
    written = written + 1
    args[1] = out_dir .. "/" .. written
    if n < 1 then n = 1 end
  end
  if name == "curator.open" then
    args[1] = safe_open_paths[math.random(1, 7)]
    if args[1] == "" then args[1] = "/nonexistent/empty" end
  end
  return args, n
end

-- An error must name what failed: a binding ("album:get: ..."), a field
-- ("Image has no field ..."), or come from the fuzzer's own callbacks.
local known = { "attempt to get length of a Image value", "attempt to get length of a SamplerContext value", "attempt to get length of a Review value", "has no field", "is read-only", "cannot assign to", "boom", "hostile", "progress callback failed" }
local names = {}
for _, f in ipairs(catalog.functions) do names[#names + 1] = f.name .. ": " end
for _, t in ipairs(catalog.types) do
  for _, m in ipairs(t.methods) do names[#names + 1] = m.full_name .. ": " end
  for _, p in ipairs(t.properties) do names[#names + 1] = p.full_name .. ": " end
end
local function explained(message)
  for _, k in ipairs(known) do if message:find(k, 1, true) then return true end end
  for _, n in ipairs(names) do if message:find(n, 1, true) then return true end end
  return false
end

local ok_count, err_count = 0, 0
local function check(ok, err, what)
  if ok then
    ok_count = ok_count + 1
  else
    err_count = err_count + 1
    if type(err) ~= "string" then
      error(what .. " raised a non-string error: " .. tostring(err))
    end
    if not explained(err) then
      error(what .. " raised an error that names no API: " .. err)
    end
  end
end

local heap_before, rss_before
for i = 1, calls do
  if i == 2000 then
    collectgarbage()
    collectgarbage()
    heap_before, rss_before = collectgarbage("count"), rss()
  end
  if math.random() < 0.3 then
    local f = functions[math.random(#functions)]
    local args, n = args_for(f.name)
    local ok, err = pcall(f.fn, table.unpack(args, 1, n))
    check(ok, err, f.name)
  else
    local m = members[math.random(#members)]
    local obj = m.make()
    local ok, err
    if m.kind == "method" then
      local args, n = args_for(m.name)
      local fn = obj[m.name]
      if math.random() < 0.1 then
        ok, err = pcall(fn, random_value(), table.unpack(args, 1, n)) -- a wrong self
      else
        ok, err = pcall(fn, obj, table.unpack(args, 1, n))
      end
      -- a:review and r:review start a server: stop it, as a user would.
      if ok and m.name == "review" and tostring(err):find("^<Review") then err:close() end
    elseif m.kind == "get" then
      ok, err = pcall(function() return obj[m.name] end)
    elseif m.kind == "set" then
      local v = random_value()
      ok, err = pcall(function() obj[m.name] = v end)
    elseif m.kind == "index" then
      local k = random_value()
      ok, err = pcall(function() return obj[k] end)
    elseif m.kind == "len" then
      ok, err = pcall(function() return #obj end)
    elseif m.kind == "tostring" then
      ok, err = pcall(tostring, obj)
    else
      ok, err = pcall(function() for _ in pairs(obj) do end end)
    end
    check(ok, err, m.type .. " " .. m.kind .. " " .. tostring(m.name))
  end
  if i % 5000 == 0 then
    -- Sets grow with random adds; keep them small so the run stays fast.
    a.exclusions:clear(); a.favorites:clear(); other.exclusions:clear(); other.favorites:clear()
  end
end

collectgarbage()
collectgarbage()
local heap_after, rss_after = collectgarbage("count"), rss()
print(string.format("fuzz: %d calls (%d ok, %d errors), lua heap %.0f -> %.0f KB, rss %d -> %d KB",
  calls, ok_count, err_count, heap_before, heap_after, rss_before, rss_after))
if heap_after > heap_before * 2 + 4096 then error("fuzz: the Lua heap grew without bound") end
if rss_after > rss_before + 64 * 1024 then error("fuzz: resident memory grew by more than 64 MB") end
