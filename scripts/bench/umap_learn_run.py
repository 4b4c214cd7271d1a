#!/usr/bin/env python3
"""umap-learn on a raw float32 matrix, as PhotoMapAI calls it
(n_neighbors=15, n_components=2, min_dist=0.05, metric="cosine", no random
state). The numba JIT is warmed up on a small array first and not timed.

usage: umap_learn_run.py DATA.f32 ROWS DIM OUT.f32
"""
import json
import sys
import time

import numpy as np


def main():
    path, rows, dim, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    import umap
    from threadpoolctl import threadpool_info
    data = np.fromfile(path, dtype='<f4').reshape(rows, dim)
    warm = np.random.default_rng(0).normal(size=(5000, dim)).astype(np.float32)
    # Warm-up: compile every numba kernel the real run uses (approximate kNN path too).
    umap.UMAP(n_neighbors=15, n_components=2, min_dist=0.05, metric="cosine").fit_transform(warm)
    start = time.perf_counter()
    cpu = time.process_time()  # all threads of the process
    embedding = umap.UMAP(n_neighbors=15, n_components=2, min_dist=0.05, metric="cosine").fit_transform(data)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    embedding.astype('<f4').tofile(out)
    blas = [f"{i.get('internal_api')}:{i.get('architecture')}" for i in threadpool_info()]
    print(json.dumps({"umap_seconds": seconds, "umap_cpu_seconds": cpu, "blas": blas}))


if __name__ == '__main__':
    main()
