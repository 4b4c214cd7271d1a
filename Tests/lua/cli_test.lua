-- The command line (README: Command line, Plugins): scripts with arg, -e, -, --safe, exit codes, plugins.
local T = ...

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

-- Runs curator without the user's or shipped plugins unless asked.
local function run(args, input, env)
  return T.run(args, input, "CURATOR_PLUGIN_PATH= XDG_CONFIG_HOME=/nonexistent CURATOR_HOME=/nonexistent " .. (env or ""))
end

T.test("a script gets its arguments untouched, also ones starting with a dash", function()
  local dir = T.tempdir()
  local script = write(dir .. "/wf.lua", [[
print(arg[0], #arg, ...)
for i = 1, #arg do io.write(arg[i], "|") end
print()
]])
  local out, err, code = run({ script, "--count", "150", "-e", "x", "--safe" })
  T.eq(code, 0, err)
  T.eq(out, script .. "\t5\t--count\t150\t-e\tx\t--safe\n--count|150|-e|x|--safe|\n")
end)

T.test("arg[-n] holds the program and the options before the script", function()
  local dir = T.tempdir()
  local script = write(dir .. "/a.lua", "print(arg[-1], arg[-2] ~= nil)")
  local out, _, code = run({ "--no-plugins", script })
  T.eq(code, 0)
  T.eq(out, "--no-plugins\ttrue\n")
end)

T.test("-e runs code; the following words are its arguments", function()
  local out, err, code = run({ "-e", "print(#arg, arg[0], ...)", "a", "--b" })
  T.eq(code, 0, err)
  T.eq(out, "2\t-e\ta\t--b\n")
  out, _, code = run({ "-e", "x = 2", "-e", "print(x * 21)" })
  T.eq(out, "42\n")
end)

T.test("- runs the script on stdin", function()
  local out, _, code = run({ "-", "one" }, "print('from stdin', ...)\n")
  T.eq(code, 0)
  T.eq(out, "from stdin\tone\n")
end)

T.test("a shebang line is skipped and line numbers stay right", function()
  local dir = T.tempdir()
  local script = write(dir .. "/s.lua", "#!/usr/bin/env curator\nprint('ok')\nerror('at line 3')\n")
  local out, err, code = run({ script })
  T.eq(out, "ok\n")
  T.eq(code, 1)
  T.contains(err, "s.lua:3: at line 3")
end)

T.test("a script error exits 1 with a traceback on stderr", function()
  local dir = T.tempdir()
  local script = write(dir .. "/bad.lua", "local function f() error('boom') end\nf()\n")
  local out, err, code = run({ script })
  T.eq(code, 1)
  T.contains(err, "curator: " .. script .. ":1: boom")
  T.contains(err, "stack traceback:")
  T.contains(err, "in local 'f'")
end)

T.test("a syntax error exits 1 and names the line", function()
  local dir = T.tempdir()
  local script = write(dir .. "/syntax.lua", "x = 1\nif then\n")
  local _, err, code = run({ script })
  T.eq(code, 1)
  T.contains(err, "syntax.lua:2: unexpected symbol near 'then'")
end)

T.test("a missing script exits 1; usage errors exit 2", function()
  local _, err, code = run({ "/nonexistent/x.lua" })
  T.eq(code, 1)
  T.contains(err, "cannot open /nonexistent/x.lua")
  _, err, code = run({ "--bogus" })
  T.eq(code, 2)
  T.contains(err, "Unknown option '--bogus'")
  _, err, code = run({ "-e" })
  T.eq(code, 2)
end)

T.test("--version and --help", function()
  local out, _, code = run({ "--version" })
  T.eq(code, 0)
  T.eq(out, "curator 0.1.0 (Lua 5.4)\n")
  out, _, code = run({ "--help" })
  T.eq(code, 0)
  T.contains(out, "--safe")
  T.contains(out, "Exit status: 0 success, 1 script error")
end)

T.test("--safe takes away io, os.execute, loadlib, binary chunks and debug", function()
  local code = [[
local t = {}
t[#t+1] = tostring(io)
t[#t+1] = tostring(os.execute)
t[#t+1] = tostring(os.remove)
t[#t+1] = tostring(os.exit)
t[#t+1] = tostring(os.getenv)
t[#t+1] = tostring(package.loadlib)
t[#t+1] = tostring(debug)
t[#t+1] = tostring(dofile)
t[#t+1] = tostring(loadfile)
t[#t+1] = tostring(pcall(load, string.dump(function() end), "b", "b"))
local f, err = load(string.dump(function() end))
t[#t+1] = tostring(f) .. ":" .. tostring(err and err:match("binary") ~= nil)
t[#t+1] = tostring(load("return 7")())
t[#t+1] = type(os.time()) .. type(string.format) .. type(curator.open)
t[#t+1] = tostring((pcall(require, "io")))
print(table.concat(t, " "))
]]
  local out, err, status = run({ "--safe", "-e", code })
  T.eq(status, 0, err)
  T.eq(out, "nil nil nil nil nil nil nil nil nil false nil:true 7 numberfunctionfunction false\n")
end)

T.test("a runaway loop is interrupted by Ctrl-C (SIGINT)", function()
  local out, err, code = T.sh("CURATOR_PLUGIN_PATH= timeout --foreground --preserve-status -s INT 0.5 " .. T.quote(T.curator) .. " --no-plugins -e 'while true do end'")
  T.eq(code, 1)
  T.contains(err, "interrupted!")
end)

T.test("--safe refuses the methods that write files where the script says; selections still work", function()
  local dir = T.fixture_album()
  local _, err, status = run({ "-e", "assert(curator.open(arg[1]))", dir }) -- indexed without --safe
  T.eq(status, 0, err)
  local code = [[
local a = assert(curator.open(arg[1]))
local r = a:select{count = 2, iterations = 2, seed = 1}
print(#r.selection, #a.exclusions)
for _, call in ipairs{
  function() return r:export(arg[1] .. "/out") end,
  function() return r:csv(arg[1] .. "/x.csv") end,
  function() return r:report(arg[1] .. "/x.html") end,
  function() return a:map():plot(arg[1] .. "/x.png") end,
} do print(select(2, pcall(call))) end
]]
  local out, err, status = run({ "--safe", "-e", code, dir })
  T.eq(status, 0, err)
  T.contains(out, "2\t0\n")
  T.contains(out, "run:export: writes files, which safe mode (--safe) does not allow")
  T.contains(out, "run:csv: writes files, which safe mode (--safe) does not allow")
  T.contains(out, "run:report: writes files, which safe mode (--safe) does not allow")
  T.contains(out, "map:plot: writes files, which safe mode (--safe) does not allow")
  local listing = T.sh("ls " .. T.quote(dir))
  T.ok(not listing:find("x.csv", 1, true) and not listing:find("x.html", 1, true) and not listing:find("out", 1, true)
    and not listing:find("x.png", 1, true),
    "nothing was written: " .. listing)
  -- Without --safe the same calls write.
  out, err, status = run({ "-e", "local a = assert(curator.open(arg[1])); a:select{count = 2, iterations = 2, seed = 1}:csv(arg[1] .. '/x.csv')", dir })
  T.eq(status, 0, err)
  T.ok(T.sh("ls " .. T.quote(dir)):find("x.csv", 1, true), "the CSV was written")
end)

T.test("Ctrl-C (SIGINT) also interrupts a loop running inside a coroutine", function()
  -- -k: a process that ignores the interrupt is killed (status 137) instead of hanging the test.
  local function interrupted(code)
    return T.sh("CURATOR_PLUGIN_PATH= timeout --foreground -k 5 --preserve-status -s INT 0.5 " .. T.quote(T.curator)
      .. " --no-plugins -e " .. T.quote(code))
  end
  for _, code in ipairs({
    "coroutine.wrap(function() while true do end end)()",
    "print(coroutine.resume(coroutine.create(function() while true do end end)))",
    -- nested, and the interrupted resume's caller keeps looping: it is interrupted too
    "local inner = coroutine.wrap(function() while true do end end)\n"
      .. "while true do coroutine.resume(coroutine.create(function() inner() end)) end",
  }) do
    local out, err, status = interrupted(code)
    T.eq(status, 1, code .. "\n" .. err)
    T.contains(err, "interrupted!", code)
  end
  -- Coroutines still work as before: values through resume/yield, errors, wrap's error position.
  local out, err, status = run({ "-e", [[
local co = coroutine.create(function(a, b) local c = coroutine.yield(a + b); return c * 2 end)
print(coroutine.resume(co, 1, 2))
print(coroutine.resume(co, 10))
print(coroutine.resume(co))
print(coroutine.resume(coroutine.create(function() error("boom") end)))
print(pcall(coroutine.wrap(function() error("wrapped") end)))
print(pcall(coroutine.resume, 42))
local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
print(gen(), gen(), gen())
]] })
  T.eq(status, 0, err)
  T.eq(out, table.concat({
    "true\t3", "true\t20", "false\tcannot resume dead coroutine",
    "false\t(command line):5: boom", "false\t(command line):6: wrapped",
    "false\tbad argument #1 to 'coroutine.resume' (thread expected, got number)", "1\t2\t3", "" }, "\n"))
end)

T.test("plugins load from $CURATOR_PLUGIN_PATH; a broken one is reported and the rest load", function()
  local dir = T.tempdir()
  write(dir .. "/good.lua", [[
local name, path = ...
curator.register_sampler("from_good", function() end, { description = "good's sampler" })
leaked_global = true
return { name = "good", description = "a good plugin", version = "1.2", loaded_as = name }
]])
  write(dir .. "/broken.lua", "return {\n  name = 'broken'\n  description = 'missing comma'\n}\n")
  write(dir .. "/throws.lua", "local x = nil\nreturn x.field\n")
  write(dir .. "/badmeta.lua", "return 42\n")
  os.execute("mkdir -p " .. T.quote(dir .. "/folder"))
  write(dir .. "/folder/init.lua", "return { description = 'a folder plugin' }\n")
  write(dir .. "/_skipped.lua", "error('must not load')\n")
  write(dir .. "/notes.txt", "not a plugin")
  local out, err, code = T.run({ "-e", [[
local names = {}
for _, p in ipairs(curator.plugins) do names[#names+1] = p.name .. "=" .. tostring(p.description) end
print(table.concat(names, ","))
local good
for _, p in ipairs(curator.plugins) do if p.name == "good" then good = p end end
print(good.version, good.loaded_as, good.path:match("good.lua$") ~= nil, tostring(leaked_global))
for _, s in ipairs(curator.samplers()) do if s.name == "from_good" then print(s.plugin, s.description) end end
]] }, "", "XDG_CONFIG_HOME=/nonexistent CURATOR_HOME=/nonexistent CURATOR_PLUGIN_PATH=" .. T.quote(dir))
  T.eq(code, 0, err)
  T.eq(out, "folder=a folder plugin,good=a good plugin\n1.2\tgood\ttrue\tnil\ngood\tgood's sampler\n")
  T.contains(err, "curator: plugin 'broken' failed to load: " .. dir .. "/broken.lua:3: '}' expected (to close '{' at line 1) near 'description'")
  T.contains(err, "curator: plugin 'throws' failed to load: " .. dir .. "/throws.lua:2: attempt to index a nil value (local 'x')")
  T.contains(err, "curator: plugin 'badmeta' failed to load: " .. dir .. "/badmeta.lua: a plugin must return a table")
  T.ok(not err:find("must not load", 1, true), "files starting with _ are skipped")
end)

T.test("a later plugin folder overrides a plugin of the same name", function()
  local first, second = T.tempdir(), T.tempdir()
  write(first .. "/dup.lua", "return { description = 'first' }")
  write(second .. "/dup.lua", "return { description = 'second' }")
  local out, err, code = T.run({ "-e", "for _, p in ipairs(curator.plugins) do print(p.name, p.description) end" }, "",
    "XDG_CONFIG_HOME=/nonexistent CURATOR_HOME=/nonexistent CURATOR_PLUGIN_PATH=" .. T.quote(first .. ":" .. second))
  T.eq(code, 0, err)
  T.eq(out, "dup\tsecond\n")
end)

T.test("user plugins come from $XDG_CONFIG_HOME/curator/plugins and --no-plugins skips them", function()
  local config = T.tempdir()
  os.execute("mkdir -p " .. T.quote(config .. "/curator/plugins"))
  write(config .. "/curator/plugins/mine.lua", "return { description = 'mine' }")
  local env = "CURATOR_HOME=/nonexistent CURATOR_PLUGIN_PATH= XDG_CONFIG_HOME=" .. T.quote(config)
  local out = T.run({ "-e", "print(#curator.plugins, curator.plugins[1] and curator.plugins[1].name)" }, "", env)
  T.eq(out, "1\tmine\n")
  out = T.run({ "--no-plugins", "-e", "print(#curator.plugins)" }, "", env)
  T.eq(out, "0\n")
end)

T.test("the album of the issue's example works from the command line", function()
  local dir = T.fixture_album()
  local out, err, code = run({ "-e", "print(#curator.open(arg[1], {embed=false}))", dir })
  T.eq(code, 0, err)
  T.eq(out, "4\n")
end)

T.test("the quick command-line parse and ArgumentParser's give the same command", function()
  -- Repeating a flag takes ArgumentParser's path.
  local probe = "print(#arg, arg[0], io ~= nil, ...)"
  local quick = { "--safe", "-e", probe, "a", "-b" }
  local parsed = { "--safe", "--safe", "-e", probe, "a", "-b" }
  local out1, err1, code1 = run(quick)
  local out2, err2, code2 = run(parsed)
  T.eq(code1, 0, err1)
  T.eq(code2, 0, err2)
  T.eq(out1, "2\t-e\tfalse\ta\t-b\n")
  T.eq(out2, out1)
end)

T.test("curator's options work before and after a command's name (review, a workflow), not after a script's", function()
  local config = T.tempdir()
  os.execute("mkdir -p " .. T.quote(config .. "/curator/plugins") .. " " .. T.quote(config .. "/curator/workflows"))
  write(config .. "/curator/plugins/mine.lua", "return { description = 'mine' }")
  write(config .. "/curator/workflows/probe.lua",
    "print(#curator.plugins, io ~= nil, (arg[-1]:match('[^/]*$')), #arg, ...)")
  local env = "CURATOR_HOME=/nonexistent CURATOR_PLUGIN_PATH= XDG_CONFIG_HOME=" .. T.quote(config)
  local elsewhere = T.tempdir()
  local function at(args) return T.sh("cd " .. T.quote(elsewhere) .. " && " .. env .. " " .. T.quote(T.curator) .. " "
    .. table.concat((function() local q = {} for i, a in ipairs(args) do q[i] = T.quote(a) end return q end)(), " ")) end
  -- A workflow: before and after its name mean the same; its own words keep their order.
  local out, err, code = at({ "--no-plugins", "probe", "x", "--own" })
  T.eq(code, 0, err)
  T.eq(out, "0\ttrue\t--no-plugins\t2\tx\t--own\n")
  out, err, code = at({ "probe", "x", "--no-plugins", "--own", "--safe", "--timeout", "30", "--max-memory=1G" })
  T.eq(code, 0, err)
  T.eq(out, "0\tfalse\t--max-memory=1G\t2\tx\t--own\n")
  -- After `--` the words are the workflow's.
  out, err, code = at({ "probe", "x", "--", "--no-plugins" })
  T.eq(code, 0, err)
  T.eq(out, "1\ttrue\tcurator\t3\tx\t--\t--no-plugins\n")
  -- A script file keeps every word after it, as in lua.
  write(elsewhere .. "/s.lua", "print(#curator.plugins, ...)")
  out, err, code = at({ "s.lua", "--no-plugins" })
  T.eq(code, 0, err)
  T.eq(out, "1\t--no-plugins\n")
  -- A wrong option is named, before or after.
  _, err, code = at({ "probe", "x", "--timeout", "soon" })
  T.eq(code, 2)
  T.contains(err, "--timeout")
  -- review: --no-plugins before or after; the options for Lua code are refused by name.
  local album = T.tempdir() .. "/nothing-here"
  for _, args in ipairs({ { "--no-plugins", "review", album }, { "review", album, "--no-plugins" } }) do
    _, err, code = at(args)
    T.eq(code, 1, err)
    T.contains(err, "curator review: cannot open " .. album)
  end
  for _, case in ipairs({ { "--safe", "--safe is for running untrusted Lua code" },
                          { "-i", "-i enters the REPL after a script" },
                          { "--timeout", "--timeout limits Lua code" },
                          { "--max-memory=1G", "--max-memory limits Lua code" } }) do
    local words = { case[1] }
    if case[1] == "--timeout" then words[2] = "5" end
    for _, args in ipairs({ { table.unpack(words) }, {} }) do
      if #args == 0 then args = { "review", album, table.unpack(words) } else args[#args + 1] = "review"; args[#args + 1] = album end
      _, err, code = at(args)
      T.eq(code, 2, table.concat(args, " "))
      T.contains(err, "curator review: " .. case[2])
    end
  end
  _, err, code = at({ "--bogus", "review", album })
  T.eq(code, 2)
  T.contains(err, "Unknown option '--bogus'")
  out, _, code = at({ "--no-plugins", "--help", "review" })
  T.eq(code, 0)
  T.contains(out, "USAGE: curator review <album>")
  -- -e makes "review" an argument of the code; after `--` it is a script's name.
  out, err, code = at({ "--no-plugins", "-e", "print(...)", "review", "x" })
  T.eq(code, 0, err)
  T.eq(out, "review\tx\n")
  _, err, code = at({ "--no-plugins", "--", "review" })
  T.eq(code, 1)
  T.contains(err, "cannot open review")
end)

T.test("curator models lists the known models with where each is installed; get names what is wrong", function()
  local models = T.tempdir()
  local tiny = T.dir .. "/../CuratorCoreTests/Fixtures/clip/tiny-hf"
  os.execute("mkdir -p " .. T.quote(models .. "/clip-vit-base-patch32") .. " && cp " .. T.quote(tiny .. "/model.safetensors")
    .. " " .. T.quote(tiny .. "/config.json") .. " " .. T.quote(models .. "/clip-vit-base-patch32/"))
  local env = "CURATOR_MODELS=" .. T.quote(models) .. " HF_ENDPOINT=http://127.0.0.1:9"
  local out, err, code = run({ "models" }, nil, env)
  T.eq(code, 0, err)
  T.ok(out:find("\nclip%-vit%-base%-patch32%s+" .. models:gsub("%p", "%%%0") .. "/clip%-vit%-base%-patch32%s+openai/clip%-vit%-base%-patch32\n"), out)
  T.ok(out:find("\nsiglip2%-large%-patch16%-256%s+%-%s+google/siglip2%-large%-patch16%-256\n"), out)
  T.contains(out, "1 of 16 installed. 'curator models get NAME' downloads one into " .. models .. "/NAME.")
  T.contains(out, "Albums without a PhotoMapAI index are embedded with clip-vit-base-patch32 (CURATOR_CLIP_MODEL names another).")
  out = run({ "models" }, nil, "CURATOR_MODELS= HOME=" .. T.quote(T.tempdir()))
  T.contains(out, "0 of 16 installed.")
  T.contains(out, "With none, albums are embedded with 'pixels' (colour and layout, not meaning): 'curator models get clip-vit-base-patch32' installs")
  -- Files there are kept without asking the server; the first missing one is asked for, and the failure named.
  out, err, code = run({ "models", "get", "clip-vit-base-patch32" }, nil, env)
  T.eq(code, 1, err)
  T.contains(err, "curator models get: clip-vit-base-patch32: http://127.0.0.1:9/openai/clip-vit-base-patch32/resolve/main/preprocessor_config.json: ")
  T.eq(io.open(models .. "/clip-vit-base-patch32/preprocessor_config.json.partial"), nil, "nothing arrived, nothing left")
  _, err, code = run({ "models", "get", "clip-vit-huge" }, nil, env)
  T.eq(code, 1)
  T.contains(err, "curator models get: 'clip-vit-huge' is not a model curator knows; known: clip-vit-base-patch32, ")
  _, err, code = run({ "models", "get" }, nil, env)
  T.eq(code, 2)
  T.contains(err, "name the model to download, e.g. clip-vit-base-patch32 (OpenAI's ViT-B/32, about 600 MB); 'curator models' lists all 16")
  _, err, code = run({ "--safe", "models" }, nil, env)
  T.eq(code, 2)
  T.contains(err, "curator models: --safe is for Lua code")
end)

T.test("curator.open says once when pixels made an album's first vectors for want of a CLIP model", function()
  local home = T.tempdir()
  local album = T.tempdir() .. "/album"
  os.execute("cp -r " .. T.quote(T.fixture_album()) .. " " .. T.quote(album) .. " && rm -rf " .. T.quote(album .. "/.curator"))
  local env = "HOME=" .. T.quote(home) .. " CURATOR_MODELS= CURATOR_CLIP_MODEL="
  local code = "local a = curator.open(" .. string.format("%q", album) .. ") print(a.embedder)"
  local out, err, status = run({ "--no-plugins", "-e", code }, nil, env)
  T.eq(status, 0, err)
  T.eq(out, "pixels\n")
  T.contains(err, "warning: curator.open: no CLIP model is installed, so the 'pixels' embedder made the vectors")
  T.contains(err, "`curator models get clip-vit-base-patch32` in a shell installs CLIP")
  -- Once: the album's vectors are there on the next open.
  out, err, status = run({ "--no-plugins", "-e", code }, nil, env)
  T.eq(status, 0, err)
  T.eq(err, "")
  -- Asked for by name, pixels is the user's choice: nothing to say.
  os.execute("rm -rf " .. T.quote(album .. "/.curator"))
  out, err, status = run({ "--no-plugins", "-e", "local a = curator.open(" .. string.format("%q", album) .. ", {embedder='pixels'}) print(a.embedder)" }, nil, env)
  T.eq(status, 0, err)
  T.eq(err, "")
end)
