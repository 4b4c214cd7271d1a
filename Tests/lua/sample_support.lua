-- Shared by the tests of the shipped plugins and workflow scripts: the
-- sample album (scripts/make-sample-album), made and indexed once, and
-- loading a plugin from plugins/ as curator's loader would.
--
--   dofile(T.dir .. "/sample_support.lua")(T)
--   local dir = T.sample_album()        -- a fresh copy in a temp folder
--   local quality = T.plugin("quality")
return function(T)
  if T.sample_album then return end
  T.repo = T.dir .. "/../.."

  -- The album is made once per script version and curator build and kept
  -- under .build (it is deterministic), then indexed once; each test gets a
  -- `cp -a` copy, whose unchanged mtimes let curator reuse the index instead
  -- of re-embedding. The build is part of the key because the index holds
  -- vectors: a change in how images are decoded moves their last bits, and
  -- an index made by an older build would test that build's vectors, not
  -- this one's (a fresh clone, as CI runs, always embeds anew).
  local master
  function T.sample_album()
    if not master then
      local p = io.popen("md5sum " .. T.quote(T.repo .. "/scripts/make-sample-album") .. " | cut -c1-12")
      local hash = p:read("l")
      p:close()
      p = io.popen("stat -L -c %s-%Y " .. T.quote(T.curator))
      local build = p:read("l") or "unknown"
      p:close()
      master = T.repo .. "/.build/test-sample-album/" .. hash .. "-" .. build
      local _, err, code = T.sh(T.quote(T.repo .. "/scripts/make-sample-album") .. " " .. T.quote(master))
      assert(code == 0, "make-sample-album failed: " .. err)
      local a = assert(curator.open(master))
      assert(a.dim > 0, "the sample album was not embedded")
    end
    local dir = T.tempdir() .. "/sample-album"
    assert(os.execute("cp -a " .. T.quote(master) .. " " .. T.quote(dir)))
    return dir
  end

  local plugins = {}
  --- The table plugins/<name>.lua returns (run once, with name and path as
  --- the plugin loader passes them).
  function T.plugin(name)
    if not plugins[name] then
      local path = T.repo .. "/plugins/" .. name .. ".lua"
      local chunk = assert(loadfile(path, "t"))
      plugins[name] = chunk(name, path)
    end
    return plugins[name]
  end

  --- The paths of a list of images (or {image=} entries), sorted.
  function T.paths(list)
    local out = {}
    for i, x in ipairs(list) do out[i] = (type(x) == "table" and x.image or x).path end
    table.sort(out)
    return table.concat(out, " ")
  end
end
