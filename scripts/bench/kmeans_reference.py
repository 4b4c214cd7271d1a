#!/usr/bin/env python3
"""PhotoMapAI 1.3.2's own get_kmeans_indices_global, or with --method fps its
get_fps_indices_global (the photomapai package, run in the virtualenv
scripts/bench/photomapai_venv makes), called as its curation router's Monte
Carlo loop calls them, for scripts/bench/kmeans.

The router draws `run_seed = random.randint(0, 1000000)` per iteration and
calls get_kmeans_indices_global(index, count, run_seed, excluded) each time;
the npz is read once and then served from the package's own index cache, so
the read is done (and not timed) before the loop, as curator's matrix load is
not timed either. To report the inertia, the module's MiniBatchKMeans name is
bound to a subclass that only remembers each fit's `inertia_` (sklearn's
objective over every row, computed at the end of fit); the function itself is
the package's, unchanged. FPS has no inertia (null). Prints one JSON object.
"""
import argparse
import json
import random
import time
from pathlib import Path

from photomap.backend import embeddings


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("npz", type=Path)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--method", choices=("kmeans", "fps"), default="kmeans")
    args = ap.parse_args()

    inertias = []

    class Recorded(embeddings.MiniBatchKMeans):
        def fit(self, *a, **kw):
            out = super().fit(*a, **kw)
            inertias.append(float(self.inertia_))
            return out

    embeddings.MiniBatchKMeans = Recorded
    select = embeddings.get_kmeans_indices_global if args.method == "kmeans" else embeddings.get_fps_indices_global
    began = time.perf_counter()
    embeddings._open_npz_file(args.npz)
    load = time.perf_counter() - began

    random.seed(args.seed)
    picks = []
    began, began_cpu = time.perf_counter(), time.process_time()
    for _ in range(args.iterations):
        run_seed = random.randint(0, 1000000)
        picks.append(select(args.npz, args.count, run_seed, []))
    seconds = time.perf_counter() - began
    cpu_seconds = time.process_time() - began_cpu
    try:
        from threadpoolctl import threadpool_info
        blas = [(i.get("internal_api"), i.get("architecture"), i.get("num_threads")) for i in threadpool_info()]
    except ImportError:
        blas = None
    print(json.dumps({"method": args.method, "seconds": seconds, "cpu_seconds": cpu_seconds, "load_seconds": load, "iterations": args.iterations, "count": args.count,
                      "inertia": inertias, "mean_inertia": sum(inertias) / len(inertias) if inertias else None,
                      "picked": [len(p) for p in picks], "blas": blas}))


if __name__ == "__main__":
    main()
