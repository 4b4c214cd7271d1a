-- The REPL: piped (no terminal) and on a pseudo-terminal driven through tmux.
local T = ...

local env = "CURATOR_PLUGIN_PATH= CURATOR_HOME=/nonexistent XDG_CONFIG_HOME=/nonexistent NO_COLOR=1 "

T.test("piped: expressions print, statements run, _ holds the last value, no prompts", function()
  local input = table.concat({
    "1 + 1",
    "_ * 10",
    "x = {b = 2, a = {1, 2}}",
    "x",
    "function f(n)",
    "  return n * 2",
    "end",
    "f(21)",
    "'multi', 2",
    "print('printed')",
    "",
  }, "\n")
  local out, err, code = T.run({ "--no-plugins" }, input, env)
  T.eq(code, 0, err)
  T.eq(out, '2\n20\n{ a = { 1, 2 }, b = 2 }\n42\n"multi"\t2\nprinted\n')
  T.eq(err, "")
end)

T.test("piped: an error is reported with a traceback, later lines still run, exit status 1", function()
  local out, err, code = T.run({ "--no-plugins" }, "error('first')\nif then\n3 * 3\n", env)
  T.eq(out, "9\n")
  T.contains(err, "stdin:1: first")
  T.contains(err, "stack traceback:")
  T.contains(err, "stdin:1: unexpected symbol near 'then'")
  T.eq(code, 1)
end)

T.test("piped: an unfinished chunk at end of input is reported", function()
  local _, err, code = T.run({ "--no-plugins" }, "function g()\n", env)
  T.contains(err, "'end' expected")
  T.eq(code, 1)
end)

T.test("-i enters the REPL after the script", function()
  local dir = T.tempdir()
  local f = assert(io.open(dir .. "/setup.lua", "w"))
  f:write("greeting = 'hello'\n")
  f:close()
  local out, err, code = T.run({ "--no-plugins", "-i", dir .. "/setup.lua" }, "greeting .. '!'\n", env)
  T.eq(code, 0, err)
  T.eq(out, '"hello!"\n')
end)

-- On a terminal, through tmux.

local function have_tmux()
  local ok = os.execute("command -v tmux >/dev/null 2>&1")
  return ok
end

local Tmux = {}
Tmux.__index = Tmux

local function shell(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  p:close()
  return out
end

function Tmux.start(command)
  local self = setmetatable({ socket = "curator-test-" .. os.time() .. "-" .. math.random(1e6) }, Tmux)
  self.tmux = "tmux -L " .. self.socket .. " "
  os.execute(self.tmux .. "new-session -d -s t -x 150 -y 50 " .. T.quote(command))
  return self
end

-- Starts curator (then `rest` of the shell line, if any) in tmux with HOME and
-- XDG_DATA_HOME inside `home`, so its history and config never touch the user's.
function Tmux.curator(home, rest)
  return Tmux.start("env HOME=" .. home .. " XDG_DATA_HOME=" .. home .. "/data " .. env .. T.quote(T.curator) .. (rest or ""))
end

function Tmux:screen()
  return shell(self.tmux .. "capture-pane -p -t t -S -200")
end

function Tmux:keys(...)
  local words = {}
  for i, k in ipairs({ ... }) do words[i] = T.quote(k) end
  os.execute(self.tmux .. "send-keys -t t " .. table.concat(words, " "))
end

--- Types text literally (no key names).
function Tmux:type(text)
  os.execute(self.tmux .. "send-keys -t t -l " .. T.quote(text))
end

--- How many times the screen contains `text` (plain).
function Tmux:count(text, screen)
  screen = screen or self:screen()
  local n, from = 0, 1
  while true do
    local s, e = screen:find(text, from, true)
    if not s then return n end
    n, from = n + 1, e + 1
  end
end

--- Waits until the screen contains `text` (plain) `count` times; fails after
--- 15 s (a loaded machine can take seconds to echo a key).
function Tmux:wait(text, count)
  count = count or 1
  local screen
  for _ = 1, 300 do
    screen = self:screen()
    if self:count(text, screen) >= count then return screen end
    os.execute("sleep 0.05")
  end
  error("timed out waiting for " .. string.format("%q", text) .. " on screen:\n" .. screen, 2)
end

function Tmux:stop()
  os.execute(self.tmux .. "kill-server >/dev/null 2>&1")
end

T.test("terminal: banner, prompts, multi-line input, completion, Ctrl-C, history", function()
  if not have_tmux() then
    print("SKIP repl_test.lua terminal test: tmux is not installed")
    return
  end
  local home = T.tempdir()
  local album = T.fixture_album()
  local tmux = Tmux.curator(home)
  local ok, err = pcall(function()
    tmux:wait("curator 0.1.0 (Lua 5.4) — help() for help; exit, quit or Ctrl-D to leave")
    tmux:wait("curator>")

    -- An expression prints its value.
    tmux:type("6 * 7"); tmux:keys("Enter")
    tmux:wait("42")

    -- Multi-line input continues with the ...> prompt.
    tmux:type("function twice(n)"); tmux:keys("Enter")
    tmux:wait("...>")
    tmux:type("return n * 2"); tmux:keys("Enter")
    tmux:type("end"); tmux:keys("Enter")
    tmux:type("twice(50)"); tmux:keys("Enter")
    tmux:wait("100")

    -- Completion of globals, table fields and host methods (never running getters).
    tmux:type("settings = {alpha = 1001, beta = 2}"); tmux:keys("Enter")
    tmux:type("settings.al"); tmux:keys("Tab")
    tmux:wait("settings.alpha")
    tmux:keys("Enter")
    tmux:wait("\n1001\n")
    tmux:type("a = curator.open('" .. album .. "', {embed=false}); print('op' .. 'ened')"); tmux:keys("Enter")
    tmux:wait("\nopened\n")
    tmux:type("a.exclusions:ad"); tmux:keys("Tab")
    tmux:wait("a.exclusions:add")
    tmux:type("(a[1]) .. ' added'"); tmux:keys("Enter")
    tmux:wait('"1 added"')
    -- ...also after an index expression: a[i] is an Image (from the catalog).
    tmux:type("a[2].capt"); tmux:keys("Tab")
    tmux:wait("a[2].caption")
    tmux:keys("C-u")
    -- "twice" is on the screen already (its definition): wait for one more.
    local seen = tmux:count("twice")
    tmux:type("twi"); tmux:keys("Tab")
    tmux:wait("twice", seen + 1)
    tmux:keys("C-u")

    -- Ctrl-C at the prompt clears the line.
    tmux:type("this line is abandoned")
    -- Only once readline shows it: a Ctrl-C that overtakes the typing on a
    -- loaded machine clears nothing and the test would see the next line glued on.
    tmux:wait("this line is abandoned")
    tmux:keys("C-c")
    tmux:type("'after ctrl-c'"); tmux:keys("Enter")
    tmux:wait('"after ctrl-c"')

    -- Ctrl-C during execution interrupts the chunk and returns to the prompt.
    tmux:type("while true do end"); tmux:keys("Enter")
    os.execute("sleep 0.3")
    tmux:keys("C-c")
    tmux:wait("interrupted!")
    tmux:type("'still alive'"); tmux:keys("Enter")
    tmux:wait('"still alive"')

    -- Ctrl-D exits; the history was saved.
    tmux:keys("C-d")
    for _ = 1, 100 do
      if shell(tmux.tmux .. "has-session -t t 2>&1"):find("can't find") or shell(tmux.tmux .. "ls 2>&1"):find("no server") then break end
      os.execute("sleep 0.05")
    end
  end)
  local screen = ok and "" or tmux:screen()
  tmux:stop()
  if not ok then error(tostring(err) .. "\n--- screen ---\n" .. screen, 0) end
  local f = assert(io.open(home .. "/data/curator/history"), "the history file exists")
  local history = f:read("a")
  f:close()
  T.contains(history, "6 * 7")
  T.contains(history, "twice(50)")
end)

T.test("terminal: a selection shows its bar, completes Run methods, and Ctrl-C cancels it", function()
  if not have_tmux() then
    print("SKIP repl_test.lua selection test: tmux is not installed")
    return
  end
  local maker = dofile(T.dir .. "/lib/album_maker.lua")
  local album = maker.album(T.tempdir() .. "/album", 8)
  local home = T.tempdir()
  local tmux = Tmux.curator(home)
  local ok, err = pcall(function()
    tmux:wait("curator>")
    tmux:type("a = curator.open('" .. album .. "'); print('op' .. 'ened')"); tmux:keys("Enter")
    tmux:wait("\nopened\n")
    tmux:type("r = a:select{count=3, iterations=20, seed=7}"); tmux:keys("Enter")
    tmux:wait("FPS  count 3 × 20 iterations")
    tmux:wait("20/20")
    tmux:type("r"); tmux:keys("Enter")
    tmux:wait("<Run 1 fps count=3 iterations=20 seed=7: ")
    tmux:type("#r:whe"); tmux:keys("Tab")
    tmux:wait("#r:where")
    tmux:type("(0) >= 3"); tmux:keys("Enter")
    tmux:wait("\ntrue\n")
    tmux:type("curator.register_sampler('slow', function(ctx) local t = os.clock() while os.clock() - t < 0.05 do end return {ctx.candidates[1]} end)")
    tmux:keys("Enter")
    tmux:type("s = a:select{method='slow', count=2, iterations=10000}"); tmux:keys("Enter")
    os.execute("sleep 0.5")
    tmux:keys("C-c")
    tmux:wait("album:select: interrupted!")
    tmux:type("'alive ' .. #a:runs()"); tmux:keys("Enter")
    tmux:wait('"alive 1"')
    tmux:keys("C-d")
  end)
  local screen = ok and "" or tmux:screen()
  tmux:stop()
  if not ok then error(tostring(err) .. "\n--- screen ---\n" .. screen, 0) end
end)

T.test("terminal: Ctrl-C on an empty prompt stops the review page; on a typed line it only clears the line", function()
  if not have_tmux() then
    print("SKIP repl_test.lua review Ctrl-C test: tmux is not installed")
    return
  end
  local maker = dofile(T.dir .. "/lib/album_maker.lua")
  local album = maker.album(T.tempdir() .. "/album", 6)
  local home = T.tempdir()
  local tmux = Tmux.curator(home, " --no-plugins")
  local listening = function(port)
    return os.execute("bash -c 'exec 3<>/dev/tcp/127.0.0.1/" .. port .. "' 2>/dev/null")
  end
  local ok, err = pcall(function()
    tmux:wait("curator>")
    tmux:type("a = curator.open('" .. album .. "', {embed=false}); v = a:review(); print('port=' .. v.port .. '=')"); tmux:keys("Enter")
    local screen = tmux:wait("review: http")
    local port = tmux:wait("\nport="):match("\nport=(%d+)=")
    T.ok(port and listening(port), "the page is served on port " .. tostring(port) .. "\n" .. screen)

    -- A line being typed: Ctrl-C clears it, the page stays (sent once readline shows the
    -- line: a Ctrl-C that overtook the typing would land on an empty prompt).
    tmux:type("this line is abandoned")
    tmux:wait("this line is abandoned")
    tmux:keys("C-c")
    tmux:type("'closed: ' .. tostring(v.closed)"); tmux:keys("Enter")
    tmux:wait('"closed: false"')
    T.ok(listening(port), "Ctrl-C on a typed line leaves the page served")

    -- An empty prompt: Ctrl-C stops the page and says so.
    tmux:keys("C-c")
    tmux:wait("review: stopped the page on port " .. port .. " (Ctrl-C)")
    tmux:type("'closed: ' .. tostring(v.closed)"); tmux:keys("Enter")
    tmux:wait('"closed: true"')
    T.ok(not listening(port), "nothing listens on port " .. port .. " any more")
    -- Ctrl-C again with nothing served: only a new prompt.
    tmux:keys("C-c")
    tmux:type("'still ' .. 'here'"); tmux:keys("Enter")
    tmux:wait('"still here"')
    T.eq(tmux:count("review: stopped"), 1, "one page, stopped once")
    tmux:keys("C-d")
  end)
  local screen = ok and "" or tmux:screen()
  tmux:stop()
  if not ok then error(tostring(err) .. "\n--- screen ---\n" .. screen, 0) end
end)

T.test("exit and quit leave the REPL (bare or called), unless a global of that name exists", function()
  for _, word in ipairs({ "exit", "quit", "exit()", "quit()", "  quit  " }) do
    local out, err, code = T.run({ "--no-plugins" }, "1 + 1\n" .. word .. "\n2 + 2\n", env)
    T.eq(code, 0, err)
    T.eq(out, "2\n", word)
    T.eq(err, "", word)
  end
  -- A script's own `exit` function is called, not taken for the command.
  local out, err, code = T.run({ "--no-plugins" }, "function exit() print('mine') end\nexit()\n3\n", env)
  T.eq(code, 0, err)
  T.eq(out, "mine\n3\n")
end)

T.test("terminal: the banner says how to leave, and exit leaves", function()
  if not have_tmux() then
    print("SKIP repl_test.lua exit test: tmux is not installed")
    return
  end
  local home = T.tempdir()
  local tmux = Tmux.curator(home, " --no-plugins; echo REPL-ENDED; sleep 5")
  local ok, err = pcall(function()
    tmux:wait("help() for help; exit, quit or Ctrl-D to leave")
    tmux:wait("curator>")
    tmux:type("exit"); tmux:keys("Enter")
    tmux:wait("REPL-ENDED")
  end)
  tmux:stop()
  assert(ok, err)
end)

T.test("terminal: curator review --embed draws the REPL's progress bar while it embeds", function()
  if not have_tmux() then
    print("SKIP repl_test.lua review --embed test: tmux is not installed")
    return
  end
  local home = T.tempdir()
  local album = T.fixture_album()
  -- --run 99 ends it after embedding (no such run), before serving.
  local tmux = Tmux.curator(home, " review --embed " .. T.quote(album) .. " --run 99; echo REVIEW-ENDED; sleep 5")
  local ok, err = pcall(function()
    local screen = tmux:wait("REVIEW-ENDED")
    T.ok(screen:find("%a+  %[[^%]]+%] (%d+)/%1  %d+%.%d s"), screen)
    T.contains(screen, "█")
    T.contains(screen, "embedded, 0 already embedded")
  end)
  tmux:stop()
  assert(ok, err)
end)

T.test("plugins are reachable by name and document their functions for help()", function()
  local out, err, code = T.run({}, table.concat({
    "curator.plugins.quality.name",
    "#curator.plugins == 4 and curator.plugins[1].name",
    "help(curator.plugins.quality.flag)",
    "help('quality')",
    "help(curator.plugins.dedup.plan)",
  }, "\n") .. "\n", "CURATOR_PLUGIN_PATH= XDG_CONFIG_HOME=/nonexistent NO_COLOR=1")
  T.eq(code, 0, err)
  T.contains(out, '"quality"\n"captions"\n')
  T.contains(out, "quality.flag(source [, {thresholds=, only=, unreadable=}]) -> {{image=, issues=}, ...}\n"
    .. "  The flagged images of an album, ImageSet or list, in source order\n")
  T.contains(out, "quality.images(flagged)")
  T.contains(out, "dedup.plan(a [, {threshold=0.997}])")
  T.ok(not out:find("without documentation", 1, true), out)
end)

T.test("a plugin's help table must document functions it has", function()
  local dir = T.tempdir()
  local f = assert(io.open(dir .. "/wrong.lua", "w"))
  f:write("return { name = 'wrong', help = { missing = 'wrong.missing()\\nnot there' } }")
  f:close()
  local _, err = T.run({ "-e", "return 1" }, "", "CURATOR_HOME=/nonexistent XDG_CONFIG_HOME=/nonexistent CURATOR_PLUGIN_PATH=" .. T.quote(dir))
  T.contains(err, "plugin 'wrong' failed to load: " .. dir .. "/wrong.lua: help.missing documents a function the plugin does not have")
end)
