#!/bin/sh
# Scores pipeline/unpinned-uses against zizmor's unpinned-uses snapshots
# (../shared/peer-fixtures/zizmor, see its README "How a harness should score").
#
#   policies/pipeline/tests/zizmor-score.sh [T1|T2] [-v]
#
# Generates one `mlgate test` file from the rows of tests.jsonl (one case per
# audit test of the tier: the fixture, plus the zizmor config translated into
# the `policies` param) and expected.jsonl (peer_rule unpinned-uses, same
# (path, line) counted once), runs it with the policy source from this tree,
# and prints: expected findings, reproduced at the exact line, missed, extra
# findings (false positives), and the cases that differ.
#
# Needs jq. Environment: MLGATE (default build/mlgate), ZIZMOR (default
# ../shared/peer-fixtures/zizmor relative to the repository root).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tier=${1:-T1}
verbose=${2:-}
mlgate=${MLGATE:-$root/build/mlgate}
zizmor=${ZIZMOR:-$root/../shared/peer-fixtures/zizmor}

[ -x "$mlgate" ] || { echo "zizmor-score: no $mlgate (run make first)" >&2; exit 2; }
[ -f "$zizmor/tests.jsonl" ] || { echo "zizmor-score: no $zizmor/tests.jsonl" >&2; exit 2; }
command -v jq >/dev/null || { echo "zizmor-score: needs jq" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/p/pipeline" "$tmp/t/fixtures"
cp "$root/policies/pipeline/unpinned-uses.lua" "$tmp/p/pipeline/"
ln -s "$(cd "$zizmor" && pwd)" "$tmp/t/fixtures/z"

# zizmor configs (T2): rules.unpinned-uses.config.policies as a JSON object
# {"config path": {"pattern": "level", ...}}; the configs are flat YAML.
printf '{' > "$tmp/configs.json"
sep=
for cfg in $(jq -r 'select(.config != null) | .config' "$zizmor/tests.jsonl" | sort -u); do
  [ -f "$zizmor/$cfg" ] || continue
  obj=$(awk '
    /^  unpinned-uses:/ { in_uses = 1; next }
    /^[^ #]/ || /^  [^ ]/ { in_uses = 0; in_pol = 0 }
    in_uses && /^      policies:/ { in_pol = 1; next }
    in_uses && /^      [^ ]/ { in_pol = 0 }
    in_pol && /^        [^ #]/ {
      line = $0; sub(/#.*/, "", line); sub(/^ +/, "", line); sub(/ +$/, "", line)
      k = line; sub(/: *[^:]*$/, "", k); v = line; sub(/^.*: */, "", v)
      gsub(/"/, "", k); gsub(/"/, "", v)
      printf "%s\"%s\":\"%s\"", sep, k, v; sep = ","
    }' "$zizmor/$cfg")
  printf '%s"%s":{%s}' "$sep" "$cfg" "$obj" >> "$tmp/configs.json"
  sep=,
done
printf '}\n' >> "$tmp/configs.json"

jq -n --arg tier "$tier" \
  --slurpfile tests "$zizmor/tests.jsonl" \
  --slurpfile exp "$zizmor/expected.jsonl" \
  --slurpfile cfg "$tmp/configs.json" '
  {policy: "pipeline/unpinned-uses",
   cases: [$tests[] | select(.kind == "audit" and .tier == $tier) | . as $t |
     {name: .id, fixture: ("fixtures/z/" + .fixture),
      expect: ([$exp[] | select(.id == $t.id and .peer_rule == "unpinned-uses") |
                {path: (if .path == $t.fixture then (.path | split("/") | last)
                        else (.path | ltrimstr($t.fixture + "/")) end),
                 line: .line}] | unique)}
     + (if .config then {params: {policies: $cfg[0][.config]}} else {} end)]}
' > "$tmp/t/zizmor.test.yml"

"$mlgate" test "$tmp/t" "$tmp/p" --format json > "$tmp/result.json" 2> "$tmp/log" || true

jq -r --slurpfile gen "$tmp/t/zizmor.test.yml" --arg tier "$tier" --arg v "$verbose" '
  ([$gen[0].cases[].expect | length] | add) as $expected |
  [.files[].cases[]] as $cases |
  ([$cases[].problems[] | select(startswith("missing:"))] | length) as $missed |
  ([$cases[].problems[] | select(startswith("unexpected:"))] | length) as $extra |
  ([$cases[].problems[] | select(startswith("error:"))] | length) as $errors |
  ($expected - $missed) as $hit |
  "zizmor unpinned-uses, tier \($tier): \($cases | length) tests, \($expected) expected findings",
  "  reproduced at the exact line: \($hit)/\($expected)" +
    (if $expected > 0 then " (recall \($hit * 1000 / $expected | floor / 10)%)" else "" end),
  "  missed: \($missed)   extra (false positives): \($extra)   errors: \($errors)" +
    (if ($hit + $extra) > 0 then "   precision \($hit * 1000 / ($hit + $extra) | floor / 10)%"
     else "" end),
  (if $v == "-v" then ($cases[] | select(.status != "pass") |
     "  \(.status) \(.name)", (.problems[] | "      \(.)")) else empty end)
' "$tmp/result.json"
if [ "$verbose" = "-v" ] && [ -s "$tmp/log" ]; then
  echo "  policy log:"
  sed 's/^/    /' "$tmp/log"
fi
