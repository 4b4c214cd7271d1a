/// The review page's script (plain JavaScript, no library): a virtualised
/// grid, the map on a canvas, the side panel, keyboard, and polling of the
/// index's generation counters so the page follows the REPL.
///
/// Numbering never drifts: a tile's number is its place in the list the view
/// shows — `r.selection`, `r[i]`, `a[i]` or `a.exclusions` — and filters,
/// exclusions and favourites never renumber it.
enum ReviewScript {
    static let source = #"""
    "use strict";
    const TILE_W = 158, TILE_H = 186, POLL_MS = 500;
    const token = new URLSearchParams(location.search).get("token") || "";
    if (token && history.replaceState) history.replaceState(null, "", location.pathname);
    const $ = (id) => document.getElementById(id);
    const css = getComputedStyle(document.documentElement);
    const COLOURS = { core: css.getPropertyValue("--core").trim(), stable: css.getPropertyValue("--stable").trim(),
                      variable: css.getPropertyValue("--variable").trim(), excluded: css.getPropertyValue("--excluded").trim() };
    const TIER = { c: "core", s: "stable", v: "variable" };

    const S = {
      album: null, ids: [], position: new Map(), folders: [], folderNames: [], folderOf: [],
      pathPage: 1000, pathPages: new Map(), pathWanted: new Set(),
      run: null, runs: [], latestRun: 0, follow: true, rank: new Map(), runPaths: new Map(),
      excluded: new Set(), favorites: new Set(), exclusionOrder: [], setsGeneration: -1, imagesGeneration: "",
      view: "selection", tiers: new Set(), folder: "", text: "", textIds: null,
      list: [], shown: [], focus: -1, lasso: null, ended: false,
      map: null, mapNote: "", flags: new Map(), flagsGeneration: 0,
      clusters: null, clusterOf: new Map(), clustersGeneration: 0, cluster: "", colourClusters: false,
      dupes: null, dupeOf: new Map(), dupeList: [], dupesNote: "", dupesThreshold: "", dupesLoad: 0,
    };
    // Cluster colours come with the clusters (api/clusters: the map plot's and the report's, distinct for any
    // number of clusters); noise stays grey.
    window.curatorReview = S;   // for tests and the curious

    async function api(path, options = {}) {
      const headers = Object.assign({ "X-Curator-Token": token }, options.headers || {});
      const init = Object.assign({}, options, { headers, credentials: "same-origin" });
      if (options.json !== undefined) { init.method = "POST"; init.body = JSON.stringify(options.json); headers["Content-Type"] = "application/json"; }
      const response = await fetch(path, init);
      if (response.status === 503 || response.status === 403) {
        const body = await response.json().catch(() => ({}));
        banner(body.error || ("the server answered " + response.status));
        throw new Error(body.error || String(response.status));
      }
      return response;
    }
    async function apiJSON(path, options) {
      const response = await api(path, options);
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || String(response.status));
      return body;
    }
    function banner(text) { const b = $("banner"); if (text) { b.textContent = text; b.hidden = false; } else b.hidden = true; }
    // What an action says stays 6 s; the poll's progress (thumbnails, the
    // map) fills the status only after that, or it would wipe the message
    // within half a second.
    let statusUntil = 0;
    function status(text) { $("status").textContent = text; statusUntil = Date.now() + 6000; }
    function progress(text) { if (Date.now() >= statusUntil) $("status").textContent = text; }

    // ---- data ----
    // The album's ids and folders come whole (the map and the filters need
    // them); its paths a page at a time, when a tile, the hover or a filter shows them.
    async function loadImages() {
      const body = await apiJSON("api/images");
      S.ids = body.ids; S.folderNames = body.folders; S.folderOf = body.folderOf; S.pathPage = body.page;
      S.pathPages = new Map(); S.pathWanted = new Set();
      S.position = new Map();
      for (let i = 0; i < S.ids.length; i++) S.position.set(S.ids[i], i);
      S.folders = body.folders;
      const select = $("folder-filter"), keep = select.value;
      select.innerHTML = '<option value="">all folders</option>';
      for (const f of S.folders) { const o = document.createElement("option"); o.value = f; o.textContent = f || "(top folder)"; select.appendChild(o); }
      select.value = S.folders.includes(keep) ? keep : "";
    }
    // Asks for the page of paths holding album position k once; tiles are drawn again when it comes.
    function wantPath(k) {
      const page = Math.floor(k / S.pathPage);
      if (S.pathPages.has(page) || S.pathWanted.has(page)) return;
      S.pathWanted.add(page);
      const generation = S.imagesGeneration;
      apiJSON("api/paths?from=" + page * S.pathPage + "&count=" + S.pathPage).then((body) => {
        if (generation !== S.imagesGeneration) return;
        S.pathPages.set(page, body.paths); S.pathWanted.delete(page);
        for (const tile of tiles.values()) tile.dataset.key = "";
        render(true);
      }).catch(() => S.pathWanted.delete(page));
    }
    async function loadSets() {
      const body = await apiJSON("api/sets");
      S.excluded = new Set(body.exclusions); S.exclusionOrder = body.exclusions;
      S.favorites = new Set(body.favorites); S.setsGeneration = body.generation;
    }
    async function loadRun(id) {
      if (!id) { S.run = null; S.rank = new Map(); S.runPaths = new Map(); return; }
      const run = await apiJSON("api/run/" + id);
      run.tierOf = new Map(); S.rank = new Map();
      // The run brings its images' paths, so its first page needs no album list (85,000 paths at once).
      S.runPaths = new Map();
      for (let i = 0; i < run.ids.length; i++) {
        S.rank.set(run.ids[i], i); run.tierOf.set(run.ids[i], TIER[run.tiers[i]]); S.runPaths.set(run.ids[i], run.paths[i]);
      }
      S.run = run;
      $("csv-link").href = "api/run/" + id + "/csv";
    }
    async function loadFlags() {
      const body = await apiJSON("api/flags");
      S.flags = new Map(Object.entries(body.flags).map(([id, issues]) => [Number(id), issues]));
      S.flagsGeneration = body.generation; S.flagsSource = body.source;
    }
    async function loadClusters() {
      const body = await apiJSON("api/clusters");
      S.clustersGeneration = body.generation;
      S.clusterOf = new Map();
      S.clusters = body.clusters.length ? body : null;
      for (const c of body.clusters) for (const id of c.members) S.clusterOf.set(id, c.id);
      const select = $("cluster-filter"), keep = select.value;
      select.innerHTML = '<option value="">all clusters</option>';
      for (const c of body.clusters) {
        const o = document.createElement("option"); o.value = String(c.id);
        o.textContent = c.id + (c.label ? ": " + c.label : "") + " (" + c.size + ")"; select.appendChild(o);
      }
      if (body.clusters.length) { const o = document.createElement("option"); o.value = "none"; o.textContent = "in no cluster"; select.appendChild(o); }
      select.hidden = !S.clusters; $("cluster-colour").hidden = !S.clusters;
      select.title = body.description;
      select.value = [...select.options].some((o) => o.value === keep) ? keep : "";
      S.cluster = select.value;
      if (!S.clusters) S.colourClusters = false;
    }
    // Near-duplicate groups (api/duplicates), each keeper first: asked again
    // whenever the view is chosen, kept while it shows (copies excluded
    // meanwhile stay in place, crossed out).
    // At the threshold the bar's field holds once the first answer gave the album's own.
    async function loadDuplicates() {
      status("finding near-duplicates…");
      const threshold = S.dupesThreshold;
      const load = ++S.dupesLoad;
      S.dupes = null; S.dupeOf = new Map(); S.dupeList = []; S.dupesNote = "Finding near-duplicates…";
      rebuild();
      let body = null;
      const query = "api/duplicates" + (threshold ? "?threshold=" + encodeURIComponent(threshold) : "");
      // 202 while the server finds them (on a large album as long as a:duplicates in the REPL).
      for (;;) {
        const response = await api(query).catch(() => null);
        if (!response || load !== S.dupesLoad) return;
        if (response.status !== 202) { body = await response.json().catch(() => null); break; }
        await new Promise((done) => setTimeout(done, 500));
        if (S.view !== "duplicates" || load !== S.dupesLoad) return;
        // Said again while it lasts: the poll's progress takes the line 6 s after a message.
        status("finding near-duplicates…");
      }
      if (!body || body.state === "failed" || !body.groups) {
        S.dupesNote = (body && body.error) || "no near-duplicates to show"; status(S.dupesNote); return;
      }
      S.dupes = body; S.dupeOf = new Map(); S.dupeList = [];
      S.dupesThreshold = String(body.threshold); $("dupes-threshold").value = body.threshold;
      body.groups.forEach((g, n) => g.ids.forEach((id, k) => { S.dupeOf.set(id, { group: n + 1, keeper: k === 0 }); S.dupeList.push(id); }));
      const copies = S.dupeList.length - body.groups.length;
      if (!body.groups.length) { status("no near-duplicates at similarity ≥ " + body.threshold); return; }
      status(body.groups.length + " group" + (body.groups.length === 1 ? "" : "s") + " at similarity ≥ " + body.threshold
        + ": " + copies + " cop" + (copies === 1 ? "y" : "ies") + " beside " + body.groups.length + " keeper" + (body.groups.length === 1 ? "" : "s"));
    }
    function dupesCopies() { return S.dupeList.filter((id) => !S.dupeOf.get(id).keeper); }
    async function loadMap() {
      const response = await api("api/map");
      if (response.status === 202) { S.map = null; setTimeout(loadMap, 700); return; }
      const json = (response.headers.get("Content-Type") || "").includes("json");
      if (!response.ok || json) { const body = await response.json().catch(() => ({})); S.mapNote = body.error || "no map"; S.map = false; drawMap(); return; }
      const points = new Float32Array(await response.arrayBuffer());
      S.mapNote = decodeURIComponent(response.headers.get("X-Curator-Map") || "");
      buildMap(points);
      drawMap();
    }

    // ---- the list a view shows, and its numbers ----
    function baseList() {
      const run = S.run;
      switch (S.view) {
        case "selection": return run ? run.ids.slice(0, run.selection) : S.ids;
        case "voted": return run ? run.ids : [];
        case "exclusions": return S.ids.length ? S.exclusionOrder.filter((id) => S.position.has(id)) : S.exclusionOrder;
        case "lasso": return S.lasso || [];
        case "duplicates": return S.dupeList;
        default: return S.ids;
      }
    }
    function tierOf(id) { return S.run ? S.run.tierOf.get(id) : undefined; }
    // The image's path in the album: from the album list once it is loaded, from the run's before.
    function pathOf(id) {
      if (S.runPaths.has(id)) return S.runPaths.get(id);
      const k = S.position.get(id);
      if (k === undefined) return "";
      const page = S.pathPages.get(Math.floor(k / S.pathPage));
      if (page) return page[k % S.pathPage];
      wantPath(k);
      return "";
    }
    function folderOf(id) {
      const k = S.position.get(id);
      if (k !== undefined) return S.folderNames[S.folderOf[k]];
      const p = pathOf(id), s = p.lastIndexOf("/"); return s < 0 ? "" : p.slice(0, s);
    }
    function rebuild(keepFocusId) {
      const focusId = keepFocusId !== undefined ? keepFocusId : S.shown[S.focus];
      S.list = baseList();
      S.shown = []; S.numbers = [];
      for (let i = 0; i < S.list.length; i++) {
        const id = S.list[i];
        if (S.tiers.size && !S.tiers.has(tierOf(id))) continue;
        if (S.folder && folderOf(id) !== S.folder) continue;
        if (S.textIds && !S.textIds.has(id)) continue;
        if (S.cluster && String(S.clusterOf.get(id) || "none") !== S.cluster) continue;
        S.shown.push(id); S.numbers.push(i + 1);
      }
      S.focus = focusId === undefined ? -1 : S.shown.indexOf(focusId);
      $("spacer").style.height = (Math.ceil(S.shown.length / columns()) * TILE_H + 8) + "px";
      $("empty").hidden = S.shown.length > 0;
      $("empty").textContent = S.view !== "duplicates" || S.list.length ? "No image matches."
        : S.dupes ? "No near-duplicates at similarity ≥ " + S.dupes.threshold + " among the images not excluded." : S.dupesNote;
      for (const b of document.querySelectorAll("#views button")) b.classList.toggle("on", b.dataset.view === S.view);
      for (const b of document.querySelectorAll("#tier-filters button")) b.classList.toggle("on", S.tiers.has(b.dataset.tier));
      rebuildCounts();
      for (const tile of tiles.values()) tile.dataset.key = "";
      render(true);
      drawMap();
    }

    // ---- the virtualised grid ----
    const grid = $("grid"), spacer = $("spacer");
    const tiles = new Map();
    const pool = [];
    function columns() { return Math.max(1, Math.floor((grid.clientWidth - 8) / TILE_W)); }
    // The columns are centred: the width left over after the last whole tile is shared on both sides.
    function gridLeft(cols) { return Math.max(6, Math.floor((grid.clientWidth - cols * TILE_W) / 2)); }
    function render(force) {
      const cols = columns(), top = grid.scrollTop, height = grid.clientHeight;
      const first = Math.max(0, Math.floor(top / TILE_H) - 2) * cols;
      const last = Math.min(S.shown.length, (Math.ceil((top + height) / TILE_H) + 2) * cols);
      const wanted = new Set();
      for (let i = first; i < last; i++) wanted.add(i);
      for (const [i, tile] of tiles) if (!wanted.has(i)) { tiles.delete(i); tile.hidden = true; pool.push(tile); }
      for (let i = first; i < last; i++) {
        let tile = tiles.get(i);
        if (!tile) { tile = pool.pop() || newTile(); tile.hidden = false; tile.dataset.key = ""; tiles.set(i, tile); }
        fillTile(tile, i, cols);
      }
    }
    function newTile() {
      const tile = document.createElement("div");
      tile.className = "tile";
      tile.innerHTML = '<div class="frame"><img alt="" loading="lazy" decoding="async"><span class="missing" hidden></span><span class="fav" hidden>★</span><span class="flag" hidden>⚠</span></div>'
        + '<div class="caption"><span class="number"></span><span class="freq"></span></div><div class="name"></div>';
      const img = tile.querySelector("img");
      img.addEventListener("error", () => {
        const m = tile.querySelector(".missing");
        m.hidden = false; m.textContent = "missing";
        fetch(img.src, { credentials: "same-origin" }).then((r) => r.json()).then((b) => { if (b.error) { m.textContent = b.error.startsWith("missing") ? "missing" : "unreadable"; m.title = b.error; } }).catch(() => {});
      });
      tile.addEventListener("click", () => { const i = Number(tile.dataset.index); setFocus(i, false); toggleExcluded([S.shown[i]]); });
      spacer.appendChild(tile);
      return tile;
    }
    function fillTile(tile, i, cols) {
      const id = S.shown[i];
      const tier = tierOf(id), excluded = S.excluded.has(id), fav = S.favorites.has(id), issues = S.flags.get(id);
      const left = gridLeft(cols);
      const key = id + ":" + tier + ":" + excluded + ":" + fav + ":" + (issues || "") + ":" + (i === S.focus) + ":" + cols + ":" + left + ":" + i;
      if (tile.dataset.key === key) return;
      tile.dataset.key = key; tile.dataset.index = i; tile.dataset.id = id;
      tile.style.transform = "translate(" + ((i % cols) * TILE_W + left) + "px," + (Math.floor(i / cols) * TILE_H + 6) + "px)";
      tile.className = "tile" + (tier ? " " + tier : "") + (excluded ? " excluded" : "") + (i === S.focus ? " focus" : "");
      const img = tile.querySelector("img"), src = "api/thumb/" + id;
      if (img.dataset.id !== String(id)) { img.dataset.id = id; tile.querySelector(".missing").hidden = true; img.src = src; }
      tile.querySelector(".fav").hidden = !fav;
      const flag = tile.querySelector(".flag");
      flag.hidden = !issues; flag.title = issues ? "quality: " + issues.join(", ") : "";
      tile.querySelector(".number").textContent = "#" + S.numbers[i];
      const votes = S.run && S.rank.has(id) ? S.run.votes[S.rank.get(id)] : 0;
      const dupe = S.view === "duplicates" ? S.dupeOf.get(id) : undefined;
      tile.querySelector(".freq").textContent = dupe ? (dupe.keeper ? "keep" : "copy") + " · group " + dupe.group
        : S.run ? Math.round(100 * votes / S.run.iterations) + " %" : "";
      const path = pathOf(id) || ("image " + id);
      tile.querySelector(".name").textContent = path;
      tile.title = path + (issues ? " [" + issues.join(", ") + "]" : "") + (excluded ? " (excluded: click to include)" : " (click to exclude)");
    }
    grid.addEventListener("scroll", () => render(false), { passive: true });
    window.addEventListener("resize", () => { rebuild(); resizeMap(); });

    // ---- focus and the side panel ----
    function setFocus(i, scroll) {
      if (i < 0 || i >= S.shown.length) return;
      S.focus = i;
      for (const tile of tiles.values()) tile.dataset.key = "";
      if (scroll) {
        const row = Math.floor(i / columns()), y = row * TILE_H;
        if (y < grid.scrollTop) grid.scrollTop = y;
        else if (y + TILE_H > grid.scrollTop + grid.clientHeight) grid.scrollTop = y + TILE_H - grid.clientHeight;
      }
      render(true);
      showPanel(S.shown[i]);
      drawMap();
    }
    let panelFor = 0;
    async function showPanel(id) {
      panelFor = id;
      const info = await apiJSON("api/image/" + id).catch((e) => ({ error: String(e.message || e) }));
      if (panelFor !== id) return;
      const panel = $("panel");
      panel.innerHTML = "";
      if (info.error) { panel.textContent = info.error; return; }
      const img = document.createElement("img"); img.src = "api/thumb/" + id + "?size=large"; img.alt = info.name;
      img.addEventListener("error", () => { img.replaceWith(Object.assign(document.createElement("p"), { className: "hint", textContent: info.present ? "the file cannot be read" : "missing: the file is no longer on disk" })); });
      panel.appendChild(img);
      const rows = [["path", info.absolutePath], ["folder", info.folder || "(top)"], ["album #", "a[" + info.position + "]"],
                    ["size", info.width && info.height ? info.width + " × " + info.height : "unknown"]];
      if (S.run && S.rank.has(id)) {
        const r = S.rank.get(id), votes = S.run.votes[r];
        rows.push(["run " + S.run.id, "r[" + (r + 1) + "]" + (r < S.run.selection ? ", r.selection[" + (r + 1) + "]" : "")]);
        rows.push(["frequency", (100 * votes / S.run.iterations).toFixed(1) + " % (" + votes + " of " + S.run.iterations + ")"]);
        rows.push(["tier", S.run.tierOf.get(id)]);
      }
      rows.push(["status", (S.excluded.has(id) ? "excluded" : "included") + (S.favorites.has(id) ? ", favourite" : "") + (info.present ? "" : ", file missing")]);
      rows.push(["quality", info.flags.length ? info.flags.join(", ")
        : info.stats || S.flagsSource === "repl" ? "no flag" : "not checked: no statistics (the pixels embedder records them)"]);
      if (info.cluster) rows.push(["cluster", info.cluster.id + (info.cluster.label ? ": " + info.cluster.label : "") + " (" + info.cluster.size + " images)"]);
      else rows.push(["cluster", S.clusters ? "in no cluster (noise)" : "no clusters: a:clusters() in the REPL makes them"]);
      if (info.uniqueness !== null && info.uniqueness !== undefined) rows.push(["uniqueness", Number(info.uniqueness).toFixed(3) + " (0 a near-duplicate … 1 the most isolated)"]);
      if (info.caption) rows.push(["caption", info.caption]);
      if (info.stats) for (const k of Object.keys(info.stats)) rows.push([k, Number(info.stats[k]).toFixed(3)]);
      const table = document.createElement("table");
      for (const [k, v] of rows) { const tr = table.insertRow(); tr.insertCell().textContent = k; tr.insertCell().textContent = v; }
      panel.appendChild(table);
    }

    // ---- actions ----
    async function post(action, json) {
      try { return await apiJSON("api/" + action, { json }); }
      catch (e) { status(action + ": " + (e.message || e)); throw e; }
    }
    async function toggleExcluded(ids) {
      const add = ids.filter((id) => !S.excluded.has(id)), remove = ids.filter((id) => S.excluded.has(id));
      for (const id of add) { S.excluded.add(id); S.exclusionOrder.push(id); }
      for (const id of remove) S.excluded.delete(id);
      refreshMarks();
      try { await post("exclusions", { add, remove }); } catch (e) { await loadSets(); refreshMarks(); }
      await loadSets(); refreshMarks();
    }
    async function setExcluded(ids, excluded) {
      await post("exclusions", excluded ? { add: ids } : { remove: ids }).catch(() => {});
      await loadSets(); refreshMarks();
    }
    async function toggleFavorite(id) {
      await post("favorites", S.favorites.has(id) ? { remove: [id] } : { add: [id] }).catch(() => {});
      await loadSets(); refreshMarks();
    }
    function refreshMarks() {
      if (S.view === "exclusions") { rebuild(); return; }
      for (const tile of tiles.values()) tile.dataset.key = "";
      render(true); drawMap();
      if (S.focus >= 0) showPanel(S.shown[S.focus]);
      rebuildCounts();
    }
    function rebuildCounts() {
      const run = S.run;
      const inAlbum = S.ids.length || (S.album ? S.album.images : 0);
      let text = S.shown.length.toLocaleString() + " shown · " + S.excluded.size.toLocaleString() + " excluded · " + inAlbum.toLocaleString() + " in album";
      if (run) text = "run " + run.id + " (" + run.method + ", " + run.count + " × " + run.iterations + ") · " + text;
      $("counts").textContent = text;
      // The duplicates view's bar: how many copies are still included.
      // Shown with no group too: its field is how to look again at a lower similarity.
      // Kept while groups at a new similarity are found, so the field does not jump away.
      const dupes = S.view === "duplicates" && (S.dupes || S.dupesThreshold);
      $("dupes-bar").hidden = !dupes;
      if (dupes) {
        const left = dupesCopies().filter((id) => !S.excluded.has(id)).length;
        $("dupes-bar").querySelector("span").textContent = S.dupes
          ? S.dupes.groups.length + " groups · " + left + " copies not excluded" : "finding…";
        $("dupes-exclude").disabled = left === 0;
      }
    }
    $("threshold").addEventListener("input", () => { $("exclude-threshold").textContent = "Exclude ≥ " + $("threshold").value + " %"; });
    $("exclude-threshold").addEventListener("click", async () => {
      if (!S.run) { status("no run: Exclude ≥ N % needs a run"); return; }
      const body = await post("exclude-threshold", { run: S.run.id, min: Number($("threshold").value) / 100 }).catch(() => null);
      if (body) status("excluded " + body.changed + " more image" + (body.changed === 1 ? "" : "s"));
      await loadSets(); refreshMarks();
    });
    $("clear-exclusions").addEventListener("click", async () => {
      if (!confirm("Clear all " + S.excluded.size + " exclusions of this album?")) return;
      await post("clear-exclusions", {}).catch(() => {}); await loadSets(); refreshMarks();
    });
    $("favorite-selection").addEventListener("click", async () => {
      if (!S.run) { status("no run"); return; }
      const body = await post("favorite-selection", { run: S.run.id }).catch(() => null);
      if (body) status(body.changed + " favourites (the selection minus exclusions)");
      await loadSets(); refreshMarks();
    });
    $("done").addEventListener("click", async () => {
      await post("done", {}).catch(() => {});
      banner("Done: the REPL or script goes on; you can close this tab.");
    });
    $("export-open").addEventListener("click", () => { if (!S.run) { status("no run to export"); return; } $("export-result").textContent = ""; $("export-dialog").showModal(); });
    $("export-form").addEventListener("submit", async (event) => {
      if (event.submitter && event.submitter.value !== "go") return;
      event.preventDefault();
      const f = new FormData($("export-form"));
      const json = { run: S.run.id, folder: f.get("folder"), layout: f.get("layout"), concept: f.get("concept"), repeats: Number(f.get("repeats") || 1), dryRun: f.get("dryRun") === "on" };
      try {
        const r = await apiJSON("api/export", { json });
        $("export-result").textContent = (r.dryRun ? "Dry run: would export " : "Exported ") + r.exported + " images to " + r.destination
          + " (" + r.unchanged + " already there with the same bytes, " + r.renamed + " renamed, " + r.captions + " captions, " + r.excluded + " excluded left out)"
          + (r.errors.length ? "\nErrors:\n" + r.errors.join("\n") : "");
      } catch (e) { $("export-result").textContent = String(e.message || e); }
    });

    // ---- controls ----
    // Narrow windows fold the filters and actions away (ReviewPage's style).
    $("header-more").addEventListener("click", () => {
      const open = document.querySelector("header").classList.toggle("open");
      $("header-more").setAttribute("aria-expanded", String(open));
      $("header-more").textContent = open ? "Less ▴" : "More ▾";
      rebuild(); resizeMap();
    });
    $("views").addEventListener("click", async (e) => {
      const v = e.target.dataset && e.target.dataset.view;
      if (!v) return;
      S.view = v; grid.scrollTop = 0; rebuild();
      if (v === "duplicates") { await loadDuplicates(); if (S.view === "duplicates") rebuild(); }
    });
    $("dupes-threshold").addEventListener("change", async () => {
      const field = $("dupes-threshold"), value = Number(field.value);
      if (!field.value || !(value >= 0.5 && value <= 1)) {
        status("the similarity is a number from 0.5 to 1"); field.value = S.dupesThreshold; return;
      }
      S.dupesThreshold = field.value;
      await loadDuplicates();
      if (S.view === "duplicates") rebuild();
    });
        $("dupes-exclude").addEventListener("click", async () => {
      const copies = dupesCopies().filter((id) => !S.excluded.has(id));
      await setExcluded(copies, true);
      status("excluded " + copies.length + " cop" + (copies.length === 1 ? "y" : "ies") + "; every keeper stays");
      rebuild();
    });
    $("tier-filters").addEventListener("click", (e) => { const t = e.target.dataset && e.target.dataset.tier; if (t) toggleTier(t); });
    function toggleTier(t) { if (S.tiers.has(t)) S.tiers.delete(t); else S.tiers.add(t); rebuild(); }
    $("folder-filter").addEventListener("change", () => { S.folder = $("folder-filter").value; rebuild(); });
    let textTimer = 0;
    $("text-filter").addEventListener("input", () => {
      clearTimeout(textTimer);
      textTimer = setTimeout(async () => {
        const q = $("text-filter").value.trim();
        if (!q) { S.textIds = null; rebuild(); return; }
        const body = await apiJSON("api/search?q=" + encodeURIComponent(q)).catch(() => ({ ids: [] }));
        if ($("text-filter").value.trim() === q) { S.textIds = new Set(body.ids); rebuild(); }
      }, 200);
    });
    $("run-select").addEventListener("change", async () => {
      const id = Number($("run-select").value);
      S.follow = id === S.latestRun;
      await loadRun(id);
      if (!id && (S.view === "selection" || S.view === "voted")) S.view = "album";
      if (id && S.view === "album") S.view = "selection";
      rebuild();
    });
    function fillRuns() {
      const select = $("run-select");
      select.innerHTML = "";
      const all = document.createElement("option"); all.value = "0"; all.textContent = "album (no run)"; select.appendChild(all);
      for (const r of S.runs.slice().reverse()) {
        const o = document.createElement("option"); o.value = r.id;
        o.textContent = "run " + r.id + ": " + r.method + " " + r.count + " × " + r.iterations + (r.id === S.latestRun ? " (newest)" : "");
        select.appendChild(o);
      }
      select.value = S.run ? String(S.run.id) : "0";
    }
    document.addEventListener("keydown", (e) => {
      if (e.target.matches("input, select, textarea") || $("export-dialog").open) return;
      const cols = columns();
      const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols };
      if (moves[e.key] !== undefined) { e.preventDefault(); setFocus(Math.min(S.shown.length - 1, Math.max(0, (S.focus < 0 ? 0 : S.focus + moves[e.key]))), true); return; }
      if (e.key === "Escape") { $("preview").hidden = true; return; }
      if (e.key === "1" || e.key === "2" || e.key === "3") { toggleTier(["core", "stable", "variable"][Number(e.key) - 1]); return; }
      if (S.focus < 0) return;
      const id = S.shown[S.focus];
      if (e.key === "x") toggleExcluded([id]);
      else if (e.key === "f") toggleFavorite(id);
      else if (e.key === " ") { e.preventDefault(); togglePreview(id); }
    });
    function togglePreview(id) {
      const p = $("preview");
      if (!p.hidden) { p.hidden = true; return; }
      p.querySelector("img").src = "api/thumb/" + id + "?size=large";
      p.querySelector("p").textContent = pathOf(id);
      p.hidden = false;
    }
    $("preview").addEventListener("click", () => { $("preview").hidden = true; });

    // ---- the map ----
    const canvas = $("map"), ctx = canvas.getContext("2d");
    const M = { x: null, y: null, n: 0, minX: 0, maxX: 1, minY: 0, maxY: 1, scale: 1, ox: 0, oy: 0, cells: null, cell: 1, gw: 0, lassoMode: false, drawing: null, drawMs: 0 };
    function buildMap(points) {
      const n = points.length / 2;
      M.x = new Float32Array(n); M.y = new Float32Array(n); M.n = n;
      let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
      for (let i = 0; i < n; i++) {
        const x = points[2 * i], y = points[2 * i + 1];
        M.x[i] = x; M.y[i] = y;
        if (x === x && y === y) { if (x < minX) minX = x; if (x > maxX) maxX = x; if (y < minY) minY = y; if (y > maxY) maxY = y; }
      }
      if (minX === Infinity) { minX = 0; maxX = 1; minY = 0; maxY = 1; }
      Object.assign(M, { minX, maxX, minY, maxY });
      // A uniform grid over the data for hover look-ups.
      const gw = 128; M.gw = gw; M.cells = new Map();
      M.cell = Math.max((maxX - minX) / gw, (maxY - minY) / gw) || 1;
      for (let i = 0; i < n; i++) {
        if (M.x[i] !== M.x[i]) continue;
        const k = Math.floor((M.x[i] - minX) / M.cell) * 4096 + Math.floor((M.y[i] - minY) / M.cell);
        let list = M.cells.get(k); if (!list) M.cells.set(k, list = []); list.push(i);
      }
      S.map = true;
      fitMap();
    }
    function resizeMap() {
      const r = canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
      canvas.width = Math.max(1, Math.round(r.width * dpr)); canvas.height = Math.max(1, Math.round(r.height * dpr));
      fitMap();
    }
    function fitMap() {
      // The bottom keeps room for the note (what the map is, how long it took), which would hide points.
      const dpr = window.devicePixelRatio || 1, pad = 12 * dpr, note = 34 * dpr;
      const w = canvas.width, h = Math.max(2 * pad + 1, canvas.height - note);
      const sx = (w - 2 * pad) / ((M.maxX - M.minX) || 1), sy = (h - 2 * pad) / ((M.maxY - M.minY) || 1);
      M.scale = Math.min(sx, sy);
      M.ox = (w - M.scale * (M.maxX - M.minX)) / 2 - M.scale * M.minX;
      M.oy = (h - M.scale * (M.maxY - M.minY)) / 2 + M.scale * M.maxY;
      drawMap();
    }
    const sx = (x) => M.ox + M.scale * x, sy = (y) => M.oy - M.scale * y;
    function hex(c) { const v = parseInt(c.slice(1), 16); return [(v >> 16) & 255, (v >> 8) & 255, v & 255]; }
    let drawQueued = false;
    function drawMap() { if (!drawQueued) { drawQueued = true; requestAnimationFrame(() => { drawQueued = false; drawMapNow(); }); } }
    function drawMapNow() {
      const t0 = performance.now();
      const w = canvas.width, h = canvas.height;
      $("map-note").textContent = S.mapNote + (S.colourClusters && S.clusters ? " · coloured by cluster: " + S.clusters.description : "")
        + (S.view === "duplicates" && S.dupes && S.dupes.groups.length ? " · near-duplicates: keepers white, copies amber" : "")
        + (M.drawMs ? " · drawn in " + M.drawMs.toFixed(0) + " ms" : "");
      // When there is no map (S.map false) the note is the box's only content, said once and wrapped, and the
      // box shrinks to it so the side panel gets the room; while the map is computing the box keeps its size.
      const none = S.map === false;
      if ($("map-box").classList.contains("empty") !== none) { $("map-box").classList.toggle("empty", none); if (!none) { resizeMap(); return; } }
      if (!M.x) { ctx.fillStyle = "#0f1114"; ctx.fillRect(0, 0, w, h); $("map-note").textContent = S.mapNote || "map: computing…"; return; }
      const image = ctx.createImageData(w, h), px = new Uint32Array(image.data.buffer);
      px.fill(0xff14110f);
      const stamp = (i, colour, r) => {
        const cx = Math.round(sx(M.x[i])), cy = Math.round(sy(M.y[i]));
        for (let yy = cy - r; yy <= cy + r; yy++) { if (yy < 0 || yy >= h) continue; const row = yy * w;
          for (let xx = cx - r; xx <= cx + r; xx++) if (xx >= 0 && xx < w) px[row + xx] = colour; }
      };
      const abgr = (c) => { const [r, g, b] = hex(c); return (0xff000000 | (b << 16) | (g << 8) | r) >>> 0; };
      const grey = abgr("#59616b");
      // Points grow when there are few of them: 84 images must not be specks, 85,000 must not be a blot.
      const dpr = window.devicePixelRatio || 1, few = M.n < 2000, some = M.n < 20000;
      const small = Math.round((few ? 2 : some ? 1 : 0) * dpr), big = Math.round((few ? 4 : 2) * dpr);
      const byCluster = S.colourClusters && S.clusters;
      const palette = new Map(byCluster ? S.clusters.clusters.map((c) => [c.id, abgr(c.colour)]) : []);
      const clusterAbgr = (id) => { const k = S.clusterOf.get(id); return (k && palette.get(k)) || grey; };
      if (byCluster) {
        // Every point in its cluster's colour; the run's picks (below) keep theirs, only larger.
        for (let i = 0; i < M.n; i++) { if (M.x[i] === M.x[i]) stamp(i, clusterAbgr(S.ids[i]), Math.max(small, Math.round(dpr))); }
      } else {
        for (let i = 0; i < M.n; i++) { if (M.x[i] === M.x[i]) stamp(i, grey, small); }
      }
      const colours = { core: abgr(COLOURS.core), stable: abgr(COLOURS.stable), variable: abgr(COLOURS.variable) }, red = abgr(COLOURS.excluded);
      const inView = S.view === "lasso" && S.lasso ? null : null;
      if (S.run) {
        const sel = S.view === "voted" ? S.run.ids.length : S.run.selection;
        for (let k = sel - 1; k >= 0; k--) { const id = S.run.ids[k], i = S.position.get(id); if (i !== undefined && M.x[i] === M.x[i] && !S.excluded.has(id)) stamp(i, byCluster ? clusterAbgr(id) : colours[TIER[S.run.tiers[k]]], big); }
      }
      if (S.view === "duplicates" && S.dupes) {
        // The groups on the map: copies amber, keepers white on top (a keeper and its copies sit together).
        const amber = abgr("#f0a030"), white = abgr("#ffffff");
        for (const keepers of [false, true]) for (const [id, d] of S.dupeOf) {
          const i = S.position.get(id);
          if (d.keeper === keepers && i !== undefined && M.x[i] === M.x[i]) stamp(i, keepers ? white : amber, big);
        }
      }
      if (S.lasso) { const white = abgr("#ffffff"); for (const id of S.lasso) { const i = S.position.get(id); if (i !== undefined && !S.excluded.has(id)) stamp(i, white, Math.max(1, big - 1)); } }
      for (const id of S.excluded) { const i = S.position.get(id); if (i !== undefined && M.x[i] === M.x[i]) stamp(i, red, big); }
      ctx.putImageData(image, 0, 0);
      if (S.focus >= 0) {
        const i = S.position.get(S.shown[S.focus]);
        if (i !== undefined && M.x[i] === M.x[i]) { ctx.strokeStyle = "#fff"; ctx.lineWidth = 2 * dpr; ctx.beginPath(); ctx.arc(sx(M.x[i]), sy(M.y[i]), 7 * dpr, 0, 7); ctx.stroke(); }
      }
      if (M.drawing && M.drawing.length > 1) {
        ctx.strokeStyle = "#fff"; ctx.setLineDash([4, 3]); ctx.lineWidth = dpr; ctx.beginPath();
        ctx.moveTo(M.drawing[0][0], M.drawing[0][1]); for (const [x, y] of M.drawing) ctx.lineTo(x, y); ctx.closePath(); ctx.stroke(); ctx.setLineDash([]);
      }
      M.drawMs = performance.now() - t0;
      window.curatorMapDrawMs = M.drawMs;
    }
    function nearest(px, py, radius) {
      if (!M.cells) return -1;
      const x = (px - M.ox) / M.scale, y = (M.oy - py) / M.scale, r = radius / M.scale;
      const c0 = Math.floor((x - r - M.minX) / M.cell), c1 = Math.floor((x + r - M.minX) / M.cell);
      const d0 = Math.floor((y - r - M.minY) / M.cell), d1 = Math.floor((y + r - M.minY) / M.cell);
      let best = -1, bestD = r * r;
      if ((c1 - c0) * (d1 - d0) > 4096) return -1;
      for (let c = c0; c <= c1; c++) for (let d = d0; d <= d1; d++) {
        const list = M.cells.get(c * 4096 + d); if (!list) continue;
        for (const i of list) { const dx = M.x[i] - x, dy = M.y[i] - y, dd = dx * dx + dy * dy; if (dd <= bestD) { bestD = dd; best = i; } }
      }
      return best;
    }
    function canvasPoint(e) { const r = canvas.getBoundingClientRect(), dpr = canvas.width / r.width; return [(e.clientX - r.left) * dpr, (e.clientY - r.top) * dpr]; }
    let drag = null;
    canvas.addEventListener("wheel", (e) => {
      e.preventDefault();
      const [x, y] = canvasPoint(e), f = Math.exp(-e.deltaY * 0.0015);
      M.ox = x - (x - M.ox) * f; M.oy = y - (y - M.oy) * f; M.scale *= f; drawMap();
    }, { passive: false });
    canvas.addEventListener("mousedown", (e) => {
      const p = canvasPoint(e);
      if (M.lassoMode || e.shiftKey) { M.drawing = [p]; return; }
      drag = { x: p[0], y: p[1], ox: M.ox, oy: M.oy, moved: false };
    });
    window.addEventListener("mousemove", (e) => {
      if (M.drawing) { M.drawing.push(canvasPoint(e)); drawMap(); return; }
      if (drag) { const [x, y] = canvasPoint(e); if (Math.abs(x - drag.x) + Math.abs(y - drag.y) > 3) drag.moved = true; M.ox = drag.ox + x - drag.x; M.oy = drag.oy + y - drag.y; drawMap(); return; }
      if (e.target !== canvas) return;
      const [x, y] = canvasPoint(e), dpr = window.devicePixelRatio || 1, i = nearest(x, y, 6 * dpr), hover = $("hover");
      if (i < 0) { hover.hidden = true; return; }
      const id = S.ids[i];
      hover.hidden = false;
      const r = canvas.getBoundingClientRect();
      hover.style.left = Math.min(r.width - 190, e.clientX - r.left + 12) + "px"; hover.style.top = Math.max(0, e.clientY - r.top - 100) + "px";
      const img = hover.querySelector("img"); if (img.dataset.id !== String(id)) { img.dataset.id = id; img.src = "api/thumb/" + id; }
      hover.querySelector("span").textContent = (pathOf(id) || "image " + id) + (S.excluded.has(id) ? " (excluded)" : "");
    });
    canvas.addEventListener("mouseleave", () => { $("hover").hidden = true; });
    window.addEventListener("mouseup", (e) => {
      if (M.drawing) { finishLasso(M.drawing); M.drawing = null; drawMap(); return; }
      if (drag && !drag.moved && e.target === canvas) {
        const [x, y] = canvasPoint(e), i = nearest(x, y, 8 * (window.devicePixelRatio || 1));
        if (i >= 0) focusImage(S.ids[i]);
      }
      drag = null;
    });
    function focusImage(id) {
      let k = S.shown.indexOf(id);
      if (k < 0) { S.view = "album"; S.tiers.clear(); S.folder = ""; $("folder-filter").value = ""; S.textIds = null; $("text-filter").value = ""; S.cluster = ""; $("cluster-filter").value = ""; rebuild(id); k = S.shown.indexOf(id); }
      setFocus(k, true);
    }
    function finishLasso(poly) {
      if (poly.length < 3) return;
      const inside = [];
      for (let i = 0; i < M.n; i++) {
        if (M.x[i] !== M.x[i]) continue;
        const x = sx(M.x[i]), y = sy(M.y[i]);
        let c = false;
        for (let a = 0, b = poly.length - 1; a < poly.length; b = a++) {
          const [xa, ya] = poly[a], [xb, yb] = poly[b];
          if ((ya > y) !== (yb > y) && x < (xb - xa) * (y - ya) / (yb - ya) + xa) c = !c;
        }
        if (c) inside.push(S.ids[i]);
      }
      S.lasso = inside;
      $("lasso-view").hidden = false; $("lasso-view").textContent = "Lasso (" + inside.length + ")";
      $("lasso-bar").hidden = false; $("lasso-bar").querySelector("span").textContent = inside.length + " images in the lasso";
      S.view = "lasso"; grid.scrollTop = 0; rebuild();
    }
    $("cluster-colour").addEventListener("click", () => { S.colourClusters = !S.colourClusters; $("cluster-colour").classList.toggle("on", S.colourClusters); drawMap(); });
    $("cluster-filter").addEventListener("change", (e) => { S.cluster = e.target.value; grid.scrollTop = 0; rebuild(); });
    $("lasso-mode").addEventListener("click", () => { M.lassoMode = !M.lassoMode; $("lasso-mode").classList.toggle("on", M.lassoMode); });
    $("lasso-exclude").addEventListener("click", () => { if (S.lasso) setExcluded(S.lasso, true); });
    $("lasso-include").addEventListener("click", () => { if (S.lasso) setExcluded(S.lasso, false); });
    $("lasso-clear").addEventListener("click", () => { S.lasso = null; $("lasso-bar").hidden = true; $("lasso-view").hidden = true; if (S.view === "lasso") S.view = "selection"; rebuild(); });

    // ---- following the index ----
    async function poll() {
      if (S.ended) return;
      let state;
      try { state = await apiJSON("api/state"); }
      catch (e) {
        if (String(e.message).includes("Failed to fetch") || e instanceof TypeError) { S.ended = true; banner("The review ended: curator closed this page's server (v:close(), Ctrl-C or the end of the script)."); }
        setTimeout(poll, 2000); return;
      }
      banner(null);
      await follow(state).catch((e) => status(String(e.message || e)));
      setTimeout(poll, POLL_MS);
    }
    async function follow(state) {
      const g = state.generation;
      let changed = false;
      if (g.images !== S.imagesGeneration) { S.imagesGeneration = g.images; await loadImages(); loadMap(); changed = true; }
      S.runs = state.runs;
      if (g.runs !== S.latestRun) {
        const previous = S.latestRun; S.latestRun = g.runs;
        if (S.follow && g.runs && (!S.run || S.run.id === previous)) {
          await loadRun(g.runs); if (S.view === "album" && previous) S.view = "selection"; changed = true;
          if (previous) status("run " + g.runs + " arrived from the REPL");
        }
        fillRuns();
      }
      if (g.sets !== S.setsGeneration) { await loadSets(); if (!changed) refreshMarks(); }
      if (state.flags !== S.flagsGeneration) { await loadFlags(); if (!changed) refreshMarks(); }
      if (state.clusters !== S.clustersGeneration) { await loadClusters(); changed = true; }
      if (changed) rebuild();
      const t = state.thumbnails, m = state.map;
      let text = t.queued && t.made < t.queued ? "thumbnails " + t.made + "/" + t.queued : "";
      if (m.state === "computing") text += (text ? " · " : "") + "map: " + m.label + " " + m.done + "/" + m.total;
      progress(text);
    }
    async function start() {
      resizeMap();
      const state = await apiJSON("api/state");
      S.album = state.album;
      $("album-name").textContent = state.album.name + " (" + state.album.images.toLocaleString() + " images)";
      document.title = "curator review — " + state.album.name;
      S.runs = state.runs; S.latestRun = state.generation.runs;
      S.imagesGeneration = state.generation.images;
      const first = state.initialRun || state.generation.runs || 0;
      S.follow = first === S.latestRun;
      // A run's first page needs only the run (it brings its paths) and the
      // sets; the album's ids and folders, and the map, follow it.
      // Asked for only after the run: the server builds one reply at a time.
      const images = first ? null : loadImages();
      await Promise.all([loadSets(), loadRun(first), images]);
      S.view = first ? "selection" : "album";
      fillRuns();
      rebuild();
      // Marked once the first page is painted (the frame after the tiles were placed).
      requestAnimationFrame(() => setTimeout(() => { window.curatorReady = performance.now(); }, 0));
      await (images || loadImages());
      rebuild();
      loadMap();
      setTimeout(poll, POLL_MS);
    }
    start().catch((e) => banner("The page could not start: " + (e.message || e)));
    """#
}
