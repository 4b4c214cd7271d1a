#!/usr/bin/env python3
"""Trustworthiness (scikit-learn, k=15, cosine) of two maps of the same data
on the same random sample of points.

usage: umap_trust.py DATA.f32 ROWS DIM OURS.f32 THEIRS.f32 [SAMPLE]
"""
import json
import sys

import numpy as np
from sklearn.manifold import trustworthiness


def main():
    path, rows, dim = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sample = int(sys.argv[6]) if len(sys.argv) > 6 else 5000
    data = np.fromfile(path, dtype='<f4').reshape(rows, dim)
    pick = np.sort(np.random.default_rng(1).choice(rows, size=min(sample, rows), replace=False))
    result = {}
    for name, file in (("ours", sys.argv[4]), ("umap_learn", sys.argv[5])):
        points = np.fromfile(file, dtype='<f4').reshape(rows, 2)
        t = trustworthiness(data[pick], points[pick], n_neighbors=15, metric="cosine")
        result[f"{name}_trustworthiness"] = round(float(t), 4)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
