import CuratorCore

/// The review page: HTML, style and script, embedded in curator (no
/// network, no CDN). The script is `ReviewScript.source`; the tier colours
/// come from `TierAppearance`, as in the HTML report and the map plots.
enum ReviewPage {
    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>curator review</title>
    <link rel="stylesheet" href="app.css">
    <link rel="icon" href="data:,">
    </head>
    <body>
    <header>
      <div class="row">
        <b class="brand">curator review</b>
        <span id="album-name" class="keep"></span>
        <label class="keep"><span class="word">show </span><select id="run-select" title="which run (or the whole album)"></select></label>
        <button id="header-more" class="keep" aria-expanded="false" title="the filters and actions">More ▾</button>
        <span class="strip keep">
        <span class="views" id="views">
          <button data-view="selection" title="r.selection, numbered as in the REPL">Selection</button>
          <button data-view="voted" title="every image a run picked (r[i])">All voted</button>
          <button data-view="album" title="every image of the album (a[i])">Album</button>
          <button data-view="exclusions" title="a.exclusions">Exclusions</button>
          <button data-view="duplicates" title="a:duplicates(): each group's keeper first, then its copies">Duplicates</button>
          <button data-view="lasso" id="lasso-view" hidden>Lasso</button>
        </span>
        <span class="tiers" id="tier-filters">
          <button data-tier="core" title="key 1">core</button>
          <button data-tier="stable" title="key 2">stable</button>
          <button data-tier="variable" title="key 3">variable</button>
        </span>
        </span>
        <select id="folder-filter" title="filter by folder"><option value="">all folders</option></select>
        <select id="cluster-filter" title="filter by cluster (a:clusters())" hidden><option value="">all clusters</option></select>
        <input id="text-filter" type="search" placeholder="filter: path or caption" size="18">
      </div>
      <div class="row">
        <span class="group">
          <input id="threshold" type="range" min="5" max="100" step="5" value="90" title="frequency threshold">
          <button id="exclude-threshold" class="danger">Exclude ≥ 90 %</button>
        </span>
        <button id="clear-exclusions">Clear exclusions</button>
        <button id="favorite-selection">Favourites = selection</button>
        <button id="export-open">Export…</button>
        <a id="csv-link" class="button" href="#" download>CSV</a>
        <button id="lasso-mode" title="draw on the map to pick a region (or Shift+drag)">Lasso</button>
        <button id="cluster-colour" title="colour the map by cluster (a:clusters())" hidden>Colour by cluster</button>
        <button id="done">Done</button>
        <span id="counts" class="keep"></span>
        <span id="status" class="keep"></span>
      </div>
    </header>
    <div id="banner" hidden></div>
    <main>
      <section id="grid" tabindex="0" aria-label="images"><div id="spacer"></div><p id="empty" hidden>No image matches.</p></section>
      <aside>
        <div id="map-box"><canvas id="map"></canvas><div id="map-note"></div><div id="hover" hidden><img alt=""><span></span></div></div>
        <div id="panel"><p class="hint">Click a tile to exclude or include it; arrows move, x excludes, f favourites, space previews, 1–3 filter by tier.</p></div>
      </aside>
    </main>
    <div id="dupes-bar" hidden><span></span>
      <label title="images at least this similar to a group's keeper are its copies: lower finds more, and less alike">similarity ≥
        <input id="dupes-threshold" type="number" min="0.5" max="1" step="0.005"></label>
      <button id="dupes-exclude" class="danger" title="exclude every copy, keeping each group's keeper">Exclude the copies</button></div>
    <div id="lasso-bar" hidden><span></span>
      <button id="lasso-exclude" class="danger">Exclude these</button>
      <button id="lasso-include">Include these</button>
      <button id="lasso-clear">Clear lasso</button></div>
    <div id="preview" hidden><img alt=""><p></p></div>
    <dialog id="export-dialog">
      <form method="dialog" id="export-form">
        <h3>Export the selection</h3>
        <p>Excluded images are never exported, and nothing is ever overwritten (as <code>r:export</code>).</p>
        <label>Folder (absolute) <input name="folder" required size="40" placeholder="/home/me/dataset"></label>
        <label>Layout <select name="layout"><option value="flat">flat folder</option><option value="kohya">kohya (repeats_concept)</option></select></label>
        <label>Concept <input name="concept" size="12"></label>
        <label>Repeats <input name="repeats" type="number" min="1" value="1"></label>
        <label><input name="dryRun" type="checkbox"> dry run (only show the plan)</label>
        <menu><button value="cancel" formnovalidate>Cancel</button><button value="go" class="primary">Export</button></menu>
        <pre id="export-result"></pre>
      </form>
    </dialog>
    <script src="app.js"></script>
    </body>
    </html>
    """#

    /// The tiers' colours as CSS variables, from `TierAppearance`.
    static var colours: String {
        ":root { --core: \(SelectionTier.core.colour); --stable: \(SelectionTier.stable.colour); "
            + "--variable: \(SelectionTier.variable.colour); --excluded: \(SelectionTier.excludedColour); }\n"
    }

    static let style = colours + #"""
    * { box-sizing: border-box; }
    html, body { margin: 0; height: 100%; background: #15171a; color: #e6e6e6; font: 13px/1.35 system-ui, sans-serif; }
    body { display: flex; flex-direction: column; }
    header { padding: 6px 10px; background: #1f2226; border-bottom: 1px solid #333; }
    header .row { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin: 2px 0; }
    .brand { color: #fff; margin-right: 6px; }
    button, .button, select, input { background: #2b2f35; color: #e6e6e6; border: 1px solid #454b53; border-radius: 4px; padding: 3px 8px; font: inherit; text-decoration: none; }
    button:hover, .button:hover { background: #363b42; cursor: pointer; }
    button.on { background: #4a5563; border-color: #9aa7b6; color: #fff; }
    button.danger { border-color: #8a3a36; }
    button.primary { border-color: #4f7cac; }
    .views, .tiers, .group { display: inline-flex; gap: 3px; }
    .strip { display: inline-flex; flex-wrap: wrap; gap: 6px; }
    #header-more { display: none; }
    .tiers button[data-tier=core].on { border-color: var(--core); }
    .tiers button[data-tier=stable].on { border-color: var(--stable); }
    .tiers button[data-tier=variable].on { border-color: var(--variable); }
    #threshold { width: 110px; padding: 0; }
    /* The search box takes what the first row has left (at least 8em), so at
       1,300 px with a run shown it does not wrap onto a row of its own. */
    #text-filter { flex: 1 1 8em; min-width: 8em; max-width: 18em; }
    #counts { color: #aeb6bf; margin-left: 6px; }
    #status { color: #8d969f; margin-left: auto; }
    #banner { background: #7a1f1b; color: #fff; padding: 8px 12px; font-weight: 600; }
    main { flex: 1; display: flex; min-height: 0; }
    #grid { flex: 1; position: relative; overflow-y: auto; outline: none; }
    #spacer { position: relative; }
    #empty { position: absolute; top: 20px; left: 20px; color: #aaa; }
    .tile { position: absolute; width: 150px; height: 178px; padding: 4px; border-radius: 6px; border: 4px solid #3a3f46; background: #202328; cursor: pointer; overflow: hidden; }
    .tile.core { border-color: var(--core); }
    .tile.stable { border-color: var(--stable); }
    .tile.variable { border-color: var(--variable); }
    .tile.excluded { border-color: var(--excluded); background: #3a1513; }
    .tile.excluded img { opacity: .35; filter: grayscale(.6); }
    .tile.focus { outline: 3px solid #fff; outline-offset: 1px; }
    .tile .frame { width: 134px; height: 134px; display: flex; align-items: center; justify-content: center; background: #111; border-radius: 3px; position: relative; }
    .tile img { max-width: 134px; max-height: 134px; display: block; }
    .tile .missing { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; color: #ff8a80; font-weight: 600; text-align: center; padding: 6px; }
    .tile .caption { display: flex; justify-content: space-between; margin-top: 3px; white-space: nowrap; }
    .tile .number { font-weight: 700; }
    .tile.excluded .number { color: var(--excluded); text-decoration: line-through; text-decoration-thickness: 2px; }
    .tile .freq { color: #c9d1d9; }
    .tile .fav { color: #ffd54a; position: absolute; top: 2px; right: 4px; text-shadow: 0 0 3px #000; }
    .tile .flag { color: #ffb74d; position: absolute; top: 2px; left: 4px; text-shadow: 0 0 3px #000; }
    .tile .name { color: #8d969f; font-size: 11px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    aside { width: 42%; max-width: 720px; min-width: 320px; display: flex; flex-direction: column; border-left: 1px solid #333; }
    #map-box { position: relative; flex: 1.2; min-height: 200px; background: #0f1114; }
    #map { width: 100%; height: 100%; display: block; cursor: crosshair; }
    #map-note { position: absolute; left: 8px; bottom: 6px; max-width: calc(100% - 16px); overflow-wrap: anywhere; color: #8d969f; font-size: 11px; pointer-events: none; background: #0f1114d0; padding: 1px 4px; border-radius: 3px; }
    /* Without a map the box only carries its note, so the side panel gets the room. */
    #map-box.empty { flex: 0 0 auto; min-height: 0; }
    #map-box.empty #map { height: 0; }
    #map-box.empty #map-note { position: static; max-width: none; margin: 8px; font-size: 13px; }
    /* Narrow screens: the side pane goes under the grid instead of squeezing it,
       and the header keeps to the album, the run, the views, the tiers and the
       counts; "More" unfolds the filters and actions (at 420 px the whole
       header took about 250 px before the grid). */
    @media (max-width: 760px) {
      header { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 6px; padding: 4px 6px; }
      header .row { display: contents; }
      header .brand, header .word { display: none; }
      header:not(.open) .row > :not(.keep) { display: none; }
      header .row > :not(.keep) { order: 8; }
      header button, header .button, header select, header input { padding: 2px 6px; }
      #album-name { order: 1; flex: 1 1 0; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      header label.keep { order: 2; min-width: 0; }
      #run-select { max-width: 44vw; }
      #header-more { display: inline-block; order: 3; }
      .strip { order: 4; flex: 1 0 100%; gap: 3px 6px; }
      #counts { order: 5; flex: 1 1 0; min-width: 0; margin-left: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-size: 12px; }
      #status { order: 6; white-space: nowrap; font-size: 12px; }
      header.open::after { content: ""; order: 7; flex-basis: 100%; }
      main { flex-direction: column; }
      #grid { flex: 1 1 55%; min-height: 240px; }
      aside { width: auto; max-width: none; min-width: 0; flex: 1 1 45%; min-height: 200px; border-left: 0; border-top: 1px solid #333; }
      #map-box { min-height: 160px; }
      /* Without a map the pane holds only a note and the focused image: it
         takes what they need (at most 45 %), and the grid the rest. */
      aside:has(#map-box.empty) { flex: 0 1 auto; max-height: 45%; min-height: 0; }
    }
    #hover { position: absolute; pointer-events: none; background: #000c; border: 1px solid #555; padding: 4px; border-radius: 4px; max-width: 180px; }
    #hover img { max-width: 170px; max-height: 170px; display: block; }
    #hover span { font-size: 11px; word-break: break-all; }
    #panel { flex: 1; overflow-y: auto; padding: 8px 10px; border-top: 1px solid #333; }
    #panel img { max-width: 100%; max-height: 300px; display: block; margin: 0 auto 6px; }
    #panel table { border-collapse: collapse; width: 100%; }
    #panel td { padding: 1px 4px; vertical-align: top; word-break: break-all; }
    #panel td:first-child { color: #8d969f; white-space: nowrap; width: 1%; }
    .hint { color: #8d969f; }
    #lasso-bar, #dupes-bar { position: fixed; bottom: 12px; left: 50%; transform: translateX(-50%); background: #262a30; border: 1px solid #555; padding: 6px 10px; border-radius: 6px; display: flex; gap: 6px; align-items: center; }
    #dupes-threshold { width: 5.5em; }
    #dupes-bar label, #dupes-bar span { white-space: nowrap; }
    /* On a narrow screen the count takes a line of its own, the field and the button the next. */
    #dupes-bar { flex-wrap: wrap; justify-content: center; max-width: calc(100vw - 24px); box-sizing: border-box; }
    button:disabled { opacity: 0.45; cursor: default; }
    #lasso-bar[hidden], #dupes-bar[hidden], #preview[hidden], #banner[hidden], #hover[hidden], #cluster-filter[hidden], #cluster-colour[hidden] { display: none; }
    .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
    #preview { position: fixed; inset: 0; background: #000d; display: flex; flex-direction: column; align-items: center; justify-content: center; z-index: 10; }
    #preview img { max-width: 92vw; max-height: 86vh; }
    dialog { background: #1f2226; color: #e6e6e6; border: 1px solid #555; border-radius: 6px; }
    dialog label { display: block; margin: 6px 0; }
    dialog pre { white-space: pre-wrap; max-height: 200px; overflow: auto; }
    """#

    static var script: String { ReviewScript.source }
}
