-- The REPL side of the review page's browser test (Tests/browser/review_test.py):
-- opens the album, makes (or reuses) a run, serves its page, then runs each line
-- of its standard input as Lua and answers "OK <value>" or "ERR <message>",
-- so the test can act in the REPL while the browser acts on the page.
-- Flags after the three numbers: "reuse" (the newest run instead of a new
-- one), "later" (no page yet: the test starts it with r:review(), timed).
local path, count, iterations = arg[1], tonumber(arg[2] or "20"), tonumber(arg[3] or "20")
local flags = {}
for i = 4, #arg do flags[arg[i]] = true end
local a = curator.open(path, {embed = true})
a.exclusions:clear()
local runs = a:runs()
local r = (flags.reuse and #runs > 0) and runs[#runs]
          or a:select{method = "fps", count = count, iterations = iterations, seed = 1}
_G.a, _G.r = a, r
if not flags.later then
  _G.v = r:review{port = tonumber(os.getenv("REVIEW_PORT") or "") or nil}
end
print("RUN " .. r.id)
io.stdout:flush()
for line in io.lines() do
    local chunk, err = load(line, "=test")
    local ok, value
    if chunk then ok, value = pcall(chunk) else ok, value = false, err end
    print((ok and "OK " or "ERR ") .. tostring(value))
    io.stdout:flush()
end
if v then v:close() end
