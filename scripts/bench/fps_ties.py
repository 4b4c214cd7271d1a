"""Where float16 FPS leaves float32's picks, and why (scripts/bench/precision, step `ties`).

Usage: fps_ties.py EMBEDDINGS.npz F32_PATHS F16_PATHS

The paths files hold one line per FPS iteration: the picked images' paths,
tab-separated, in pick order (the `fps` step writes them). For each iteration,
at the first pick where the two precisions differ (the same picks before it),
with X the file's rows scaled to unit length as curator imports them and
s(i) = min over the earlier picks p of (1 - x_i . x_p) the FPS score:

  gap      s(float32's pick) - s(float16's pick), in float64: how much
           farther float32's pick is, in float32's own terms;
  bound    2 * delta, delta = 2e + e^2 with e = 2^-11 + sqrt(D) * 2^-25 the
           largest error float16 rounding (relative 2^-11, subnormals
           absolute 2^-25) can put in one dot product of unit vectors: the
           most two scores can move against each other, so any gap below it
           is a tie float16 values cannot settle;
  observed the largest |s16(i) - s(i)| of the two picks (s16 from the rows
           rounded to float16, as the float16 album keeps them);
  within   how many candidates' scores are within the bound of the maximum
           at that step (float32 scores): the rows float16 cannot tell apart.
"""
import os
import sys

import numpy as np

npz, f32_paths, f16_paths = sys.argv[1:4]
archive = np.load(npz, allow_pickle=False)
X = np.asarray(archive["embeddings"], dtype=np.float32)
X /= np.linalg.norm(X, axis=1, keepdims=True)
names = archive["filenames"]
root = os.path.commonpath([str(n) for n in names]) + "/"  # curator keeps paths relative to it
row_of = {str(n): i for i, n in enumerate(names)}

def rows(line):
    out = []
    for p in line.rstrip("\n").split("\t"):
        key = p if p in row_of else root + p
        out.append(row_of[key])
    return out

a = [rows(l) for l in open(f32_paths) if l.strip()]
b = [rows(l) for l in open(f16_paths) if l.strip()]
D = X.shape[1]
e = 2.0 ** -11 + np.sqrt(D) * 2.0 ** -25
bound = 2 * (2 * e + e * e)
X16 = X.astype(np.float16).astype(np.float64)

def score(v, prefix, m):
    return float(np.min(1.0 - m[prefix] @ v))

print(f"float16 tie bound 2*delta = {bound:.3e} (D = {D})")
print(f"{'iter':>4} {'first diff':>10} {'gap':>10} {'observed':>10} {'within':>7}")
gaps = []
for k, (ra, rb) in enumerate(zip(a, b)):
    diff = next((i for i, (x, y) in enumerate(zip(ra, rb)) if x != y), None)
    if diff is None:
        print(f"{k + 1:>4} {'none':>10}")
        continue
    prefix = ra[:diff]
    pa, pb = ra[diff], rb[diff]
    X64 = X[prefix + [pa, pb]].astype(np.float64)
    P = X64[: len(prefix)]
    sa = float(np.min(1.0 - P @ X64[-2]))
    sb = float(np.min(1.0 - P @ X64[-1]))
    P16 = X16[prefix]
    s16a = float(np.min(1.0 - P16 @ X16[pa]))
    s16b = float(np.min(1.0 - P16 @ X16[pb]))
    observed = max(abs(s16a - sa), abs(s16b - sb))
    # Every row's float32 score against the prefix, in blocks (the picked rows excluded).
    best = np.full(X.shape[0], np.inf, dtype=np.float32)
    Pf = X[prefix]
    for start in range(0, X.shape[0], 1 << 17):
        block = X[start:start + (1 << 17)]
        best[start:start + len(block)] = np.min(1.0 - block @ Pf.T, axis=1)
    best[prefix] = -np.inf
    top = float(best.max())
    within = int(np.count_nonzero(best >= top - bound))
    gaps.append(sa - sb)
    print(f"{k + 1:>4} {diff + 1:>10} {sa - sb:>10.2e} {observed:>10.2e} {within:>7}")
if gaps:
    print(f"largest gap {max(gaps):.3e} = {max(gaps) / bound:.3f} x the bound; "
          f"{sum(g <= bound for g in gaps)}/{len(gaps)} first differences are ties within the bound")
