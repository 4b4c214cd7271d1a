-- captions: find and score images by their caption text (the .txt,
-- .caption or .json sidecar curator reads as img.caption).
--
--   local captions   -- the entry of curator.plugins whose name is "captions"
--   captions.missing(a)                    --> images without a caption
--   captions.with(a, {"sunset", "sea"})    --> images whose caption has any keyword
--   captions.with(a, {"sunset", "sea"}, {all=true})   --> ... has every keyword
--   captions.without(a, "watermark")       --> captioned images lacking the keyword
--   captions.shorter(a, 4), captions.longer(a, 40)    --> by caption length in words
--   a.exclusions:add(captions.missing(a))  -- e.g. keep uncaptioned images out
--
-- Keywords match whole words or phrases, ignoring case ("sea" does not match
-- "season"; "golden hour" matches "Golden  hour"). Every function takes an
-- album, an ImageSet or a list of images and returns a plain list of images,
-- which ImageSet:add/remove accept.
--
-- Scores (curator.register_score): caption_length (words, 0 without a
-- caption) and has_caption (1 or 0).
--
-- Cleaning captions on export (the album's caption files are never touched):
--   captions.clean(text, {first_line=true, language="en", max_words=40, prefix="sks"})
--   captions.clean_export(r:export(dir), {first_line=true, max_words=40})
--   captions.clean(text, {max_tokens=75, vocabulary="~/models/clip/tokenizer.json"})
--     --> {changed=, kept=, files={...}}: rewrites the exported caption files in dir

local M = {
  name = "captions",
  description = "Filter and score images by caption text: keywords present or missing, length, images without captions",
}

--- The caption's words, lower-cased, in order ("" or nil -> {}).
function M.words(text)
  local words = {}
  if type(text) ~= "string" then return words end
  -- Letters, digits, apostrophes and hyphens make words; UTF-8 bytes >= 0x80
  -- count as letters so accented words stay whole.
  for word in text:lower():gmatch("[%w\128-\255'%-]+") do words[#words + 1] = word end
  return words
end

--- Number of words in img's caption (0 when it has none).
function M.length(img)
  return #M.words(img.caption)
end

--- Whether img has a caption with at least one word.
function M.has_caption(img)
  return M.length(img) > 0
end

-- " w1 w2 ... " so a phrase matches on word boundaries with a plain find.
local function padded(text)
  return " " .. table.concat(M.words(text), " ") .. " "
end

local function keyword_list(keywords, who)
  if type(keywords) == "string" then keywords = { keywords } end
  if type(keywords) ~= "table" or #keywords == 0 then
    error("captions." .. who .. ": keywords must be a string or a non-empty list of strings", 3)
  end
  local list = {}
  for i, k in ipairs(keywords) do
    if type(k) ~= "string" then
      error("captions." .. who .. ": keyword " .. i .. " must be a string (got " .. type(k) .. ")", 3)
    end
    local p = padded(k)
    if p == "  " then error("captions." .. who .. ": keyword " .. i .. " has no words", 3) end
    list[#list + 1] = p
  end
  return list
end

-- Whether `text` contains any (or, with all, every) of the padded keywords.
local function matches(text, list, all)
  local hay = padded(text)
  for _, k in ipairs(list) do
    local found = hay:find(k, 1, true) ~= nil
    if all and not found then return false end
    if not all and found then return true end
  end
  return all
end

--- Whether img's caption contains the keyword(s): any of them, or with
--- {all=true} every one.
function M.has(img, keywords, opts)
  return matches(img.caption, keyword_list(keywords, "has"), opts and opts.all)
end

-- The images of `source` (album, ImageSet or list) for which keep(img) holds.
local function filter(source, keep)
  local out = {}
  for _, img in ipairs(source) do
    if keep(img) then out[#out + 1] = img end
  end
  return out
end

--- Images whose caption contains any keyword (every one with {all=true}).
function M.with(source, keywords, opts)
  local list = keyword_list(keywords, "with")
  local all = opts and opts.all
  return filter(source, function(img) return matches(img.caption, list, all) end)
end

--- Captioned images whose caption contains none of the keywords (with
--- {missing=true}, images without any caption are included too).
function M.without(source, keywords, opts)
  local list = keyword_list(keywords, "without")
  local include_missing = opts and opts.missing
  return filter(source, function(img)
    if not M.has_caption(img) then return include_missing and true or false end
    return not matches(img.caption, list, false)
  end)
end

--- Images without a caption (no sidecar, or one with no words).
function M.missing(source)
  return filter(source, function(img) return not M.has_caption(img) end)
end

--- Captioned images with fewer than n words.
function M.shorter(source, n)
  return filter(source, function(img)
    local len = M.length(img)
    return len > 0 and len < n
  end)
end

--- Images with more than n words of caption.
function M.longer(source, n)
  return filter(source, function(img) return M.length(img) > n end)
end

--- How often each word occurs across the captions of `source`, as a list of
--- {word=, count=} sorted by count (then word): a quick look at the vocabulary.
function M.vocabulary(source)
  local counts = {}
  for _, img in ipairs(source) do
    for _, w in ipairs(M.words(img.caption)) do counts[w] = (counts[w] or 0) + 1 end
  end
  local list = {}
  for w, c in pairs(counts) do list[#list + 1] = { word = w, count = c } end
  table.sort(list, function(x, y)
    if x.count ~= y.count then return x.count > y.count end
    return x.word < y.word
  end)
  return list
end

local function check_clean_options(opts)
  opts = opts or {}
  for k in pairs(opts) do
    if k ~= "first_line" and k ~= "language" and k ~= "max_words" and k ~= "max_tokens" and k ~= "vocabulary" and k ~= "prefix" then
      error("captions: unknown cleaning option '" .. tostring(k) .. "' (known: first_line, language, max_words, max_tokens, vocabulary, prefix)", 3)
    end
  end
  for _, k in ipairs({ "max_words", "max_tokens" }) do
    if opts[k] ~= nil and (math.type(opts[k]) ~= "integer" or opts[k] < 1) then
      error("captions: " .. k .. " must be a positive integer (got " .. tostring(opts[k]) .. ")", 3)
    end
  end
  if opts.vocabulary ~= nil and type(opts.vocabulary) ~= "string" then
    error("captions: vocabulary must be a path (got " .. tostring(opts.vocabulary) .. ")", 3)
  end
  if opts.max_tokens then
    -- Fail here, once, rather than on the first caption of an export.
    curator.count_tokens("", { vocabulary = opts.vocabulary })
  end
  if opts.prefix ~= nil and (type(opts.prefix) ~= "string" or opts.prefix:match("^%s*$")) then
    error("captions: prefix must be a non-empty string (got " .. tostring(opts.prefix) .. ")", 3)
  end
  if opts.language ~= nil and (type(opts.language) ~= "string" or not opts.language:match("^%a%a%a?$")) then
    error("captions: language must be a code like \"en\" (got " .. tostring(opts.language) .. ")", 3)
  end
  return opts
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

--- A caption cleaned for training: with {language="en"} the line written
--- for that language ("en: ...", "[en] ...", "en - ..."; the first line when
--- none is marked), with {first_line=true} the first non-empty line; then
--- whitespace collapsed, at most max_words words (punctuation after the last
--- kept word dropped), and prefix (a trigger word) put first unless the
--- caption already starts with it. With max_tokens the whole caption, prefix
--- included, is cut after its last whole word that keeps it within that many
--- CLIP tokens (curator.count_tokens with `vocabulary`, default the installed
--- CLIP model's): trainers read the first 75 and silently drop the rest.
function M.clean(text, opts)
  opts = check_clean_options(opts)
  if type(text) ~= "string" then text = "" end
  local lines = {}
  for line in text:gmatch("[^\r\n]+") do if not line:match("^%s*$") then lines[#lines + 1] = trim(line) end end
  local chosen
  if opts.language then
    local code = opts.language:lower()
    for _, line in ipairs(lines) do
      local lower = line:lower()
      local rest = lower:match("^" .. code .. "%s*[:%-]%s*()") or lower:match("^%[" .. code .. "%]%s*()")
      if rest then chosen = line:sub(rest) break end
    end
  end
  if not chosen and (opts.first_line or opts.language) then chosen = lines[1] or "" end
  chosen = (chosen or table.concat(lines, " ")):gsub("%s+", " ")
  chosen = trim(chosen)
  if opts.max_words then
    local count, cut = 0, nil
    for finish in chosen:gmatch("[%w\128-\255'%-]+()") do
      count = count + 1
      if count == opts.max_words then cut = finish break end
    end
    if cut and cut <= #chosen then chosen = chosen:sub(1, cut - 1) end
  end
  local function prefixed(body)
    if not opts.prefix then return body end
    local p = trim(opts.prefix)
    if body:sub(1, #p):lower() == p:lower() then return body end
    return body == "" and p or (p .. ", " .. body)
  end
  if opts.max_tokens then
    local function tokens(s) return curator.count_tokens(s, { vocabulary = opts.vocabulary }) end
    if tokens(prefixed(chosen)) > opts.max_tokens then
      -- The ends of its words; keep the most that fit (binary search: the
      -- count grows with every word).
      local ends = {}
      for finish in chosen:gmatch("[%w\128-\255'%-]+()") do ends[#ends + 1] = finish end
      local low, high = 0, #ends
      while low < high do
        local mid = (low + high + 1) // 2
        if tokens(prefixed(chosen:sub(1, ends[mid] - 1))) <= opts.max_tokens then low = mid else high = mid - 1 end
      end
      chosen = low == 0 and "" or chosen:sub(1, ends[low] - 1)
    end
  end
  return prefixed(chosen)
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

--- Cleans the caption files an export wrote (the `sidecars` of its items
--- with extension .txt or .caption; `report` is what r:export or
--- kohya.write returned), rewriting each through a temporary file and a
--- rename. Only files in the export's destination are written, never the
--- album's own. Returns {changed=, kept=, files={changed paths}, errors={}}.
function M.clean_export(report, opts)
  opts = check_clean_options(opts)
  local export = report.export or report
  if type(export) ~= "table" or type(export.items) ~= "table" then
    error("captions: clean_export needs the report of r:export or kohya.write", 2)
  end
  local result = { changed = 0, kept = 0, files = {}, errors = {} }
  for _, item in ipairs(export.items) do
    local sidecars = item.sidecars or {}
    if item.status == "unchanged" and item.destination then
      -- Copied by an earlier export (a re-run with --update): its caption
      -- files sit beside it under its stem.
      sidecars = {}
      local stem = item.destination:match("^(.*)%.[^./]*$") or item.destination
      for _, ext in ipairs({ ".txt", ".caption" }) do
        if read_file(stem .. ext) then sidecars[#sidecars + 1] = stem .. ext end
      end
    end
    if item.status == "exported" or item.status == "unchanged" then
      for _, path in ipairs(sidecars) do
        if (path:match("%.txt$") or path:match("%.caption$")) and path ~= item.source then
          local old = read_file(path)
          if old then
            local new = M.clean(old, opts) .. "\n"
            if new == old then
              result.kept = result.kept + 1
            else
              local tmp = path .. ".curator-tmp"
              local f, err = io.open(tmp, "wb")
              local ok = f and f:write(new)
              if f then f:close() end
              local renamed, rerr = ok and os.rename(tmp, path)
              if renamed then
                result.changed = result.changed + 1
                result.files[#result.files + 1] = path
              else
                os.remove(tmp)
                result.errors[#result.errors + 1] = { path = path, reason = tostring(err or rerr) }
              end
            end
          end
        end
      end
    end
  end
  return result
end

curator.register_score("caption_length", M.length,
  { description = "Words in the image's caption (0 without one)" })
curator.register_score("has_caption", function(img) return M.has_caption(img) and 1 or 0 end,
  { description = "1 when the image has a caption, else 0" })

-- For help(captions.with) and help("captions"): first line the signature, then the summary.
M.help = {
  words = "captions.words(text) -> {word, ...}\nThe words of a caption, lower-cased",
  length = "captions.length(img) -> integer\nWords in the image's caption (0 without one)",
  has_caption = "captions.has_caption(img) -> boolean\nWhether the image has a caption with at least one word",
  has = "captions.has(img, keywords [, {all=true}]) -> boolean\nWhether its caption contains any (or every) keyword, as whole words or phrases, ignoring case",
  with = "captions.with(source, keywords [, {all=true}]) -> {Image, ...}\nImages whose caption contains any (or every) keyword",
  without = "captions.without(source, keywords [, {missing=true}]) -> {Image, ...}\nCaptioned images whose caption contains none of the keywords",
  missing = "captions.missing(source) -> {Image, ...}\nImages without a caption",
  shorter = "captions.shorter(source, n) -> {Image, ...}\nCaptioned images with fewer than n words",
  longer = "captions.longer(source, n) -> {Image, ...}\nImages with more than n words of caption",
  clean = "captions.clean(text [, {first_line=, language=, max_words=, max_tokens=, vocabulary=, prefix=}]) -> string\nA caption cleaned for training: one line (or one language's), a word or CLIP-token limit, a trigger-word prefix",
  clean_export = "captions.clean_export(report [, {first_line=, language=, max_words=, max_tokens=, vocabulary=, prefix=}]) -> {changed=, kept=, files=, errors=}\nRewrites the caption files an export wrote (never the album's own) with captions.clean",
  vocabulary = "captions.vocabulary(source) -> {{word=, count=}, ...}\nHow often each word occurs across the captions, most frequent first",
}

return M
