/// `--safe`: what is taken away from untrusted scripts.
///
/// Removed: the `io` library; `os.execute`, `os.remove`, `os.rename`,
/// `os.exit`, `os.tmpname`, `os.getenv`, `os.setlocale`; `debug`;
/// `package.loadlib` and every file searcher of `require` (only modules
/// already loaded can be required); `dofile` and `loadfile` (they read files);
/// binary chunks (`load` only accepts text); and curator's methods that
/// write files where the script says: `r:export`, `r:csv`, `r:report`,
/// `m:plot` (they raise; `CuratorHost.refuseFileWritingInSafeMode`), which
/// also covers exporters plugins register. Kept: the rest of the standard
/// library and curator's API, including what writes only an album's own
/// index (`curator.open` creates `.curator/` in the folder it opens;
/// exclusions, favorites, runs, `a:scan`, `a:embed`, `a:import` and
/// `a:map`'s cache update it), since recording a curation there is what
/// curator is for. `a:import`
/// and `curator.open` read the file or folder they are given, as an album
/// or embeddings only, never returning its bytes.
enum SafeMode {
    /// A chunk that strips the globals in place.
    static let source = #"""
    local rawload = load
    io = nil
    debug = nil
    package.loaded.io = nil
    package.loaded.debug = nil
    for _, name in ipairs{"execute", "remove", "rename", "exit", "tmpname", "getenv", "setlocale"} do
      os[name] = nil
    end
    package.loadlib = nil
    package.path = ""
    package.cpath = ""
    package.searchpath = nil
    for i = #package.searchers, 2, -1 do package.searchers[i] = nil end
    dofile = nil
    loadfile = nil
    load = function(chunk, name, mode, env)
      if mode ~= nil and mode ~= "t" then
        error("load: binary chunks are disabled in safe mode", 2)
      end
      if env == nil then return rawload(chunk, name, "t") end
      return rawload(chunk, name, "t", env)
    end
    """#
}
