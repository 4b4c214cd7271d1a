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

T.test("piped: a long result is printed whole", function()
  local out, err, code = T.run({ "--no-plugins" }, "t = {} for i = 1, 90 do t[i] = 'entry ' .. i end\nt\n", env)
  T.eq(code, 0, err)
  T.contains(out, '"entry 45"')
  T.ok(not out:find("left out", 1, true), "nothing is left out when the input is piped")
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

-- On a terminal, through tmux: each test starts curator in a tmux window
-- of its own (lib/terminal.lua), with a fresh HOME.
local terminal = dofile(T.dir .. "/lib/terminal.lua")(T)

terminal.test("terminal: banner, prompts, multi-line input, completion, Ctrl-C, history", { env = env }, function(tmux, home)
  local album = T.fixture_album()
  tmux:wait("curator 0.1.0 (Lua 5.4) — help() for help; exit, quit or Ctrl-D to leave")
  tmux:wait("curator>")

  -- An expression prints its value.
  tmux:line("6 * 7")
  tmux:wait("42")

  -- Multi-line input continues with the ...> prompt.
  tmux:line("function twice(n)")
  tmux:wait("...>")
  tmux:line("return n * 2")
  tmux:line("end")
  tmux:line("twice(50)")
  tmux:wait("100")

  -- Completion of globals, table fields and host methods (never running getters).
  tmux:line("settings = {alpha = 1001, beta = 2}")
  tmux:type("settings.al"); tmux:keys("Tab")
  tmux:wait("settings.alpha")
  tmux:keys("Enter")
  tmux:wait("\n1001\n")
  tmux:line("a = curator.open('" .. album .. "', {embed=false}); print('op' .. 'ened')")
  tmux:wait("\nopened\n")
  tmux:type("a.exclusions:ad"); tmux:keys("Tab")
  tmux:wait("a.exclusions:add")
  tmux:line("(a[1]) .. ' added'")
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
  tmux:interrupt("curator>")
  tmux:line("'after ctrl-c'")
  tmux:wait('"after ctrl-c"')

  -- Ctrl-C during execution interrupts the chunk and returns to the prompt
  -- (sent once the chunk runs: one that overtook the line would only clear it).
  tmux:line("print('loop' .. 'ing') while true do end")
  tmux:wait("\nlooping\n")
  tmux:keys("C-c")
  tmux:wait("interrupted!")
  tmux:line("'still alive'")
  tmux:wait('"still alive"')

  -- Ctrl-D exits; the history was saved.
  tmux:keys("C-d")
  tmux:wait_exit()
  local f = assert(io.open(home .. "/data/curator/history"), "the history file exists")
  local history = f:read("a")
  f:close()
  T.contains(history, "6 * 7")
  T.contains(history, "twice(50)")
end)

terminal.test("terminal: a result longer than the window shows its first and last lines",
  { env = env, rest = " --no-plugins", size = { 150, 30 } }, function(tmux)
  tmux:wait("curator>")
  tmux:line("t = {} for i = 1, 90 do t[i] = 'entry ' .. i end")
  -- 92 lines ({, 90 entries, }) in a 30-line window: 27 shown, the marker one of them.
  tmux:line("t")
  local screen = tmux:wait("⋮ 66 lines left out; print(curator.pretty(_)) shows them all")
  T.contains(screen, '"entry 12"')
  T.contains(screen, '"entry 79"')
  T.contains(screen, '"entry 90"')
  T.ok(not screen:find('"entry 13"', 1, true) and not screen:find('"entry 78"', 1, true),
    "the middle of the result is left out")
  -- The hint works, and prints everything.
  tmux:line("print(curator.pretty(_))")
  tmux:wait('"entry 45"')
  -- A string as long as a file: one line of 6,002 characters, cut in its middle to 4 rows.
  tmux:line("string.rep('a', 3000) .. string.rep('z', 3000)")
  screen = tmux:wait("⋯ print(curator.pretty(_)) shows them all")
  T.contains(screen, "aaaa ⋯ 5432 charact")  -- (the window wraps the line after "charact")
  -- A short result is untouched.
  tmux:line("6 * 7")
  tmux:wait("\n42\n")
end)

terminal.test("terminal: a selection shows its bar, completes Run methods, and Ctrl-C cancels it", { env = env }, function(tmux)
  local maker = dofile(T.dir .. "/lib/album_maker.lua")
  local album = maker.album(T.tempdir() .. "/album", 8)
  tmux:wait("curator>")
  tmux:line("a = curator.open('" .. album .. "'); print('op' .. 'ened')")
  tmux:wait("\nopened\n")
  tmux:line("r = a:select{count=3, iterations=20, seed=7}")
  tmux:wait("FPS  count 3 × 20 iterations")
  tmux:wait("20/20")
  tmux:line("r")
  tmux:wait("<Run 1 fps count=3 iterations=20 seed=7: ")
  tmux:type("#r:whe"); tmux:keys("Tab")
  tmux:wait("#r:where")
  tmux:line("(0) >= 3")
  tmux:wait("\ntrue\n")
  tmux:line("curator.register_sampler('slow', function(ctx) local t = os.clock() while os.clock() - t < 0.05 do end return {ctx.candidates[1]} end)")
  tmux:line("s = a:select{method='slow', count=2, iterations=10000}")
  -- Ctrl-C once the selection runs (its bar shows), not before it started.
  tmux:wait("slow  count 2 × 10000 iterations")
  tmux:keys("C-c")
  tmux:wait("album:select: interrupted!")
  tmux:line("'alive ' .. #a:runs()")
  tmux:wait('"alive 1"')
  tmux:keys("C-d")
end)

terminal.test("terminal: Ctrl-C on an empty prompt stops the review page; on a typed line it only clears the line",
  { env = env, rest = " --no-plugins" }, function(tmux)
  local maker = dofile(T.dir .. "/lib/album_maker.lua")
  local album = maker.album(T.tempdir() .. "/album", 6)
  local listening = function(port)
    return os.execute("bash -c 'exec 3<>/dev/tcp/127.0.0.1/" .. port .. "' 2>/dev/null")
  end
  tmux:wait("curator>")
  tmux:line("a = curator.open('" .. album .. "', {embed=false}); v = a:review(); print('port=' .. v.port .. '=')")
  local screen = tmux:wait("review: http")
  local port = tmux:wait("\nport="):match("\nport=(%d+)=")
  T.ok(port and listening(port), "the page is served on port " .. tostring(port) .. "\n" .. screen)

  -- A line being typed: Ctrl-C clears it, the page stays (sent once readline shows the
  -- line: a Ctrl-C that overtook the typing would land on an empty prompt).
  tmux:type("this line is abandoned")
  tmux:wait("this line is abandoned")
  tmux:interrupt("curator>")
  tmux:line("'closed: ' .. tostring(v.closed)")
  tmux:wait('"closed: false"')
  T.ok(listening(port), "Ctrl-C on a typed line leaves the page served")

  -- An empty prompt: Ctrl-C stops the page and says so.
  tmux:keys("C-c")
  tmux:wait("review: stopped the page on port " .. port .. " (Ctrl-C)")
  tmux:line("'closed: ' .. tostring(v.closed)")
  tmux:wait('"closed: true"')
  T.ok(not listening(port), "nothing listens on port " .. port .. " any more")
  -- Ctrl-C again with nothing served: only a new prompt.
  tmux:interrupt("curator>")
  tmux:line("'still ' .. 'here'")
  tmux:wait('"still here"')
  T.eq(tmux:count("review: stopped"), 1, "one page, stopped once")
  tmux:keys("C-d")
end)

terminal.test("terminal: the banner says how to leave, and exit leaves",
  { env = env, rest = " --no-plugins; echo REPL-ENDED; sleep 5" }, function(tmux)
  tmux:wait("help() for help; exit, quit or Ctrl-D to leave")
  tmux:wait("curator>")
  tmux:line("exit")
  tmux:wait("REPL-ENDED")
end)

-- --run 99 ends it after embedding (no such run), before serving.
terminal.test("terminal: curator review --embed draws the REPL's progress bar while it embeds", {
  env = env,
  rest = function() return " review --embed " .. T.quote(T.fixture_album()) .. " --run 99; echo REVIEW-ENDED; sleep 5" end,
}, function(tmux)
  local screen = tmux:wait("REVIEW-ENDED")
  T.ok(screen:find("%a+  %[[^%]]+%] (%d+)/%1  %d+%.%d s"), screen)
  T.contains(screen, "█")
  T.contains(screen, "embedded, 0 already embedded")
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
    .. "  The flagged images of an album, ImageSet or list, in source order (an error when none of them has statistics: a:measure() first)\n")
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
