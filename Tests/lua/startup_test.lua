-- Start-up: libvips (and its ~90 libraries) is loaded the first time an
-- image is read, OpenBLAS the first time something is computed, not when
-- curator starts; without them, curator says so.
local T = ...

local function run(args, env)
  return T.run(args, "", "CURATOR_PLUGIN_PATH= XDG_CONFIG_HOME=/nonexistent CURATOR_HOME=/nonexistent " .. (env or ""))
end

-- Prints "libvips mapped" or "libvips not mapped", then the same for
-- libopenblas, for the running curator.
local probe = [[
local function mapped(name)
  for line in io.lines("/proc/self/maps") do
    if line:find(name, 1, true) then return name .. " mapped" end
  end
  return name .. " not mapped"
end
print(mapped("libvips"), mapped("libopenblas"))
]]

local has_proc = false
do
  local f = io.open("/proc/self/maps")
  if f then has_proc = true; f:close() end
end

T.test("a script that reads no image and computes nothing loads neither libvips nor OpenBLAS", function()
  if not has_proc then return end  -- no /proc (macOS): nothing to look at
  local out, err, code = run({ "-e", probe })
  T.eq(code, 0, err)
  T.eq(out, "libvips not mapped\tlibopenblas not mapped\n")
end)

T.test("reading the first image loads libvips; the first selection loads OpenBLAS", function()
  if not has_proc then return end
  local dir = T.fixture_album()
  local out, err, code = run({ "-e", "assert(curator.open(arg[1], {embed = false}))\n" .. probe, dir })
  T.eq(code, 0, err)
  T.eq(out, "libvips mapped\tlibopenblas not mapped\n")
  out, err, code = run({ "-e", "local a = assert(curator.open(arg[1])); a:select{count = 2}\n" .. probe, dir })
  T.eq(code, 0, err)
  T.eq(out, "libvips mapped\tlibopenblas mapped\n")
end)

T.test("without OpenBLAS, a selection raises an error naming it", function()
  local dir = T.fixture_album()
  local out, err, code = run({ "-e", [[
local a = assert(curator.open(arg[1]))
print(pcall(a.select, a, {count = 2}))
]], dir }, "CURATOR_LIBOPENBLAS=/nonexistent/libopenblas.so.0")
  T.eq(code, 0, err)
  T.contains(out, "false\t")
  T.contains(out, "cannot compute: OpenBLAS (/nonexistent/libopenblas.so.0) could not be loaded")
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
