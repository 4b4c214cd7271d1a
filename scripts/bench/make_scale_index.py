#!/usr/bin/env python3
"""Writes a large synthetic PhotoMapAI-format index for scripts/bench/scale,
with the ground truth a benchmark needs: hidden cluster labels and planted
near-duplicate pairs.

The rows imitate CLIP image embeddings of a big photo library, as
make_synthetic_index.py does for 85k rows: a shared direction (CLIP vectors
live in a narrow cone), variation with a power-law spectrum, clusters of very
unequal size (log-normal), about 1 % outliers. On top of that, `--pairs`
near-duplicates are planted: row j becomes row i plus noise, at a cosine
similarity drawn uniformly from [--pair-low, --pair-high] (re-encodes, crops,
burst shots), so a threshold inside that range finds some and not others.

It generates in blocks of --block rows, so memory stays near one copy of the
matrix (2 GB at 1,000,000 × 512) however large --rows is.

Outputs, under --prefix (default /tmp/curator-scale/index_<rows>x<dim>):
  <prefix>/embeddings.npz  np.savez as PhotoMapAI writes it: embeddings
                           (N x D float32), filenames (<U), modification_times
                           (float64), metadata (object array of dicts),
                           model_id, embedding_dim
  <prefix>/truth.npz       labels (N int32: cluster, -1 for outliers),
                           pairs (P x 2 int64, i < j), pair_cosine (P float32:
                           the exact cosine of each planted pair)
"""
import argparse
import os
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--clusters", type=int, default=2000)
    ap.add_argument("--outliers", type=float, default=0.01, help="fraction of rows that are outliers")
    ap.add_argument("--pairs", type=int, default=5000, help="planted near-duplicate pairs")
    ap.add_argument("--pair-low", type=float, default=0.95)
    ap.add_argument("--pair-high", type=float, default=0.995)
    ap.add_argument("--block", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=20261205)
    ap.add_argument("--prefix", default=None)
    args = ap.parse_args()
    n, d = args.rows, args.dim
    prefix = args.prefix or f"/tmp/curator-scale/index_{n}x{d}"
    os.makedirs(prefix, exist_ok=True)
    started = time.time()
    rng = np.random.default_rng(args.seed)

    basis, _ = np.linalg.qr(rng.standard_normal((d, d)))
    basis = basis.astype(np.float32)
    spectrum = (1.0 / np.arange(1, d + 1) ** 0.5).astype(np.float32)
    spectrum /= np.sqrt((spectrum ** 2).sum())          # unit expected norm

    def directions(count, scale):
        z = rng.standard_normal((count, d), dtype=np.float32) * spectrum
        return (z @ basis.T) * np.float32(scale)

    common = rng.standard_normal(d).astype(np.float32)
    common /= np.linalg.norm(common)

    n_out = int(round(n * args.outliers))
    n_in = n - n_out
    weights = rng.lognormal(mean=0.0, sigma=1.4, size=args.clusters)
    sizes = np.maximum(1, np.floor(weights / weights.sum() * n_in)).astype(np.int64)
    while sizes.sum() > n_in:
        sizes[np.argmax(sizes)] -= 1
    sizes[np.argmax(sizes)] += n_in - sizes.sum()
    centers = 0.8 * common + directions(args.clusters, 1.0)
    spreads = rng.uniform(0.4, 0.9, size=args.clusters).astype(np.float32)

    labels = np.concatenate([np.repeat(np.arange(args.clusters, dtype=np.int32), sizes),
                             np.full(n_out, -1, dtype=np.int32)])
    labels = labels[rng.permutation(n)]                 # rows in processing order

    emb = np.empty((n, d), dtype=np.float32)
    for start in range(0, n, args.block):
        stop = min(n, start + args.block)
        lab = labels[start:stop]
        block = directions(stop - start, 1.0)
        inside = lab >= 0
        block[inside] = centers[lab[inside]] + block[inside] * spreads[lab[inside], None]
        outl = ~inside
        block[outl] = (0.5 * common + block[outl] * np.float32(1.6)
                       + rng.standard_normal((int(outl.sum()), d), dtype=np.float32) * np.float32(0.03))
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        emb[start:stop] = block

    # Planted pairs: disjoint rows, j := normalise(cos·x_i + sin·u) with u a
    # unit vector orthogonal to x_i, so cos(x_i, x_j) is exactly the target.
    chosen = rng.choice(n, size=2 * args.pairs, replace=False)
    first, second = np.minimum(chosen[0::2], chosen[1::2]), np.maximum(chosen[0::2], chosen[1::2])
    target = rng.uniform(args.pair_low, args.pair_high, size=args.pairs).astype(np.float64)
    x = emb[first].astype(np.float64)
    u = rng.standard_normal((args.pairs, d))
    u -= (u * x).sum(axis=1, keepdims=True) * x
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    y = target[:, None] * x + np.sqrt(1 - target[:, None] ** 2) * u
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    emb[second] = y.astype(np.float32)
    labels[second] = labels[first]
    pair_cosine = (emb[first] * emb[second]).sum(axis=1, dtype=np.float64).astype(np.float32)

    filenames = np.array([f"/photos/library/{i // 1000:04d}/IMG_{i:07d}.jpg" for i in range(n)])
    mtimes = 1.6e9 + np.sort(rng.uniform(0, 3e7, size=n))
    metadata = np.empty(n, dtype=object)
    for i in range(n):
        metadata[i] = {}
    np.savez(os.path.join(prefix, "embeddings.npz"), embeddings=emb, filenames=filenames,
             modification_times=mtimes, metadata=metadata,
             model_id=np.array("open-clip:ViT-B-32/laion2b_s34b_b79k"), embedding_dim=np.array(d))
    np.savez(os.path.join(prefix, "truth.npz"), labels=labels,
             pairs=np.stack([first, second], axis=1).astype(np.int64), pair_cosine=pair_cosine)

    sample = emb[rng.choice(n, 2000, replace=False)]
    sims = sample @ sample.T
    off = sims[~np.eye(len(sample), dtype=bool)]
    print(f"wrote {prefix}/embeddings.npz and truth.npz: {n} x {d}, {args.clusters} clusters "
          f"(largest {sizes.max()}, smallest {sizes.min()}), {n_out} outliers, {args.pairs} planted pairs "
          f"(cosine {pair_cosine.min():.4f}-{pair_cosine.max():.4f}); mean pairwise cos {off.mean():.3f}; "
          f"{time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
