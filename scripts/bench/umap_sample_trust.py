#!/usr/bin/env python3
"""Trustworthiness (scikit-learn, k=15, cosine) of a large map on a sample
of its rows, against umap-learn's map of the same sample, for
scripts/bench/scale's map_trust step (umap-learn cannot map a million rows
here in reasonable time; the sample is what the two are compared on).

usage: umap_sample_trust.py INDEX.npz POINTS.txt WORK
  POINTS.txt: one line per sampled row, "ROW X Y" (ROW 0-based in the npz)
  WORK: prefix for the sample's float32 matrix and umap-learn's points

Prints one JSON line: rows, ours_trustworthiness, umap_learn_trustworthiness,
umap_learn_seconds.
"""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from sklearn.manifold import trustworthiness


def main():
    npz, points_path, work = sys.argv[1], sys.argv[2], sys.argv[3]
    table = np.loadtxt(points_path)
    rows = table[:, 0].astype(np.int64)
    ours = table[:, 1:3].astype(np.float32)
    with np.load(npz, allow_pickle=True) as z:
        data = z["embeddings"][rows].astype(np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    sample = f"{work}.f32"
    data.astype("<f4").tofile(sample)
    runner = Path(__file__).with_name("umap_learn_run.py")
    out = subprocess.run([sys.executable, str(runner), sample, str(len(rows)), str(data.shape[1]), f"{work}_umap_learn.f32"],
                         check=True, capture_output=True, text=True).stdout
    theirs = np.fromfile(f"{work}_umap_learn.f32", dtype="<f4").reshape(len(rows), 2)
    print(json.dumps({
        "rows": int(len(rows)),
        "ours_trustworthiness": round(float(trustworthiness(data, ours, n_neighbors=15, metric="cosine")), 4),
        "umap_learn_trustworthiness": round(float(trustworthiness(data, theirs, n_neighbors=15, metric="cosine")), 4),
        "umap_learn_seconds": json.loads(out.strip().splitlines()[-1])["umap_seconds"],
    }))


if __name__ == "__main__":
    main()
