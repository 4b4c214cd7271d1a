-- The review page from Lua and the shell (issue 16): r:review, a:review, the
-- Review object, v:close, --safe, and `curator review`.
local T = ...
local maker = dofile(T.dir .. "/lib/album_maker.lua")

-- A GET of the page's state with the server's token (curl is not needed: Lua's io.popen on a tiny shell client).
local function http_get(port, path, token)
  local cmd = string.format("exec 3<>/dev/tcp/127.0.0.1/%d; printf 'GET %s HTTP/1.1\\r\\nHost: 127.0.0.1:%d\\r\\nX-Curator-Token: %s\\r\\nConnection: close\\r\\n\\r\\n' >&3; cat <&3",
    port, path, port, token or "")
  local out = T.sh("bash -c " .. T.quote(cmd))
  return out
end

-- A reader of page v's JSON routes: each GET must answer 200, and its body is decoded.
local function page_json(v)
  local token = v.url:match("token=(%x+)")
  return function(path)
    local reply = http_get(v.port, path, token)
    T.contains(reply, "HTTP/1.1 200", path)
    return curator.json.decode(reply:match("\r\n\r\n(.*)$"))
  end
end

T.test("r:review serves the run on loopback with a token; v:close stops it", function()
  local dir = maker.album(T.tempdir() .. "/album", 12)
  local a = assert(curator.open(dir))
  local r = a:select{count = 4, iterations = 5, seed = 1}
  local v = r:review()
  T.contains(tostring(v), "<Review http://127.0.0.1:")
  T.ok(v.url:match("^http://127%.0%.0%.1:%d+/%?token=%x+$"), v.url)
  T.eq(v.port, tonumber(v.url:match(":(%d+)/")))
  T.eq(v.closed, false)
  T.eq(v.done, false)
  local token = v.url:match("token=(%x+)")
  local reply = http_get(v.port, "/api/state", token)
  T.contains(reply, "HTTP/1.1 200")
  T.contains(reply, '"initialRun":' .. r.id)
  T.contains(http_get(v.port, "/api/state", "nope"), "HTTP/1.1 403")
  -- A second page on the same album takes the next free port.
  local w = a:review{run = r.id}
  T.ok(w.port ~= v.port, "another port")
  w:close()
  v:close()
  T.eq(v.closed, true)
  T.contains(tostring(v), "(closed)")
  T.eq(http_get(v.port, "/api/state", token), "", "nothing answers once closed")
end)

T.test("review options are checked and a taken port is a clear error", function()
  local dir = maker.album(T.tempdir() .. "/album", 6)
  local a = assert(curator.open(dir))
  T.contains(T.raises(nil, function() a:review{port = 0} end), "port must be an integer from 1 to 65535 (got 0)")
  T.contains(T.raises(nil, function() a:review{run = 42} end), "run: no run #42 in album")
  T.contains(T.raises(nil, function() a:review{colour = 1} end), "colour")
  local v = a:review()
  T.contains(T.raises(nil, function() a:review{port = v.port} end), "port " .. v.port .. " on 127.0.0.1 is in use")
  v:close()
end)

T.test("--safe scripts cannot start a server", function()
  local dir = T.fixture_album()
  -- Indexed, with a run, beforehand: safe mode may read an index, not make one.
  local _, err0, status0 = T.run({ "-e", "curator.open(arg[1]):select{count = 2, iterations = 2, seed = 1}", dir })
  T.eq(status0, 0, err0)
  local code = [[
local a = assert(curator.open(arg[1]))
local r = a:runs()[1]
print(select(2, pcall(function() return r:review() end)))
print(select(2, pcall(function() return a:review() end)))
]]
  local out, err, status = T.run({ "--safe", "-e", code, dir })
  T.eq(status, 0, err)
  T.contains(out, "run:review: starts a server, which safe mode (--safe) does not allow")
  T.contains(out, "album:review: starts a server, which safe mode (--safe) does not allow")
end)

T.test("curator review checks its arguments", function()
  local dir = maker.album(T.tempdir() .. "/album", 6)
  local out, err, status = T.run({ "review", dir, "--run", "7" })
  T.eq(status, 1, out)
  T.contains(err, "no run #7 in album")
  out, err, status = T.run({ "review", dir, "--port", "70000" })
  T.eq(status, 2)
  T.contains(err, "--port must be from 1 to 65535")
  out, err, status = T.run({ "review", T.tempdir() .. "/nothing-here" })
  T.eq(status, 1)
  T.contains(err, "cannot open")
  out, err, status = T.run({ "review", "--help" })
  T.eq(status, 0)
  T.contains(out, "--port")
end)

T.test("curator review on an album without embeddings says what to do; --embed computes them first", function()
  local dir = maker.album(T.tempdir() .. "/album", 6)
  -- --run 99 ends it after the checks (no such run), before serving.
  local _, err, status = T.run({ "review", dir, "--run", "99" })
  T.eq(status, 1, err)
  T.contains(err, "curator review: the album has no embeddings yet, so the page shows the images but no map; "
    .. "`curator review --embed " .. dir .. "` computes them first")
  T.contains(err, "no run #99")
  local out
  out, err, status = T.run({ "review", "--embed", dir, "--run", "99" })
  T.eq(status, 1, err)
  T.contains(err, "computing the embeddings the album lacks")
  -- Without a terminal no bar is drawn, and a line says what was done.
  T.ok(err:find("curator review: %a+: 6 embedded, 0 already embedded, 0 failed %(%d+%.%d s%)"), err)
  T.ok(not err:find("[", 1, true), err)
  T.ok(not err:find("no embeddings yet", 1, true), err)
  out, err, status = T.run({ "--no-plugins", "-e", "print('embedder=' .. tostring(curator.open(arg[1], {embed=false}).embedder))", dir })
  T.eq(status, 0, err)
  T.ok(out:find("embedder=%a") and not out:find("embedder=nil"), out)
  -- Embedded: nothing to say any more.
  _, err = T.run({ "review", dir, "--run", "99" })
  T.ok(not err:find("embedding", 1, true), err)
end)

T.test("v:flags shows quality flags on the page: the side panel's info, and the state's counter", function()
  local dir = maker.album(T.tempdir() .. "/album", 6)
  local a = assert(curator.open(dir))
  local v = a:review()
  local token = v.url:match("token=(%x+)")
  T.contains(http_get(v.port, "/api/state", token), '"flags":1')
  -- What curator.plugins.quality.flag(a) returns.
  T.eq(v:flags({ { image = a[2], issues = { "blurry", "dark" } }, { image = a[5], issues = { "overexposed" } } }), 2)
  T.contains(http_get(v.port, "/api/image/" .. a[2].id, token), '"flags":["blurry","dark"]')
  T.contains(http_get(v.port, "/api/state", token), '"flags":2')
  T.contains(http_get(v.port, "/api/flags", token), '"source":"repl"')
  T.contains(http_get(v.port, "/api/flags", token), '"' .. a[5].id .. '":["overexposed"]')
  T.contains(T.raises(nil, function() v:flags({ { image = 999, issues = {} } }) end), "no image #999")
  T.contains(T.raises(nil, function() v:flags({ { image = a[1], issues = "blurry" } }) end), "[1].issues: a list of strings expected, got string")
  T.contains(T.raises(nil, function() v:flags("blurry") end), "a list of {image=, issues={...}} expected")
  T.eq(v:flags({}), 0)
  T.contains(http_get(v.port, "/api/image/" .. a[2].id, token), '"flags":[]')
  v:close()
end)

T.test("the page shows the quality plugin's flags without v:flags: the same images and issues as quality.flag(a)", function()
  dofile(T.dir .. "/sample_support.lua")(T)
  local a = assert(curator.open(T.sample_album()))
  local quality = T.plugin("quality")
  local v = a:review()
  local token = v.url:match("token=(%x+)")
  local reply = http_get(v.port, "/api/flags", token)
  T.contains(reply, "HTTP/1.1 200")
  local body = curator.json.decode(reply:match("\r\n\r\n(.*)$"))
  T.eq(body.source, "checks")
  T.eq(body.checked, 83, "every image but the truncated JPEG has statistics")
  local want, got = {}, {}
  for _, f in ipairs(quality.flag(a)) do want[#want + 1] = f.image.path .. "=" .. table.concat(f.issues, "+") end
  for _, img in ipairs(a) do
    local issues = body.flags[tostring(img.id)]
    if issues then got[#got + 1] = img.path .. "=" .. table.concat(issues, "+") end
  end
  T.eq(table.concat(got, " "), table.concat(want, " "))
  T.eq(#got, 10)
  -- The side panel's info carries them too; an image without statistics has none and no stats.
  T.contains(http_get(v.port, "/api/image/" .. a:get("sunset/031.jpg").id, token), '"flags":["blurry"]')
  local unreadable = http_get(v.port, "/api/image/" .. a:get("inbox/IMG_0001.jpg").id, token)
  T.contains(unreadable, '"flags":[]')
  T.ok(not unreadable:find('"stats"', 1, true), unreadable)
  v:close()
end)

T.test("an open page reads statistics measured after it opened: checked images and the flags' generation move", function()
  local a = assert(curator.open(T.fixture_album(), { embed = false }))
  local v = a:review()
  local json = page_json(v)
  local before = json("/api/flags")
  T.eq(before.source, "checks")
  T.eq(before.checked, 0, "nothing measured: nothing checked")
  T.eq(a:measure(), #a)
  local after = json("/api/flags")
  T.eq(after.checked, #a, "measured in the REPL: the page's checks read every image")
  T.ok(after.generation > before.generation, "the page is told its flags changed")
  v:close()
end)

T.test("the page names the index's newest clusters with the labels a:clusters() gave them", function()
  local clip = T.dir .. "/../CuratorCoreTests/Fixtures/clip"
  local dir = maker.album(T.tempdir() .. "/album", 12)
  local a = assert(curator.open(dir, { embedder = "clip", model = clip .. "/tiny-hf" }))
  local c = a:clusters { method = "kmeans", k = 2, vocabulary = { "a red square", "a green square", "a blue square" } }
  T.eq(c.note, nil)
  T.eq(type(c[1].label), "string")
  -- A page opened afterwards, by a REPL that never passed the clusters on.
  local again = assert(curator.open(dir, { embedder = "clip", model = clip .. "/tiny-hf" }))
  local v = again:review()
  local json = page_json(v)
  local body = json("/api/clusters")
  T.eq(body.source, "index")
  T.eq(#body.clusters, 2)
  for k = 1, 2 do T.eq(body.clusters[k].label, c[k].label, "cluster " .. k .. "'s label") end
  T.eq(json("/api/image/" .. c[2].images[1].id).cluster.label, c[2].label)
  -- A newer clustering without labels is shown without them, not with the older one's.
  a:clusters { method = "kmeans", k = 3, labels = false }
  body = json("/api/clusters")
  T.eq(#body.clusters, 3)
  for k = 1, 3 do T.eq(body.clusters[k].label, curator.json.null) end
  v:close()
end)

T.test("clusters on the page: the index's newest a:clusters(), an image's cluster and uniqueness, v:clusters(c)", function()
  local dir = maker.album(T.tempdir() .. "/album", 12)
  local a = assert(curator.open(dir))
  local v = a:review()
  local json = page_json(v)
  local none = json("/api/clusters")
  T.eq(none.source, "none")
  T.contains(none.description, "a:clusters()")
  T.eq(json("/api/image/" .. a[1].id).cluster, curator.json.null)
  local before = json("/api/state").clusters
  local c = a:clusters{ method = "kmeans", k = 3 }
  -- The page sees the new clustering in the index at its next poll: the counter moves.
  T.ok(json("/api/state").clusters > before, "the clusters generation moved")
  local body = json("/api/clusters")
  T.eq(body.source, "index")
  T.eq(#body.clusters, #c)
  for k = 1, #c do
    T.eq(body.clusters[k].id, k)
    T.eq(body.clusters[k].size, c[k].size)
    T.eq(#body.clusters[k].members, c[k].size)
    -- Each cluster's colour comes with it (the map plot's and the report's), one per cluster.
    T.ok(body.clusters[k].colour:match("^#%x%x%x%x%x%x$"), body.clusters[k].colour)
    for j = 1, k - 1 do T.ok(body.clusters[j].colour ~= body.clusters[k].colour, "distinct colours") end
  end
  local img = c[2].images[1]
  local info = json("/api/image/" .. img.id)
  T.eq(info.cluster.id, 2)
  T.eq(info.cluster.size, c[2].size)
  T.eq(info.cluster.label, curator.json.null, "no labels from the index")
  -- Uniqueness is computed in the background for small albums.
  local u
  for _ = 1, 100 do
    u = json("/api/image/" .. img.id).uniqueness
    if type(u) == "number" then break end
    os.execute("sleep 0.05")
  end
  T.eq(type(u), "number", "uniqueness in the side panel's info")
  T.ok(u >= 0 and u <= 1, tostring(u))
  -- The REPL's own clusters replace the index's.
  local c2 = a:clusters{ method = "kmeans", k = 2 }
  T.eq(v:clusters(c2), 2)
  body = json("/api/clusters")
  T.eq(body.source, "repl")
  T.eq(#body.clusters, 2)
  T.contains(T.raises(nil, function() v:clusters("x") end), "Clusters expected (a:clusters()), got string")
  local other = assert(curator.open(maker.album(T.tempdir() .. "/other", 12)))
  T.contains(T.raises(nil, function() v:clusters(other:clusters{ method = "kmeans", k = 2 }) end), "not of the album this page shows")
  v:close()
end)
