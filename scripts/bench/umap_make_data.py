#!/usr/bin/env python3
"""Writes a synthetic PhotoMapAI-like embedding matrix for scripts/bench/umap.

CLIP-style image embeddings share a strong common direction, fall into
clusters of very unequal size (a few big shoots, many small ones), vary along
a few directions inside each cluster, and include outliers. The matrix is
L2-normalised float32, written raw (little-endian, row-major) to OUT.f32 with
its shape in OUT.shape ("rows dim").

usage: umap_make_data.py ROWS DIM OUT_PREFIX [SEED]
"""
import sys

import numpy as np


def main():
    rows, dim, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 7
    rng = np.random.default_rng(seed)
    clusters = max(8, rows // 600)
    outliers = rows // 50
    # Zipf-like cluster sizes.
    weights = 1.0 / np.arange(1, clusters + 1) ** 0.9
    sizes = np.floor(weights / weights.sum() * (rows - outliers)).astype(int)
    sizes[0] += rows - outliers - sizes.sum()
    common = rng.normal(size=dim)
    common *= 3.0 / np.linalg.norm(common)
    out = np.empty((rows, dim), dtype=np.float32)
    at = 0
    for c, size in enumerate(sizes):
        centre = common + rng.normal(size=dim) * (1.6 / np.sqrt(dim)) * 1.8
        # A few directions of variation inside the cluster (sub-themes).
        basis = rng.normal(size=(6, dim)) / np.sqrt(dim)
        scales = rng.uniform(0.3, 1.2, size=6)
        coords = rng.normal(size=(size, 6)) * scales
        block = centre + coords @ basis + rng.normal(size=(size, dim)) * (0.35 / np.sqrt(dim))
        out[at:at + size] = block
        at += size
    out[at:] = common + rng.normal(size=(rows - at, dim)) * (3.0 / np.sqrt(dim))
    perm = rng.permutation(rows)
    out = out[perm]
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    out.astype('<f4').tofile(prefix + '.f32')
    with open(prefix + '.shape', 'w') as f:
        f.write(f"{rows} {dim}\n")
    sims = out[:500] @ out[:500].T
    print(f"wrote {prefix}.f32: {rows}x{dim}, {clusters} clusters, {rows - at} outliers, "
          f"mean pairwise cosine {sims[np.triu_indices(500, 1)].mean():.3f}")


if __name__ == '__main__':
    main()
