-- Start-up: libvips (and its ~90 libraries) is loaded the first time an
-- image is read, not when curator starts; without it, curator says so.
local T = ...

local function run(args, env)
  return T.run(args, "", "CURATOR_PLUGIN_PATH= XDG_CONFIG_HOME=/nonexistent CURATOR_HOME=/nonexistent " .. (env or ""))
end

-- Prints "libvips mapped" or "libvips not mapped" for the running curator.
local probe = [[
local mapped = false
for line in io.lines("/proc/self/maps") do
  if line:find("libvips", 1, true) then mapped = true end
end
print(mapped and "libvips mapped" or "libvips not mapped")
]]

local has_proc = false
do
  local f = io.open("/proc/self/maps")
  if f then has_proc = true; f:close() end
end

T.test("a script that reads no image does not load libvips", function()
  if not has_proc then return end  -- no /proc (macOS): nothing to look at
  local out, err, code = run({ "-e", probe })
  T.eq(code, 0, err)
  T.eq(out, "libvips not mapped\n")
end)

T.test("reading the first image loads libvips", function()
  if not has_proc then return end
  local dir = T.fixture_album()
  local out, err, code = run({ "-e", "assert(curator.open(arg[1], {embed = false}))\n" .. probe, dir })
  T.eq(code, 0, err)
  T.eq(out, "libvips mapped\n")
end)

T.test("without libvips, opening an album that needs scanning gives nil and a message naming it", function()
  local dir = T.fixture_album()
  local missing = "CURATOR_LIBVIPS=/nonexistent/libvips.so.42"
  local out, err, code = run({ "-e", [[
local a, message = curator.open(arg[1], {embed = false})
print(a, message)
]], dir }, missing)
  T.eq(code, 0, err)
  T.contains(out, "nil\tcannot read images: libvips (/nonexistent/libvips.so.42) could not be loaded")
  T.contains(out, "CURATOR_LIBVIPS")

  -- Nothing was recorded as unreadable: with libvips the album opens whole.
  out, err, code = run({ "-e", "local a = assert(curator.open(arg[1], {embed = false})); print(#a)", dir })
  T.eq(code, 0, err)
  T.eq(out, "4\n")

  -- An album indexed before still opens; embedding says why it cannot run.
  out, err, code = run({ "-e", [[
local a = assert(curator.open(arg[1], {embed = false}))
print(#a, pcall(a.embed, a))
]], dir }, missing)
  T.eq(code, 0, err)
  T.contains(out, "4\tfalse\t")
  T.contains(out, "embedder 'pixels' cannot be used: libvips (/nonexistent/libvips.so.42) could not be loaded")
end)
