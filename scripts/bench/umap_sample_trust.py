#!/usr/bin/env python3
"""Trustworthiness (scikit-learn, k=15, cosine) of curator's and umap-learn's
maps of the SAME rows, side by side, for scripts/bench/scale's map_trust step.

A map of more rows scores lower on a sample of them by construction (a
million rows' 15-neighbour graph holds each cluster's neighbours within the
cluster; a 20,000-row sample's spans neighbouring clusters), so curator's map
of the whole album is never compared with umap-learn's map of the sample
alone. The like-for-like pairs:

  sample  curator and umap-learn each map the sample alone (always; umap-learn
          cannot map a million rows here in reasonable time)
  album   both map every row of the album, scored on the sample (--album:
          umap-learn on the whole album, for 100,000 rows, not 1M)

Curator's map of the sample goes through the product: the sample is written
as a PhotoMapAI embeddings.npz, opened with `curator.open` and mapped with
`a:map{cache=false}` by the CURATOR binary.

usage: umap_sample_trust.py INDEX.npz POINTS.txt WORK CURATOR [--album]
  POINTS.txt: curator's map of the album at the sample's rows, one line per
              row, "ROW X Y" (ROW 0-based in the npz)
  WORK:       prefix for the work files (the sample's npz goes in WORK_album/)

Prints one JSON line: rows, album_rows, the four (or three) trustworthiness
figures, each side's seconds (load-dependent: the figure of this script is
the trustworthiness, not the time).
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.manifold import trustworthiness

HERE = Path(__file__).parent


def trust(data, points):
    return round(float(trustworthiness(data, points, n_neighbors=15, metric="cosine")), 4)


def umap_learn(matrix, work):
    """umap-learn (PhotoMapAI's parameters) on a float32 matrix: its points and seconds."""
    path, out = f"{work}.f32", f"{work}_points.f32"
    np.ascontiguousarray(matrix, dtype="<f4").tofile(path)
    stdout = subprocess.run([sys.executable, str(HERE / "umap_learn_run.py"), path, str(len(matrix)), str(matrix.shape[1]), out],
                            check=True, capture_output=True, text=True).stdout
    points = np.fromfile(out, dtype="<f4").reshape(len(matrix), 2)
    os.remove(path)
    return points, json.loads(stdout.strip().splitlines()[-1])["umap_seconds"]


def curator_map(curator, rows, matrix, work):
    """curator's a:map() of `matrix` (rows `rows` of the album) opened as its own album: points in `rows`' order."""
    folder = Path(f"{work}_album")
    folder.mkdir(parents=True, exist_ok=True)
    npz = folder / "embeddings.npz"
    filenames = np.array([f"/photos/sample/IMG_{r:07d}.jpg" for r in rows])
    metadata = np.empty(len(rows), dtype=object)
    for i in range(len(rows)):
        metadata[i] = {}
    np.savez(npz, embeddings=matrix, filenames=filenames, modification_times=np.full(len(rows), 1.6e9),
             metadata=metadata, model_id=np.array("open-clip:ViT-B-32/laion2b_s34b_b79k"), embedding_dim=np.array(matrix.shape[1]))
    out = folder / "points.txt"
    lua = f"""a = curator.open('{npz}')
m = a:map{{cache=false}}
local f = assert(io.open('{out}', 'w'))
for i = 1, #a do
  local img = a[i]
  local x, y = m:xy(img)
  f:write(img.path:match('IMG_(%d+)'), ' ', string.format('%.9g %.9g', x, y), '\\n')
end
f:close()"""
    start = time.perf_counter()
    subprocess.run([curator, "--no-plugins", "-e", lua], check=True, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    table = np.loadtxt(out)
    position = {int(r): i for i, r in enumerate(rows)}
    points = np.zeros((len(rows), 2), dtype=np.float32)
    for r, x, y in table:
        points[position[int(r)]] = (x, y)
    if len(table) != len(rows):
        raise SystemExit(f"curator mapped {len(table)} of the sample's {len(rows)} rows")
    return points, seconds


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 4:
        raise SystemExit(__doc__)
    npz, points_path, work, curator = args
    album = "--album" in sys.argv[1:]
    table = np.loadtxt(points_path)
    rows = table[:, 0].astype(np.int64)
    ours_album = table[:, 1:3].astype(np.float32)
    with np.load(npz, allow_pickle=True) as z:
        embeddings = z["embeddings"]
        album_rows = len(embeddings)
        everything = embeddings.astype(np.float32) if album else None
        data = embeddings[rows].astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)

    ours_sample, ours_seconds = curator_map(curator, rows, data, f"{work}_curator")
    theirs_sample, theirs_seconds = umap_learn(data, f"{work}_umap_learn")
    result = {
        "rows": int(len(rows)), "album_rows": int(album_rows),
        "sample_curator_trustworthiness": trust(data, ours_sample),
        "sample_umap_learn_trustworthiness": trust(data, theirs_sample),
        "album_curator_trustworthiness": trust(data, ours_album),
        "album_umap_learn_trustworthiness": None,
        "sample_curator_process_seconds": round(ours_seconds, 2), "sample_umap_learn_seconds": round(theirs_seconds, 2),
    }
    if album:
        everything /= np.linalg.norm(everything, axis=1, keepdims=True)
        theirs_album, seconds = umap_learn(everything, f"{work}_umap_learn_album")
        result["album_umap_learn_trustworthiness"] = trust(data, theirs_album[rows])
        result["album_umap_learn_seconds"] = round(seconds, 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
