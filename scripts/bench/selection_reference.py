#!/usr/bin/env python3
"""PhotoMapAI's curation path re-expressed in numpy/sklearn, as the baseline of
scripts/bench/selection (written here from its documented behaviour, not copied).

Per Monte Carlo iteration it draws a seed with Python's `random` (seeded from
--seed so the benchmark is repeatable), L2-normalises the embeddings again
(PhotoMapAI does that on every call), then
  fps:    start = RandomState(seed).randint(0, n); repeatedly take the argmax of
          the running minimum of 1 - X·v (float32, np.argmax: first on ties);
  kmeans: MiniBatchKMeans(n_clusters=count, random_state=seed, n_init=1),
          fit_predict, then per cluster the member nearest its centroid;
  faiss:  faiss.Kmeans(d, count, niter=20, spherical=True, seed=seed), then per
          cluster the member nearest its centroid (assignment by index search);
and counts votes as collections.Counter does. Prints one JSON object.
"""
import argparse
import json
import random
import time
from collections import Counter

import numpy as np


def l2_normalize(x, eps=1e-12):
    return x / (np.linalg.norm(x, axis=1, keepdims=True) + eps)


def fps(vectors, n_target, seed):
    n = len(vectors)
    rng = np.random.RandomState(seed)
    start = rng.randint(0, n)
    selected = [start]
    min_dists = 1.0 - np.dot(vectors, vectors[start].reshape(1, -1).T).flatten()
    for _ in range(n_target - 1):
        nxt = int(np.argmax(min_dists))
        selected.append(nxt)
        min_dists = np.minimum(min_dists, 1.0 - np.dot(vectors, vectors[nxt].reshape(1, -1).T).flatten())
    return start, selected


def kmeans(vectors, n_target, seed):
    from sklearn.cluster import MiniBatchKMeans
    km = MiniBatchKMeans(n_clusters=n_target, random_state=seed, n_init=1)
    labels = km.fit_predict(vectors)
    dist = np.linalg.norm(vectors - km.cluster_centers_[labels], axis=1)
    picks = []
    for i in range(n_target):
        members = np.where(labels == i)[0]
        if len(members):
            picks.append(int(members[np.argmin(dist[members])]))
    return picks, float(km.inertia_)


def faiss_kmeans(vectors, n_target, seed):
    import faiss
    km = faiss.Kmeans(vectors.shape[1], n_target, niter=20, spherical=True, seed=seed)
    km.train(vectors)
    index = faiss.IndexFlatL2(vectors.shape[1])
    index.add(km.centroids)
    sq, labels = index.search(vectors, 1)
    sq, labels = sq[:, 0], labels[:, 0]
    picks = []
    for i in range(n_target):
        members = np.where(labels == i)[0]
        if len(members):
            picks.append(int(members[np.argmin(sq[members])]))
    return picks, float(sq.sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("npz")
    ap.add_argument("--method", choices=["fps", "kmeans", "faiss"], required=True)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    with np.load(args.npz, allow_pickle=True) as data:   # as PhotoMapAI loads its index
        embeddings = data["embeddings"].copy()
        filenames = data["filenames"].copy()
    random.seed(args.seed)
    votes = Counter()
    out = {"method": args.method, "count": args.count, "iterations": args.iterations, "rows": len(embeddings),
           "starts": [], "picks": [], "inertia": []}
    began = time.perf_counter()
    for _ in range(args.iterations):
        run_seed = random.randint(0, 1000000)
        vectors = l2_normalize(embeddings)
        if args.method == "fps":
            start, picks = fps(vectors, args.count, run_seed)
            out["starts"].append(int(start))
        elif args.method == "kmeans":
            picks, inertia = kmeans(vectors, args.count, run_seed)
            out["inertia"].append(inertia)
        else:
            picks, inertia = faiss_kmeans(vectors, args.count, run_seed)
            out["inertia"].append(inertia)
        out["picks"].append([int(p) for p in picks])
        votes.update(filenames[picks].tolist())
    out["seconds"] = time.perf_counter() - began
    out["mean_inertia"] = float(np.mean(out["inertia"])) if out["inertia"] else None
    out["voted"] = len(votes)
    try:
        from threadpoolctl import threadpool_info
        out["blas"] = [(i.get("internal_api"), i.get("architecture"), i.get("num_threads")) for i in threadpool_info()]
    except ImportError:
        pass
    print(json.dumps(out))


if __name__ == "__main__":
    main()
