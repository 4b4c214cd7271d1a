-- Runs curator's Lua-level tests with the built curator:
--
--   curator Tests/lua/run.lua [name_test.lua ...]
--
-- Each *_test.lua file receives the test kit `T` as `...` and defines tests
-- with T.test(name, fn). The last line printed is "N passed, N failed"; the
-- exit status is 1 when any test failed.

local here = (arg[0]:match("^(.*)/[^/]*$") or ".")

-- The curator executable: $CURATOR_BIN, else the program this script runs in.
local function find_curator()
  local env = os.getenv("CURATOR_BIN")
  if env and env ~= "" then return env end
  local i = -1
  while arg[i - 1] do i = i - 1 end
  return arg[i]
end

local T = { dir = here, curator = find_curator(), fixtures = here .. "/fixtures" }
local tests = {}
local temporaries = {}

--- Registers a test.
function T.test(name, fn) tests[#tests + 1] = { name = name, fn = fn, file = T.current_file } end

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

--- Fails unless a == b.
function T.eq(got, want, what)
  if got ~= want then
    error((what and (what .. ": ") or "") .. "expected " .. show(want) .. ", got " .. show(got), 2)
  end
end

--- Fails unless v is truthy.
function T.ok(v, what)
  if not v then error((what or "expected a true value") .. " (got " .. show(v) .. ")", 2) end
  return v
end

--- Fails unless s contains the plain text `part`.
function T.contains(s, part, what)
  if type(s) ~= "string" or not s:find(part, 1, true) then
    error((what and (what .. ": ") or "") .. "expected " .. show(s) .. " to contain " .. show(part), 2)
  end
end

--- Calls fn(...) and returns its error message (failing when it succeeds).
--- With `want`, the message (without the "file:line: " prefix) must equal it.
function T.raises(want, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error("expected an error" .. (want and (" '" .. want .. "'") or ""), 2) end
  err = tostring(err)
  local bare = err:gsub("^[^:]*:%d+: ", "")
  if want and bare ~= want then
    error("expected error " .. show(want) .. ", got " .. show(err), 2)
  end
  return bare
end

--- A fresh temporary folder (removed at the end).
function T.tempdir()
  local p = io.popen("mktemp -d")
  local path = p:read("l")
  p:close()
  temporaries[#temporaries + 1] = path
  return path
end

--- The whole contents of a file (raises when it cannot be read).
function T.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

--- Quotes a word for the shell.
function T.quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

--- A copy of the fixture album in a temporary folder (so tests can change it).
function T.fixture_album()
  local dir = T.tempdir() .. "/album"
  assert(os.execute("cp -R " .. T.quote(T.fixtures .. "/album") .. " " .. T.quote(dir)))
  return dir
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

--- Runs the shell command line `cmd` (with `input` on stdin); returns
--- stdout, stderr and the exit status.
function T.sh(cmd, input)
  local dir = T.tempdir()
  local infile = dir .. "/in"
  local f = assert(io.open(infile, "wb"))
  f:write(input or "")
  f:close()
  local ok, how, code = os.execute("(" .. cmd .. ") < " .. T.quote(infile) .. " > " .. T.quote(dir .. "/out")
    .. " 2> " .. T.quote(dir .. "/err"))
  if how == "signal" then code = 128 + code end
  return slurp(dir .. "/out"), slurp(dir .. "/err"), code
end

--- Runs curator with the given (unquoted) argument words and stdin.
function T.run(args, input, env)
  local words = {}
  for i, a in ipairs(args) do words[i] = T.quote(a) end
  return T.sh((env or "") .. " " .. T.quote(T.curator) .. " " .. table.concat(words, " "), input)
end

-- Which files: the arguments, else every *_test.lua here.
local files = {}
for i = 1, #arg do files[#files + 1] = arg[i] end
if #files == 0 then
  local p = io.popen("ls " .. T.quote(here) .. " | grep '_test[.]lua$' | sort")
  for line in p:lines() do files[#files + 1] = here .. "/" .. line end
  p:close()
end

local loaded_ok = true
for _, file in ipairs(files) do
  T.current_file = file:match("[^/]*$")
  local chunk, err = loadfile(file, "t")
  if not chunk then
    print("FAIL " .. file .. ": " .. err)
    loaded_ok = false
  else
    local ok, e = pcall(chunk, T)
    if not ok then
      print("FAIL " .. file .. ": " .. tostring(e))
      loaded_ok = false
    end
  end
end

local passed, failed = 0, loaded_ok and 0 or 1
for _, t in ipairs(tests) do
  local ok, err = xpcall(t.fn, debug.traceback)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    print("FAIL " .. t.file .. ": " .. t.name .. "\n  " .. tostring(err):gsub("\n", "\n  "))
  end
end

for _, dir in ipairs(temporaries) do os.execute("rm -rf " .. T.quote(dir)) end
print(passed .. " passed, " .. failed .. " failed")
os.exit(failed == 0 and 0 or 1)
