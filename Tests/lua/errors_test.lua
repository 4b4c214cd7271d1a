-- Bad input: every message names the API and what was wrong; nothing crashes.
local T = ...

local function open_fixture(name)
  local dir = T.tempdir() .. "/" .. (name or "album")
  assert(os.execute("cp -R " .. T.quote(T.fixtures .. "/album") .. " " .. T.quote(dir)))
  return assert(curator.open(dir, { embed = false })), dir
end

T.test("wrong argument types and numbers name the binding and the argument", function()
  local a = open_fixture()
  T.raises("album:get: bad argument #1 (string or integer expected, got table)", a.get, a, {})
  T.raises("album:get: bad argument #1 (string or integer expected, got nil)", a.get, a, nil)
  T.raises("album:get: bad argument #1 (string or integer expected, got no value)", a.get, a)
  T.raises("album:get: bad argument #1 (string or integer expected, got boolean)", a.get, a, true)
  T.raises("album:get: bad argument #1 (string or integer expected, got Album)", a.get, a, a)
  T.raises("album:get: bad argument #1 (integer expected, got nan)", a.get, a, 0 / 0)
  T.raises("album:get: bad argument #1 (integer expected, got inf)", a.get, a, math.huge)
  T.raises("album:get: bad argument #1 (integer expected, got -inf)", a.get, a, -math.huge)
  T.raises("album:get: bad argument #1 (integer expected, got 1.5)", a.get, a, 1.5)
  T.contains(T.raises(nil, a.get, a, 2 ^ 63), "album:get: bad argument #1 (integer expected, got 9.22")
  T.eq(a:get(-3), nil, "a negative id is simply not found")
  T.eq(a:get(math.mininteger), nil)
  T.eq(a:get(2.0), a:get(2), "a float with an integer value is an integer")
  T.raises("curator.open: bad argument #1 (string expected, got number)", curator.open, 5)
  T.raises("curator.open: bad argument #1 (string expected, got no value)", curator.open)
  T.raises("album:embed: bad argument #1 (string or table expected, got number)", a.embed, a, 5)
  T.raises("album:scan: bad argument #1 (table expected, got number)", a.scan, a, 5)
end)

T.test("option tables are checked key by key", function()
  local a, dir = open_fixture()
  T.raises("curator.open: unknown option 'embeder' (did you mean 'embedder'?)", curator.open, dir, { embeder = "x" })
  T.raises('curator.open: scan must be a boolean (got "no")', curator.open, dir, { scan = "no" })
  T.raises("curator.open: progress must be a function (got 1)", curator.open, dir, { progress = 1 })
  T.raises("curator.open: option keys must be strings (got 1)", curator.open, dir, { 1 })
  T.contains(T.raises(nil, curator.open, dir, { embedder = "nope", embed = false }), "unknown embedder 'nope'")
  T.raises("album:scan: unknown option 'progres' (did you mean 'progress'?)", a.scan, a, { progres = print })
end)

T.test("wrong host objects and wrong albums are refused", function()
  local a = open_fixture("first")
  local b = open_fixture("second")
  local ex = a.exclusions
  T.raises("imageset:add: bad argument #1 (Image, path, id, list or ImageSet expected, got Album)", ex.add, ex, a)
  T.raises("imageset:add: bad argument #1 (Image, path, id, list or ImageSet expected, got boolean)", ex.add, ex, true)
  T.raises("imageset:add: bad argument #1 (Image, path, id, list or ImageSet expected, got no value)", ex.add, ex)
  T.raises('imageset:add: bad argument #1 (image of album "second", not "first")', ex.add, ex, b[1])
  T.raises('imageset:add: bad argument #1 (set of album "second", not "first")', ex.add, ex, b.favorites)
  T.raises("imageset:add: bad argument #2 ([2]: Image, path, id, list or ImageSet expected, got boolean)",
    ex.add, ex, a[1], { a[2], true })
  T.raises("imageset:add: bad argument #1 (image id expected, got nan)", ex.add, ex, 0 / 0)
  T.raises('imageset:add: no image #-3 in album "first"', ex.add, ex, -3)
  T.raises('imageset:add: no image \'nope.png\' in album "first"', ex.add, ex, "nope.png")
  T.raises("imageset:add: bad argument #1 ([1][1][1][1]: lists nested too deeply)", ex.add, ex, { { { { { a[1] } } } } })
  T.eq(#ex, 0, "a failed add changes nothing")
  T.raises("imageset:contains: bad argument #1 (Image, path, id, list or ImageSet expected, got no value)", ex.contains, ex)
  T.raises("album:get: bad self (Album expected, got string); call it as album:get(...)", a.get, "red.png")
  T.raises("image:sidecars: bad self (Image expected, got Album); call it as image:sidecars(...)", a[1].sidecars, a)
  T.raises("imageset:clear: bad self (ImageSet expected, got Image); call it as imageset:clear(...)", ex.clear, a[1])
end)

T.test("fields: typos get a suggestion, read-only and unknown ones are refused", function()
  local a = open_fixture()
  local img = a[1]
  T.raises("Image has no field 'widht' (did you mean 'width'?)", function() return img.widht end)
  T.raises("Album has no field 'dmi' (did you mean 'dim'?)", function() return a.dmi end)
  T.raises("Album has no field 'exclusion' (did you mean 'exclusions'?)", function() return a.exclusion end)
  T.raises("Image has no field 'zzzzzz'", function() return img.zzzzzz end)
  T.raises("image.width is read-only", function() img.width = 3 end)
  T.raises("image.excluded: boolean expected, got string", function() img.excluded = "yes" end)
  T.raises("image.excluded: boolean expected, got nil", function() img.excluded = nil end)
  T.raises("Image has no field 'exclude' (did you mean 'excluded'?)", function() img.exclude = true end)
  T.raises("cannot assign to album:get: it is a method", function() a.get = 1 end)
  T.raises("cannot assign to Album[1]: Album elements are read-only", function() a[1] = img end)
  T.eq(a[true], nil, "keys that are neither names nor integers index nothing")
  T.eq(a[1.5], nil)
end)

T.test("a field called as a method says it is a field", function()
  local a = open_fixture()
  a:embed()
  local r = a:select{ method = "fps", count = 2 }
  T.raises("ImageSet is not a function: r.selection is a field, read without ':' or '()'", function() return r:selection() end)
  T.raises("Album is not a function: r.album is a field, read without ':' or '()'", function() return r:album() end)
  T.raises("ImageSet is not a function: a.exclusions is a field, read without ':' or '()'",
           function() return a:exclusions() end)
  T.raises("ImageSet is not a function: a.favorites is a field, read without ':' or '()'",
           function() return a:favorites() end)
  T.raises("ImageSet is not a function (a field is read without '()')", function() return r.selection() end)
  T.eq(#r.selection, 2, "the field itself reads as before")

  -- Fields holding strings, numbers and booleans: Lua's own words, then the field.
  local img = a[1]
  T.raises("attempt to call a string value (method 'path'): img.path is a field, read without ':' or '()'",
           function() return img:path() end)
  T.raises("attempt to call a number value (method 'count'): r.count is a field, read without ':' or '()'",
           function() return r:count() end)
  T.raises("attempt to call a number value (method 'dim'): a.dim is a field, read without ':' or '()'",
           function() return a:dim() end)
  -- Anything else keeps Lua's message exactly.
  T.raises("attempt to call a string value (field 'path')", function() return img.path() end)
  T.raises("attempt to call a number value (method 'n')", function() local t = { n = 1 }; return t:n() end)
  T.raises("attempt to call a boolean value (local 'b')", function() local b = true; return b() end)
  T.eq(select(2, pcall("text")), "attempt to call a string value")
  T.eq(("abc"):upper(), "ABC", "strings keep their methods")
end)

T.test("extension registration validates its arguments", function()
  T.raises("curator.register_sampler: bad argument #1 (string expected, got no value)", curator.register_sampler)
  T.raises("curator.register_sampler: bad argument #2 (function expected, got string)", curator.register_sampler, "x", "y")
  T.raises("curator.register_sampler: 'fps' is built in and cannot be replaced", curator.register_sampler, "fps", print)
  T.raises('curator.register_score: name must be a word of letters, digits, \'_\', \'-\' or \'.\' starting with a letter (got "2 words")',
    curator.register_score, "2 words", print)
  T.raises("curator.register_score: unknown option 'desc' (did you mean 'description'?)",
    curator.register_score, "s", print, { desc = "x" })
  T.raises("curator.register_exporter: bad argument #2 (table or function expected, got number)", curator.register_exporter, "e", 1)
  T.raises("curator.register_exporter: spec.store must be a function (got nil)", curator.register_exporter, "e", {})
  T.raises('curator.register_exporter: spec.progress must be "store" or "initialize" (got "both")',
    curator.register_exporter, "e", { store = print, progress = "both" })
end)

T.test("errors inside callbacks come back with their position", function()
  local a = open_fixture()
  local ok, err = pcall(a.scan, a, { progress = function() local x = nil; return x.y end })
  T.ok(not ok)
  T.contains(err, "errors_test.lua")
  T.contains(err, "attempt to index a nil value")
end)

T.test("a host error raised from Lua code carries the caller's position", function()
  local a = open_fixture()
  local ok, err = pcall(function() return a:get({}) end)
  T.ok(not ok)
  T.contains(err, "errors_test.lua:")
  T.contains(err, ": album:get: bad argument #1")
end)

T.test("an object whose __gc was called by hand says so when used", function()
  local a = open_fixture("finalized")
  local img = a[1]
  getmetatable(img).__gc(img)
  local message = T.raises(nil, img.sidecars, img)
  T.contains(message, "image:sidecars: bad self (Image expected, got Image finalized by a call to its __gc")
  T.eq(tostring(img), "Image (finalized)")
  getmetatable(a).__gc(a)
  T.contains(T.raises(nil, a.get, a, 1), "got Album finalized by a call to its __gc (it can no longer be used)")
end)
