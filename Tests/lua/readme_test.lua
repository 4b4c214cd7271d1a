-- The README's API reference is the binding catalog's: it cannot drift.
local T = ...

T.test("README's Lua API reference matches the catalog (run scripts/api-reference)", function()
  local file = assert(io.open(T.dir .. "/../../README.md", "rb"))
  local text = file:read("a")
  file:close()
  local section = text:match("<!%-%- api%-reference:begin %-%->\n(.-)<!%-%- api%-reference:end %-%->")
  T.ok(section, "README.md has the api-reference markers")
  local want = curator.api_reference():gsub("\n*$", "\n")
  if section ~= want then
    -- Name the first line that differs, so the failure says what drifted.
    local i = 1
    local got_lines, want_lines = {}, {}
    for l in section:gmatch("[^\n]*\n") do got_lines[#got_lines + 1] = l end
    for l in want:gmatch("[^\n]*\n") do want_lines[#want_lines + 1] = l end
    while got_lines[i] == want_lines[i] do i = i + 1 end
    error("README.md line " .. i .. " of the reference differs: README has " .. tostring(got_lines[i])
      .. " but the catalog says " .. tostring(want_lines[i]) .. " (run scripts/api-reference)")
  end
end)
