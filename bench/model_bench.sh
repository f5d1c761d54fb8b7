#!/usr/bin/env bash
# bench/model_bench.sh: the model gate on a 1 GiB PyTorch checkpoint (zip:
# archive/data.pkl plus 1 GiB of storage members), DESIGN section 10:
#   - `mlgate scan` of it, cold, all model policies: <= 50 ms (only the pickle
#     members and the zip directory are read); baseline in the same run: a
#     Python zipfile listing + pickletools walk of data.pkl;
#   - SHA-256 of it with mlgate's hashing: >= 0.9 x `openssl dgst -sha256`.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-11}
BIN=${MLGATE_BIN:-$BUILD/mlgate}
PY=/usr/bin/python3
OUT="$BUILD/bench"
CC=${CC:-cc}
mkdir -p "$OUT"
[ -f "$BUILD/libmlgate.a" ] || make --no-print-directory "$BUILD/libmlgate.a"
$CC -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror bench/timeit.c -o "$OUT/timeit"
$CC -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Icore/src bench/sha256_file.c \
    "$BUILD/libmlgate.a" $(pkg-config --libs libcrypto) -o "$OUT/sha256_file"
T="$OUT/timeit"
CKPT="$OUT/checkpoint_1g.pt"

if [ ! -s "$CKPT" ]; then
  echo "generating $CKPT (1 GiB) ..."
  "$PY" - "$CKPT" <<'PYEOF'
import os, pickle, sys, zipfile
# A state_dict-shaped data.pkl: OrderedDict of 64 tensors whose storages are
# persistent ids ('storage', type, key, location, numel), as torch writes it.
class P(pickle.Pickler):
    def persistent_id(self, obj):
        return obj if isinstance(obj, tuple) and obj and obj[0] == "storage" else None
state = {f"layer{i}.weight": ("storage", "FloatStorage", str(i), "cpu", 4 << 20) for i in range(64)}
buf = __import__("io").BytesIO()
P(buf, protocol=2).dump(state)
chunk = os.urandom(1 << 20)
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", buf.getvalue())
    z.writestr("archive/version", "3\n")
    for i in range(64):
        with z.open(f"archive/data/{i}", "w", force_zip64=True) as m:
            for _ in range(16):
                m.write(chunk)
PYEOF
fi
size=$(stat -c %s "$CKPT")
status=0

echo "1 GiB PyTorch checkpoint ($((size >> 20)) MiB, 66 members), $RUNS cold runs"
read -r b_med b_min _ _ < <("$T" "$RUNS" "$PY" -c "
import zipfile, pickletools, sys
z = zipfile.ZipFile(sys.argv[1]); names = z.namelist()
[None for _ in pickletools.genops(z.read('archive/data.pkl'))]" "$CKPT")
read -r m_med m_min m_rss m_rc < <("$T" "$RUNS" "$BIN" scan --no-progress --format json:/dev/null "$CKPT")
policies=$("$BIN" list --format json | grep -c '"model"' || true)
ok=$(awk -v a="$m_med" 'BEGIN{print (a <= 50) ? "within budget" : "OVER BUDGET"}')
printf '  %-58s median %8.2f ms  min %8.2f ms\n' "python zipfile + pickletools walk (baseline)" "$b_med" "$b_min"
printf '  %-58s median %8.2f ms  min %8.2f ms  max RSS %5.1f MiB  exit %s\n' \
  "mlgate scan ($policies model policies)" "$m_med" "$m_min" "$(awk -v k="$m_rss" 'BEGIN{print k/1024}')" "$m_rc"
echo "  ratio to baseline: $(awk -v a="$b_med" -v b="$m_med" 'BEGIN{printf "%.1f", a/b}')x faster; ${m_med} ms vs 50 ms budget: $ok"
[ "$ok" = "within budget" ] || status=1

echo "SHA-256 of the checkpoint (page cache warm), 3 runs each"
cat "$CKPT" > /dev/null
read -r o_med _ _ _ < <("$T" 3 openssl dgst -sha256 "$CKPT")
read -r s_med _ _ _ < <("$T" 3 "$OUT/sha256_file" "$CKPT")
[ "$("$OUT/sha256_file" "$CKPT" | cut -d' ' -f1)" = "$(openssl dgst -sha256 -r "$CKPT" | cut -d' ' -f1)" ] \
  || { echo "  digest mismatch with openssl"; status=1; }
ratio=$(awk -v o="$o_med" -v s="$s_med" 'BEGIN{printf "%.2f", o/s}')
ok=$(awk -v r="$ratio" 'BEGIN{print (r >= 0.9) ? "within budget" : "OVER BUDGET"}')
printf '  openssl dgst -sha256   median %8.1f ms = %5.0f MiB/s\n' "$o_med" "$(awk -v s="$size" -v t="$o_med" 'BEGIN{print s/1048576/(t/1000)}')"
printf '  mlgate (hash.c)        median %8.1f ms = %5.0f MiB/s\n' "$s_med" "$(awk -v s="$size" -v t="$s_med" 'BEGIN{print s/1048576/(t/1000)}')"
echo "  ratio: ${ratio}x of openssl (budget >= 0.9): $ok"
[ "$ok" = "within budget" ] || status=1
exit $status
