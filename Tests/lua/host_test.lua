-- The host's own API: the pretty printer, help, the catalog, extension registries.
local T = ...

T.test("pretty sorts keys, limits depth and length, marks cycles", function()
  local pretty = curator.pretty
  T.eq(pretty({ b = 2, a = 1, [1] = "x", [2] = "y" }), '{ "x", "y", a = 1, b = 2 }')
  T.eq(pretty({ ["not id"] = 1, ["end"] = 2, [true] = 3, [1.5] = 4 }), '{ [1.5] = 4, ["end"] = 2, ["not id"] = 1, [true] = 3 }')
  T.eq(pretty("a\nb\"c"), '"a\\nb\\"c"')
  T.eq(pretty(1.0), "1.0")
  T.eq(pretty(0 / 0), "nan")
  T.eq(pretty(-math.huge), "-inf")
  T.eq(pretty({}), "{}")
  T.eq(pretty({ a = { b = { c = { d = { e = 1 } } } } }), "{ a = { b = { c = { d = {...} } } } }")
  T.eq(pretty({ a = { b = { c = 1 } } }, { depth = 1 }), "{ a = {...} }")
  local t = { 1 }
  t.me = t
  T.contains(pretty(t), "me = <cycle: table: ")
  local shared = { 1 }
  T.eq(pretty({ shared, shared }), "{ { 1 }, { 1 } }", "a shared table is not a cycle")
  local long = {}
  for i = 1, 150 do long[i] = i end
  T.contains(pretty(long), "... (50 more)")
  T.contains(pretty(long, { items = 3 }), "1, 2, 3, ... (147 more)")
  T.eq(pretty(setmetatable({}, { __tostring = function() return "<thing>" end })), "<thing>")
  T.eq(pretty(setmetatable({}, { __tostring = function() error("x") end })), "<table: __tostring failed>")
  T.eq(pretty(curator.json.null), "curator.json.null")
  local wide = {}
  for i = 1, 30 do wide["key" .. i] = i end
  T.contains(pretty(wide), "{\n  key1 = 1,\n  key10 = 10,")
end)

T.test("help explains names, objects and functions from the catalog", function()
  local overview = curator.doc()
  T.contains(overview, "curator 0.1.0")
  T.contains(overview, "curator.open(path")
  T.contains(overview, "Album")
  local dir = T.fixture_album()
  local a = assert(curator.open(dir, { embed = false }))
  local album = curator.doc(a)
  T.contains(album, "Album — An image folder")
  T.contains(album, "#a")
  T.contains(album, "a:get(path_or_id) -> Image | nil, message")
  T.contains(album, "a.exclusions -> ImageSet")
  T.contains(curator.doc(a[1]), "img.excluded -> boolean")
  T.contains(curator.doc(a[1]), "(writable)")
  T.contains(curator.doc("album:get"), "a:get(path_or_id)")
  T.contains(curator.doc("album.get"), "a:get(path_or_id)")
  T.contains(curator.doc("image.width"), "read-only property of Image")
  T.contains(curator.doc(curator.open), "curator.open(path")
  T.contains(curator.doc(a.get), "a:get(path_or_id)")
  T.contains(curator.doc(curator.pretty), "curator.pretty(value")
  T.contains(curator.doc("curator.json"), "curator.json.encode")
  T.contains(curator.doc(curator), "curator.open")
  T.eq(curator.doc("album:gte"), "no help for 'album:gte' (did you mean 'album:get'?)\n")
  T.contains(curator.doc(function() end), "without documentation")
  T.contains(curator.doc(42), "a number value")
end)

T.test("the catalog lists every binding with its signature", function()
  local cat = curator.catalog()
  local names = {}
  for _, f in ipairs(cat.functions) do names[f.name] = f end
  T.ok(names["curator.open"], "curator.open is listed")
  T.ok(names["curator.json.encode"])
  T.eq(names["curator.open"].type, "Album")
  local types = {}
  for _, t in ipairs(cat.types) do types[t.name] = t end
  T.ok(types.Album and types.Image and types.ImageSet)
  local props = {}
  for _, p in ipairs(types.Image.properties) do props[p.name] = p end
  T.eq(props.excluded.writable, true)
  T.eq(props.width.writable, false)
  T.eq(props.album.type, "Album")
  for _, t in ipairs(cat.types) do
    for _, m in ipairs(t.methods) do T.ok(m.signature ~= "" and m.summary ~= "", m.full_name .. " is documented") end
    for _, p in ipairs(t.properties) do T.ok(p.signature ~= "" and p.summary ~= "", p.full_name .. " is documented") end
  end
end)

T.test("samplers, scores and exporters are registered and listed", function()
  curator.register_sampler("test_sampler", function() end, { description = "for tests" })
  curator.register_score("test_score", function() return 1 end)
  curator.register_exporter("test_exporter", { store = function() end, description = "writes nothing", extension = ".x" })
  curator.register_exporter("test_exporter2", function() end)
  local found = {}
  for _, s in ipairs(curator.samplers()) do found[s.name] = s end
  T.eq(found.test_sampler.description, "for tests")
  local scores = curator.scores()
  local any = false
  for _, s in ipairs(scores) do any = any or s.name == "test_score" end
  T.ok(any, "the score is listed")
  local exporters = {}
  for _, e in ipairs(curator.exporters()) do exporters[e.name] = e end
  T.eq(exporters.test_exporter.description, "writes nothing")
  T.ok(exporters.test_exporter2)
  -- Registering again replaces.
  curator.register_sampler("test_sampler", function() end, { description = "again" })
  for _, s in ipairs(curator.samplers()) do
    if s.name == "test_sampler" then T.eq(s.description, "again") end
  end
end)

T.test("the curator table has its version and the loaded plugins", function()
  T.eq(curator.version, "0.1.0")
  T.eq(type(curator.plugins), "table")
end)
