#!/usr/bin/env python3
"""Writes the Parquet fixtures for curator's tests with pyarrow itself, the
library clip-retrieval writes its metadata with. Run by
scripts/make-parquet-fixtures (which makes the virtualenv); the small files
it writes are committed, so CI needs no Python.

Outputs next to this script:
- files/*.parquet: one file per way of writing a string column (codec,
  dictionary or plain, data page v1 or v2, nulls, row groups and pages);
- clip_*/: clip-retrieval output folders (img_emb/img_emb_N.npy with
  metadata/metadata_N.parquet), good and bad;
- expected.json: the values the Swift tests compare against.
Truncated and damaged files are made by the tests from the good ones.
"""
import json
import os
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
expected = {"files": {}, "clip": {}}


def path(*parts):
    p = os.path.join(HERE, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def rows(n, seed, nulls=False, repeats=False):
    """Paths (some repeated, some not UTF-8-safe ASCII) and captions (some null)."""
    rng = np.random.default_rng(seed)
    paths, captions = [], []
    for i in range(n):
        folder = f"shard{seed}/{i % 3:02d}"
        name = f"{folder}/{'dup' if repeats and i % 4 == 0 else 'img'}_{i:05d}.jpg"
        paths.append(name)
        words = ["a photo of", "a painting of", "an ünicode café", ""][int(rng.integers(0, 4))]
        caption = None if nulls and i % 5 == 2 else f"{words} thing {int(rng.integers(0, 1000))}".strip()
        captions.append(caption)
    return paths, captions


def write(name, paths, captions, **options):
    table = pa.table({"image_path": pa.array(paths, pa.string()),
                      "caption": pa.array(captions, pa.string()),
                      "width": pa.array(np.arange(len(paths), dtype=np.int64))})
    pq.write_table(table, path("files", name), **options)
    expected["files"][name] = {"image_path": paths, "caption": captions}


# Each codec and encoding pyarrow writes by default or on request.
p, c = rows(23, 1, nulls=True)
write("plain_snappy.parquet", p, c, compression="snappy", use_dictionary=False)
write("dictionary_snappy.parquet", p, c, compression="snappy")
write("dictionary_zstd.parquet", p, c, compression="zstd")
write("plain_zstd.parquet", p, c, compression="zstd", use_dictionary=False)
write("uncompressed.parquet", p, c, compression="none")
write("v2_dictionary_snappy.parquet", p, c, compression="snappy", data_page_version="2.0")
write("v2_plain_zstd.parquet", p, c, compression="zstd", use_dictionary=False, data_page_version="2.0")
write("v2_uncompressed.parquet", p, c, compression="none", use_dictionary=False, data_page_version="2.0")
# No nulls at all (a required column), and an all-null optional column.
p2, c2 = rows(9, 2)
table = pa.table({"image_path": pa.array(p2, pa.string()), "caption": pa.array([None] * 9, pa.string())},
                 schema=pa.schema([pa.field("image_path", pa.string(), nullable=False), pa.field("caption", pa.string())]))
pq.write_table(table, path("files", "required_and_all_null.parquet"))
expected["files"]["required_and_all_null.parquet"] = {"image_path": p2, "caption": [None] * 9}
# Many row groups and pages: 7 rows per group, ~64-byte pages, a dictionary
# that outgrows its 100-byte limit and falls back to PLAIN within a chunk.
p3, c3 = rows(40, 3, nulls=True, repeats=True)
write("row_groups_and_pages.parquet", p3, c3, compression="snappy", row_group_size=7,
      data_page_size=64, write_batch_size=5, dictionary_pagesize_limit=100)
write("row_groups_v2_zstd.parquet", p3, c3, compression="zstd", row_group_size=16,
      data_page_size=64, write_batch_size=5, data_page_version="2.0")
# Long values: lengths past one byte, and a page of several kilobytes.
p4 = [f"deep/{'x' * (200 + i * 37)}/{i}.png" for i in range(12)]
c4 = ["word " * (i * 40) for i in range(12)]
write("long_values_zstd.parquet", p4, c4, compression="zstd", use_dictionary=False)
# Empty: a schema and no rows.
write("empty.parquet", [], [], compression="snappy")

# What curator refuses, each naming what it met.
write("gzip.parquet", p, c, compression="gzip")
write("brotli.parquet", p, c, compression="brotli")
write("delta_length.parquet", p, c, compression="none", use_dictionary=False,
      column_encoding={"image_path": "DELTA_LENGTH_BYTE_ARRAY", "caption": "DELTA_LENGTH_BYTE_ARRAY"})
pq.write_table(pa.table({"image_path": pa.array([[f"a{i}", f"b{i}"] for i in range(4)])}), path("files", "nested.parquet"))
pq.write_table(pa.table({"image_path": pa.array(np.arange(4, dtype=np.int64))}), path("files", "integers.parquet"))


# clip-retrieval output folders.
def clip_folder(name, shards, codecs=None, captions=True, extra=True):
    """shards: list of (embedding rows, metadata rows or None for no file)."""
    root = path(name)
    if os.path.isdir(root):
        shutil.rmtree(root)
    all_paths, all_captions, all_rows = [], [], []
    rng = np.random.default_rng(len(name))
    for n, (emb_rows, meta_rows) in enumerate(shards):
        emb = rng.standard_normal((emb_rows, 4)).astype(np.float32)
        np.save(path(name, "img_emb", f"img_emb_{n}.npy"), emb)
        all_rows.extend((emb / np.linalg.norm(emb, axis=1, keepdims=True)).tolist())
        if meta_rows is None:
            continue
        paths = [f"/data/laion/{n:05d}/{n:05d}{i:04d}.jpg" for i in range(meta_rows)]
        caps = [None if i == 1 else f"caption {n}.{i}" for i in range(meta_rows)]
        columns = {"image_path": pa.array(paths, pa.string())}
        if captions:
            columns["caption"] = pa.array(caps, pa.string())
        if extra:  # what clip-retrieval copies from the webdataset beside them
            columns["url"] = pa.array([f"https://example.org/{n}/{i}.jpg" for i in range(meta_rows)])
            columns["width"] = pa.array(np.full(meta_rows, 640, dtype=np.int64))
            columns["similarity"] = pa.array(rng.random(meta_rows))
        codec = (codecs or ["snappy"])[n % len(codecs or ["snappy"])]
        pq.write_table(pa.table(columns), path(name, "metadata", f"metadata_{n}.parquet"), compression=codec)
        all_paths += paths
        all_captions += caps if captions else [None] * meta_rows
    expected["clip"][name] = {"paths": all_paths, "captions": all_captions, "normalised": all_rows}


clip_folder("clip_one_shard", [(5, 5)])
clip_folder("clip_three_shards", [(4, 4), (3, 3), (6, 6)], codecs=["snappy", "zstd", "none"])
clip_folder("clip_no_captions", [(3, 3), (2, 2)], captions=False, extra=False)
clip_folder("clip_count_mismatch", [(4, 4), (3, 5)])
clip_folder("clip_missing_metadata", [(4, 4), (3, None)])
clip_folder("clip_gzip", [(2, 2), (2, 2)], codecs=["snappy", "gzip"])

with open(os.path.join(HERE, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, ensure_ascii=False)
    f.write("\n")
print("wrote", sum(len(fs) for _, _, fs in os.walk(HERE)), "files under", HERE)
