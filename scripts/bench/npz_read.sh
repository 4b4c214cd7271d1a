#!/usr/bin/env bash
# Times reading a PhotoMapAI-sized index (85,491 × 768 float32, as PhotoMapAI's
# np.savez writes it) with curator's reader in a release build, and numpy
# reading the same keys (np.load + the same L2 normalisation), in one run.
#
#   scripts/bench/npz_read.sh [rows] [dim]     (default 85491 768)
#
# The index is generated under $TMPDIR (not committed) and reused if present.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-85491}
DIM=${2:-768}
DIR=${TMPDIR:-/tmp}/curator-npz-bench
NPZ=$DIR/embeddings_${ROWS}x${DIM}.npz
mkdir -p "$DIR"

if [ ! -f "$NPZ" ]; then
  echo "generating $NPZ ..."
  python3 - "$NPZ" "$ROWS" "$DIM" <<'PY'
import sys, numpy as np
path, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
emb = rng.standard_normal((n, d), dtype=np.float32)
emb /= np.linalg.norm(emb, axis=1, keepdims=True)
names = np.array([f"/home/user/Pictures/albums/2024/trip to the mountains/IMG_{i:06d}.jpg" for i in range(n)])
np.savez(path, embeddings=emb, filenames=names,
         modification_times=np.arange(n, dtype=np.float64) + 1.7e9,
         metadata=np.array([{"i": i} for i in range(n)], dtype=object),
         model_id=np.array("open-clip:ViT-L-14/dfn2b_s39b"), embedding_dim=np.array(d))
PY
fi
ls -l "$NPZ"

# The timing lives in a test (skipped unless CURATOR_NPZ_BENCH is set); release
# tests need testable imports enabled.
RELEASE=(-c release -Xswiftc -enable-testing)
swift build "${RELEASE[@]}" --build-tests 2>&1 | grep -E "error|Compiling|Build complete" | tail -3
# Warm the page cache so both readers see the same conditions.
cat "$NPZ" > /dev/null

ours=$(CURATOR_NPZ_BENCH="$NPZ" swift test "${RELEASE[@]}" --skip-build \
        --filter PhotoMapIndexTests/testReadTimeOfALargeIndex 2>&1 | sed -n 's/^read .* in \([0-9.e-]*\) s$/\1/p' | head -1)
theirs=$(python3 - "$NPZ" <<'PY'
import sys, time, numpy as np
best = 1e9
for _ in range(3):
    t = time.perf_counter()
    with np.load(sys.argv[1]) as z:
        e = z["embeddings"]; f = z["filenames"]; m = z["modification_times"]
        mid = str(z["model_id"]); dim = int(z["embedding_dim"])
    e = e / np.linalg.norm(e, axis=1, keepdims=True)
    best = min(best, time.perf_counter() - t)
print(best)
PY
)
echo "curator PhotoMapIndex.read: ${ours} s (best of 3)"
echo "numpy np.load + normalise: ${theirs} s (best of 3)"
python3 -c "print(f'ratio curator/numpy: {float(\"$ours\")/float(\"$theirs\"):.2f}x')"
