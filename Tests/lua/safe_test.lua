-- --safe is read-only and bounded; every script is interruptible (issue 15, items 3 and 4).
local T = ...

local function run(args, input, env)
  return T.run(args, input, "CURATOR_PLUGIN_PATH= XDG_CONFIG_HOME=/nonexistent CURATOR_HOME=/nonexistent " .. (env or ""))
end

-- The files of a folder (names, sorted, hidden ones too), as one string.
local function listing(dir)
  return (T.sh("cd " .. T.quote(dir) .. " && find . | sort"))
end

local function exists(path) return (T.sh("test -e " .. T.quote(path) .. " && echo yes")) == "yes\n" end

local function seconds() return tonumber((T.sh("date +%s.%N"))) end

local REFUSED = "which safe mode (--safe) does not allow"

T.test("--safe: every change to an album's index raises, naming the API; the index stays byte-identical", function()
  local dir = T.fixture_album()
  local cache = T.tempdir()
  local env = "XDG_CACHE_HOME=" .. T.quote(cache)
  -- Indexed without --safe: an exclusion, a favorite, a saved run.
  local out, err, status = run({ "-e", [[
local a = assert(curator.open(arg[1]))
a.exclusions:add(a[1]); a.favorites:add(a[2])
a:select{count = 2, iterations = 3, seed = 1}
]], dir }, nil, env)
  T.eq(status, 0, err)
  local index = dir .. "/.curator/album.sqlite"
  local before = { main = T.read(index), wal = exists(index .. "-wal") and T.read(index .. "-wal") or nil }
  local files = listing(dir)

  out, err, status = run({ "--safe", "-e", [[
local a = assert(curator.open(arg[1]))
local r = a:select{count = 2, iterations = 3, seed = 2}
print("run", r.id, #a:runs(), a:run(r.id) == r, #r.selection, r:frequency(r.selection[1]) > 0)
local img = a[3]
for _, call in ipairs{
  function() return a.exclusions:add(img) end,
  function() return a.exclusions:remove(a[1]) end,
  function() return a.exclusions:clear() end,
  function() img.excluded = true end,
  function() img.favorite = true end,
  function() return a.favorites:add(img) end,
  function() return a.favorites:remove(a[2]) end,
  function() return a.favorites:clear() end,
  function() return r:favorite() end,
  function() return a:embed() end,
  function() return a:embed("pixels") end,
  function() return a:import(arg[1] .. "/x.npz") end,
  function() return a:scan() end,
  function() return r:csv(arg[1] .. "/x.csv") end,
} do print(select(2, pcall(call))) end
print("after", #a.exclusions, #a.favorites, img.excluded, img.favorite)
]], dir }, nil, env)
  T.eq(status, 0, err)
  -- The run works, numbered after the saved one, and is kept in memory.
  T.contains(out, "run\t2\t2\ttrue\t2\ttrue\n")
  for _, want in ipairs{
    "imageset:add: changing the exclusions would write to the album's index, " .. REFUSED,
    "imageset:remove: changing the exclusions would write to the album's index, " .. REFUSED,
    "imageset:clear: changing the exclusions would write to the album's index, " .. REFUSED,
    "image.excluded: changing the exclusions would write to the album's index, " .. REFUSED,
    "image.favorite: changing the favorites would write to the album's index, " .. REFUSED,
    "imageset:add: changing the favorites would write to the album's index, " .. REFUSED,
    "imageset:remove: changing the favorites would write to the album's index, " .. REFUSED,
    "imageset:clear: changing the favorites would write to the album's index, " .. REFUSED,
    "run:favorite: changing the favorites would write to the album's index, " .. REFUSED,
    "album:embed: computing embeddings would write to the album's index, " .. REFUSED,
    "album:import: importing embeddings would write to the album's index, " .. REFUSED,
    "album:scan: rescanning the folder would write to the album's index, " .. REFUSED,
    "run:csv: writes files, " .. REFUSED,
  } do T.contains(out, want) end
  T.contains(out, "after\t1\t1\tfalse\tfalse\n")

  T.eq(T.read(index), before.main, "album.sqlite is byte-identical")
  if before.wal then T.eq(T.read(index .. "-wal"), before.wal, "its write-ahead log is byte-identical") end
  -- SQLite's own -wal/-shm companions aside, nothing new in the album or the cache.
  local strip = function(s) return (s:gsub("[^\n]*%-shm\n", ""):gsub("[^\n]*%-wal\n", "")) end
  T.eq(strip(listing(dir)), strip(files))
  T.eq(listing(cache), ".\n")

  -- The index still holds exactly what it held: one saved run, the same sets.
  out, err, status = run({ "-e", "local a = assert(curator.open(arg[1], {scan = false, embed = false})) print(#a:runs(), #a.exclusions, #a.favorites)", dir }, nil, env)
  T.eq(status, 0, err)
  T.eq(out, "1\t1\t1\n")
end)

T.test("--safe: a:measure() on a measured album measures nothing and writes nothing; on an unmeasured one it refuses", function()
  local dir = T.fixture_album()
  local out, err, status = run({ "-e", "assert(curator.open(arg[1]))", dir })
  T.eq(status, 0, err)
  local index = dir .. "/.curator/album.sqlite"
  local before = T.read(index)
  out, err, status = run({ "--safe", "-e", "print(assert(curator.open(arg[1])):measure())", dir })
  T.eq(status, 0, err)
  T.eq(out, "0\n")
  T.eq(T.read(index) == before, true, "safe mode wrote nothing")
  -- Never measured (indexed without embedding): refused, naming the API.
  local bare = T.fixture_album()
  out, err, status = run({ "-e", "assert(curator.open(arg[1], {embed = false}))", bare })
  T.eq(status, 0, err)
  out, err, status = run({ "--safe", "-e", "print(pcall(assert(curator.open(arg[1])).measure, curator.open(arg[1])))", bare })
  T.eq(status, 0, err)
  T.contains(out, "album:measure: measuring image statistics would write to the album's index, " .. REFUSED)
end)

T.test("--safe refuses an album without an index and creates nothing anywhere", function()
  local root = T.tempdir()
  local dir = root .. "/plain"
  assert(os.execute("mkdir " .. T.quote(dir) .. " && cp " .. T.quote(T.fixtures .. "/album/red.png") .. " "
    .. T.quote(T.fixtures .. "/embeddings/photomap_f32.npz") .. " " .. T.quote(dir)))
  local cache = T.tempdir()
  local before = listing(root)
  local out, err, status = run({ "--safe", "-e", [[
print(curator.open(arg[1]))
print(curator.open(arg[1] .. "/photomap_f32.npz"))
print(pcall(curator.open, arg[1], {scan = true}))
]], dir }, nil, "XDG_CACHE_HOME=" .. T.quote(cache))
  T.eq(status, 0, err)
  T.contains(out, "nil\t" .. dir .. " has no index yet, and making one would write beside it, " .. REFUSED
    .. "; index it first by opening it without --safe\n")
  T.contains(out, "nil\t" .. dir .. "/photomap_f32.npz has no index yet")
  T.eq(listing(root), before, "no .curator was created")
  T.eq(listing(cache), ".\n", "nothing in the cache folder either")
end)

T.test("pcall cannot swallow Ctrl-C (SIGINT)", function()
  local t0 = seconds()
  local out, err, status = T.sh("CURATOR_PLUGIN_PATH= timeout --foreground -k 5 --preserve-status -s INT 0.5 " .. T.quote(T.curator)
    .. " --no-plugins -e " .. T.quote("while true do pcall(function() while true do end end) end"))
  T.eq(status, 1, err)
  T.contains(err, "interrupted!")
  T.ok(seconds() - t0 < 4, "stopped promptly")
  -- Nor can xpcall, an error handler that loops, or a coroutine.
  for _, code in ipairs{
    "while true do xpcall(function() while true do end end, function(e) return e end) end",
    "while true do pcall(coroutine.wrap(function() while true do pcall(error) end end)) end",
  } do
    out, err, status = T.sh("CURATOR_PLUGIN_PATH= timeout --foreground -k 5 --preserve-status -s INT 0.5 " .. T.quote(T.curator)
      .. " --no-plugins -e " .. T.quote(code))
    T.eq(status, 1, code .. "\n" .. err)
    T.contains(err, "interrupted!", code)
  end
end)

T.test("--timeout ends a script whose pcall swallows errors; --safe has a deadline by default", function()
  local t0 = seconds()
  local out, err, status = run({ "--timeout", "1", "-e", "while true do pcall(function() while true do end end) end" })
  local took = seconds() - t0
  T.eq(status, 1, err)
  T.contains(err, "timeout: still running after 1 s (--timeout)")
  T.ok(took >= 0.9 and took < 4, "took " .. took .. " s")
  -- The deadline is per chunk: each -e gets its own.
  out, err, status = run({ "--timeout", "3", "-e", "io.popen('sleep 2'):close()",
    "-e", "io.popen('sleep 2'):close() print('both')" })
  T.eq(status, 0, err)
  T.eq(out, "both\n")
  out, err, status = run({ "--safe", "--help" })
  T.contains(out, "--timeout 300 unless given")
end)

T.test("a C loop that ignores the interrupt: a second Ctrl-C ends the process, and --timeout ends it after a grace", function()
  local loop = "table.move({}, 1, 1e15, 2)"
  local out = T.sh("CURATOR_PLUGIN_PATH= " .. T.quote(T.curator) .. " --no-plugins -e " .. T.quote(loop) .. " & p=$!; "
    .. "sleep 0.5; kill -INT $p; sleep 0.5; kill -0 $p && echo alive; kill -INT $p; wait $p; echo status=$?")
  T.eq(out, "alive\nstatus=130\n")
  local t0 = seconds()
  local _, err, status = run({ "--timeout", "0.5", "-e", loop })
  local took = seconds() - t0
  T.eq(status, 1, err)
  T.contains(err, "still running 5 s after --timeout 0.5 s; ending the process")
  T.ok(took > 5 and took < 9, "took " .. took .. " s")
end)

T.test("--max-memory: a script filling memory gets a clean 'not enough memory'", function()
  local t0 = seconds()
  local out, err, status = run({ "--max-memory", "64M", "-e", "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end" })
  T.eq(status, 1, err)
  T.contains(err, "not enough memory (Lua may hold at most 64 MB; raise it with --max-memory)")
  T.ok(seconds() - t0 < 30, "stopped")
  -- Caught, it frees what it held, and the script goes on.
  out, err, status = run({ "--max-memory", "64M", "-e", [[
local ok, e = pcall(function() local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end end)
print(ok, e)
print(pcall(string.rep, "x", 1e9))
collectgarbage()
print(#("y"):rep(1e6), collectgarbage("count") < 4096)
]] })
  T.eq(status, 0, err)
  T.eq(out, "false\tnot enough memory\nfalse\tnot enough memory\n1000000\ttrue\n")
  -- Without the option the limit is a quarter of RAM; 0 lifts it.
  out, err, status = run({ "--max-memory", "0", "-e", "print(#('x'):rep(1e8))" })
  T.eq(status, 0, err)
  T.eq(out, "100000000\n")
  out, err, status = run({ "--max-memory", "lots", "-e", "print(1)" })
  T.eq(status, 2)
  T.contains(err, "'lots' is not a size")
end)

T.test("a backtracking string pattern is stopped by --timeout and by Ctrl-C, also inside pcall", function()
  local code = "while true do pcall(string.find, ('a'):rep(40), ('a*'):rep(40) .. 'b') end"
  local t0 = seconds()
  local _, err, status = run({ "--timeout", "1", "-e", code })
  T.eq(status, 1, err)
  T.contains(err, "timeout: still running after 1 s (--timeout)")
  T.ok(seconds() - t0 < 4, "stopped within the grace period, not ended by the watchdog")
  T.ok(not err:find("ending the process", 1, true), err)
  for _, call in ipairs{ "string.match", "string.gsub", "string.gmatch" } do
    local loop = "local s, p = ('a'):rep(40), ('a*'):rep(40) .. 'b'; local r = " .. call .. "(s, p" .. (call == "string.gsub" and ", ''" or "") .. ")"
      .. (call == "string.gmatch" and "; r()" or "")
    -- The Ctrl-C is sent once curator says it is about to match, not after a
    -- fixed delay: under load a slow start could meet it before its handler
    -- is installed (status 130). Only curator gets it, not the process group:
    -- two at once would end it, as they end lua.c. A runaway match is killed.
    local dir = T.tempdir()
    local started = dir .. "/started"
    local script = "CURATOR_PLUGIN_PATH= " .. T.quote(T.curator) .. " --no-plugins -e "
      .. T.quote("io.open(" .. string.format("%q", started) .. ", 'w'):close(); " .. loop) .. " & pid=$!; "
      .. "( sleep 60; kill -KILL $pid ) 2>/dev/null & watchdog=$!; "
      .. "until [ -e " .. T.quote(started) .. " ]; do sleep 0.05; done; sleep 0.2; kill -INT $pid; "
      .. "wait $pid; status=$?; kill $watchdog 2>/dev/null; exit $status"
    local _, err2, status2 = T.sh(script)
    T.eq(status2, 1, call .. ": " .. err2)
    T.contains(err2, "interrupted!", call)
  end
end)

T.test("once an interrupt is over, a coroutine made while it was pending runs undisturbed", function()
  -- The message handler runs without hooks (the error came from one), so it
  -- can make a coroutine; that coroutine inherits the interrupt's hook.
  local input = "xpcall(function() while true do end end, function(e) co = coroutine.create(function() return 'fine' end) return e end) x = 1\n"
    .. "print(coroutine.resume(co))\n"
  local out, err = run({ "--timeout", "0.5" }, input)
  T.contains(err, "timeout: still running after 0.5 s")
  T.eq(out, "true\tfine\n")
end)
