/// `--safe`: what is taken away from untrusted scripts.
///
/// Removed: the `io` library; `os.execute`, `os.remove`, `os.rename`,
/// `os.exit`, `os.tmpname`, `os.getenv`, `os.setlocale`; `debug`;
/// `package.loadlib` and every file searcher of `require` (only modules
/// already loaded can be required); `dofile` and `loadfile` (they read files);
/// binary chunks (`load` only accepts text). What curator's bindings may do
/// is asked of the host (`CuratorHost.allows`, `require`), which in safe mode
/// refuses writing files (`r:export`, `r:csv`, `r:report`, `m:plot`, and the
/// exporters plugins register), changing an album's index, and serving.
/// `curator.open` opens an existing index read-only (SQLite read-only; an
/// album without one is refused): nothing is scanned or embedded, every
/// change (exclusions, favorites, `a:scan`, `a:embed`, `a:import`,
/// `r:favorite`) raises, and runs and maps stay in memory. Limits: the
/// `--timeout` deadline (300 s by default here) and the memory limit.
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
