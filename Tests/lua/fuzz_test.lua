-- Random arguments to every registered function and method, in a child
-- process: it must finish (no crash) with bounded memory (fuzz.lua checks).
local T = ...

T.test("tens of thousands of random calls leave the process alive with bounded memory", function()
  local root = T.tempdir()
  assert(os.execute("cp -R " .. T.quote(T.fixtures .. "/album") .. " " .. T.quote(root .. "/album")))
  assert(os.execute("cp -R " .. T.quote(T.fixtures .. "/album") .. " " .. T.quote(root .. "/other")))
  local out, err, code = T.run({ "--no-plugins", T.dir .. "/fuzz.lua", root .. "/album", root .. "/other", "30000", "7" })
  T.eq(code, 0, "fuzz.lua failed:\n" .. err)
  T.contains(out, "fuzz: 30000 calls")
end)
