#!/usr/bin/env bash
# Pipeline gate: every built-in pipeline policy over 1,000 generated
# workflows (bench/gen_workflows.py). Budget: well under 1 s per thousand
# files on the CI machine (2 CPUs); reported as files/s. Baseline in the
# same run: reading the same files with cat.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${MLGATE_BIN:-build/mlgate}
BUILD=${BUILD:-build}
RUNS=${RUNS:-5}
N=${PIPELINE_FILES:-1000}
T="$BUILD/bench/timeit"
dir="$BUILD/bench/workflows-$N-$(cksum < bench/gen_workflows.py | cut -d" " -f1)"
if [ ! -d "$dir/.github/workflows" ]; then
  rm -rf "$dir"
  python3 bench/gen_workflows.py "$dir" "$N"
fi
policies=$("$BIN" list --format json | grep -c '"id": "pipeline/' || true)
read -r b_med _ _ _ < <("$T" "$RUNS" sh -c "cat '$dir'/.github/workflows/* >/dev/null")
read -r m_med m_min m_rss m_rc < <("$T" "$RUNS" "$BIN" eval "$dir" --no-config --gate pipeline \
  --format json:/dev/null --no-progress)
"$BIN" eval "$dir" --no-config --gate pipeline --format "json:$BUILD/bench/pipeline.json" \
  --no-progress >/dev/null 2>&1 || true
findings=$(grep -c '"fingerprint"' "$BUILD/bench/pipeline.json" || true)
printf '%-44s median %8.2f ms\n' "cat $N files   (baseline)" "$b_med"
printf '%-44s median %8.2f ms   min %8.2f ms   max RSS %6.1f MiB\n' \
  "mlgate eval: $N workflows, $policies policies, $findings findings (exit $m_rc)" "$m_med" "$m_min" \
  "$(awk -v k="$m_rss" 'BEGIN{print k/1024}')"
awk -v n="$N" -v ms="$m_med" -v b="$b_med" 'BEGIN{
  printf "%.0f files/s; %.0f ms per 1,000 files; ratio to baseline %.1fx\n", n / (ms / 1000), ms * 1000 / n, ms / b }'
verdict=$(awk -v n="$N" -v ms="$m_med" 'BEGIN{print (ms * 1000 / n <= 1000) ? "within budget" : "OVER BUDGET"}')
echo "budget: < 1000 ms per 1,000 files: $verdict"
case $m_rc in 0|1) ;; *) echo "evaluation failed (exit $m_rc)"; exit 1 ;; esac
[ "$verdict" = "within budget" ]
