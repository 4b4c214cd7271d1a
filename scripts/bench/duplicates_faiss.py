#!/usr/bin/env python3
"""faiss's inverted file (IndexIVFFlat, inner product) on the same vectors as
curator's duplicate index, for scripts/bench/duplicates: train on a sample,
add every row, then a range search of every row at the threshold, with the
fewest probes that reach the recall asked for. faiss-cpu from PyPI, 2
threads (the machine's cores).

  duplicates_faiss.py EMBEDDINGS.npz TRUTH.npz --threshold 0.97 --nlist 548 --nprobe 1 2 4 8

TRUTH.npz holds `pairs` (and `cosine`, or `pair_cosine` as make_scale_index.py
writes it): recall is the share of those pairs at or above the threshold
that faiss reports. Prints the JSON lines duplicates_faiss.cpp prints (one
reader serves both builds): {"phase": "build", ...} with the load, train and
add seconds, then {"phase": "search", ...} per nprobe with its seconds (op:
train + add + search), CPU seconds, recall and the directed pairs' share.
"""
import argparse
import json
import resource
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
    directed = {(int(min(i, j)), int(max(i, j))) for i, j in truth["directed"]} if "directed" in truth else set()
    peak_gb = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9

    t0, c0 = time.perf_counter(), time.process_time()
    quantiser = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFFlat(quantiser, d, args.nlist, faiss.METRIC_INNER_PRODUCT)
    index.train(x)   # faiss samples 256 rows per list itself
    trained = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.add(x)
    added, build_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"part": "faiss_pypi", "phase": "build", "library": f"faiss-cpu {faiss.__version__} (PyPI)",
                      "index": "IndexIVFFlat", "rows": n, "dim": d, "nlist": args.nlist, "threads": args.threads,
                      "threshold": args.threshold, "wanted_pairs": len(wanted), "load_seconds": loaded,
                      "train_seconds": trained, "add_seconds": added, "build_cpu_seconds": build_cpu,
                      "peak_gb": peak_gb()}), flush=True)
    for nprobe in args.nprobe:
        index.nprobe = nprobe
        t0, c0 = time.perf_counter(), time.process_time()
        lims, _, labels = index.range_search(x, args.threshold)
        searched, search_cpu = time.perf_counter() - t0, time.process_time() - c0
        queries = np.repeat(np.arange(n), np.diff(lims).astype(np.int64))
        found = set(zip(np.minimum(queries, labels).tolist(), np.maximum(queries, labels).tolist()))
        hits = [(int(min(i, j)), int(max(i, j))) for i, j in wanted if (int(i), int(j)) in found]
        recall = len(hits) / len(wanted) if len(wanted) else 1.0
        wanted_directed = sum((int(min(i, j)), int(max(i, j))) in directed for i, j in wanted)
        print(json.dumps({"part": "faiss_pypi", "phase": "search", "nprobe": nprobe, "search_seconds": searched,
                          "seconds": trained + added + searched, "search_cpu_seconds": search_cpu,
                          "cpu_seconds": build_cpu + search_cpu, "pairs_reported": sum(i < j for i, j in found), "recall": recall,
                          "found": len(hits), "wanted": len(wanted), "directed_found": sum(p in directed for p in hits),
                          "directed_wanted": wanted_directed, "peak_gb": peak_gb()}), flush=True)
        if recall >= args.stop_at_recall:
            break


if __name__ == "__main__":
    main()
