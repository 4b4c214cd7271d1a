#!/usr/bin/env python3
"""Writes the numpy fixtures for curator's tests, with numpy itself.

Run from anywhere: python3 make_fixtures.py
Outputs (all small) go next to this script: npy/, npz/, import/, and
expected.json with the values the Swift tests compare against.
Bad cases are derived from good files by cutting or editing their bytes.
"""
import io
import json
import os
import shutil
import struct
import zipfile
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
expected = {}


def path(*parts):
    p = os.path.join(HERE, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def write_npy(rel, arr, version=None, **kw):
    with open(path(rel), "wb") as f:
        np.lib.format.write_array(f, arr, version=version, **kw)


def npy_bytes(arr, version=None, **kw):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, version=version, **kw)
    return buf.getvalue()


def normalised(m):
    m = np.asarray(m, dtype=np.float64)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def floats(a):
    return [float(x) for x in np.asarray(a, dtype=np.float64).ravel()]


for d in ("npy", "npz", "import"):
    shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)

# ---------------------------------------------------------------- .npy files
a = np.array([[1.5, -2.0, 3.0], [0.25, 1e-3, -7.0]], dtype=np.float32)
write_npy("npy/v1_f4.npy", a, version=(1, 0))
expected["v1_f4"] = {"shape": list(a.shape), "values": floats(a)}

a = np.array([0.1, 1e300, -2.5], dtype=np.float64)
write_npy("npy/v2_f8.npy", a, version=(2, 0))
expected["v2_f8"] = {"shape": list(a.shape), "values": floats(a)}

a = np.array(["a", "café", "日本 🐱", ""])
write_npy("npy/v3_unicode.npy", a, version=(3, 0))
expected["v3_unicode"] = {"strings": [str(s) for s in a], "descr": a.dtype.str}

a = np.array([[1.0, -0.5], [65504.0, 6e-8]], dtype=np.float16)
write_npy("npy/f2.npy", a)
expected["f2"] = {"shape": list(a.shape), "values": floats(a)}

a = np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4) * 1.5)
assert a.flags.f_contiguous and not a.flags.c_contiguous
write_npy("npy/fortran_f4.npy", a)
expected["fortran_f4"] = {"shape": list(a.shape), "values": floats(np.ascontiguousarray(a))}

a = np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3))
write_npy("npy/fortran_i4.npy", a)
expected["fortran_i4"] = {"shape": list(a.shape), "values": [int(x) for x in np.ascontiguousarray(a).ravel()]}

write_npy("npy/fortran_3d.npy", np.asfortranarray(np.zeros((2, 2, 2), dtype=np.float32)))

write_npy("npy/scalar_f8.npy", np.array(2.75))
write_npy("npy/scalar_i8.npy", np.array(768))
write_npy("npy/scalar_u.npy", np.array("open-clip:ViT-L-14/dfn2b_s39b"))
write_npy("npy/bool.npy", np.array([True, False, True]))
write_npy("npy/i4.npy", np.array([-1, 2, 2147483647], dtype=np.int32))
write_npy("npy/i8.npy", np.array([-(2**62), 5], dtype=np.int64))
write_npy("npy/u8_big.npy", np.array([2**63 + 1], dtype=np.uint64))
write_npy("npy/bytes_s.npy", np.array([b"abc", b"d"]))
write_npy("npy/u_2d.npy", np.array([["a", "b"], ["c", "d"]]))
write_npy("npy/empty_f4.npy", np.zeros((0, 8), dtype=np.float32))
write_npy("npy/object.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
write_npy("npy/bigendian.npy", np.array([1.0, 2.0], dtype=">f4"))
write_npy("npy/complex.npy", np.array([1 + 2j], dtype=np.complex64))
write_npy("npy/structured.npy", np.zeros(2, dtype=[("x", "<f4"), ("y", "<i4")]))

# A header as Python 2's numpy wrote it: double quotes, long integers, u'' strings.
header = b"{\"descr\": u'<i4', \"fortran_order\": False, \"shape\": (2L,), }"
header += b" " * (64 - 10 - len(header) - 1) + b"\n"
with open(path("npy/python2_header.npy"), "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header)
    f.write(np.array([7, -8], dtype="<i4").tobytes())

# Shape/data mismatch: the header claims (3, 4), the data holds (2, 4).
raw = npy_bytes(np.ones((2, 4), dtype=np.float32))
assert b"(2, 4)" in raw
with open(path("npy/shape_mismatch.npy"), "wb") as f:
    f.write(raw.replace(b"(2, 4)", b"(3, 4)"))

raw = npy_bytes(np.ones((2, 3), dtype=np.float32))
with open(path("npy/truncated.npy"), "wb") as f:
    f.write(raw[:-4])
with open(path("npy/not_npy.npy"), "wb") as f:
    f.write(b"this is not a numpy file\n")

# ------------------------------------------------------- PhotoMapAI indexes
FILENAMES = [
    "/photos/café/naïve 日本.jpg",
    "/photos/a.jpg",
    "/photos/sub dir/b.png",
    "/photos/emoji 🐱.webp",
    "/photos/x/" + "long name " * 8 + ".heic",
]
N, D = len(FILENAMES), 8
rng = np.random.default_rng(42)
emb = rng.normal(size=(N, D)).astype(np.float32)
mtimes = np.array([1700000000.5 + 3600.25 * i for i in range(N)], dtype=np.float64)
metadata = np.array([{"exif": {"Model": "X"}, "i": i} for i in range(N)], dtype=object)


def photomap(file, embeddings, model, compressed=False, **overrides):
    keys = dict(
        embeddings=embeddings,
        filenames=np.array(FILENAMES),
        modification_times=mtimes,
        metadata=metadata,
        model_id=np.array(model),
        embedding_dim=np.array(embeddings.shape[1] if embeddings.ndim == 2 else D),
    )
    for k, v in overrides.items():
        if v is None:
            keys.pop(k)
        else:
            keys[k] = v
    (np.savez_compressed if compressed else np.savez)(path("npz", file), **keys)


photomap("photomap_f32.npz", emb, "open-clip:ViT-L-14/dfn2b_s39b")
emb16 = emb.astype(np.float16)
photomap("photomap_f16.npz", emb16, "openai-clip:ViT-B/32")
photomap("photomap_deflated.npz", emb, "open-clip:ViT-L-14/dfn2b_s39b", compressed=True)
photomap("photomap_minimal.npz", emb, "", modification_times=None, metadata=None, model_id=None, embedding_dim=None)
expected["photomap"] = {
    "filenames": FILENAMES,
    "modification_times": floats(mtimes),
    "rows": N,
    "dim": D,
    "normalised_f32": floats(normalised(emb.astype(np.float32))),
    "normalised_f16": floats(normalised(emb16.astype(np.float32))),
    "raw_f32": floats(emb),
    "keys": ["embeddings", "filenames", "modification_times", "metadata", "model_id", "embedding_dim"],
}
# The pickle really is there: numpy pickles object arrays inside np.savez.
with zipfile.ZipFile(path("npz", "photomap_f32.npz")) as z:
    assert b"\x80" in z.read("metadata.npy")[128:] and z.getinfo("embeddings.npy").compress_type == 0
with zipfile.ZipFile(path("npz", "photomap_deflated.npz")) as z:
    assert z.getinfo("embeddings.npy").compress_type == zipfile.ZIP_DEFLATED

photomap("bad_missing_key.npz", emb, "m", filenames=None)
photomap("bad_wrong_dtype.npz", np.array(["not", "numbers"]), "m")
photomap("bad_dim.npz", emb, "m", embedding_dim=np.array(16))
photomap("bad_rows.npz", emb, "m", filenames=np.array(FILENAMES[:4]))
photomap("bad_mtimes.npz", emb, "m", modification_times=mtimes[:3])
photomap("bad_1d_embeddings.npz", emb[0], "m")
nan_emb = emb.copy()
nan_emb[2, 3] = np.nan
photomap("bad_nan.npz", nan_emb, "m")

# File names that are not UTF-8: Python (and so PhotoMapAI) holds them as
# surrogate escapes, which numpy stores as lone UTF-32 surrogates.
RAW_NAMES = [b"/photos/caf\xe9.jpg", "/photos/ok ü.jpg".encode()]
np.savez(path("npz", "photomap_nonutf8.npz"), embeddings=emb[:2],
         filenames=np.array([os.fsdecode(b) for b in RAW_NAMES]), model_id=np.array("m"), embedding_dim=np.array(D))
expected["nonutf8"] = {"bytes": [list(b) for b in RAW_NAMES]}

good = open(path("npz", "photomap_f32.npz"), "rb").read()
# Truncated archive: cut in the middle of the embeddings member (the end record is lost).
with zipfile.ZipFile(io.BytesIO(good)) as z:
    info = z.getinfo("embeddings.npy")
    lho = info.header_offset
n, e = struct.unpack("<HH", good[lho + 26:lho + 30])
data_start = lho + 30 + n + e
with open(path("npz", "bad_truncated.npz"), "wb") as f:
    f.write(good[: data_start + 100])
# Corrupt member: flip bytes inside the embeddings data; the directory is intact.
corrupt = bytearray(good)
for i in range(data_start + 140, data_start + 150):
    corrupt[i] ^= 0xFF
with open(path("npz", "bad_corrupt_member.npz"), "wb") as f:
    f.write(bytes(corrupt))


def rebuild_with_member_data(raw, member, new_data):
    """The archive with `member`'s data replaced (directory sizes and CRC kept,
    offsets fixed), i.e. a member cut short or damaged behind an intact directory."""
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        infos = z.infolist()
    out = bytearray()
    offsets = {}
    for info in infos:
        lho = info.header_offset
        n, e = struct.unpack("<HH", raw[lho + 26:lho + 30])
        start = lho + 30 + n + e
        offsets[info.filename] = len(out)
        out += raw[lho:start]
        out += new_data if info.filename == member else raw[start:start + info.compress_size]
    cd_start = len(out)
    cd_offset = raw.rfind(b"PK\x01\x02", 0, raw.rfind(b"PK\x05\x06"))
    # Walk the central directory and patch local header offsets (no ZIP64 offsets here).
    p = raw.find(b"PK\x01\x02")
    eocd = raw.rfind(b"PK\x05\x06")
    cd = bytearray(raw[p:eocd])
    q = 0
    while q < len(cd):
        nl, el, cl = struct.unpack("<HHH", cd[q + 28:q + 34])
        name = bytes(cd[q + 46:q + 46 + nl]).decode()
        struct.pack_into("<I", cd, q + 42, offsets[name])
        q += 46 + nl + el + cl
    out += cd
    end = bytearray(raw[eocd:])
    struct.pack_into("<I", end, 16, cd_start)
    out += end
    return bytes(out)


deflated = open(path("npz", "photomap_deflated.npz"), "rb").read()
with zipfile.ZipFile(io.BytesIO(deflated)) as z:
    info = z.getinfo("embeddings.npy")
    lho = info.header_offset
    n, e = struct.unpack("<HH", deflated[lho + 26:lho + 30])
    stream = deflated[lho + 30 + n + e: lho + 30 + n + e + info.compress_size]
with open(path("npz", "bad_truncated_member.npz"), "wb") as f:
    f.write(rebuild_with_member_data(deflated, "embeddings.npy", stream[: len(stream) // 3]))

# The same with the member alone, so its claimed data runs past the end of the file.
np.savez_compressed(path("npz", "_single.npz"), embeddings=rng.normal(size=(40, 16)).astype(np.float32))
single = open(path("npz", "_single.npz"), "rb").read()
os.remove(path("npz", "_single.npz"))
with zipfile.ZipFile(io.BytesIO(single)) as z:
    info = z.getinfo("embeddings.npy")
    lho = info.header_offset
    n, e = struct.unpack("<HH", single[lho + 26:lho + 30])
    stream = single[lho + 30 + n + e: lho + 30 + n + e + info.compress_size]
with open(path("npz", "bad_truncated_member_eof.npz"), "wb") as f:
    f.write(rebuild_with_member_data(single, "embeddings.npy", stream[: len(stream) // 50]))

# Shape/data mismatch inside an archive: the member's header claims 6 rows, with a correct CRC.
member = npy_bytes(emb).replace(b"(5, 8)", b"(6, 8)")
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as z:
    z.writestr("embeddings.npy", member)
    z.writestr("filenames.npy", npy_bytes(np.array(FILENAMES)))
with open(path("npz", "bad_shape_mismatch.npz"), "wb") as f:
    f.write(buf.getvalue())
with open(path("npz", "not_zip.npz"), "wb") as f:
    f.write(b"hello, not a zip\n")
open(path("npz", "empty.npz"), "wb").close()

# ------------------------------------------------------------ generic imports
paths3 = ["/data/one.jpg", "/data/twó.png", "relative/three.webp"]
m3 = rng.normal(size=(3, 4)).astype(np.float32)
expected["import3"] = {"paths": paths3, "normalised": floats(normalised(m3))}

np.savez(path("import", "emb_paths.npz"), emb=m3, paths=np.array(paths3), model_id=np.array("my-model"))
np.savez(path("import", "single_matrix.npz"), vectors=m3.astype(np.float64), files=np.array(paths3), note=np.array("x"))
np.savez(path("import", "two_matrices.npz"), a=m3, b=m3, files=np.array(paths3))
np.savez(path("import", "nopaths.npz"), emb=m3)
open(path("import", "nopaths.txt"), "w").write("\n".join(paths3) + "\n")

np.save(path("import", "matrix.npy"), m3)
open(path("import", "matrix.txt"), "w").write("\r\n".join(paths3) + "\r\n")  # CRLF lines too
np.save(path("import", "other.npy"), m3)
open(path("import", "other.paths.txt"), "w").write("\n".join(paths3))  # no final newline
np.save(path("import", "folder", "vecs.npy"), m3)
open(path("import", "folder", "paths.txt"), "w").write("\n".join(paths3) + "\n")
np.save(path("import", "orphan", "lonely.npy"), m3)
np.save(path("import", "short", "short.npy"), m3)
open(path("import", "short", "short.txt"), "w").write("\n".join(paths3[:2]) + "\n")
with open(path("import", "lists", "list.csv"), "w") as f:
    f.write("caption,image_path\n")
    f.write('"a, b",/data/one.jpg\n"say ""hi""",/data/twó.png\nplain,relative/three.webp\n')
json.dump([{"image_path": p} for p in paths3], open(path("import", "lists", "list.json"), "w"), ensure_ascii=False)
json.dump(paths3, open(path("import", "lists", "plain.json"), "w"), ensure_ascii=False)

np.save(path("import", "nonutf8", "m.npy"), m3[:2])
open(path("import", "nonutf8", "m.txt"), "wb").write(b"\n".join(RAW_NAMES) + b"\n")

# clip-retrieval output: img_emb/img_emb_N.npy float16, normalised; paths alongside.
c5 = normalised(rng.normal(size=(5, 4))).astype(np.float16)
paths5 = [f"/clip/{i}.jpg" for i in range(5)]
np.save(path("import", "clip", "img_emb", "img_emb_0.npy"), c5[:3])
np.save(path("import", "clip", "img_emb", "img_emb_1.npy"), c5[3:])
open(path("import", "clip", "paths.txt"), "w").write("\n".join(paths5) + "\n")
expected["clip"] = {"paths": paths5, "normalised": floats(normalised(c5.astype(np.float32)))}

# Eleven one-row shards, paths in clip-retrieval's per-shard metadata (CSV here):
# shard 10 must come after shard 9, not after shard 1.
c11 = normalised(rng.normal(size=(11, 4))).astype(np.float16)
for i in range(11):
    np.save(path("import", "clip_many", "img_emb", f"img_emb_{i}.npy"), c11[i:i + 1])
    with open(path("import", "clip_many", "metadata", f"metadata_{i}.csv"), "w") as f:
        f.write(f"image_path,caption\n/many/{i}.jpg,shard {i}\n")
expected["clip_many"] = {"paths": [f"/many/{i}.jpg" for i in range(11)],
                         "normalised": floats(normalised(c11.astype(np.float32)))}

np.save(path("import", "clip_mismatch", "img_emb", "img_emb_0.npy"), c5)
open(path("import", "clip_mismatch", "paths.txt"), "w").write("\n".join(paths5[:4]) + "\n")
np.save(path("import", "clip_dims", "img_emb", "img_emb_0.npy"), c5[:2])
np.save(path("import", "clip_dims", "img_emb", "img_emb_1.npy"), np.ones((1, 6), dtype=np.float16))
open(path("import", "clip_dims", "paths.txt"), "w").write("\n".join(paths5[:3]) + "\n")

with open(path("expected.json"), "w") as f:
    json.dump(expected, f, ensure_ascii=False, indent=1)
print("fixtures written to", HERE)
