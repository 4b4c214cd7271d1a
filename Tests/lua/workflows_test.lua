-- The shipped workflows: workflows/clean.lua (Scenario A) and
-- workflows/trainset.lua (Scenario B), run by curator on the sample album,
-- by file and by name (`curator clean`), from a checkout, an install
-- (scripts/install) and a copied binary.
local T = ...
dofile(T.dir .. "/sample_support.lua")(T)

local clean = T.repo .. "/workflows/clean.lua"
local trainset = T.repo .. "/workflows/trainset.lua"
local dedup = T.repo .. "/workflows/dedup.lua"

T.test("clean.lua, trainset.lua and dedup.lua answer --help with their usage and exit 0", function()
  for _, script in ipairs({ clean, trainset, dedup }) do
    local out, _, code = T.run({ script, "--help" })
    T.eq(code, 0, script)
    T.contains(out, "usage: curator " .. script:match("([%w]+)%.lua$") .. " ALBUM")
  end
end)

T.test("unknown or malformed options print the usage and exit 2", function()
  local cases = {
    { clean, { "ALBUM", "--bogus" }, "unknown option --bogus" },
    { clean, { "ALBUM", "--count", "abc" }, "--count must be a positive integer (got abc)" },
    { clean, { "ALBUM", "--count", "0" }, "--count must be a positive integer (got 0)" },
    { clean, { "ALBUM", "--threshold", "1.5" }, "--threshold must be a number in (0, 1] (got 1.5)" },
    { clean, { "ALBUM", "--rounds" }, "--rounds needs a value" },
    { clean, { "ALBUM", "--yes=1" }, "--yes takes no value" },
    { clean, {}, "the album folder is missing" },
    { clean, { "A", "B" }, "one album only (got A and B)" },
    { trainset, { "ALBUM", "-x" }, "unknown option -x" },
    { trainset, { "ALBUM", "--method", "random" }, "--method must be fps or kmeans (got random)" },
    { trainset, { "ALBUM", "--iterations=2.5" }, "--iterations must be a positive integer (got 2.5)" },
    { trainset, { "ALBUM", "--out", "d", "--kohya", "mychar" }, "--kohya must look like 10_mychar" },
    { trainset, { "ALBUM", "--kohya", "10_mychar" }, "--kohya needs --out DIR" },
    { dedup, { "ALBUM", "--threshold", "2" }, "--threshold must be a number in (0, 1] (got 2)" },
    { dedup, { "ALBUM", "--threshold" }, "--threshold needs a value" },
    { dedup, { "ALBUM", "--yes=no" }, "--yes takes no value" },
    { dedup, { "ALBUM", "--all" }, "unknown option --all" },
    { dedup, {}, "the album folder is missing" },
  }
  for _, c in ipairs(cases) do
    local args = { c[1] }
    for _, w in ipairs(c[2]) do args[#args + 1] = w end
    local out, err, code = T.run(args)
    T.eq(code, 2, table.concat(c[2], " "))
    T.contains(err, c[3])
    T.contains(err, "usage: curator ")
    T.eq(out, "")
  end
end)

T.test("a missing album is an error (exit 1), not a usage error", function()
  local _, err, code = T.run({ trainset, T.tempdir() .. "/nothing-here", "--count", "5" })
  T.eq(code, 1)
  T.contains(err, "no such folder")
end)

T.test("workflows run by name from any folder: curator clean --help, curator -i trainset --help", function()
  local elsewhere = T.tempdir()
  local out, err, code = T.sh("cd " .. T.quote(elsewhere) .. " && " .. T.quote(T.curator) .. " clean --help")
  T.eq(code, 0, err)
  T.contains(out, "usage: curator clean ALBUM")
  out, err, code = T.sh("cd " .. T.quote(elsewhere) .. " && " .. T.quote(T.curator) .. " trainset --help")
  T.eq(code, 0, err)
  T.contains(out, "usage: curator trainset ALBUM")
  -- An unknown name says which workflows there are.
  _, err, code = T.sh("cd " .. T.quote(elsewhere) .. " && " .. T.quote(T.curator) .. " --no-plugins cleen x")
  T.eq(code, 1)
  T.contains(err, "cannot open cleen (no such file or workflow; workflows: clean, dedup, trainset)")
  -- A file of that name in the current folder wins over the workflow.
  local f = assert(io.open(elsewhere .. "/clean", "w"))
  f:write("print('my own clean', ...)")
  f:close()
  out, err, code = T.sh("cd " .. T.quote(elsewhere) .. " && " .. T.quote(T.curator) .. " --no-plugins clean x")
  T.eq(code, 0, err)
  T.eq(out, "my own clean\tx\n")
end)

T.test("scripts/install lays out the binary, plugins, workflows, man page and completions", function()
  local prefix = T.tempdir() .. "/prefix"
  -- Without SHELL set (as under CI), a shell must be named or the completions are not written.
  local out, err, code = T.sh("env -u SHELL " .. T.quote(T.repo .. "/scripts/install") .. " --bin " .. T.quote(T.curator) .. " " .. T.quote(prefix))
  T.eq(code, 0, err)
  T.contains(out, "installed curator into " .. prefix)
  for _, file in ipairs({ "bin/curator", "share/curator/plugins/quality.lua", "share/curator/plugins/kohya.lua",
                          "share/curator/workflows/clean.lua", "share/curator/workflows/trainset.lua",
                          "share/curator/workflows/dedup.lua",
                          "share/curator/data/vocabulary.txt" }) do
    T.ok(io.open(prefix .. "/" .. file), file .. " is installed")
  end
  -- The man page and the completions come from the same --help text.
  local man = T.read(prefix .. "/share/man/man1/curator.1")
  T.contains(man, ".TH CURATOR 1")
  T.contains(man, "\\-\\-no\\-plugins")
  T.contains(man, "Start without loading plugins.")
  T.contains(man, "WORKFLOW")
  local rendered = T.sh("man -l " .. T.quote(prefix .. "/share/man/man1/curator.1") .. " 2>/dev/null || cat " .. T.quote(prefix .. "/share/man/man1/curator.1"))
  T.contains(rendered, "curator")
  T.contains(T.read(prefix .. "/share/bash-completion/completions/curator"), "--no-plugins")
  T.contains(T.read(prefix .. "/share/zsh/site-functions/_curator"), "--no-plugins")
  T.contains(T.read(prefix .. "/share/fish/vendor_completions.d/curator.fish"), "no-plugins")

  -- The installed binary runs the workflows by name from anywhere and loads its plugins.
  local bin = T.quote(prefix .. "/bin/curator")
  out, err, code = T.sh("cd / && " .. bin .. " clean --help")
  T.eq(code, 0, err)
  T.contains(out, "usage: curator clean ALBUM")
  out, err, code = T.sh("cd / && HOME=" .. T.quote(T.tempdir()) .. " " .. bin ..
    " -e 'print(curator.plugins.quality.path)'")
  T.eq(code, 0, err)
  T.eq(out, prefix .. "/share/curator/plugins/quality.lua\n")
  T.eq(err, "")

  -- Installing again replaces the earlier install's files.
  _, err, code = T.sh(T.quote(T.repo .. "/scripts/install") .. " --bin " .. T.quote(T.curator) .. " " .. T.quote(prefix))
  T.eq(code, 0, err)
end)

T.test("a copied binary finds plugins beside it, and says so at start when there are none", function()
  local lonely = T.tempdir()
  assert(os.execute("cp " .. T.quote(T.curator) .. " " .. T.quote(lonely .. "/curator")))
  local home = T.tempdir()
  local out, err, code = T.sh("HOME=" .. T.quote(home) .. " " .. T.quote(lonely .. "/curator") .. " -e 'print(#curator.plugins)'")
  T.eq(code, 0, err)
  T.eq(out, "0\n")
  T.contains(err, "curator: no plugins loaded")
  T.contains(err, "--no-plugins silences this")
  -- --no-plugins: nothing to say.
  _, err = T.sh("HOME=" .. T.quote(home) .. " " .. T.quote(lonely .. "/curator") .. " --no-plugins -e 'return 1'")
  T.eq(err, "")
  -- The same binary with plugins/ beside it loads them.
  assert(os.execute("cp -R " .. T.quote(T.repo .. "/plugins") .. " " .. T.quote(lonely .. "/plugins")))
  out, err, code = T.sh("HOME=" .. T.quote(home) .. " " .. T.quote(lonely .. "/curator") .. " -e 'print(#curator.plugins, curator.plugins.kohya.name)'")
  T.eq(code, 0, err)
  T.eq(out, "4\tkohya\n")
  T.eq(err, "")
end)

T.test("scripts/demo cleans its own copy: the tour's album keeps no exclusions", function()
  local album = T.sample_album()
  local out_dir = T.tempdir()
  local out, err, code = T.sh("CURATOR_BIN=" .. T.quote(T.curator) .. " DEMO_ALBUM=" .. T.quote(album) ..
    " DEMO_OUT=" .. T.quote(out_dir) .. " " .. T.quote(T.repo .. "/scripts/demo"))
  T.eq(code, 0, err)
  T.contains(out, "== Scenario A: clean the demo's copy of the album")
  local a = assert(curator.open(album))
  T.eq(#a.exclusions, 0, "exclusions left in the tour's album")
  local copy = out:match("the cleaned copy of the album: +(%S+)")
  T.ok(copy, out)
  local c = assert(curator.open(copy))
  T.ok(#c.exclusions > 0, "the demo's copy has its exclusions")
  T.ok(io.open(copy:gsub("/album$", "") .. "/trainset/dataset.toml"), "the demo exported a training set")
end)
