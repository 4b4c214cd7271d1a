-- dedup: exclude near-duplicate images, keeping the sharpest of each group.
--
--   local dedup      -- the entry of curator.plugins whose name is "dedup"
--   dedup.plan(a, {threshold=0.997})  --> {{keep=img, drop={img, ...}}, ...}  (changes nothing)
--   dedup.exclude(a, {threshold=0.997}) --> the same plan, after adding every
--                                          `drop` to a.exclusions
--
-- Groups and keepers come from a:duplicates{threshold=} (cosine similarity
-- of the album's embeddings), which splits each chain of pairs around its
-- keepers: every dropped image is at least that similar to the image kept
-- in its place. Its keeper rule (DuplicateKeeper in the core) is the
-- sharpest image (img.stats.sharpness from the pixels embedder; within 20%
-- counts as a tie: JPEG block edges make a re-encoded copy measure 13%
-- sharper), then the one with more pixels, then the larger file, then the
-- first by path: a re-encoded or downscaled copy loses to its original.
-- Pass your own with a:duplicates{keeper=fn}. Images already excluded are
-- neither kept nor dropped again.
--
-- threshold (default 0.997) is cosine similarity. With the built-in `pixels`
-- embedder, copies score 0.999 and up on the sample album (a copy re-encoded
-- at JPEG quality 70, one downscaled to 90 %, a byte-identical import),
-- while distinct pictures of the same texture reach 0.994: keep the
-- threshold above that. A harsh re-encode (quality 60) already falls to
-- 0.992, out of reach. Semantic (CLIP) embeddings call for ~0.95.

local M = {
  name = "dedup",
  description = "Exclude near-duplicates (a:duplicates), keeping the sharpest image of each group",
  threshold = 0.997,
}

-- The album's duplicate finder, or an error that says what is missing.
local function finder(a)
  local ok, method = pcall(function() return a.duplicates end)
  if not ok or type(method) ~= "function" then
    error("dedup: this curator has no album:duplicates{threshold=} yet; update curator to use dedup", 3)
  end
  return method
end

--- The groups of near-duplicates among a's images that are not excluded,
--- each as {keep=Image, drop={Image, ...}}, largest groups first.
function M.plan(a, opts)
  opts = opts or {}
  local threshold = opts.threshold or M.threshold
  if type(threshold) ~= "number" or threshold < -1 or threshold > 1 then
    error("dedup: threshold must be a number between -1 and 1 (got " .. tostring(threshold) .. ")", 2)
  end
  -- The finder splits each chain of pairs around its keepers, so every
  -- dropped image is a near-duplicate of the one kept.
  local groups = finder(a)(a, { threshold = threshold })
  local plan = {}
  for _, group in ipairs(groups) do
    local members = {}
    for _, img in ipairs(group.images) do
      if not img.excluded then members[#members + 1] = img end
    end
    if #members > 1 then
      local keep = group.keeper
      local drop = {}
      for _, img in ipairs(members) do
        if img ~= keep then drop[#drop + 1] = img end
      end
      plan[#plan + 1] = { keep = keep, drop = drop }
    end
  end
  return plan
end

--- Like plan, then excludes every dropped image; returns the plan and the
--- number of images newly excluded.
function M.exclude(a, opts)
  local plan = M.plan(a, opts)
  local dropped = {}
  for _, g in ipairs(plan) do
    for _, img in ipairs(g.drop) do dropped[#dropped + 1] = img end
  end
  local added = #dropped > 0 and a.exclusions:add(dropped) or 0
  return plan, added
end

--- A readable summary of a plan: one line per group.
function M.describe(plan)
  local lines = {}
  for _, g in ipairs(plan) do
    local names = {}
    for _, img in ipairs(g.drop) do names[#names + 1] = img.path end
    lines[#lines + 1] = "keep " .. g.keep.path .. ", drop " .. table.concat(names, ", ")
  end
  return table.concat(lines, "\n")
end

-- For help(dedup.plan) and help("dedup"): first line the signature, then the summary.
M.help = {
  plan = "dedup.plan(a [, {threshold=0.997}]) -> {{keep=Image, drop={Image, ...}}, ...}\nGroups of near-duplicates among the included images, with the one to keep (sharpest, then larger)",
  exclude = "dedup.exclude(a [, {threshold=}]) -> plan, count\nLike dedup.plan, then excludes every dropped image",
  describe = "dedup.describe(plan) -> string\nOne line per group: \"keep X, drop Y, Z\"",
}

return M
