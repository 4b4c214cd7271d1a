#!/usr/bin/env python3
"""Writes the 100,000-row sample scripts/bench/duplicates measures recall on,
from the 1,000,000-row index of make_scale_index.py (read in place, never
rewritten), with every pair at or above --min-threshold found by brute force.

The sample holds both rows of every pair make_scale_index.py planted (random,
isotropic noise: nearly always in the same inverted list, so easy for an
index) and rows drawn at random, and then plants --directed harder pairs on
top: row j becomes row i moved towards another random row z, at a cosine
drawn uniformly from [0.95, 0.995]. Such a copy leans into the list of z's
neighbours, which is where an inverted file misses pairs (burst shots and
crops differ along directions other photos differ along, not at random).

--rows equal to the index's rows (1,000,000) keeps every row in place and
only plants the directed pairs: comparing every pair is out of reach there
(5·10^14 flops), so truth.npz then holds the planted pairs alone, those of
make_scale_index.py and the directed ones, each with its exact cosine; the
default --out is then dup_hard_<rows>x<dim>, never the index itself.

Outputs, under --out (default /tmp/curator-scale/dup_sample_<rows>x<dim>):
  embeddings.npz  PhotoMapAI layout (embeddings, filenames /sample/IMG_<row>.jpg)
  truth.npz       pairs (P x 2, sample rows, i < j) and cosine (P, float32):
                  every pair with cosine >= --min-threshold (float32 GEMM),
                  or with every row, the planted pairs; directed (D x 2):
                  the directed pairs
"""
import argparse
import os
import struct
import time
import zipfile

import numpy as np


def mapped_embeddings(path):
    """The npz's `embeddings` array, memory-mapped (np.savez stores it uncompressed)."""
    archive = zipfile.ZipFile(path)
    info = archive.getinfo("embeddings.npy")
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        f.seek(info.header_offset + 30 + name_length + extra_length)
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(f)
        offset = f.tell()
    assert not fortran and info.compress_type == 0
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", default="/tmp/curator-scale/index_1000000x512")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--directed", type=int, default=3000)
    ap.add_argument("--min-threshold", type=float, default=0.9)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    started = time.time()
    source = mapped_embeddings(os.path.join(args.index, "embeddings.npz"))
    truth = np.load(os.path.join(args.index, "truth.npz"))
    n, d = source.shape
    every_row = args.rows >= n
    out = args.out or f"/tmp/curator-scale/dup_{'hard' if every_row else 'sample'}_{min(args.rows, n)}x{d}"
    assert os.path.realpath(out) != os.path.realpath(args.index), "--out must not be the index read"
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(args.seed)

    planted = np.unique(truth["pairs"].ravel())
    if every_row:
        args.rows = n
        rows = np.arange(n)
    else:
        rest = np.setdiff1d(np.arange(n), planted)
        rows = np.sort(np.concatenate([planted, rng.choice(rest, args.rows - len(planted), replace=False)]))
    x = np.ascontiguousarray(source[rows])

    # Directed pairs over rows that are in no planted pair.
    free = np.flatnonzero(~np.isin(rows, planted))
    chosen = rng.choice(free, 3 * args.directed, replace=False)
    first, second, towards = np.split(chosen, 3)
    target = rng.uniform(0.95, 0.995, args.directed)
    a, z = x[first].astype(np.float64), x[towards].astype(np.float64)
    low, high = np.zeros(args.directed), np.ones(args.directed)
    for _ in range(50):   # bisect the step that gives the target cosine
        step = (low + high) / 2
        y = a + step[:, None] * (z - a)
        y /= np.linalg.norm(y, axis=1, keepdims=True)
        above = (y * a).sum(1) > target
        low, high = np.where(above, step, low), np.where(above, high, step)
    x[second] = y.astype(np.float32)

    directed = np.stack([np.minimum(first, second), np.maximum(first, second)], axis=1).astype(np.int64)
    if every_row:
        # The planted pairs alone (rows kept in place), each with its exact float32 cosine.
        pairs = np.concatenate([truth["pairs"].astype(np.int64), directed])
        cosine = (x[pairs[:, 0]] * x[pairs[:, 1]]).sum(axis=1, dtype=np.float32)
    else:
        # Every pair at or above the lowest threshold: upper-triangle blocks of one GEMM each.
        found_i, found_j, found_c = [], [], []
        block = 4096
        for s in range(0, args.rows, block):
            products = x[s:s + block] @ x[s:].T
            i, j = np.nonzero(products >= args.min_threshold)
            keep = s + i < s + j
            found_i.append(s + i[keep]); found_j.append(s + j[keep]); found_c.append(products[i[keep], j[keep]])
        pairs = np.stack([np.concatenate(found_i), np.concatenate(found_j)], axis=1).astype(np.int64)
        cosine = np.concatenate(found_c).astype(np.float32)

    np.savez(os.path.join(out, "embeddings.npz"), embeddings=x,
             filenames=np.array([f"/sample/IMG_{i:07d}.jpg" for i in range(args.rows)]),
             modification_times=np.full(args.rows, 1.6e9), metadata=np.array([{}] * args.rows, dtype=object),
             model_id=np.array("open-clip:ViT-B-32/laion2b_s34b_b79k"), embedding_dim=np.array(d))
    np.savez(os.path.join(out, "truth.npz"), pairs=pairs, cosine=cosine, source_rows=rows, directed=directed)
    what = "planted pairs" if every_row else f"pairs >= {args.min_threshold}"
    print(f"wrote {out}: {args.rows} x {d} ({len(planted)} rows of planted pairs, {args.directed} directed pairs); "
          f"{len(pairs)} {what}, {(cosine >= 0.97).sum()} >= 0.97; {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
