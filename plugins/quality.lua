-- quality: flags blurry, dark, overexposed and low-information images from
-- the statistics the `pixels` embedder records for every image (img.stats),
-- in the spirit of cleanvision's checks.
--
--   local quality    -- the entry of curator.plugins whose name is "quality"
--   quality.issues(img)         --> {"blurry", "dark"} (empty when fine; nil without stats)
--   quality.flag(a)             --> {{image=img, issues={...}}, ...}  in album order
--   a.exclusions:add(quality.images(quality.flag(a)))   -- exclude every flagged image
--
-- The checks run in the host (curator.quality_issues: QualityChecks in the
-- core, which the review page uses too); their thresholds are this plugin's
-- (quality.thresholds; change them there or pass {thresholds={...}} to
-- issues/flag), passed to the host on every call. They were chosen on the sample
-- album (scripts/make-sample-album) by printing img.stats for every image
-- (README: "Choosing thresholds"); the statistics are measured on a 256 px
-- thumbnail, see ImageStatistics in the core:
--
-- * blurry: detail relative to tonal range, sharpness / (255·contrast)²,
--   below 0.005. The variance of the Laplacian grows with the square of the
--   contrast, so raw sharpness also calls smooth-but-crisp images (skies,
--   soft textures) blurry; dividing by the luma variance leaves a measure of
--   the finest detail (a pattern of wavelength λ px scores ≈ (2π/λ)⁴, so
--   0.005 ≈ nothing finer than ~24 px of the 256 px thumbnail). On the
--   sample album the Gaussian-blurred images score 0.0012–0.0039 and the
--   softest ordinary ones 0.0088. Images with almost no contrast (< 0.02)
--   are left to the low-information check.
-- * dark: mean luma (brightness) below 0.12. The album's darkened images
--   measure 0.02–0.08, its darkest ordinary image (a dusk sunset) 0.19.
-- * overexposed: mean luma above 0.80. Its overexposed images measure
--   0.88–0.94, its brightest ordinary image 0.56 (a flat pale-grey frame,
--   0.78, is low-information rather than overexposed).
-- * low_information: luma entropy below 2.5 bits or contrast below 0.01:
--   blank frames, lens-cap shots, near-black images. Flat frames measure 0
--   bits, the darkened forest 1.8; ordinary images 3.4 and up.

-- Relative to the album (issue 14: on 802 clip-art stamps the absolute
-- rules alone flagged half the album — white backgrounds read as
-- "overexposed", flat colours as "low information"): a check fails only
-- when its absolute rule fails AND the image stands out from its own
-- album by more than robust_z robust spreads (1.4826 × MAD around the
-- median) in that direction. On the sample album every planted fault
-- still fails (the closest, forest/021 blurry at z −2.6 and city/009 dark
-- at −2.6). The statistics of an image with transparency are alpha-aware
-- (ImageStatistics): brightness is the drawing's own, not the white page it
-- used to be flattened on, and contrast, entropy and sharpness see the
-- drawing on a page that contrasts with it. On 760 openclipart PNGs
-- (animals, food, transportation, 5 planted Gaussian blurs) exactly the 5
-- planted blurs are flagged; the absolute rules alone flag 413, and 358
-- images measured brighter than 0.8 before statistics were alpha-aware (51 now).
-- One exception: contrast below thresholds.flat (0.002, half a grey level)
-- is low information in any album. Such an image is one colour or nothing
-- drawn: on 600 openclipart PNGs and GNOME's backgrounds, 18 "gradients"
-- left fully transparent and the two solid-colour vnc backgrounds, which
-- the relative rule spared because the album's entropies run low.
local M = {
  name = "quality",
  description = "Scores and flags blurry, dark, overexposed and low-information images from img.stats",
  thresholds = {
    blurry = 0.005,          -- relative sharpness below this
    blurry_min_contrast = 0.02,
    dark = 0.12,             -- brightness below this
    overexposed = 0.80,      -- brightness above this
    low_entropy = 2.5,       -- entropy (bits) below this
    low_contrast = 0.01,     -- or contrast below this
    flat = 0.002,            -- contrast below this is low information in any album (one colour, or nothing drawn)
    robust_z = 2,            -- and this far out in the album's own distribution (0: absolute rules only)
    blurry_outlier = 3.5,    -- blurry also when detail is this far below the album's (0: off)
  },
  checks = { "blurry", "dark", "overexposed", "low_information" },
}

--- Detail relative to tonal range: sharpness / (255·contrast)²; nil for a
--- flat image (contrast 0) or without statistics. The host's formula, the
--- one its blurry check reads.
function M.relative_sharpness(img)
  return curator.quality_relative_sharpness(img)
end

-- The full thresholds the host's checks get: quality.thresholds as it is
-- now (a script may change it), overridden by opts.thresholds.
local function thresholds_of(opts)
  local t = {}
  for k, v in pairs(M.thresholds) do t[k] = v end
  if opts and opts.thresholds then
    for k, v in pairs(opts.thresholds) do
      if M.thresholds[k] == nil then
        error("quality: unknown threshold '" .. tostring(k) .. "' (known: blurry, blurry_min_contrast, dark, overexposed, low_entropy, low_contrast, flat, robust_z, blurry_outlier)", 3)
      end
      if type(v) ~= "number" then error("quality: threshold " .. k .. " must be a number", 3) end
      t[k] = v
    end
  end
  return t
end

-- The rules themselves (absolute thresholds, the album's median and robust
-- spread of each measure, the z test) are the host's: QualityChecks in the
-- core, the one implementation the review page uses too. An album of
-- white-background clip art is bright and simple throughout: there "bright"
-- and "few grey levels" are normal, and only what stands out from the album
-- (as well as failing the absolute rule) is flagged.
local measures = { brightness = true, entropy = true, contrast = true, log_relative_sharpness = true }

--- The album's baseline: for each measure {median=, spread=, n=}, computed
--- over its images with statistics (the host keeps it until the album's
--- images or vectors change).
function M.baseline(album)
  local b = curator.quality_baseline(album)
  b.count = #album
  return b
end

--- How far img's `measure` lies from its album's median, in robust spreads
--- (negative below); nil without statistics.
function M.z(img, measure)
  if not measures[measure] then error("quality: unknown measure '" .. tostring(measure) .. "'", 2) end
  return curator.quality_z(img, measure)
end

--- The issues of img, a list of check names in the order of quality.checks
--- (empty when it looks fine), or nil when it has no statistics (not
--- embedded with `pixels`, or unreadable). A check fails when its absolute
--- rule fails and the image also stands out from its album by more than
--- thresholds.robust_z robust spreads in that direction.
function M.issues(img, opts)
  return curator.quality_issues(img, thresholds_of(opts))
end

--- The flagged images of `source` (an album, ImageSet or list of images):
--- {{image=, issues={...}}, ...} in source order. With {unreadable=true},
--- images without statistics are listed too, with issues {"unreadable"}.
--- With {only="dark"} (or a list of names), only those checks count.
function M.flag(source, opts)
  local only
  if opts and opts.only then
    only = {}
    for _, name in ipairs(type(opts.only) == "table" and opts.only or { opts.only }) do only[name] = true end
  end
  local flagged, seen, measured = {}, 0, 0
  for _, img in ipairs(source) do
    local issues = M.issues(img, opts)
    seen = seen + 1
    if issues ~= nil then measured = measured + 1 end
    if issues == nil then
      if opts and opts.unreadable then flagged[#flagged + 1] = { image = img, issues = { "unreadable" } } end
    else
      if only then
        local kept = {}
        for _, i in ipairs(issues) do if only[i] then kept[#kept + 1] = i end end
        issues = kept
      end
      if #issues > 0 then flagged[#flagged + 1] = { image = img, issues = issues } end
    end
  end
  -- Not one image measured is an album never measured (PhotoMapAI's,
  -- imported), not an album of unreadable files: saying "nothing flagged",
  -- or flagging every image unreadable, would be wrong either way.
  if seen > 0 and measured == 0 then
    error("quality.flag: none of the " .. seen .. " images has statistics (img.stats) to check; "
      .. "a:measure() measures them (a PhotoMapAI or imported album has none until then)", 2)
  end
  return flagged
end

--- The images of a flag list (for ImageSet:add).
function M.images(flagged)
  local list = {}
  for i, f in ipairs(flagged) do list[i] = f.image end
  return list
end

--- One line counting the flags by check, before any list:
--- "10 of 84 images flagged: 3 blurry, 4 dark, 2 overexposed, 3 low_information".
function M.summary(flagged, total)
  local counts = {}
  for _, f in ipairs(flagged) do
    for _, issue in ipairs(f.issues) do counts[issue] = (counts[issue] or 0) + 1 end
  end
  local parts = {}
  for _, check in ipairs(M.checks) do
    if counts[check] then parts[#parts + 1] = counts[check] .. " " .. check end
  end
  if counts.unreadable then parts[#parts + 1] = counts.unreadable .. " unreadable" end
  local head = total and (#flagged .. " of " .. total .. " images flagged") or (#flagged .. " images flagged")
  return #parts > 0 and (head .. ": " .. table.concat(parts, ", ")) or head
end

--- A line per flagged image: "sunset/031.jpg: blurry".
function M.describe(flagged)
  local lines = {}
  for _, f in ipairs(flagged) do lines[#lines + 1] = f.image.path .. ": " .. table.concat(f.issues, ", ") end
  return table.concat(lines, "\n")
end

local function stat(name)
  return function(img)
    local s = img.stats
    return s and s[name]
  end
end

curator.register_score("sharpness", stat("sharpness"),
  { description = "Variance of the Laplacian of the luma (img.stats.sharpness); low = blurry or flat" })
curator.register_score("brightness", stat("brightness"), { description = "Mean luma 0..1 (img.stats.brightness)" })
curator.register_score("entropy", stat("entropy"), { description = "Luma entropy in bits 0..8 (img.stats.entropy)" })
curator.register_score("relative_sharpness", M.relative_sharpness,
  { description = "sharpness / (255·contrast)²: fine detail regardless of contrast; below 0.005 = blurry" })
curator.register_score("quality_issues", function(img)
  local issues = M.issues(img)
  return issues and #issues
end, { description = "How many quality checks the image fails (0 = looks fine)" })

-- For help(quality.flag) and help("quality"): first line the signature, then the summary.
M.help = {
  issues = "quality.issues(img [, {thresholds=}]) -> {\"blurry\", ...} or nil\nThe checks img fails, in the order of quality.checks (empty when it looks fine; nil without img.stats)",
  flag = "quality.flag(source [, {thresholds=, only=, unreadable=}]) -> {{image=, issues=}, ...}\nThe flagged images of an album, ImageSet or list, in source order (an error when none of them has statistics: a:measure() first)",
  images = "quality.images(flagged) -> {Image, ...}\nThe images of a flag list, for a.exclusions:add(...)",
  describe = "quality.describe(flagged) -> string\nOne line per flagged image: \"sunset/031.jpg: blurry\"",
  summary = "quality.summary(flagged [, total]) -> string\nThe flags counted by check: \"10 of 84 images flagged: 3 blurry, 4 dark, ...\"",
  baseline = "quality.baseline(album) -> {brightness={median=, spread=}, entropy=, contrast=, log_relative_sharpness=}\nThe album's own distribution the relative checks compare against",
  z = "quality.z(img, measure) -> number or nil\nHow many robust spreads img's measure lies from its album's median (negative below)",
  relative_sharpness = "quality.relative_sharpness(img) -> number or nil\nsharpness / (255·contrast)²: fine detail whatever the contrast; below 0.005 is blurry",
}

return M
