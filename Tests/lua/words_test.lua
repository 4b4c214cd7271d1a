-- Words (SPEC §10): a:search, text scores in filters and selections,
-- curator.text_score, a:labels, a.text_model, with the tiny random CLIP model
-- of Tests/CuratorCoreTests/Fixtures/clip (its scores mean nothing; how they
-- combine, rank and narrow does).
local T = ...
local maker = dofile(T.dir .. "/lib/album_maker.lua")
local clip = T.dir .. "/../CuratorCoreTests/Fixtures/clip"

local function clip_album(n)
  local dir = maker.album(T.tempdir() .. "/album", n or 12)
  return assert(curator.open(dir, { embedder = "clip", model = clip .. "/tiny-hf" })), dir
end

local function close(a, b, what) T.ok(math.abs(a - b) < 1e-5, (what or "") .. ": " .. a .. " vs " .. b) end

T.test("a:search ranks by the prompt's score, best first; k and min_score", function()
  local a = clip_album(12)
  T.eq(a.embedder, "clip")
  T.contains(a.text_model, "tiny-hf")
  T.eq(a.text_model_note, nil)
  local score = curator.text_score(a, "a dog on a beach")
  local hits = a:search("a dog on a beach", { k = 5 })
  T.eq(#hits, 5)
  for i, h in ipairs(hits) do
    close(h.score, score(h.image), "the hit's score is its text score")
    if i > 1 then T.ok(hits[i - 1].score >= h.score, "best first") end
  end
  -- Nothing outside the hits scores higher than the last one.
  local last = hits[5].score
  local above = 0
  for _, img in ipairs(a) do if score(img) > last then above = above + 1 end end
  T.eq(above, 4)
  T.eq(#a:search("a dog on a beach"), 12 < 20 and 12 or 20, "k defaults to 20")
  -- min_score alone keeps every image at or above it.
  local threshold = hits[3].score
  local kept = a:search("a dog on a beach", { min_score = threshold })
  T.eq(#kept, 3)
  for _, h in ipairs(kept) do T.ok(h.score >= threshold) end
  -- Excluded images are still found (search finds; selections leave out).
  a.exclusions:add(hits[1].image)
  T.eq(a:search("a dog on a beach", { k = 1 })[1].image, hits[1].image)
end)

T.test("positives average, the negative is subtracted at half weight (PhotoMapAI's combination)", function()
  local a = clip_album(10)
  local dog, beach, mark = curator.text_score(a, "dog"), curator.text_score(a, "beach"), curator.text_score(a, "text, watermark")
  local img = a[4]
  local both = a:search({ "dog", "beach" }, { k = 10 })
  for _, h in ipairs(both) do close(h.score, (dog(h.image) + beach(h.image)) / 2, "mean of positives") end
  local neg = a:search("dog", { negative = "text, watermark", k = 10 })
  for _, h in ipairs(neg) do close(h.score, dog(h.image) - 0.5 * mark(h.image), "minus half the negative") end
  local weighted = a:search("dog", { negative = "text, watermark", negative_weight = 1, k = 10 })
  for _, h in ipairs(weighted) do close(h.score, dog(h.image) - mark(h.image), "negative_weight") end
  -- An image as the query: itself first, at cosine 1; mixed with text, the mean.
  local by_image = a:search(img, { k = 1 })
  T.eq(by_image[1].image, img)
  close(by_image[1].score, 1, "an image's cosine with itself")
  local mixed = a:search({ "dog", img }, { k = 10 })
  for _, h in ipairs(mixed) do
    if h.image == img then close(h.score, (dog(img) + 1) / 2, "text and image averaged") end
  end
  local fn = curator.text_score(a, "dog", { negative = "text, watermark" })
  close(fn(img), dog(img) - 0.5 * mark(img))
  close(fn(img.id), fn(img), "by id")
end)

T.test("a:embed{arithmetic=} runs the tower in float32 or bfloat16; both give the same embedder and nearly the same vectors", function()
  local dir = maker.album(T.tempdir() .. "/album", 6)
  local exact = assert(curator.open(dir, { model = clip .. "/tiny-hf", embed = false }))
  local report = exact:embed("clip", { arithmetic = "float32" })
  T.eq(report.embedder, "clip")
  T.eq(report.embedded, 6)
  local other = T.tempdir() .. "/album"
  maker.album(other, 6)
  local fast = assert(curator.open(other, { model = clip .. "/tiny-hf", embed = false }))
  T.eq(fast:embed("clip", { arithmetic = "bfloat16" }).embedded, 6)
  -- The same images (the maker draws them from the same seed): the same scores, within bfloat16's rounding.
  local a, b = curator.text_score(exact, "a red dress"), curator.text_score(fast, "a red dress")
  local ia, ib = exact:images(), fast:images()
  T.eq(#ia, #ib)
  for i = 1, #ia do
    T.eq(ia[i].path, ib[i].path)
    T.ok(math.abs(a(ia[i]) - b(ib[i])) < 2e-3, ia[i].path .. ": " .. a(ia[i]) .. " vs " .. b(ib[i]))
  end
  T.contains(T.raises(nil, function() exact:embed("clip", { arithmetic = "f16" }) end),
    'arithmetic: "f16" is not one of "float32", "bfloat16"')
  T.contains(T.raises(nil, function() exact:embed("clip", { precision = "float32" }) end), "precision")
end)

T.test("curator.text_score takes an Image or its id; nil where there is no vector", function()
  local a, dir = clip_album(6)
  local fn = curator.text_score(a, "dog")
  local img = a[3]
  T.eq(type(fn(img)), "number")
  T.eq(fn(img.id + 0.0), fn(img), "an integral float id")
  T.eq(fn(img.id + 0.5), nil)
  T.eq(fn(0), nil)
  T.eq(fn(-1), nil)
  T.eq(fn(2 ^ 40), nil)
  T.eq(fn(math.maxinteger), nil)
  T.eq(fn(math.mininteger), nil)
  -- A removed image leaves a hole among the ids: no score there, its neighbours keep theirs.
  local gone, neighbour, before = a[3].id, a[4].path, fn(a[4])
  os.remove(a[3].file)
  local b = assert(curator.open(dir, { model = clip .. "/tiny-hf" }))
  T.eq(#b, 5)
  local again = curator.text_score(b, "dog")
  T.eq(again(gone), nil)
  T.eq(again(b:get(neighbour)), before, "a neighbour's score")
end)

T.test("a:select{prompt=} narrows the candidates before any sampler, custom ones too", function()
  local a = clip_album(12)
  local score = curator.text_score(a, "woman in a red dress")
  local values = {}
  for _, img in ipairs(a) do values[#values + 1] = score(img) end
  table.sort(values)
  local cut = values[7] -- six images score at or above it
  local eligible = 0
  for _, img in ipairs(a) do if score(img) >= cut then eligible = eligible + 1 end end
  local r = a:select { method = "fps", count = 3, iterations = 4, seed = 1, prompt = "woman in a red dress", min_score = cut }
  T.eq(r.candidates, eligible)
  for _, img in ipairs(r.selection) do T.ok(score(img) >= cut, "every pick matches the prompt") end
  local k = a:select { method = "kmeans", count = 2, iterations = 3, seed = 1, prompt = "woman in a red dress", min_score = cut }
  T.eq(k.candidates, eligible)
  -- A custom sampler sees only the narrowed candidates.
  local seen
  curator.register_sampler("first_few", function(ctx)
    seen = #ctx.candidates
    local out = {}
    for i = 1, ctx.count do out[i] = ctx.candidates[i] end
    return out
  end)
  a:select { method = "first_few", count = 2, iterations = 1, seed = 1, prompt = "woman in a red dress", min_score = cut }
  T.eq(seen, eligible)
  -- The negative lowers the scores, so fewer pass.
  local neg = curator.text_score(a, "woman in a red dress", { negative = "blurry photo" })
  local with_negative = 0
  for _, img in ipairs(a) do if neg(img) >= cut then with_negative = with_negative + 1 end end
  if with_negative > 0 then
    local n = a:select { count = 1, iterations = 1, seed = 1, prompt = "woman in a red dress", negative = "blurry photo", min_score = cut }
    T.eq(n.candidates, with_negative)
  end
  local err = T.raises(nil, function() a:select { count = 2, prompt = "woman in a red dress", min_score = 2 } end)
  T.contains(err, "no candidate scores 2.0 or more for \"woman in a red dress\"")
  T.contains(err, "lower min_score")
  T.contains(T.raises(nil, function() a:select { count = 2, min_score = 0.1 } end), "min_score needs a prompt")
end)

T.test("filter={text=, min=, max=} is a score source", function()
  local a = clip_album(12)
  local score = curator.text_score(a, "blurry photo")
  local values = {}
  for _, img in ipairs(a) do values[#values + 1] = score(img) end
  table.sort(values)
  local r = a:select { method = "kmeans", count = 2, iterations = 2, seed = 1, filter = { text = "blurry photo", max = values[5] } }
  T.eq(r.candidates, 5)
  local s = a:select { count = 2, iterations = 2, seed = 1, filter = { text = "blurry photo", min = values[9] } }
  T.eq(s.candidates, 4)
  T.contains(T.raises(nil, function() a:select { count = 2, filter = { text = "x", score = "y" } } end), "not both")
end)

T.test("a:labels gives every image its best label; templates average", function()
  local a = clip_album(8)
  local names = { "portrait", "full body", "close-up", "landscape" }
  local labels = a:labels(names)
  T.eq(#labels, 8)
  local fns = {}
  for _, n in ipairs(names) do fns[n] = curator.text_score(a, n) end
  for _, l in ipairs(labels) do
    close(l.score, fns[l.label](l.image), "the label's score")
    for _, n in ipairs(names) do T.ok(fns[n](l.image) <= l.score + 1e-6, "no label scores higher") end
  end
  local templated = a:labels(names, { templates = { "a photo of a {}.", "a picture of the {}" } })
  T.eq(#templated, 8)
  local default = a:labels(names, { templates = true })
  T.eq(#default, 8)
  T.contains(T.raises(nil, function() a:labels(names, { templates = { "no place" } }) end), "has no {}")
  T.contains(T.raises(nil, function() a:labels({}) end), "the list of labels is empty")
end)

T.test("bad prompts: empty, longer than the context", function()
  local a = clip_album(4)
  T.contains(T.raises(nil, function() a:search("") end), "the prompt is empty")
  T.contains(T.raises(nil, function() a:search("   ") end), "the prompt is empty")
  T.contains(T.raises(nil, function() a:search({}) end), "the list is empty")
  T.contains(T.raises(nil, function() a:search(42) end), "a text or an Image expected")
  -- A long prompt is cut at the context (77 tokens) with a warning, and still searches.
  local dir = a.path
  local long = string.rep("a red dress ", 60)
  local out, err, code = T.run({ "--no-plugins", "-e", "local a = curator.open(" .. string.format("%q", dir)
    .. ", {model=" .. string.format("%q", clip .. "/tiny-hf") .. "}); print(#a:search(" .. string.format("%q", long) .. ", {k=2}))" })
  T.eq(code, 0, err)
  T.eq(out, "2\n")
  T.contains(err, "album:search: ")
  T.contains(err, "tokens; the text tower reads the first 77 (the rest is ignored)")
end)

T.test("text needs a text side: pixels albums, vectors of unknown or uninstalled models", function()
  local dir = maker.album(T.tempdir() .. "/album", 4)
  local pixels = assert(curator.open(dir))
  T.eq(pixels.embedder, "pixels")
  T.eq(pixels.text_model, nil)
  T.contains(pixels.text_model_note, "'pixels' embedder, a visual descriptor with no text side")
  local err = T.raises(nil, function() pixels:search("a dog") end)
  T.contains(err, "'pixels' embedder, a visual descriptor with no text side")
  T.contains(err, "clip-vit-base-patch32")
  T.contains(err, "a:embed(\"clip\")")
  T.contains(T.raises(nil, function() pixels:select { count = 1, prompt = "a dog" } end), "no text side")
  -- PhotoMapAI's DFN-2B vectors with no such model installed: what to download, and where.
  local models = T.tempdir()
  -- (a copy: an embeddings file keeps its index beside it)
  local npz = T.tempdir() .. "/embeddings.npz"
  maker.write(npz, T.read(T.fixtures .. "/embeddings/photomap_f32.npz"))
  local out, err2, code = T.run({ "--no-plugins", "-e", "local a = curator.open(" .. string.format("%q", npz) .. "); print(a.model); print(a:search('a dog'))" },
    nil, "CURATOR_MODELS=" .. T.quote(models) .. " HOME=" .. T.quote(models))
  T.eq(code, 1)
  T.contains(out, "open-clip:ViT-L-14/dfn2b_s39b")
  T.contains(err2, "apple/DFN2B-CLIP-ViT-L-14-39B")
  T.contains(err2, models .. "/.cache/curator/models/DFN2B-CLIP-ViT-L-14-39B/")
  -- A model folder of another model is never paired with them.
  local _, err3, code3 = T.run({ "--no-plugins", "-e", "local a = curator.open(" .. string.format("%q", npz) .. ", {model="
    .. string.format("%q", clip .. "/tiny-dfn2b") .. "}); print(a:search('a dog'))" }, nil, "CURATOR_MODELS=" .. T.quote(models))
  T.eq(code3, 1)
  T.contains(err3, "holds model open-clip:tiny-dfn2b, but the album's vectors were made by open-clip:ViT-L-14/dfn2b_s39b")
  T.contains(err3, "never paired with another model's vectors")
  T.contains(T.raises(nil, function() curator.open(dir, { model = models }) end), "is not a model folder")
end)

T.test("a model folder without a text tower or tokenizer says what is missing", function()
  -- tiny-openclip holds only a vision tower.
  local vdir = maker.album(T.tempdir() .. "/album", 3)
  local v = assert(curator.open(vdir, { embedder = "clip", model = clip .. "/tiny-openclip" }))
  T.eq(v.embedder, "clip")
  T.eq(v.text_model, nil)
  T.contains(v.text_model_note, "no text tower: tensors 'token_embedding.weight', 'ln_final.weight', 'text_projection' are missing")
  local verr = T.raises(nil, function() v:search("a dog") end)
  T.contains(verr, "no text tower: tensors 'token_embedding.weight', 'ln_final.weight', 'text_projection' are missing")
  local a, dir = clip_album(3)
  local broken = T.tempdir() .. "/tiny-hf"
  assert(os.execute("cp -R " .. T.quote(clip .. "/tiny-hf") .. " " .. T.quote(broken)))
  -- Without any tokenizer file.
  os.remove(broken .. "/tokenizer.json"); os.remove(broken .. "/vocab.json"); os.remove(broken .. "/merges.txt")
  local b = assert(curator.open(dir, { model = broken }))
  T.eq(b.text_model, nil)
  T.contains(b.text_model_note, "no tokenizer")
  local err = T.raises(nil, function() b:search("a dog") end)
  T.contains(err, "no tokenizer")
  T.contains(err, "tokenizer.json")
  -- A corrupt tokenizer.json.
  maker.write(broken .. "/tokenizer.json", "{\"model\": ")
  local c = assert(curator.open(dir, { model = broken }))
  T.contains(T.raises(nil, function() c:search("a dog") end), "tokenizer.json: is not valid JSON")
end)

T.test("a SigLIP 2 album: native embedding, sigmoid scores, labels and prompts", function()
  local siglip2 = T.dir .. "/../CuratorCoreTests/Fixtures/siglip/tiny-siglip2"
  local dir = maker.album(T.tempdir() .. "/album", 8)
  local a = assert(curator.open(dir, { embedder = "clip", model = siglip2 }))
  T.eq(a.embedder, "clip")
  T.eq(a.model, "siglip:tiny-siglip2")
  T.contains(a.text_model, "tiny-siglip2")
  local score = curator.text_score(a, "a dog on a beach")
  local hits = a:search("a dog on a beach", { k = 8 })
  T.eq(#hits, 8)
  for i, h in ipairs(hits) do
    close(h.score, score(h.image), "the hit's score is its text score")
    T.ok(h.score > 0 and h.score < 1, "a probability: " .. h.score)
    if i > 1 then T.ok(hits[i - 1].score >= h.score, "best first") end
  end
  -- The negative is subtracted in score space, probabilities and all.
  local mark = curator.text_score(a, "text, watermark")
  for _, h in ipairs(a:search("a dog on a beach", { negative = "text, watermark", k = 8 })) do
    close(h.score, score(h.image) - 0.5 * mark(h.image), "minus half the negative's probability")
  end
  local labels = a:labels { "a dog", "a watermark" }
  T.eq(#labels, 8)
  for _, l in ipairs(labels) do T.ok(l.score > 0 and l.score < 1, "a label's probability") end
  local floor = hits[4].score
  local r = a:select { method = "fps", count = 2, iterations = 2, seed = 1, prompt = "a dog on a beach", min_score = floor }
  T.eq(r.candidates, 4)
end)
