#!/usr/bin/env bash
# bench/pickle_bench.sh: throughput of the pickle VM (mlg_pickle_scan) on
# opcode-dense ~100 MB pickles, against a Python pickletools.genops walk of
# the same file measured in the same run. Budget (issue 3): >= 200 MB/s and
# max RSS <= 64 MiB for every file.
#
#   bash bench/pickle_bench.sh          (BUILD=build RUNS=5 by default)
#
# The pickles are generated once with /usr/bin/python3 into $BUILD/bench:
# a list of 7M small ints and 7M distinct short strings (every string is
# memoized: 14M opcodes plus 7M memo entries) with protocol 4 (FRAMEs,
# MEMOIZE), protocol 2 (BINPUT/LONG_BINPUT) and protocol 0 (text: PUT lines,
# raw-unicode-escape strings, one APPEND per item).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
PY=/usr/bin/python3
OUT="$BUILD/bench"
CC=${CC:-cc}
mkdir -p "$OUT"

[ -f "$BUILD/libmlgate.a" ] || make --no-print-directory "$BUILD/libmlgate.a"
$CC -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror bench/timeit.c -o "$OUT/timeit"
$CC -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Icore/src bench/pickle_scan.c \
    "$BUILD/libmlgate.a" -lm -o "$OUT/pickle_scan"
T="$OUT/timeit"

for proto in 4 2 0; do
  f="$OUT/dense_p$proto.pkl"
  [ -s "$f" ] && continue
  echo "generating $f ..."
  "$PY" - "$f" "$proto" <<'EOF'
import pickle, sys
path, proto = sys.argv[1], int(sys.argv[2])
n = 7_000_000 if proto else 4_500_000   # protocol 0 spends more bytes per item
data = []
for i in range(n):
    data.append(i % 60000)
    data.append('k%07d' % i)
with open(path, 'wb') as fh:
    pickle.dump(data, fh, protocol=proto)
EOF
done

status=0
echo "pickle VM (mlg_pickle_scan): $RUNS cold runs, MB/s from the fastest; baseline: pickletools.genops, 1 run"
for proto in 4 2 0; do
  f="$OUT/dense_p$proto.pkl"
  size=$(stat -c %s "$f")
  summary=$("$OUT/pickle_scan" -q "$f")
  case "$summary" in
    *" error=0"*) ;;
    *) echo "  scan of $f failed: $summary"; status=1 ;;
  esac
  read -r m_med m_min m_rss _ < <("$T" "$RUNS" "$OUT/pickle_scan" -q "$f")
  # CPU time of one more run: on a busy machine wall time overstates ours
  cpu=$( { /usr/bin/time -f '%U %S' "$OUT/pickle_scan" -q "$f" >/dev/null; } 2>&1 | awk '{printf "%.0f", ($1+$2)*1000}')
  read -r b_med _ b_rss _ < <("$T" 1 "$PY" -c \
    "import pickletools,sys; [None for _ in pickletools.genops(open(sys.argv[1],'rb'))]" "$f")
  mbs=$(awk -v s="$size" -v t="$m_min" 'BEGIN{printf "%.0f", s/1e6/(t/1000)}')
  cpumbs=$(awk -v s="$size" -v t="$cpu" 'BEGIN{printf "%.0f", (t > 0) ? s/1e6/(t/1000) : 0}')
  ratio=$(awk -v a="$b_med" -v b="$m_med" 'BEGIN{printf "%.0f", a/b}')
  ok=$(awk -v m="$mbs" -v r="$m_rss" 'BEGIN{print (m >= 200 && r <= 65536) ? "within budget" : "OVER BUDGET"}')
  printf '  protocol %d, %6.1f MB: median %7.1f ms, min %7.1f ms = %4d MB/s (CPU %4d MB/s), max RSS %5.1f MiB | genops %9.1f ms (RSS %.0f MiB): %sx faster | %s\n' \
    "$proto" "$(awk -v s="$size" 'BEGIN{print s/1e6}')" "$m_med" "$m_min" "$mbs" "$cpumbs" \
    "$(awk -v k="$m_rss" 'BEGIN{print k/1024}')" "$b_med" "$(awk -v k="$b_rss" 'BEGIN{print k/1024}')" \
    "$ratio" "$ok"
  [ "$ok" = "within budget" ] || status=1
done
exit $status
