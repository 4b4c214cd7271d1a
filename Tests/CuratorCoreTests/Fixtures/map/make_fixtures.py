#!/usr/bin/env python3
"""Writes the PhotoMapAI umap.npz fixtures of MapPhotoMapTests (numpy only)."""
import numpy as np

np.savez("umap.npz", umap=np.array([[1.5, -2.0], [0.25, 3.0], [-4.0, 0.5]], dtype=np.float32))
np.savez("umap_f64.npz", umap=np.array([[1.5, -2.0], [0.25, 3.0]], dtype=np.float64))
np.savez("umap_wrong_shape.npz", umap=np.zeros((3, 3), dtype=np.float32))
np.savez("umap_missing_key.npz", embedding=np.zeros((3, 2), dtype=np.float32))
np.savez("umap_nan.npz", umap=np.array([[1.0, 2.0], [np.nan, 0.0]], dtype=np.float32))
# Five rows, one per row of numpy/npz/photomap_f32.npz (an album's map).
np.savez("umap_photomap5.npz", umap=np.array([[0, 0], [1, 0], [0, 1], [5, 5], [-5, -5]], dtype=np.float32))
