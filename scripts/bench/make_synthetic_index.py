#!/usr/bin/env python3
"""Writes a synthetic PhotoMapAI-format embeddings index for the selection benchmark.

The rows imitate CLIP image embeddings of a real album: every vector shares a
common direction (CLIP embeddings live in a narrow cone, mean pairwise cosine
similarity around 0.4), the variation around it has a decaying spectrum
(power law, as real embedding spaces do), the images form clusters of very
unequal size (a few big events, many small ones, a long tail of singletons),
and about 1% are outliers spread far from everything.

Outputs (default prefix /tmp/curator_synthetic):
  <prefix>.npz   np.savez like PhotoMapAI: embeddings (N x D float32),
                 filenames (<U), modification_times (float64), metadata
                 (object array of empty dicts), model_id, embedding_dim
  <prefix>.f32   the same matrix as raw little-endian float32, row-major
  <prefix>.shape "N D" on one line
  <prefix>.labels the hidden cluster of each row (int32, -1 for the outliers),
                 for scoring clusterings (scripts/bench/clusters)
"""
import argparse
import numpy as np


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=85491)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--clusters", type=int, default=400)
    ap.add_argument("--outliers", type=float, default=0.01, help="fraction of rows that are outliers")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--prefix", default="/tmp/curator_synthetic")
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    n, d = args.rows, args.dim

    # A random orthonormal basis and a power-law spectrum for the variation.
    basis, _ = np.linalg.qr(rng.standard_normal((d, d)))
    basis = basis.astype(np.float32)
    spectrum = (1.0 / np.arange(1, d + 1) ** 0.5).astype(np.float32)
    spectrum /= np.sqrt((spectrum ** 2).sum())          # unit expected norm

    def directions(count, scale):
        z = rng.standard_normal((count, d)).astype(np.float32) * spectrum
        return (z @ basis.T) * scale

    common = rng.standard_normal(d).astype(np.float32)
    common /= np.linalg.norm(common)

    n_out = int(round(n * args.outliers))
    n_in = n - n_out
    # Unequal cluster sizes: log-normal weights, every cluster at least 1 image.
    weights = rng.lognormal(mean=0.0, sigma=1.4, size=args.clusters)
    sizes = np.maximum(1, np.floor(weights / weights.sum() * n_in)).astype(int)
    while sizes.sum() > n_in:
        sizes[np.argmax(sizes)] -= 1
    sizes[np.argmax(sizes)] += n_in - sizes.sum()

    centers = 0.8 * common + directions(args.clusters, 1.0)
    # Each cluster is as tight as a photo session: spread varies per cluster.
    spreads = rng.uniform(0.4, 0.9, size=args.clusters).astype(np.float32)
    labels = np.repeat(np.arange(args.clusters), sizes)
    members = centers[labels] + directions(n_in, 1.0) * spreads[labels, None]
    outliers = 0.5 * common + directions(n_out, 1.6) + rng.standard_normal((n_out, d)).astype(np.float32) * 0.03

    emb = np.concatenate([members, outliers]).astype(np.float32)
    truth = np.concatenate([labels, np.full(n_out, -1)]).astype(np.int32)
    order = rng.permutation(n)                          # rows in processing order
    emb, truth = emb[order], truth[order]
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    emb = np.ascontiguousarray(emb, dtype=np.float32)

    filenames = np.array([f"/photos/album/event_{i % 97:02d}/IMG_{i:06d}.jpg" for i in range(n)])
    mtimes = 1.6e9 + np.sort(rng.uniform(0, 3e7, size=n))
    metadata = np.empty(n, dtype=object)
    for i in range(n):
        metadata[i] = {}

    np.savez(args.prefix + ".npz", embeddings=emb, filenames=filenames,
             modification_times=mtimes, metadata=metadata,
             model_id=np.array("open-clip:ViT-L-14/dfn2b_s39b"), embedding_dim=np.array(d))
    emb.astype("<f4").tofile(args.prefix + ".f32")
    truth.astype("<i4").tofile(args.prefix + ".labels")
    with open(args.prefix + ".shape", "w") as f:
        f.write(f"{n} {d}\n")

    sample = emb[rng.choice(n, 2000, replace=False)]
    sims = sample @ sample.T
    off = sims[~np.eye(len(sample), dtype=bool)]
    nn = np.sort(sims, axis=1)[:, -2]
    print(f"wrote {args.prefix}.npz/.f32/.shape: {n} x {d}, {args.clusters} clusters "
          f"(largest {sizes.max()}, smallest {sizes.min()}), {n_out} outliers; "
          f"mean pairwise cos {off.mean():.3f}, mean nearest-of-2000 cos {nn.mean():.3f}")


if __name__ == "__main__":
    main()
