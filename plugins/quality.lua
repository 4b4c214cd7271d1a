-- quality: flags blurry, dark, overexposed and low-information images from
-- the statistics the `pixels` embedder records for every image (img.stats),
-- in the spirit of cleanvision's checks.
--
--   local quality    -- the entry of curator.plugins whose name is "quality"
--   quality.issues(img)         --> {"blurry", "dark"} (empty when fine; nil without stats)
--   quality.flag(a)             --> {{image=img, issues={...}}, ...}  in album order
--   a.exclusions:add(quality.images(quality.flag(a)))   -- exclude every flagged image
--
-- The checks and their thresholds (quality.thresholds; change them there or
-- pass {thresholds={...}} to issues/flag). They were chosen on the sample
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
  },
  checks = { "blurry", "dark", "overexposed", "low_information" },
}

--- Detail relative to tonal range: sharpness / (255·contrast)²; nil for a
--- flat image (contrast 0) or without statistics.
function M.relative_sharpness(img)
  local s = img.stats
  if not s or s.contrast <= 0 then return nil end
  return s.sharpness / (255 * s.contrast) ^ 2
end

local function thresholds_of(opts)
  local t = setmetatable({}, { __index = M.thresholds })
  if opts and opts.thresholds then
    for k, v in pairs(opts.thresholds) do
      if M.thresholds[k] == nil then
        error("quality: unknown threshold '" .. tostring(k) .. "' (known: blurry, blurry_min_contrast, dark, overexposed, low_entropy, low_contrast)", 3)
      end
      if type(v) ~= "number" then error("quality: threshold " .. k .. " must be a number", 3) end
      t[k] = v
    end
  end
  return t
end

--- The issues of img, a list of check names in the order of quality.checks
--- (empty when it looks fine), or nil when it has no statistics (not
--- embedded with `pixels`, or unreadable).
function M.issues(img, opts)
  local s = img.stats
  if not s then return nil end
  local t = thresholds_of(opts)
  local issues = {}
  local rel = M.relative_sharpness(img)
  if rel and s.contrast >= t.blurry_min_contrast and rel < t.blurry then issues[#issues + 1] = "blurry" end
  if s.brightness < t.dark then issues[#issues + 1] = "dark" end
  if s.brightness > t.overexposed then issues[#issues + 1] = "overexposed" end
  if s.entropy < t.low_entropy or s.contrast < t.low_contrast then issues[#issues + 1] = "low_information" end
  return issues
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
  local flagged = {}
  for _, img in ipairs(source) do
    local issues = M.issues(img, opts)
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
  return flagged
end

--- The images of a flag list (for ImageSet:add).
function M.images(flagged)
  local list = {}
  for i, f in ipairs(flagged) do list[i] = f.image end
  return list
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
  flag = "quality.flag(source [, {thresholds=, only=, unreadable=}]) -> {{image=, issues=}, ...}\nThe flagged images of an album, ImageSet or list, in source order",
  images = "quality.images(flagged) -> {Image, ...}\nThe images of a flag list, for a.exclusions:add(...)",
  describe = "quality.describe(flagged) -> string\nOne line per flagged image: \"sunset/031.jpg: blurry\"",
  relative_sharpness = "quality.relative_sharpness(img) -> number or nil\nsharpness / (255·contrast)²: fine detail whatever the contrast; below 0.005 is blurry",
}

return M
