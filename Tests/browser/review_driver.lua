-- The REPL side of the review page's browser test (Tests/browser/review_test.py):
-- opens the album, makes (or reuses) a run, serves its page, then runs each line
-- of its standard input as Lua and answers "OK <value>" or "ERR <message>",
-- so the test can act in the REPL while the browser acts on the page.
local path, count, iterations = arg[1], tonumber(arg[2] or "20"), tonumber(arg[3] or "20")
local a = curator.open(path, {embed = true})
a.exclusions:clear()
local runs = a:runs()
local r = (arg[4] == "reuse" and #runs > 0) and runs[#runs]
          or a:select{method = "fps", count = count, iterations = iterations, seed = 1}
_G.a, _G.r = a, r
local t0 = os.clock()
local v = r:review{port = tonumber(os.getenv("REVIEW_PORT") or "") or nil}
_G.v = v
print("RUN " .. r.id)
io.stdout:flush()
for line in io.lines() do
    local chunk, err = load(line, "=test")
    local ok, value
    if chunk then ok, value = pcall(chunk) else ok, value = false, err end
    print((ok and "OK " or "ERR ") .. tostring(value))
    io.stdout:flush()
end
v:close()
