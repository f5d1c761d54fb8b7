# Command-line cases of tests/e2e/run.sh (sourced): exit codes, the report
# contract (DESIGN sections 4 and 5), config errors, enforcement and waivers,
# list/explain/version/test, the examples demo.
# shellcheck shell=bash disable=SC2154

# --- exit codes and usage --------------------------------------------------

t_help() {
  local args
  for args in "eval --help" "eval -h" "test --help" "list --help" "explain --help" \
              "version --help" "help eval" "help test" "help list" "help explain" "--help" \
              "help" "-h"; do
    # shellcheck disable=SC2086
    mg $args
    expect_rc 0 "mlgate $args"
    grep -q 'Usage' "$W/out" || die "mlgate $args: no 'Usage' on stdout: $(head -c 300 "$W/out")"
    [ ! -s "$W/err" ] || die "mlgate $args wrote to stderr: $(head -c 300 "$W/err")"
  done
  mg help eval
  cp "$W/out" "$W/a"
  mg eval --help
  cmp -s "$W/a" "$W/out" || die "'mlgate help eval' differs from 'mlgate eval --help'"
  has "$W/out" "--gate" "eval --help"
  has "$W/out" "--format" "eval --help"
}
add cli/help-on-every-command t_help

t_no_args() {
  mg
  expect_rc 2 "no command is a usage error"
  [ -s "$W/out" ] || [ -s "$W/err" ] || die "no usage text"
}
add exit/2-no-command t_no_args

t_unknown_command() {
  mg frobnicate
  expect_rc 2
  has "$W/err" "frobnicate" "stderr"
}
add exit/2-unknown-command t_unknown_command

t_unknown_option() {
  local c
  for c in "eval --bogus" "eval . --bogus" "list --bogus" "test --bogus" "explain --bogus x" \
           "eval --fail-on severe" "eval --format yaml" "eval --format json:" \
           "eval --jobs 0" "list --format xml" "test --format sarif"; do
    # shellcheck disable=SC2086
    mg $c
    expect_rc 2 "mlgate $c"
    [ -s "$W/err" ] || die "mlgate $c: no message on stderr"
    [ ! -s "$W/out" ] || die "mlgate $c: a usage error printed on stdout: $(head -c 300 "$W/out")"
  done
  mg eval --bogus
  has "$W/err" "--bogus" "stderr"
  mg eval --gate
  expect_rc 2 "--gate without a value"
}
add exit/2-unknown-option t_unknown_option

t_bad_gate() {
  cfg "$W/c.yml" <<<'version: 1'
  mg eval "$E2E/fixtures/clean" --config "$W/c.yml" "${POL[@]}" --gate nope
  expect_rc 2
  has "$W/err" "nope" "stderr"
  mg eval "$E2E/fixtures/clean" --config "$W/c.yml" "${POL[@]}" --gate train,nope
  expect_rc 2 "one bad gate in a list"
}
add exit/2-bad-gate t_bad_gate

t_missing_path() {
  cfg "$W/c.yml" <<<'version: 1'
  OUT=$W/r.json mg eval "$W/does-not-exist" --config "$W/c.yml" "${POL[@]}" --format json
  expect_rc 2
  report "$W/r.json"
  eq "$(q "$W/r.json" 'r["verdict"]')" error verdict
  eq "$(q "$W/r.json" 'any("does-not-exist" in e["path"] + e["message"] for e in r["errors"])')" \
    true "an error names the missing path"
  mg eval "$W/does-not-exist" --no-config
  expect_rc 2 "missing PATH, text report"
}
add exit/2-missing-path t_missing_path

t_clean() {
  cfg "$W/c.yml" <<<'version: 1'
  mg eval "$E2E/fixtures/clean" --config "$W/c.yml" "${POL[@]}" --format json
  expect_rc 0 "clean tree"
  report "$W/out"
  eq "$(q "$W/out" 'r["verdict"]')" pass verdict
  eq "$(q "$W/out" 'r["exit_code"]')" 0 exit_code
  eq "$(q "$W/out" 'len(r["findings"])')" 0 findings
  eq "$(q "$W/out" '[g["name"] for g in r["gates"]]')" \
    '["pipeline", "data", "train", "model", "deploy"]' "gates evaluated"
  eq "$(q "$W/out" '[g["verdict"] for g in r["gates"]]')" \
    '["pass", "pass", "pass", "pass", "pass"]' "gate verdicts"
  eq "$(q "$W/out" 'r["stats"]["policies"]')" 5 "stats.policies"
  eq "$(q "$W/out" 'r["stats"]["files"]')" 4 "stats.files"
  mg eval "$E2E/fixtures/clean" --config "$W/c.yml" "${POL[@]}"
  expect_rc 0 "clean tree, text report"
}
add exit/0-clean-tree t_clean

t_blocking() {
  cfg "$W/c.yml" <<<'version: 1'
  mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format json
  expect_rc 1 "blocking findings"
  report "$W/out"
  eq "$(q "$W/out" 'r["verdict"]')" fail verdict
  eq "$(q "$W/out" 'r["errors"]')" '[]' errors
  mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}"
  expect_rc 1 "blocking findings, text report"
  has "$W/out" "src/train.py:4:17:" "text report"
}
add exit/1-blocking-finding t_blocking

t_config_syntax() {
  ws clean
  printf 'version: 1\npolicies: [unclosed\n' >"$W/ws/mlgate.yml"
  OUT=$W/r.json mg eval "$W/ws" "${POL[@]}" --format json
  expect_rc 2 "malformed mlgate.yml"
  report "$W/r.json"
  eq "$(q "$W/r.json" 'r["findings"]')" '[]' "no findings when the config is broken"
  mg eval "$W/ws" "${POL[@]}"
  expect_rc 2
  grep -q 'mlgate.yml:[0-9]*:[0-9]*:' "$W/out" "$W/err" || die "no file:line:col for the YAML error"
}
add exit/2-config-error t_config_syntax

t_policy_error() {
  cfg "$W/c.yml" <<<'version: 1'
  mg eval "$E2E/fixtures/clean" --config "$W/c.yml" "${POL[@]}" \
    --policies "$E2E/policies-broken" --format json
  expect_rc 2 "a policy with a syntax error"
  report "$W/out"
  eq "$(q "$W/out" 'any("e2e-syntax" in e["policy"] + e["where"] + e["message"] for e in r["errors"])')" \
    true "the error names the broken policy"
  eq "$(q "$W/out" 'any(e["where"].endswith(":5") or ":5:" in e["message"] for e in r["errors"])')" \
    true "the error gives the line of the syntax error (5)"
}
add exit/2-policy-error t_policy_error

t_empty_policy_dir() {
  cfg "$W/c.yml" <<<'version: 1'
  mkdir -p "$W/empty"
  mg eval "$E2E/fixtures/clean" --config "$W/c.yml" "${POL[@]}" --policies "$W/empty" --format json
  expect_rc 0 "an empty --policies directory adds nothing"
  mg eval "$E2E/fixtures/clean" --config "$W/c.yml" --policies "$W/empty" --format json
  expect_rc 2 "only an empty --policies directory: nothing evaluated"
  mg list --policies "$W/empty"
  expect_rc 0 "list with an empty --policies directory"
}
add exit/empty-policies-dir t_empty_policy_dir

# --- report contract -----------------------------------------------------

# The findings the dirty fixture gives with tests/e2e/policies, in report
# order: path, line, column, policy.
DIRTY_FINDINGS='[[".github/workflows/ci.yml", 7, 15, "pipeline/e2e-unpinned"], ["data/labels.csv", 3, 3, "data/e2e-todo"], ["deploy/release.txt", 2, 9, "deploy/e2e-hard"], ["models/model.bin", 0, 0, "model/e2e-artifacts"], ["src/a.py", 1, 3, "train/e2e-forbidden"], ["src/train.py", 3, 1, "train/e2e-forbidden"], ["src/train.py", 4, 5, "train/e2e-forbidden"], ["src/train.py", 4, 17, "train/e2e-forbidden"]]'

t_json_dirty() {
  cfg "$W/c.yml" <<<'version: 1'
  mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format json
  expect_rc 1
  report "$W/out"
  eq "$(q "$W/out" '[[f["location"]["path"], f["location"]["line"], f["location"]["column"], f["policy"]] for f in r["findings"]]')" \
    "$DIRTY_FINDINGS" "findings (sorted by path, line, column, policy)"
  eq "$(q "$W/out" '[f["blocking"] for f in r["findings"]] == [True] * 8')" true "all blocking"
  eq "$(q "$W/out" '[f["waived"] for f in r["findings"]] == [False] * 8')" true "none waived"
  eq "$(q "$W/out" '[(g["name"], g["verdict"], g["policies"], g["findings"]) for g in r["gates"]]')" \
    '[["pipeline", "fail", 1, 1], ["data", "fail", 1, 1], ["train", "fail", 1, 4], ["model", "fail", 1, 1], ["deploy", "fail", 1, 1]]' \
    "gate summaries"
  # One finding in full: severity, confidence, atlas, aliases from the policy.
  eq "$(q "$W/out" '[f for f in r["findings"] if f["policy"] == "model/e2e-artifacts"][0]["location"]')" \
    '{"column": 0, "end_column": 0, "end_line": 0, "line": 0, "member": "archive/data.pkl", "offset": 12, "path": "models/model.bin"}' \
    "location with member and offset"
  eq "$(q "$W/out" '[(f["severity"], f["confidence"], f["atlas"], f["aliases"], f["gate"]) for f in r["findings"] if f["policy"] == "model/e2e-artifacts"][0]')" \
    '["low", "medium", ["AML.T0011.000", "AML.M0016"], ["e2e:artifact", "catalog:E2E-ARTIFACT"], "model"]' \
    "finding metadata"
  eq "$(q "$W/out" '[f for f in r["findings"] if f["policy"] == "model/e2e-artifacts"][0]["details"]["module"]')" \
    os "details.module"
  eq "$(q "$W/out" '[f["location"] for f in r["findings"] if f["policy"] == "train/e2e-forbidden"][3]')" \
    '{"column": 17, "end_column": 26, "end_line": 4, "line": 4, "path": "src/train.py"}' \
    "location without member/offset"
  eq "$(q "$W/out" '[f["location"] for f in r["findings"] if f["policy"] == "pipeline/e2e-unpinned"][0]')" \
    '{"column": 15, "end_column": 34, "end_line": 7, "line": 7, "path": ".github/workflows/ci.yml"}' \
    "location from mlgate.pos"
  eq "$(q "$W/out" 'len(set(f["fingerprint"] for f in r["findings"]))')" 8 "distinct fingerprints"
  eq "$(q "$W/out" 'r["tool"]["name"] + " " + r["schema"] + " " + r["run"]["runner"]')" \
    "mlgate mlgate.report/v1 local" "tool, schema, runner"
}
add report/json-contract t_json_dirty

t_deterministic() {
  cfg "$W/c.yml" <<<'version: 1'
  local i
  for i in 1 2 3; do
    OUT=$W/r$i.json mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format json
    expect_rc 1
    grep -v '"elapsed_ms"' "$W/r$i.json" >"$W/s$i.json"
  done
  OUT=$W/r4.json mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format json --jobs 1
  grep -v '"elapsed_ms"' "$W/r4.json" >"$W/s4.json"
  OUT=$W/r5.json mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format json --jobs 8
  grep -v '"elapsed_ms"' "$W/r5.json" >"$W/s5.json"
  report "$W"/r?.json
  for i in 2 3 4 5; do
    cmp -s "$W/s1.json" "$W/s$i.json" || die "run $i differs from run 1: $(diff "$W/s1.json" "$W/s$i.json" | head -20)"
  done
  [ "$(grep -c '"elapsed_ms"' "$W/r1.json")" = 1 ] || die "elapsed_ms not on a line of its own"
  # The same tree at another place gives the same findings (paths are
  # relative); run.repository and run.commit may differ (not a git checkout).
  ws dirty
  OUT=$W/r6.json mg eval "$W/ws" --config "$W/c.yml" "${POL[@]}" --format json
  local same='[r[k] for k in ("verdict", "exit_code", "gates", "findings", "errors")]'
  eq "$(q "$W/r6.json" "$same")" "$(q "$W/r1.json" "$same")" "report of a copy of the tree"
  mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format text
  grep -v 'ms, exit' "$W/out" >"$W/t1"
  mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format text --jobs 1
  grep -v 'ms, exit' "$W/out" >"$W/t2"
  cmp -s "$W/t1" "$W/t2" || die "text reports differ: $(diff "$W/t1" "$W/t2" | head)"
}
add report/byte-identical-runs t_deterministic

t_fingerprint_stable() {
  cfg "$W/c.yml" <<<'version: 1'
  ws dirty
  OUT=$W/before.json mg eval "$W/ws" --config "$W/c.yml" "${POL[@]}" --format json
  expect_rc 1
  # Insert lines above every finding: blank lines, a comment, a new function.
  { printf '\n\n# a comment\n\ndef helper():\n    return 0\n'; cat "$W/ws/src/train.py"; } >"$W/x"
  mv "$W/x" "$W/ws/src/train.py"
  { printf '# a comment line\n\n'; cat "$W/ws/.github/workflows/ci.yml"; } >"$W/x"
  mv "$W/x" "$W/ws/.github/workflows/ci.yml"
  { printf '\n\n\n'; cat "$W/ws/data/labels.csv"; } >"$W/x"
  mv "$W/x" "$W/ws/data/labels.csv"
  OUT=$W/after.json mg eval "$W/ws" --config "$W/c.yml" "${POL[@]}" --format json
  expect_rc 1
  report "$W/before.json" "$W/after.json"
  local fp='sorted((f["policy"], f["location"]["path"], f["fingerprint"]) for f in r["findings"])'
  eq "$(q "$W/after.json" "$fp")" "$(q "$W/before.json" "$fp")" "fingerprints after inserting lines"
  eq "$(q "$W/after.json" '[f["location"]["line"] for f in r["findings"] if f["location"]["path"] == "src/train.py"]')" \
    '[9, 10, 10]' "the findings did move"
}
add report/fingerprints-survive-line-shifts t_fingerprint_stable

snapshot() { # snapshot DIR...: every path, type and size
  find "$@" -printf '%p %y %s\n' 2>/dev/null | LC_ALL=C sort
}

t_format_file() {
  cfg "$W/c.yml" <<<'version: 1'
  ws dirty
  mkdir -p "$W/cwd"
  snapshot "$W" >"$W/../before.lst"
  MGDIR=$W/cwd OUT=$W/o ERR=$W/e mg eval "$W/ws" --config "$W/c.yml" "${POL[@]}" \
    --format json:report.json
  expect_rc 1
  [ -s "$W/o" ] && die "--format json:FILE also wrote to stdout: $(head -c 300 "$W/o")"
  [ -f "$W/cwd/report.json" ] || die "report.json was not written"
  report "$W/cwd/report.json"
  eq "$(q "$W/cwd/report.json" 'r["exit_code"]')" 1 "exit_code in the file"
  rm -f "$W/o" "$W/e"
  snapshot "$W" >"$W/../after.lst"
  local new
  new=$(comm -13 "$W/../before.lst" "$W/../after.lst" | grep -v " d " || true)
  eq "$new" "$W/cwd/report.json f $(stat -c %s "$W/cwd/report.json")" "files created or changed"
  eq "$(comm -23 "$W/../before.lst" "$W/../after.lst" | grep -v " d " || true)" "" "files removed or changed"
  # The exit status is the verdict's even when the report goes to a file.
  OUT=$W/o mg eval "$W/ws" --config "$W/c.yml" "${POL[@]}" --format "json:$W/r2.json"
  expect_rc 1
  [ -s "$W/o" ] && die "stdout not empty"
  report "$W/r2.json"
  # An unwritable FILE is an error, never a silent pass.
  OUT=$W/o mg eval "$E2E/fixtures/clean" --config "$W/c.yml" "${POL[@]}" \
    --format "json:$W/no-such-dir/r.json"
  expect_rc 2 "report file cannot be written"
}
add report/format-file-writes-only-file t_format_file

# A report that could not be written is not a pass.
t_write_errors() {
  [ -w /dev/full ] || skip "no /dev/full here"
  cfg "$W/c.yml" <<<'version: 1'
  local c rc
  for c in "eval $E2E/fixtures/clean --config $W/c.yml --policies $E2E/policies --format json" \
           "eval $E2E/fixtures/clean --config $W/c.yml --policies $E2E/policies --format text" \
           "test $E2E/policies $E2E/policytests/pass" \
           "list --format json" "list" \
           "explain train/e2e-forbidden --policies $E2E/policies"; do
    # shellcheck disable=SC2086
    timeout -k 5 120 "$MLGATE" $c >/dev/full 2>"$W/err"
    rc=$?
    [ $rc = 2 ] || die "mlgate $c >/dev/full: exit status $rc, expected 2 (the output was lost)"
    [ -s "$W/err" ] || die "mlgate $c >/dev/full: no message on stderr"
  done
}
add report/write-errors-fail t_write_errors

t_two_formats() {
  cfg "$W/c.yml" <<<'version: 1'
  mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format "json:$W/r.json" --format text
  expect_rc 1
  report "$W/r.json"
  has "$W/out" "src/train.py:4:17:" "text on stdout"
  "${CHECK[@]}" json "$W/out" 2>/dev/null && die "stdout is JSON, expected the text report"
  mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format json --format "json:$W/r2.json"
  expect_rc 1
  report "$W/out" "$W/r2.json"
  cmp -s "$W/out" "$W/r2.json" || die "stdout and the file differ for one run"
  mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format json --format text
  expect_rc 2 "two formats on stdout"
  mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format "json:$W/x.json" \
    --format "text:$W/x.json"
  expect_rc 2 "two formats to one file"
}
add report/two-formats-at-once t_two_formats

# --- config errors: exact FILE:LINE:COL -----------------------------------

# config_error NAME EXPECTED_LOCATION EXPECTED_WORD < YAML (mlgate.yml at the
# workspace root, so the location is "mlgate.yml:L:C").
config_error() {
  local loc=$1 word=$2
  ws one
  cat >"$W/ws/mlgate.yml"
  OUT=$W/r.json mg eval "$W/ws" "${POL[@]}" --format json
  expect_rc 2 "config error $loc"
  report "$W/r.json"
  mg eval "$W/ws" "${POL[@]}"
  expect_rc 2
  cat "$W/out" "$W/err" >"$W/all"
  grep -qF "mlgate.yml:$loc: " "$W/all" ||
    die "no 'mlgate.yml:$loc: ' in the output: $(grep -m3 'mlgate.yml' "$W/all")"
  grep -F "mlgate.yml:$loc: " "$W/all" | grep -qF -- "$word" ||
    die "the message at mlgate.yml:$loc does not mention '$word': $(grep -m3 'mlgate.yml' "$W/all")"
  grep -F "mlgate.yml:$loc: " "$W/r.json" >/dev/null ||
    die "the JSON report's error lacks mlgate.yml:$loc"
}

t_cfg_unknown_key() {
  config_error 5:5 enforcment <<'EOF'
version: 1
fail_on: high
policies:
  train/e2e-forbidden:
    enforcment: soft
EOF
}
add config/unknown-key t_cfg_unknown_key

t_cfg_unknown_top_key() {
  config_error 3:1 waiverz <<'EOF'
version: 1
# a misspelt section must not be ignored
waiverz: []
EOF
}
add config/unknown-top-level-key t_cfg_unknown_top_key

t_cfg_bad_enforcement() {
  config_error 4:38 enforcement <<'EOF'
version: 1
policies:
  data/e2e-todo: {enforcement: soft}
  train/e2e-forbidden: {enforcement: strict}
EOF
}
add config/bad-enforcement t_cfg_bad_enforcement

t_cfg_bad_date() {
  config_error 7:14 2026-02-30 <<'EOF'
version: 1
waivers:
  - policy: train/e2e-forbidden
    path: src/only.py
    reason: tested elsewhere
    # February has no 30th
    expires: 2026-02-30
EOF
}
add config/bad-date t_cfg_bad_date

t_cfg_unknown_policy() {
  config_error 4:3 train/e2e-nope <<'EOF'
version: 1
policies:
  train/e2e-forbidden: {enforcement: soft}
  train/e2e-nope: {enforcement: hard}
EOF
}
add config/unknown-policy-id t_cfg_unknown_policy

t_cfg_unknown_param() {
  config_error 6:7 wrod <<'EOF'
version: 1
policies:
  train/e2e-forbidden:
    params:
      word: TODO
      wrod: FIXME
EOF
}
add config/unknown-param t_cfg_unknown_param

t_cfg_param_type() {
  config_error 5:13 word <<'EOF'
version: 1
policies:
  train/e2e-forbidden:
    params:
      word: 42
EOF
}
add config/wrong-param-type t_cfg_param_type

t_cfg_waiver_no_reason() {
  config_error 3:5 reason <<'EOF'
version: 1
waivers:
  - policy: train/e2e-forbidden
    path: src/only.py
    expires: 2099-01-01
EOF
}
add config/waiver-without-reason t_cfg_waiver_no_reason

t_cfg_waiver_unknown_policy() {
  config_error 3:5 train/e2e-gone <<'EOF'
version: 1
waivers:
  - policy: train/e2e-gone
    path: src/only.py
    reason: the policy was renamed
    expires: 2099-01-01
EOF
}
add config/waiver-for-unknown-policy t_cfg_waiver_unknown_policy

t_cfg_bad_limits() {
  config_error 3:12 time_ms <<'EOF'
version: 1
limits:
  time_ms: "5000"
EOF
}
add config/quoted-number-limit t_cfg_bad_limits

t_cfg_explicit_file() {
  ws one
  printf 'version: 1\npolicies:\n  train/e2e-forbidden: {enabled: maybe}\n' >"$W/other.yml"
  mg eval "$W/ws" --config "$W/other.yml" "${POL[@]}"
  expect_rc 2
  cat "$W/out" "$W/err" | grep -qF "other.yml:3:" || die "no other.yml:3: location: $(cat "$W/err")"
  mg eval "$W/ws" --config "$W/missing.yml" "${POL[@]}"
  expect_rc 2 "--config naming a missing file"
  cat "$W/out" "$W/err" >"$W/all"
  has "$W/all" "missing.yml" "output"
}
add config/errors-in-config-file-option t_cfg_explicit_file

# --- enforcement, waivers, gates, fail-on ------------------------------

t_waiver_valid() {
  ws one
  cfg "$W/ws/mlgate.yml" <<'EOF'
version: 1
waivers:
  - policy: train/e2e-forbidden
    path: "src/*.py"
    reason: accepted until the refactoring (E2E-1)
    expires: 2099-12-31
EOF
  mg eval "$W/ws" "${POL[@]}" --format json
  expect_rc 0 "the only finding is waived"
  report "$W/out"
  eq "$(q "$W/out" '[(f["policy"], f["waived"], f["blocking"]) for f in r["findings"]]')" \
    '[["train/e2e-forbidden", true, false]]' "waived finding stays in the report"
  eq "$(q "$W/out" 'r["verdict"]')" pass verdict
  mg eval "$W/ws" "${POL[@]}"
  expect_rc 0
  has "$W/out" "waived" "text report"
}
add waiver/valid-waiver-passes t_waiver_valid

t_waiver_fingerprint() {
  ws one
  cfg "$W/c.yml" <<<'version: 1'
  OUT=$W/r.json mg eval "$W/ws" --config "$W/c.yml" "${POL[@]}" --format json
  expect_rc 1
  local fp
  fp=$(q "$W/r.json" 'r["findings"][0]["fingerprint"][:16]')
  cfg "$W/ws/mlgate.yml" <<EOF
version: 1
waivers:
  - policy: train/e2e-forbidden
    fingerprint: "$fp"
    reason: reviewed (E2E-2)
    expires: 2099-12-31
EOF
  mg eval "$W/ws" "${POL[@]}" --format json
  expect_rc 0 "waived by fingerprint prefix $fp"
  report "$W/out"
  eq "$(q "$W/out" 'r["findings"][0]["waived"]')" true waived
  # Moving the finding down keeps the waiver.
  { printf '\n\n'; cat "$W/ws/src/only.py"; } >"$W/x" && mv "$W/x" "$W/ws/src/only.py"
  mg eval "$W/ws" "${POL[@]}" --format json
  expect_rc 0 "fingerprint waiver after the finding moved"
}
add waiver/fingerprint-waiver t_waiver_fingerprint

t_waiver_expired() {
  ws one
  cfg "$W/ws/mlgate.yml" <<'EOF'
version: 1
waivers:
  - policy: data/e2e-todo
    path: "data/**"
    reason: unrelated and expired, matches nothing
    expires: 2021-06-30
  - policy: train/e2e-forbidden
    path: src/only.py
    reason: was accepted for a while
    expires: 2020-01-31
EOF
  mg eval "$W/ws" "${POL[@]}" --format json
  expect_rc 1 "an expired waiver stops applying"
  report "$W/out"
  eq "$(q "$W/out" '[(f["waived"], f["blocking"]) for f in r["findings"] if f["policy"] == "train/e2e-forbidden"]')" \
    '[[false, true]]' "the finding blocks again"
  eq "$(q "$W/out" 'sorted((f["location"]["path"], f["location"]["line"]) for f in r["findings"] if f["policy"] == "mlgate/waiver-expired")')" \
    '[["mlgate.yml", 3], ["mlgate.yml", 7]]' "expired waivers reported at their lines"
  eq "$(q "$W/out" 'all("2020-01-31" in f["message"] for f in r["findings"] if f["policy"] == "mlgate/waiver-expired" and f["location"]["line"] == 7)')" \
    true "the notice says when it expired"
}
add waiver/expired-waiver-reported t_waiver_expired

t_waiver_refused() {
  ws dirty
  rm -rf "${W:?}/ws/src" "${W:?}/ws/data" "${W:?}/ws/models" "${W:?}/ws/.github"
  cfg "$W/ws/mlgate.yml" <<'EOF'
version: 1
waivers:
  - policy: deploy/e2e-hard
    path: "deploy/**"
    reason: we would like to ship anyway
    expires: 2099-12-31
EOF
  mg eval "$W/ws" "${POL[@]}" --format json
  expect_rc 1 "a waiver on a hard policy does not apply"
  report "$W/out"
  eq "$(q "$W/out" '[(f["waived"], f["blocking"]) for f in r["findings"] if f["policy"] == "deploy/e2e-hard"]')" \
    '[[false, true]]' "hard finding"
  eq "$(q "$W/out" '[(f["location"]["path"], f["location"]["line"]) for f in r["findings"] if f["policy"] == "mlgate/waiver-refused"]')" \
    '[["mlgate.yml", 3]]' "refused waiver reported at its line"
  # Hard enforcement set in the config is refused the same way.
  ws one
  cfg "$W/ws/mlgate.yml" <<'EOF'
version: 1
waivers:
  - policy: train/e2e-forbidden
    path: "**"
    reason: we would like to merge anyway
    expires: 2099-12-31
policies:
  train/e2e-forbidden: {enforcement: hard}
EOF
  mg eval "$W/ws" "${POL[@]}" --format json
  expect_rc 1 "a waiver on a policy made hard by the config"
  report "$W/out"
  eq "$(q "$W/out" 'sorted(f["policy"] for f in r["findings"])')" \
    '["mlgate/waiver-refused", "train/e2e-forbidden"]' "findings"
}
add waiver/hard-policy-refuses-waivers t_waiver_refused

t_advisory() {
  ws one
  cfg "$W/ws/mlgate.yml" <<'EOF'
version: 1
policies:
  train/e2e-forbidden: {enforcement: advisory}
EOF
  mg eval "$W/ws" "${POL[@]}" --format json
  expect_rc 0 "advisory findings never block"
  report "$W/out"
  eq "$(q "$W/out" '[(f["policy"], f["blocking"], f["waived"]) for f in r["findings"]]')" \
    '[["train/e2e-forbidden", false, false]]' "advisory finding is reported"
  mg list "${POL[@]}" --config "$W/ws/mlgate.yml" --format json
  expect_rc 0
  eq "$(q "$W/out" '[p["enforcement"] for p in r if p["id"] == "train/e2e-forbidden"]')" \
    '["advisory"]' "list shows the configured enforcement"
}
add enforcement/advisory-does-not-block t_advisory

t_disabled() {
  ws one
  cfg "$W/c.yml" <<<'version: 1'
  mg eval "$W/ws" --config "$W/c.yml" "${POL[@]}" --format json -v
  expect_rc 1
  has "$W/err" "e2e-forbidden checked src/only.py" "debug log of an enabled policy (-v)"
  cfg "$W/ws/mlgate.yml" <<'EOF'
version: 1
policies:
  train/e2e-forbidden: {enabled: false}
EOF
  mg eval "$W/ws" "${POL[@]}" --format json -v
  expect_rc 0 "the only failing policy is disabled"
  report "$W/out"
  hasnt "$W/err" "e2e-forbidden checked" "stderr (a disabled policy must not run)"
  eq "$(q "$W/out" 'r["findings"]')" '[]' findings
  eq "$(q "$W/out" '[g["name"] for g in r["gates"]]')" '["pipeline", "data", "model", "deploy"]' \
    "gates (train has no enabled policy left)"
  eq "$(q "$W/out" 'r["stats"]["policies"]')" 4 "stats.policies"
  mg eval "$W/ws" "${POL[@]}" --format json --gate train
  expect_rc 2 "selecting a gate whose only policy is disabled"
}
add enforcement/disabled-policy-not-evaluated t_disabled

t_fail_on() {
  ws medium
  cfg "$W/c.yml" <<<'version: 1'
  mg eval "$W/ws" --config "$W/c.yml" "${POL[@]}" --format json
  expect_rc 1 "medium finding blocks by default"
  mg eval "$W/ws" --config "$W/c.yml" "${POL[@]}" --format json --fail-on high
  expect_rc 0 "--fail-on high ignores medium findings"
  report "$W/out"
  eq "$(q "$W/out" '[(f["severity"], f["blocking"]) for f in r["findings"]]')" \
    '[["medium", false]]' "medium finding is reported, not blocking"
  mg eval "$W/ws" --config "$W/c.yml" "${POL[@]}" --fail-on=medium
  expect_rc 1 "--fail-on=medium"
  cfg "$W/c2.yml" <<<$'version: 1\nfail_on: critical'
  mg eval "$W/ws" --config "$W/c2.yml" "${POL[@]}"
  expect_rc 0 "config fail_on: critical"
  mg eval "$W/ws" --config "$W/c2.yml" "${POL[@]}" --fail-on low
  expect_rc 1 "--fail-on overrides fail_on"
  # High findings still block with --fail-on high.
  mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format json --fail-on high
  expect_rc 1
  report "$W/out"
  eq "$(q "$W/out" 'sorted(set((f["severity"], f["blocking"]) for f in r["findings"]))')" \
    '[["critical", true], ["high", true], ["low", false], ["medium", false]]' "blocking by severity"
  # A severity override in the config moves a finding under the threshold.
  cfg "$W/c3.yml" <<'EOF'
version: 1
policies:
  data/e2e-todo: {severity: low}
EOF
  mg eval "$W/ws" --config "$W/c3.yml" "${POL[@]}" --format json --fail-on medium
  expect_rc 0 "severity override"
  eq "$(q "$W/out" '[f["severity"] for f in r["findings"]]')" '["low"]' "overridden severity"
}
add enforcement/fail-on t_fail_on

t_gate_select() {
  cfg "$W/c.yml" <<<'version: 1'
  mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format json --gate data
  expect_rc 1
  report "$W/out"
  eq "$(q "$W/out" '[g["name"] for g in r["gates"]]')" '["data"]' "gates"
  eq "$(q "$W/out" 'sorted(set(f["gate"] for f in r["findings"]))')" '["data"]' "finding gates"
  eq "$(q "$W/out" 'r["stats"]["policies"]')" 1 "stats.policies"
  mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format json --gate train,pipeline
  report "$W/out"
  eq "$(q "$W/out" '[g["name"] for g in r["gates"]]')" '["pipeline", "train"]' "gates (list)"
  cp "$W/out" "$W/a.json"
  mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format json --gate pipeline --gate train
  grep -v elapsed_ms "$W/a.json" >"$W/a"
  grep -v elapsed_ms "$W/out" >"$W/b"
  cmp -s "$W/a" "$W/b" || die "--gate a,b and --gate a --gate b differ"
  mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format json --gate monitor
  expect_rc 2 "a selected gate with no policies"
  report "$W/out"
  eq "$(q "$W/out" 'any("monitor" in e["message"] for e in r["errors"])')" true "error names the gate"
  mg eval "$E2E/fixtures/dirty" --config "$W/c.yml" "${POL[@]}" --format json --gate data,monitor
  expect_rc 2 "one of the selected gates has no policies"
  eq "$(q "$W/out" 'len([f for f in r["findings"] if f["gate"] == "data"])')" 1 \
    "the other gate's findings are still reported"
  # No policy at all is not a pass either.
  mg eval "$E2E/fixtures/clean" --config "$W/c.yml" --format json
  expect_rc 2 "nothing evaluated"
  report "$W/out"
}
add gate/select-and-empty-gate t_gate_select

t_single_file() {
  cfg "$W/c.yml" <<<'version: 1'
  mkdir -p "$W/deep/er"
  cp "$E2E/fixtures/single/ci-copy.yml" "$W/deep/er/release.yml"
  mg eval "$W/deep/er/release.yml" --config "$W/c.yml" "${POL[@]}" --format json
  expect_rc 1 "a workflow outside .github/workflows given as PATH is judged"
  report "$W/out"
  eq "$(q "$W/out" '[(f["policy"], f["location"]["path"], f["location"]["line"], f["location"]["column"]) for f in r["findings"]]')" \
    '[["pipeline/e2e-unpinned", "release.yml", 8, 15]]' "finding relative to the file's directory"
  eq "$(q "$W/out" 'r["stats"]["files"]')" 1 "stats.files"
  # Relative PATH from another directory.
  MGDIR=$W/deep OUT=$W/o2 mg eval er/release.yml --config "$W/c.yml" "${POL[@]}" --format json
  expect_rc 1 "relative single-file PATH"
  report "$W/o2"
  eq "$(q "$W/o2" '[f["location"]["path"] for f in r["findings"]]')" '["release.yml"]' "relative PATH"
  # The same file inside a tree at its usual place gives the tree-relative path.
  ws clean
  cp "$E2E/fixtures/single/ci-copy.yml" "$W/ws/.github/workflows/release.yml"
  mg eval "$W/ws" --config "$W/c.yml" "${POL[@]}" --format json
  expect_rc 1
  eq "$(q "$W/out" '[f["location"]["path"] for f in r["findings"]]')" \
    '[".github/workflows/release.yml"]' "path in a tree"
  # Outside .github/workflows in a tree, it is not a workflow.
  ws clean
  cp "$E2E/fixtures/single/ci-copy.yml" "$W/ws/release.yml"
  mg eval "$W/ws" --config "$W/c.yml" "${POL[@]}" --format json
  expect_rc 0 "a stray YAML file in a tree is not a workflow"
}
add eval/single-file-path t_single_file

# A file the walk cannot reach must not pass unseen: a tree deeper than the
# walk's depth cap is an error; symlink loops are not followed.
t_walk_limits() {
  cfg "$W/c.yml" <<<'version: 1'
  local p=$W/deep i
  for i in $(seq 1 80); do p=$p/d; done
  mkdir -p "$p"
  printf 'FORBIDDEN = 1\n' >"$p/hidden.py"
  mg eval "$W/deep" --config "$W/c.yml" "${POL[@]}" --format json
  expect_rc 2 "a file nested 80 directories deep"
  mkdir -p "$W/loops/sub"
  printf 'FORBIDDEN = 1\n' >"$W/loops/sub/a.py"
  ln -s l1 "$W/loops/l2"
  ln -s l2 "$W/loops/l1"
  ln -s . "$W/loops/self"
  ln -s .. "$W/loops/sub/up"
  ln -s ../sub "$W/loops/sub/me"
  mg eval "$W/loops" --config "$W/c.yml" "${POL[@]}" --format json
  expect_rc 1 "symlink loops"
  eq "$(q "$W/out" '[f["location"]["path"] for f in r["findings"]]')" '["sub/a.py"]' \
    "each file once, through no link"
}
add eval/workspace-walk-limits t_walk_limits

# --- list, explain, version, test ----------------------------------------

t_list() {
  mg list --format json "${POL[@]}"
  expect_rc 0
  "${CHECK[@]}" list "$W/out" 2>"$W/why" || die "list --format json: $(cat "$W/why")"
  eq "$(q "$W/out" '[p for p in r if p["id"] == "train/e2e-forbidden"]')" \
    '[{"aliases": ["e2e:forbidden-word"], "atlas": ["AML.T0011.000"], "enforcement": "soft", "gates": ["train"], "id": "train/e2e-forbidden", "severity": "high", "title": "Python files must not contain the forbidden word"}]' \
    "train/e2e-forbidden in the list"
  eq "$(q "$W/out" '[p["enforcement"] for p in r if p["id"] == "deploy/e2e-hard"]')" '["hard"]' \
    "declared enforcement"
  eq "$(q "$W/out" 'len([p for p in r if "/e2e-" in p["id"]])')" 5 "e2e policies listed"
  mg list --format json
  expect_rc 0 "built-ins only"
  "${CHECK[@]}" list "$W/out" 2>"$W/why" || die "list --format json (built-ins): $(cat "$W/why")"
  mg list "${POL[@]}"
  expect_rc 0
  has "$W/out" "pipeline/e2e-unpinned" "list text"
  mg list --policies "$E2E/policies-broken"
  expect_rc 2 "list with a broken policy"
}
add list/json-and-text t_list

t_explain() {
  mg explain train/e2e-forbidden "${POL[@]}"
  expect_rc 0
  has "$W/out" "Python files must not contain the forbidden word" "explain"
  has "$W/out" "Remove the word." "explain (remediation)"
  has "$W/out" "AML.T0011.000" "explain (ATLAS)"
  cp "$W/out" "$W/by-id"
  mg explain e2e:forbidden-word "${POL[@]}"
  expect_rc 0 "explain by alias"
  cmp -s "$W/by-id" "$W/out" || die "explain by alias differs from by id: $(diff "$W/by-id" "$W/out" | head)"
  mg explain catalog:E2E-ARTIFACT "${POL[@]}"
  expect_rc 0 "explain by a second alias"
  has "$W/out" "model/e2e-artifacts" "explain by alias"
  mg explain train/e2e-missing "${POL[@]}"
  expect_rc 2 "explain of an unknown id"
  has "$W/err" "train/e2e-missing" "stderr"
  mg explain
  expect_rc 2 "explain without an id"
  mg explain mlgate/waiver-expired
  expect_rc 0 "engine notices are explained"
}
add explain/by-id-and-alias t_explain

t_version() {
  mg version
  expect_rc 0
  grep -qE '^mlgate [0-9]+\.[0-9]+\.[0-9]+' "$W/out" || die "version line: $(head -1 "$W/out")"
  has "$W/out" "mlgate.report/v1" "version"
  local v
  v=$(head -1 "$W/out" | cut -d' ' -f2)
  cfg "$W/c.yml" <<<'version: 1'
  mg eval "$E2E/fixtures/clean" --config "$W/c.yml" "${POL[@]}" --format json
  eq "$(q "$W/out" 'r["tool"]["version"]')" "$v" "tool.version in reports"
  mg --version
  expect_rc 0 "--version"
}
add version/prints-versions t_version

t_policy_test() {
  mg test "$E2E/policies" "$E2E/policytests/pass"
  expect_rc 0 "all cases pass"
  has "$W/out" "params change the word" "test output"
  mg test "$E2E/policies" "$E2E/policytests/fail"
  expect_rc 1 "a failing case"
  has "$W/out" "e2e failing case expects nothing" "test output names the failing case"
  OUT=$W/j.xml mg test "$E2E/policies" "$E2E/policytests/fail" --format junit
  expect_rc 1 "junit"
  "${CHECK[@]}" xml "$W/j.xml" 2>"$W/why" || die "junit: $(cat "$W/why")"
  "$PY" - "$W/j.xml" <<'EOF' || die "junit content: $(cat "$W/j.xml")"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = root.findall(".//testcase")
failures = root.findall(".//testcase/failure")
assert len(cases) == 2, len(cases)
assert len(failures) == 1, len(failures)
assert "failing case" in root.find(".//testcase/failure/..").get("name")
EOF
  OUT=$W/j.json mg test "$E2E/policies" "$E2E/policytests/fail" --format json
  expect_rc 1 "json"
  "${CHECK[@]}" json "$W/j.json" 2>"$W/why" || die "test --format json: $(cat "$W/why")"
  OUT=$W/p.xml mg test "$E2E/policies" "$E2E/policytests/pass" --format junit
  expect_rc 0
  "${CHECK[@]}" xml "$W/p.xml" 2>"$W/why" || die "junit: $(cat "$W/why")"
}
add test/policy-tests t_policy_test

t_policy_test_none() {
  mkdir -p "$W/empty" "$W/some/dir"
  mg test "$W/empty"
  expect_rc 2 "no tests found (empty directory)"
  mg test "$W/some"
  expect_rc 2 "no tests found"
}
add test/no-tests-found t_policy_test_none

# --- the demo ---------------------------------------------------------------

t_examples() {
  if [ ! -d "$ROOT/examples" ] || [ -z "$(find "$ROOT/examples" -type f 2>/dev/null | head -1)" ]; then
    skip "examples/ is absent or empty"
  fi
  MGDIR=$ROOT mg eval examples
  expect_rc 1 "make run: the examples have blocking findings"
  MGDIR=$ROOT OUT=$W/r.json mg eval examples --format json
  expect_rc 1 "examples, JSON report"
  report "$W/r.json"
  eq "$(q "$W/r.json" 'r["errors"]')" '[]' "examples evaluate without errors"
  local n
  n=$(q "$W/r.json" 'len(set(f["gate"] for f in r["findings"]))')
  [ "$n" -ge 2 ] || die "findings in $n gate(s); the demo must show several gates"
}
add demo/examples t_examples

# The pipeline gate over this repository's own CI definitions: the CI
# templates we ship and .ci/ have no blocking finding (issue 5). Each
# template is given as a file, so it is judged by content wherever it is.
t_own_ci() {
  local f
  for f in ci-templates/github/mlgate-gate.yml ci-templates/gitlab/mlgate.gitlab-ci.yml \
           ci-templates/jenkins/Jenkinsfile; do
    [ -f "$ROOT/$f" ] || die "$f is missing"
    MGDIR=$ROOT OUT=$W/own.json mg eval "$f" --gate pipeline --format json
    expect_rc 0 "$f has no blocking pipeline finding"
    report "$W/own.json"
    eq "$(q "$W/own.json" 'r["errors"]')" '[]' "$f evaluates without errors"
  done
  MGDIR=$ROOT OUT=$W/own.json mg eval .ci --gate pipeline --format json
  expect_rc 0 ".ci has no blocking pipeline finding"
}
add pipeline/own-ci t_own_ci

# --- profiles ----------------------------------------------------------------

t_profiles() {
  mkdir -p "$W/pp/pipeline" "$W/pw"
  printf 'hello\n' >"$W/pw/a.txt"
  cat >"$W/pp/pipeline/e2e-pedantic.lua" <<'LUA'
return mlgate.policy {
  id = "pipeline/e2e-pedantic", title = "Pedantic policy", gate = "pipeline",
  severity = "low", atlas = {"AML.T0010"}, profile = "pedantic", files = {"*.txt"},
  check = function(file, ctx) ctx:fail{message = "pedantic policy", line = 1} end,
}
LUA
  cat >"$W/pp/pipeline/e2e-mixed.lua" <<'LUA'
return mlgate.policy {
  id = "pipeline/e2e-mixed", title = "Mixed findings", gate = "pipeline",
  severity = "low", atlas = {"AML.T0010"}, files = {"*.txt"},
  check = function(file, ctx)
    ctx:fail{message = "regular finding", line = 1, key = "r"}
    ctx:fail{message = "auditor finding", line = 1, key = "a", profile = "auditor"}
  end,
}
LUA
  cfg "$W/c.yml" <<<'version: 1'
  mg eval "$W/pw" --config "$W/c.yml" --policies "$W/pp" --format "json:$W/r.json"
  expect_rc 1
  eq "$(q "$W/r.json" 'len(r["findings"])')" 1 "regular profile: one finding"
  eq "$(q "$W/r.json" '[g["policies"] for g in r["gates"] if g["name"] == "pipeline"][0]')" 1 "regular profile: one policy"
  mg eval "$W/pw" --config "$W/c.yml" --policies "$W/pp" --profile pedantic \
    --format "json:$W/r.json"
  eq "$(q "$W/r.json" 'len(r["findings"])')" 2 "pedantic profile: two findings"
  eq "$(q "$W/r.json" '[g["policies"] for g in r["gates"] if g["name"] == "pipeline"][0]')" 2 "pedantic profile: two policies"
  cfg "$W/c2.yml" <<<$'version: 1\nprofile: auditor'
  mg eval "$W/pw" --config "$W/c2.yml" --policies "$W/pp" --format "json:$W/r.json"
  eq "$(q "$W/r.json" 'len(r["findings"])')" 3 "config profile auditor: every finding"
  mg eval "$W/pw" --config "$W/c2.yml" --policies "$W/pp" --profile regular \
    --format "json:$W/r.json"
  eq "$(q "$W/r.json" 'len(r["findings"])')" 1 "--profile overrides the config"
  # enabled: true turns on one policy of a higher profile.
  cfg "$W/c3.yml" <<<$'version: 1\npolicies:\n  pipeline/e2e-pedantic: {enabled: true}'
  mg eval "$W/pw" --config "$W/c3.yml" --policies "$W/pp" --format "json:$W/r.json"
  eq "$(q "$W/r.json" 'len(r["findings"])')" 2 "enabled: true runs a pedantic policy"
  mg eval "$W/pw" --config "$W/c.yml" --policies "$W/pp" --profile loud
  expect_rc 2 "--profile loud"
  has "$W/err" "--profile must be one of regular, pedantic, auditor"
  cfg "$W/c4.yml" <<<$'version: 1\nprofile: loud'
  mg eval "$W/pw" --config "$W/c4.yml" --policies "$W/pp"
  expect_rc 2 "config profile: loud"
  has "$W/out" "c4.yml:2:10: 'profile' must be one of regular, pedantic, auditor"
}
add config/profiles t_profiles

# --- inline suppressions -----------------------------------------------------

t_inline_suppression() {
  mkdir -p "$W/sp/pipeline" "$W/sw"
  cat >"$W/sw/a.yml" <<'YML'
one: x   # mlgate: ignore[pipeline/e2e-lines] accepted: fixture data (SEC-42)
two: y   # mlgate: ignore[e2e:lines]
three: z
four: w  # mlgate: ignore[zizmor:other, e2e:lines] vendored file
YML
  cat >"$W/sp/pipeline/e2e-lines.lua" <<'LUA'
return mlgate.policy {
  id = "pipeline/e2e-lines", title = "Every line", gate = "pipeline", severity = "high",
  atlas = {"AML.T0010"}, aliases = {"e2e:lines"}, files = {"*.yml"},
  params = {span = 0},
  check = function(file, ctx)
    for i = 1, 4 do
      ctx:fail{message = "line " .. i, line = i, end_line = i + ctx.params.span, key = "l" .. i}
    end
  end,
}
LUA
  cfg "$W/c.yml" <<<'version: 1'
  mg eval "$W/sw" --config "$W/c.yml" --policies "$W/sp" --format "json:$W/r.json"
  expect_rc 1
  report "$W/r.json"
  eq "$(q "$W/r.json" 'sorted((f["location"]["line"], f["waived"]) for f in r["findings"] if f["policy"] == "pipeline/e2e-lines")')" \
     "[[1, true], [2, false], [3, false], [4, true]]" "waived lines"
  eq "$(q "$W/r.json" '[(f["location"]["line"], f["location"]["column"]) for f in r["findings"] if f["policy"] == "mlgate/suppression-invalid"]')" \
     "[[2, 10]]" "a suppression without a reason is reported"
  # A finding spanning lines 3-4 is covered by the comment on line 4.
  cfg "$W/c2.yml" <<<$'version: 1\npolicies:\n  pipeline/e2e-lines: {params: {span: 1}}'
  mg eval "$W/sw" --config "$W/c2.yml" --policies "$W/sp" --format "json:$W/r.json"
  eq "$(q "$W/r.json" 'sorted((f["location"]["line"], f["waived"]) for f in r["findings"] if f["policy"] == "pipeline/e2e-lines")')" \
     "[[1, true], [2, false], [3, true], [4, true]]" "span"
  # Switched off centrally.
  cfg "$W/c3.yml" <<<$'version: 1\ninline_suppressions: false'
  mg eval "$W/sw" --config "$W/c3.yml" --policies "$W/sp" --format "json:$W/r.json"
  eq "$(q "$W/r.json" 'len([f for f in r["findings"] if f["waived"]])')" 0 "inline_suppressions: false"
  # Hard enforcement refuses them.
  cfg "$W/c4.yml" <<<$'version: 1\npolicies:\n  pipeline/e2e-lines: {enforcement: hard}'
  mg eval "$W/sw" --config "$W/c4.yml" --policies "$W/sp" --format "json:$W/r.json"
  eq "$(q "$W/r.json" 'len([f for f in r["findings"] if f["waived"]])')" 0 "hard: none waived"
  eq "$(q "$W/r.json" 'len([f for f in r["findings"] if f["policy"] == "mlgate/suppression-refused"])')" 2 "hard: refusals reported"
  mg explain mlgate/suppression-invalid
  expect_rc 0 "explain mlgate/suppression-invalid"
}
add config/inline-suppression t_inline_suppression

# --- large workspaces: files split between processes ---------------------------

t_sharded_files() {
  local i
  mkdir -p "$W/many/pipeline" "$W/mw"
  for i in $(seq 1 90); do printf 'line one\nneedle %d\n' "$i" >"$W/mw/f$i.txt"; done
  cat >"$W/many/pipeline/e2e-per-file.lua" <<'LUA'
return mlgate.policy {
  id = "pipeline/e2e-per-file", title = "One finding per file", gate = "pipeline",
  severity = "low", atlas = {"AML.T0010"}, files = {"*.txt"},
  check = function(file, ctx) ctx:fail{message = "seen " .. file.path, line = 2} end,
}
LUA
  cat >"$W/many/pipeline/e2e-count.lua" <<'LUA'
local seen = 0
return mlgate.policy {
  id = "pipeline/e2e-count", title = "Counts files in run()", gate = "pipeline",
  severity = "low", atlas = {"AML.T0010"}, files = {"*.txt"},
  check = function(file, ctx) seen = seen + 1 end,
  run = function(ctx) ctx:fail{message = "files: " .. seen, path = "f1.txt", line = 1} end,
}
LUA
  cfg "$W/c.yml" <<<'version: 1'
  mg eval "$W/mw" --config "$W/c.yml" --policies "$W/many" -j 1 --format "json:$W/r1.json"
  expect_rc 1
  mg eval "$W/mw" --config "$W/c.yml" --policies "$W/many" -j 3 --format "json:$W/r3.json"
  expect_rc 1
  report "$W/r3.json"
  eq "$(q "$W/r3.json" 'len([f for f in r["findings"] if f["policy"] == "pipeline/e2e-per-file"])')" 90 \
     "every file checked once when split"
  eq "$(q "$W/r3.json" '[f["message"] for f in r["findings"] if f["policy"] == "pipeline/e2e-count"]')" \
     '["files: 90"]' "run() sees every file, once"
  eq "$(q "$W/r1.json" 'sorted(f["fingerprint"] for f in r["findings"])')" \
     "$(q "$W/r3.json" 'sorted(f["fingerprint"] for f in r["findings"])')" "same findings with -j 1 and -j 3"
  # A policy failing in every share is reported once.
  printf 'return mlgate.policy {\n' >"$W/many/pipeline/e2e-broken.lua"
  mg eval "$W/mw" --config "$W/c.yml" --policies "$W/many" -j 3 --format "json:$W/r3.json"
  expect_rc 2
  eq "$(q "$W/r3.json" 'len([e for e in r["errors"] if "e2e-broken" in e["policy"]])')" 1 \
     "one error for a policy that fails in every process"
}
add engine/sharded-files t_sharded_files
