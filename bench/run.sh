#!/usr/bin/env bash
# make bench: timings as ratios against a baseline measured in the same run
# (DESIGN section 10). Cold processes, median of N runs.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MLGATE_BIN:-build/mlgate}
BUILD=${BUILD:-build}
RUNS=${RUNS:-21}
mkdir -p "$BUILD/bench"
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror bench/timeit.c -o "$BUILD/bench/timeit"
T="$BUILD/bench/timeit"

status=0
row() { # name median min maxrss
  printf '  %-44s median %8.2f ms   min %8.2f ms   max RSS %6.1f MiB\n' "$1" "$2" "$3" \
    "$(awk -v k="$4" 'BEGIN{print k/1024}')"
}

echo "mlgate bench ($RUNS cold runs each; $(nproc) CPUs)"
echo
echo "1. mlgate eval on examples/ with all built-in policies (budget: <= 50 ms wall)"
read -r b_med b_min b_rss _ < <("$T" "$RUNS" lua5.4 -e '')
read -r m_med m_min m_rss m_rc < <("$T" "$RUNS" "$BIN" eval examples --format json:/dev/null)
policies=$("$BIN" list --format json | grep -c '"id"' || true)
row "lua5.4 -e ''   (baseline)" "$b_med" "$b_min" "$b_rss"
row "mlgate eval examples ($policies policies, exit $m_rc)" "$m_med" "$m_min" "$m_rss"
ratio=$(awk -v a="$m_med" -v b="$b_med" 'BEGIN{printf "%.1f", a/b}')
verdict=$(awk -v a="$m_med" 'BEGIN{print (a <= 50) ? "within budget" : "OVER BUDGET"}')
echo "  ratio to baseline: ${ratio}x; ${m_med} ms vs 50 ms budget: $verdict"
[ "$verdict" = "within budget" ] || status=1

echo
echo "2. model gate: 1 GiB checkpoint scan and SHA-256"
BUILD=$BUILD MLGATE_BIN=$BIN bash bench/model_bench.sh | sed 's/^/  /' || status=1

echo
echo "3. pickle VM on opcode-dense 100 MB pickles (budget >= 200 MB/s, RSS <= 64 MiB)"
BUILD=$BUILD RUNS=${PICKLE_RUNS:-3} bash bench/pickle_bench.sh | sed 's/^/  /' || status=1

echo
echo "4. pipeline gate: 1,000 generated workflows (budget: well under 1 s)"
BUILD=$BUILD MLGATE_BIN=$BIN bash bench/pipeline_bench.sh | sed 's/^/  /' || status=1
exit $status
