#!/usr/bin/env python3
"""faiss's inverted file (IndexIVFFlat, inner product) on the same vectors as
curator's duplicate index, for scripts/bench/duplicates: train on a sample,
add every row, then a range search of every row at the threshold, with the
fewest probes that reach the recall asked for. faiss-cpu from PyPI, 2
threads (the machine's cores).

  duplicates_faiss.py EMBEDDINGS.npz TRUTH.npz --threshold 0.97 --nlist 548 --nprobe 1 2 4 8

TRUTH.npz holds `pairs` (and `cosine`, or `pair_cosine` as make_scale_index.py
writes it): recall is the share of those pairs at or above the threshold
that faiss reports. Prints one line per nprobe with the seconds of each
phase and the recall.
"""
import argparse
import sys
import time

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from make_duplicates_sample import mapped_embeddings  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("embeddings")
    ap.add_argument("truth")
    ap.add_argument("--threshold", type=float, default=0.97)
    ap.add_argument("--nlist", type=int, required=True)
    ap.add_argument("--nprobe", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--stop-at-recall", type=float, default=0.99)
    args = ap.parse_args()
    import faiss
    faiss.omp_set_num_threads(args.threads)
    started = time.perf_counter()
    x = np.ascontiguousarray(mapped_embeddings(args.embeddings))
    loaded = time.perf_counter() - started
    n, d = x.shape
    truth = np.load(args.truth)
    cosine = truth["cosine"] if "cosine" in truth else truth["pair_cosine"]
    wanted = truth["pairs"][cosine >= args.threshold]

    t0 = time.perf_counter()
    quantiser = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFFlat(quantiser, d, args.nlist, faiss.METRIC_INNER_PRODUCT)
    index.train(x)   # faiss samples 256 rows per list itself
    trained = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.add(x)
    added = time.perf_counter() - t0
    print(f"faiss {faiss.__version__} IndexIVFFlat nlist {args.nlist}: {n} x {d}, load {loaded:.1f} s, "
          f"train {trained:.1f} s, add {added:.1f} s; {len(wanted)} pairs >= {args.threshold}", flush=True)
    for nprobe in args.nprobe:
        index.nprobe = nprobe
        t0 = time.perf_counter()
        lims, _, labels = index.range_search(x, args.threshold)
        searched = time.perf_counter() - t0
        queries = np.repeat(np.arange(n), np.diff(lims).astype(np.int64))
        found = set(zip(np.minimum(queries, labels).tolist(), np.maximum(queries, labels).tolist()))
        recall = np.mean([(int(i), int(j)) in found for i, j in wanted]) if len(wanted) else 1.0
        print(f"faiss nprobe={nprobe}: search {searched:.1f} s, total (train+add+search) {trained + added + searched:.1f} s, "
              f"recall {recall:.4f} ({int(round(recall * len(wanted)))}/{len(wanted)})", flush=True)
        if recall >= args.stop_at_recall:
            break


if __name__ == "__main__":
    main()
