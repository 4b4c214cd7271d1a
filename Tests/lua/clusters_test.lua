-- Clusters (issue 18): a:clusters (HDBSCAN on the map, K-Means), the cache,
-- medoids, c:of, labels from a vocabulary, balance={by="cluster"}, and bad input.
local T = ...
local maker = dofile(T.dir .. "/lib/album_maker.lua")
local clip = T.dir .. "/../CuratorCoreTests/Fixtures/clip"

local function fails(part, fn) T.contains(T.raises(nil, fn), part) end

-- An album of three colour families (red, green, blue), `per` images each,
-- every image a little different: three clusters a user would see.
local function families(per)
  local dir = T.tempdir() .. "/album"
  os.execute("mkdir -p " .. T.quote(dir))
  local bases = { { 220, 40, 30 }, { 30, 200, 50 }, { 40, 60, 230 } }
  for f, base in ipairs(bases) do
    for i = 1, per do
      maker.write(string.format("%s/f%d_%02d.png", dir, f, i), maker.png(16, 16, function(x, y)
        local t = ((x * i + y * (f + 1)) % 17) / 17 * 0.3
        return math.floor(base[1] * (1 - t)), math.floor(base[2] * (1 - t)), math.floor(base[3] * (1 - t))
      end))
    end
  end
  return dir
end

local function family(img) return img.path:match("^f(%d)_") end

-- Fails unless the SVG in `text` draws its album points in exactly `n` colours, none of them the grey of no cluster.
local function expect_cluster_colours(text, n)
  local colours, count = {}, 0
  for colour in text:gmatch('<path d="[^"]*" stroke="(#%x+)"') do
    if not colours[colour] then count = count + 1 end
    colours[colour] = true
  end
  T.eq(count, n, "cluster colours")
  T.eq(colours["#8d8d99"], nil, "no point is left grey")
end

T.test("a:clusters finds the families, is cached, and names each image's cluster", function()
  local a = assert(curator.open(families(10)))
  local c = a:clusters()
  T.eq(c.method, "hdbscan")
  T.eq(c.min_size, 5)
  T.eq(c.cached, false)
  T.eq(#c, 3)
  local seen = {}
  for i, cluster in ipairs(c) do
    T.eq(cluster.id, i)
    T.eq(cluster.size, 10, "each family is a cluster")
    T.eq(#cluster.images, 10)
    local f = family(cluster.images[1])
    for _, img in ipairs(cluster.images) do T.eq(family(img), f, "one family per cluster") end
    T.ok(not seen[f]) ; seen[f] = true
    T.eq(family(cluster.medoid), f, "the medoid is a member")
    T.eq(c:of(cluster.medoid).id, cluster.id)
  end
  T.eq(#c.noise, 0)
  local again = a:clusters()
  T.eq(again.cached, true, "the second call reads the index")
  for i = 1, 3 do T.eq(again[i].medoid, c[i].medoid) end
  -- Another album object on the same index reads the same clusters.
  local b = assert(curator.open(a.path))
  local c2 = b:clusters()
  T.eq(c2.cached, true)
  T.eq(c2[1].medoid.path, c[1].medoid.path)
  T.contains(tostring(c), "<Clusters 3 clusters, 0 noise images (hdbscan, min_size 5")
end)

T.test("K-Means clusters: exactly k, no noise, every image once, deterministic for a seed", function()
  local a = assert(curator.open(families(8)))
  local c = a:clusters { method = "kmeans", k = 3, seed = 4 }
  T.eq(c.method, "kmeans")
  T.eq(c.k, 3)
  T.eq(#c, 3)
  local total = 0
  for _, cluster in ipairs(c) do
    total = total + cluster.size
    local f = family(cluster.medoid)
    for _, img in ipairs(cluster.images) do T.eq(family(img), f) end
  end
  T.eq(total, #a)
  T.eq(#c.noise, 0)
  for _, img in ipairs(a) do T.ok(c:of(img), "every image is in a cluster") end
  local again = a:clusters { method = "kmeans", k = 3, seed = 4 }
  T.eq(again.cached, true)
  T.eq(again[1].medoid, c[1].medoid)
end)

T.test("balance={by=\"cluster\"} shares the count between the clusters", function()
  local a = assert(curator.open(families(10)))
  local r = a:select { method = "fps", count = 9, seed = 1, balance = { by = "cluster" } }
  T.eq(#r.strata, 3)
  for _, s in ipairs(r.strata) do
    T.contains(s.name, "cluster ")
    T.eq(s.candidates, 10)
    T.eq(s.quota, 3)
    T.eq(s.selected, 3)
  end
  -- A Clusters object (here K-Means) balances by its own clusters; quotas by name.
  local c = a:clusters { method = "kmeans", k = 3 }
  local q = a:select { method = "fps", seed = 1, balance = { by = c, mode = { ["cluster 1"] = 4, ["cluster 2"] = 1 } } }
  local got = {}
  for _, s in ipairs(q.strata) do got[s.name] = s.selected end
  T.eq(got["cluster 1"], 4)
  T.eq(got["cluster 2"], 1)
  T.eq(got["cluster 3"], 0)
end)

T.test("clusters on an album of 1 or 2 images: no clusters, every image noise, and why", function()
  for _, n in ipairs({ 1, 2 }) do
    local a = assert(curator.open(maker.album(T.tempdir() .. "/album", n)))
    local c = a:clusters()
    T.eq(#c, 0)
    T.eq(#c.noise, n)
    T.eq(c[1], nil)
    T.eq(c:of(a[1]), nil, "noise has no cluster")
    T.contains(c.note, "cannot form two clusters of at least 5 (min_size): every image is noise")
    fails("cannot form two clusters", function() error(c.note) end)
    local small = a:clusters { min_size = 2 }
    T.eq(#small, 0)
    T.eq(#small.noise, n)
    -- K-Means cannot make more clusters than images.
    fails("clusters: k 3 is more than the album's " .. n .. " embedded image", function() a:clusters { method = "kmeans", k = 3 } end)
    local one = a:clusters { method = "kmeans", k = 1 }
    T.eq(#one, 1)
    T.eq(one[1].size, n)
  end
end)

T.test("a:clusters says what is wrong with its options", function()
  local a = assert(curator.open(maker.album(T.tempdir() .. "/album", 4)))
  fails("min_size must be an integer of at least 2 (got 1)", function() a:clusters { min_size = 1 } end)
  fails("k is K-Means' setting", function() a:clusters { k = 3 } end)
  fails("min_size is HDBSCAN's setting", function() a:clusters { method = "kmeans", min_size = 3 } end)
  fails("k must be a positive integer (got 0)", function() a:clusters { method = "kmeans", k = 0 } end)
  fails("method", function() a:clusters { method = "dbscan" } end)
  fails("vocabulary", function() a:clusters { vocabulary = T.tempdir() .. "/missing.txt" } end)
  fails("balance.by must be", function() a:select { count = 2, balance = { by = "clusters" } } end)
end)

T.test("labels without a text tower: clusters still work, and the note says how to get labels", function()
  local a = assert(curator.open(families(10)))
  T.eq(a.embedder, "pixels")
  local c = a:clusters()
  T.eq(#c, 3)
  T.eq(c[1].label, nil)
  T.contains(c.note, "no labels: the album's vectors come from the 'pixels' embedder")
  T.contains(c.note, "Install a CLIP model")
  local quiet = a:clusters { labels = false }
  T.eq(#quiet, 3)
  T.contains(quiet.note, "labels=false")
end)

T.test("labels from the vocabulary through the text tower, with runners-up", function()
  local dir = families(10)
  local a = assert(curator.open(dir, { embedder = "clip", model = clip .. "/tiny-hf" }))
  local words = T.tempdir() .. "/words.txt"
  local f = assert(io.open(words, "w"))
  f:write("# my words\nred paint\n\ngreen grass\nblue sky\nred paint\n")
  f:close()
  local c = a:clusters { min_size = 5, vocabulary = words }
  T.ok(#c >= 1, "the tiny model's vectors still cluster")
  T.eq(c.note, nil)
  -- Every label is a phrase of the shipped vocabulary or of the user's file.
  local allowed = { ["red paint"] = true, ["green grass"] = true, ["blue sky"] = true }
  for line in io.lines(T.dir .. "/../../data/vocabulary.txt") do
    if line ~= "" and not line:match("^#") then allowed[line] = true end
  end
  for _, cluster in ipairs(c) do
    T.eq(type(cluster.label), "string")
    T.ok(allowed[cluster.label], cluster.label .. " is in a vocabulary")
    T.ok(cluster.score > 0 and cluster.score <= 1, "a probability")
    T.eq(#cluster.alternates, 2)
    for _, alternate in ipairs(cluster.alternates) do
      T.ok(allowed[alternate], alternate .. " is in a vocabulary")
      T.ok(alternate ~= cluster.label)
    end
  end
  -- The labels are the same every time (the phrases' vectors are kept for the session).
  local again = a:clusters { min_size = 5, vocabulary = words }
  T.eq(again[1].label, c[1].label)
  T.eq(again[1].score, c[1].score)
  -- A list of phrases works as a file does.
  local listed = a:clusters { min_size = 5, vocabulary = { "a red square", "a green square" } }
  T.eq(type(listed[1].label), "string")
  T.eq(listed.note, nil)
end)

T.test("m:plot{clusters=} colours the album by cluster and names each cluster", function()
  local a = assert(curator.open(families(10)))
  local c = a:clusters()
  local out = T.tempdir()
  local svg = a:map():plot(out .. "/map.svg", { clusters = c })
  local text = T.read(svg)
  for i = 1, #c do T.contains(text, ">" .. i .. "</text>", "cluster " .. i .. " is named") end
  T.contains(text, "3 clusters (hdbscan)")
  -- Three cluster colours, no grey album points left.
  expect_cluster_colours(text, 3)
  -- clusters=true clusters with the defaults; a PNG is drawn too.
  local png = a:map():plot(out .. "/map.png", { clusters = true })
  T.eq(T.read(png):sub(2, 4), "PNG")
  fails("clusters must be a Clusters", function() a:map():plot(out .. "/x.svg", { clusters = 3 }) end)
end)

T.test("r:report{clusters=} lists each cluster with its medoid and picks, colours the map, names each tile's cluster", function()
  local a = assert(curator.open(families(10)))
  local c = a:clusters()
  local r = a:select { method = "fps", count = 6, seed = 1, balance = { by = c } }
  local html = T.read(r:report(T.tempdir() .. "/report.html", { clusters = c }))
  T.contains(html, "<h2>Clusters <span class=\"count\">3</span></h2>")
  T.contains(html, "HDBSCAN (min_size 5)")
  -- One row per cluster: its medoid (a thumbnail and its path), 10 images, 2 of the 6 picks.
  local rows = 0
  for id, medoid, size, picks, shares in html:gmatch('</span>(%d+)</td><td><img [^>]*><span class="medoid">([^<]+)</span></td><td><span class="muted">no label</span></td><td>(%d+)</td><td>(%d+)</td><td><span class="bar"[^>]*></span>([^<]+)</td></tr>') do
    rows = rows + 1
    T.eq(medoid, c[tonumber(id)].medoid.path)
    T.eq(tonumber(size), 10)
    T.eq(tonumber(picks), 2)
    T.eq(shares, "33.3 % / 33.3 %")
  end
  T.eq(rows, 3)
  T.contains(html, '<td><span class="muted">in no cluster</span></td><td>0</td><td>0</td>')
  -- The map: album points in three cluster colours (none grey), each cluster named.
  expect_cluster_colours(html, 3)
  for i = 1, 3 do T.contains(html, 'class="cluster-name">' .. i .. "</text>") end
  -- Every tile names its pick's cluster, and shows its uniqueness and typicality.
  local chips = 0
  for id in html:gmatch('<span class="cluster" style="[^"]*" title="cluster (%d+)">') do chips = chips + 1 end
  T.eq(chips, 6)
  for _, img in ipairs(r.selection) do
    T.contains(html, string.format("uniqueness %.2f · typicality %.2f", img.uniqueness, img.typicality))
  end
  -- clusters=true clusters with the defaults; without clusters= the report has none.
  T.contains(T.read(r:report(T.tempdir() .. "/auto.html", { clusters = true })), "<h2>Clusters")
  local plain = T.read(r:report(T.tempdir() .. "/plain.html"))
  T.eq(plain:find("<h2>Clusters", 1, true), nil)
  T.eq(plain:find('class="cluster"', 1, true), nil)
  fails("clusters must be a Clusters", function() r:report(T.tempdir() .. "/x.html", { clusters = "yes" }) end)
  local other = assert(curator.open(families(10)))
  fails("the clusters belong to another album", function() r:report(T.tempdir() .. "/y.html", { clusters = other:clusters() }) end)
end)

T.test("r:report{clusters=} shows each cluster's label and runners-up from the text tower", function()
  local a = assert(curator.open(families(10), { embedder = "clip", model = clip .. "/tiny-hf" }))
  local c = a:clusters { min_size = 5, vocabulary = { "red paint", "green grass", "blue sky" } }
  T.ok(#c >= 1)
  local r = a:select { method = "fps", count = 4, seed = 2 }
  local html = T.read(r:report(T.tempdir() .. "/report.html", { clusters = c }))
  for i = 1, #c do
    T.contains(html, string.format("<b>%s</b> <span class=\"muted\">%.2f</span><br><span class=\"muted\">%s</span>",
      c[i].label, c[i].score, table.concat(c[i].alternates, ", ")))
    T.contains(html, 'class="cluster-name">' .. i .. " " .. c[i].label .. "</text>")
  end
end)
