-- The shipped workflow scripts: scripts/clean.lua (Scenario A) and
-- scripts/trainset.lua (Scenario B), run by curator on the sample album.
local T = ...
dofile(T.dir .. "/sample_support.lua")(T)

local clean = T.repo .. "/scripts/clean.lua"
local trainset = T.repo .. "/scripts/trainset.lua"

T.test("clean.lua and trainset.lua answer --help with their usage and exit 0", function()
  for _, script in ipairs({ clean, trainset }) do
    local out, _, code = T.run({ script, "--help" })
    T.eq(code, 0, script)
    T.contains(out, "usage: curator scripts/")
  end
end)

T.test("unknown or malformed options print the usage and exit 2", function()
  local cases = {
    { clean, { "ALBUM", "--bogus" }, "unknown option --bogus" },
    { clean, { "ALBUM", "--count", "abc" }, "--count must be a positive integer (got abc)" },
    { clean, { "ALBUM", "--count", "0" }, "--count must be a positive integer (got 0)" },
    { clean, { "ALBUM", "--threshold", "1.5" }, "--threshold must be a number in (0, 1] (got 1.5)" },
    { clean, { "ALBUM", "--rounds" }, "--rounds needs a value" },
    { clean, { "ALBUM", "--yes=1" }, "--yes takes no value" },
    { clean, {}, "the album folder is missing" },
    { clean, { "A", "B" }, "one album only (got A and B)" },
    { trainset, { "ALBUM", "-x" }, "unknown option -x" },
    { trainset, { "ALBUM", "--method", "random" }, "--method must be fps or kmeans (got random)" },
    { trainset, { "ALBUM", "--iterations=2.5" }, "--iterations must be a positive integer (got 2.5)" },
    { trainset, { "ALBUM", "--out", "d", "--kohya", "mychar" }, "--kohya must look like 10_mychar" },
    { trainset, { "ALBUM", "--kohya", "10_mychar" }, "--kohya needs --out DIR" },
  }
  for _, c in ipairs(cases) do
    local args = { c[1] }
    for _, w in ipairs(c[2]) do args[#args + 1] = w end
    local out, err, code = T.run(args)
    T.eq(code, 2, table.concat(c[2], " "))
    T.contains(err, c[3])
    T.contains(err, "usage: curator scripts/")
    T.eq(out, "")
  end
end)

T.test("a missing album is an error (exit 1), not a usage error", function()
  local _, err, code = T.run({ trainset, T.tempdir() .. "/nothing-here", "--count", "5" })
  T.eq(code, 1)
  T.contains(err, "no such folder")
end)
