#!/usr/bin/env bash
# Peer and own model corpora as acceptance tests: every row of an
# expectations table (path <TAB> block|pass ...) is scanned with
# `mlgate scan` and must be blocked exactly when it says "block".
#
#   tests/peer/models.sh [TSV...]     (default: the picklescan and fickling
#                                      tables in ../shared and our corpus)
# MLGATE_BIN names the binary. Exit 1 when a row disagrees.
set -uo pipefail
cd "$(dirname "$0")/../.."
BIN=${MLGATE_BIN:-build/mlgate}
SHARED=${SHARED:-../shared/peer-fixtures/models}
PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3

tables=("$@")
if [ ${#tables[@]} -eq 0 ]; then
  tables=("$SHARED/picklescan/expected.tsv" "$SHARED/fickling/labels.tsv"
          "tests/corpus/models/expected.tsv")
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/mlgate-peer.XXXXXX") || exit 2
trap 'rm -rf "$T"' EXIT
status=0
for tsv in "${tables[@]}"; do
  if [ ! -f "$tsv" ]; then
    echo "skip $tsv (not present: the peer fixtures live in ../shared beside the repository)"
    continue
  fi
  dir=$(dirname "$tsv")
  # path and expectation of every row (header skipped; empty fields kept)
  awk -F'\t' 'NR > 1 && $1 != "" { print $1 "\t" $2 }' "$tsv" > "$T/rows"
  mapfile -t paths < <(cut -f1 "$T/rows")
  args=()
  for p in "${paths[@]}"; do args+=("$dir/$p"); done
  # one scan per chunk of 200 files: one report each
  : > "$T/reports"
  for ((i = 0; i < ${#args[@]}; i += 200)); do
    out="$T/r$i.json"
    timeout 600 "$BIN" scan --no-progress --format "json:$out" "${args[@]:i:200}" \
      >/dev/null 2>"$T/err$i"
    rc=$?
    if [ $rc -gt 2 ] || [ ! -s "$out" ]; then
      echo "FAIL $tsv: mlgate scan exited $rc"; sed 's/^/  /' "$T/err$i" | head -20
      status=1
      continue 2
    fi
    echo "$out" >> "$T/reports"
  done
  "$PY" - "$tsv" "$dir" "$T/rows" $(cat "$T/reports") <<'PYEOF' || status=1
import json, sys, os
tsv, base, rows_file, *reports = sys.argv[1:]
blocking, errors = {}, {}
for rep in reports:
    r = json.load(open(rep))
    for f in r["findings"]:
        if f["blocking"]:
            blocking.setdefault(os.path.normpath(f["location"]["path"]), []).append(
                f'{f["policy"]}: {f["message"][:140]}')
    for e in r["errors"]:
        errors.setdefault(os.path.normpath(e["path"] or "?"), []).append(
            f'{e["policy"]}: {e["message"][:140]}')
ok = bad = 0
for line in open(rows_file):
    path, expect = line.rstrip("\n").split("\t")[:2]
    p = os.path.normpath(os.path.join(base, path))
    got = "block" if p in blocking else "pass"
    if p in errors:
        got = "error"
    if got == expect:
        ok += 1
        continue
    bad += 1
    why = blocking.get(p) or errors.get(p) or ["no blocking finding"]
    print(f"  MISMATCH {path}: expected {expect}, got {got}: {why[0]}")
print(f"{'ok  ' if bad == 0 else 'FAIL'} {tsv}: {ok} of {ok + bad} rows as expected")
sys.exit(1 if bad else 0)
PYEOF
done
exit $status
