# Security cases of tests/e2e/run.sh (sourced): every policy under
# hostile/train/ is an attack on the engine. Each is evaluated alone, with
# small limits, in a workspace holding symlinks to a secret outside it, a
# FIFO and links to devices. For each the driver asserts (hostile_check):
#   - exit status 2 (fail closed), within a bounded time, no crash;
#   - stdout is the JSON report and nothing else, valid against the schema;
#   - an error names the policy (its id, or its file when it never loaded),
#     with the message expected for the defence that stopped it;
#   - nothing was written: workspace, outside dir, policies, TMPDIR, HOME and
#     the current directory are unchanged, the canary file too;
#   - the secret (its content, its SHA-256, /etc/passwd) appears nowhere;
#   - no output line starts with "::" or "##[" (CI workflow commands; the
#     GitHub runner trims leading blanks first), and no "##[" at all in text
#     output (the runner's legacy parser finds "##[cmd]" anywhere in a line);
#     no raw ESC byte reaches stdout/stderr (they are not terminals);
#   - "ESCAPED" (what a policy prints when a defence failed) appears nowhere.
# See docs/security.md for the threat model.
# shellcheck shell=bash disable=SC2154

HOSTILE=$E2E/hostile/train
HOSTILE_TIME_MS=$([ "$SANITIZED" = 1 ] && echo 8000 || echo 2000)
SECRET=mlgate-e2e-secret-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
PASSWD_LINE=$(head -1 /etc/passwd 2>/dev/null || echo 'root:x:0:0:')

# Error message (Python regex) expected from the defence each attack meets.
declare -A HOSTILE_EXPECT=(
  [os-execute]="global 'os'"
  [io-open]="global 'io'"
  [io-popen]="global 'io'"
  [require]="global 'require'"
  [package-loadlib]="global 'package'"
  [dofile]="global 'dofile'"
  [loadfile]="global 'loadfile'"
  [load-dump]="field 'dump'"
  [load-binary]="CONTAINED: binary chunks refused"
  [string-dump]="method 'dump'"
  [debug-getregistry]="global 'debug'"
  [debug-sethook]="global 'debug'"
  [debug-getinfo]="global 'debug'"
  [loop]="instruction"
  [loop-pcall]="instruction"
  [loop-xpcall]="instruction"
  [loop-toplevel]="instruction"
  [error-tostring]="instruction"
  [error-tostring-recursive]="stack overflow|error in error handling|instruction|__tostring"
  [mem-rep-huge]="too large|memory"
  [mem-rep]="memory"
  # The refused 1 GiB buffer raises a plain error that pcall catches and a
  # successful small allocation in between re-arms; what ends the loop is
  # then the instruction budget or the clock. Memory never exceeds the cap.
  [mem-rep-pcall]="memory|instruction|time limit"
  [mem-table]="memory"
  [mem-table-pcall]="memory"
  [mem-concat]="memory|too large"
  [pattern]="time limit"
  [pattern-pcall]="time limit"
  [gc]="'__gc' is not allowed"
  [gc-late]="CONTAINED: the late __gc never ran"
  [close]="'__close' is not allowed"
  [close-late]="non-closable"
  [mode]="'__mode' is not allowed"
  [coroutine]="global 'coroutine'"
  [coroutine-rebuild]="CONTAINED: no way to coroutines"
  [recursion]="stack overflow|memory"
  [recursion-gsub]="stack overflow"
  [recursion-sort]="stack overflow"
  [recursion-index]="stack overflow"
  [index-chain]="chain too long"
  # Each iteration formats 10 KB in C: the clock may come before the budget.
  [flood-log]="instruction|time limit"
  [flood-findings]="findings"
  [before-error]="boom after the finding"
  [before-loop]="instruction"
  [before-pattern]="time limit"
  # What matters here is the finding; the bomb takes ~1 s of a 2 s limit.
  [before-memory]="memory|time limit"
  [fs-list]="CONTAINED: listed"
  [print-long]="CONTAINED: printed"
  [regex-backtrack]="match limit"
  [alias-bomb-encode]="memory|limit|CONTAINED"
  [alias-bomb-details]="memory|limit|more output|CONTAINED"
  [inject]="pwned-error"
  [inject-meta]="CONTAINED: metadata injection policy ran"
  [index-meta]="'id'"
  [invalid-meta]="field|unknown"
)

# hostile_env: the workspace and its surroundings under $W.
hostile_env() {
  rm -rf "${W:?}/ws" "${W:?}/outside" "${W:?}/cwd" "${W:?}/tmp" "${W:?}/home"
  cp -R "$E2E/fixtures/hostile" "$W/ws"
  mkdir -p "$W/outside" "$W/cwd" "$W/tmp" "$W/home"
  printf '%s\n' "$SECRET" >"$W/outside/secret.txt"
  printf 'canary: nobody may write here\n' >"$W/outside/canary.txt"
  ln -s "$W/outside/secret.txt" "$W/ws/link-secret"
  ln -s /etc/passwd "$W/ws/link-passwd"
  ln -s ../outside "$W/ws/link-dir"
  ln -s "$W/outside" "$W/ws/link-dir-abs"
  ln -s ../.. "$W/ws/src/link-up"
  ln -s /dev/zero "$W/ws/link-zero"
  ln -s /dev/stdin "$W/ws/link-stdin"
  ln -s /dev/tty "$W/ws/link-tty"
  ln -s /proc/self/environ "$W/ws/link-proc-environ"
  mkfifo "$W/ws/fifo"
  # What actions/checkout or a GitLab clone leave in the workspace.
  mkdir -p "$W/ws/.git"
  printf 'ref: refs/heads/main\n' >"$W/ws/.git/HEAD"
  printf '[remote "origin"]\n\turl = https://gitlab-ci-token:%s@gitlab.example.com/g/p.git\n[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic %s\n' \
    "$SECRET" "$SECRET" >"$W/ws/.git/config"
  SECRET_SHA=$(sha256sum "$W/outside/secret.txt" | cut -d' ' -f1)
  # What the policies could reach if confinement failed: also in the
  # environment (/proc/self/environ).
  export E2E_CANARY_SECRET=$SECRET
  export TMPDIR=$W/tmp HOME=$W/home TERM=xterm-256color
}

hostile_snapshot() {
  find "$W/ws" "$W/outside" "$W/cwd" "$W/tmp" "$W/home" "$E2E" \
    -printf '%p %y %s %m %l\n' 2>/dev/null | LC_ALL=C sort
  sha256sum "$W/outside/canary.txt" "$W/outside/secret.txt"
}

# hostile_run POLICY_FILE FORMAT [PARAMS_YAML]: evaluates one policy; sets
# RC and ELAPSED_MS. PARAMS_YAML goes under `policies:`.
hostile_run() {
  local pol=$1 fmt=$2 params=${3:-} t0 t1
  cfg "$W/cfg.yml" <<EOF
version: 1
limits: {time_ms: $HOSTILE_TIME_MS, memory_mb: 64, instructions: 50000000, findings: 1000}
policies:
$params
EOF
  hostile_snapshot >"$W/before.snap"
  t0=$(date +%s%N)
  MGDIR=$W/cwd mg eval "$W/ws" --config "$W/cfg.yml" --policies "$pol" --format "$fmt" "${@:4}"
  t1=$(date +%s%N)
  ELAPSED_MS=$(((t1 - t0) / 1000000))
  hostile_snapshot >"$W/after.snap"
}

# no_workflow_commands FILE TEXT?: no line that the GitHub runner would take
# for a workflow command: "::" after leading blanks, or (TEXT=1, for text
# output) "##[" anywhere in a line. CR counts as a line break.
no_workflow_commands() {
  local f=$1 text=${2:-0}
  if tr '\r' '\n' <"$f" | LC_ALL=C grep -qE '^[[:space:]]*(::|##\[)'; then
    die "a line of $(basename "$f") starts a CI workflow command: $(tr '\r' '\n' <"$f" | grep -m3 -E '^[[:space:]]*(::|##\[)' | cat -v)"
  fi
  if [ "$text" = 1 ] && LC_ALL=C grep -qF '##[' "$f"; then
    die "$(basename "$f") has '##[' in a line (legacy workflow command): $(grep -m3 -F '##[' "$f" | cat -v)"
  fi
  return 0
}

# The output checks shared by every hostile run (FORMAT of stdout: json/text).
hostile_output_checks() {
  local f fmt=${1:-json}
  cmp -s "$W/before.snap" "$W/after.snap" ||
    die "something was written or changed: $(diff "$W/before.snap" "$W/after.snap" | head -20)"
  [ -z "$(find "$W" "$ROOT" -maxdepth 3 -name 'pwned*' 2>/dev/null | head -1)" ] ||
    die "a 'pwned' file was created: $(find "$W" "$ROOT" -maxdepth 3 -name 'pwned*' | head -3)"
  for f in "$W/out" "$W/err"; do
    hasnt "$f" "$SECRET" "$(basename "$f") (the secret leaked)"
    hasnt "$f" "$SECRET_SHA" "$(basename "$f") (the secret's SHA-256 leaked)"
    hasnt "$f" "$PASSWD_LINE" "$(basename "$f") (/etc/passwd leaked)"
    hasnt "$f" "ESCAPED" "$(basename "$f") (a defence failed)"
    if LC_ALL=C grep -q $'\x1b' "$f"; then
      die "raw ESC byte in $(basename "$f") (not a terminal): $(LC_ALL=C grep -m2 $'\x1b' "$f" | cat -v | head -c 400)"
    fi
  done
  no_workflow_commands "$W/err" 1
  no_workflow_commands "$W/out" "$([ "$fmt" = text ] && echo 1)"
  # Log output is bounded per policy (the engine prints at most 200 lines of
  # at most 4 KiB each).
  [ "$(stat -c %s "$W/err")" -lt 1048576 ] || die "stderr is $(stat -c %s "$W/err") bytes: output not bounded"
  [ "$ELAPSED_MS" -lt $((HOSTILE_TIME_MS * 5 + 10000)) ] ||
    die "took $ELAPSED_MS ms with a $HOSTILE_TIME_MS ms time limit"
}

# hostile_check ID REGEX: exit 2, the report alone on stdout, an error naming
# the policy with a message matching REGEX, and the output checks.
hostile_check() {
  local id=$1 regex=$2
  expect_rc 2 "fail closed"
  report "$W/out"
  eq "$(q "$W/out" 'r["verdict"]')" error verdict
  eq "$(q "$W/out" 'any(e["policy"] == "'"$id"'" or e["policy"].endswith("/'"$id"'.lua") for e in r["errors"])')" \
    true "an error names $id (errors: $(q "$W/out" '[(e["policy"], e["message"]) for e in r["errors"]]' | head -c 800))"
  REGEX=$regex "${CHECK[@]}" q "$W/out" \
    'any(__import__("re").search(__import__("os").environ["REGEX"], e["message"]) for e in r["errors"])' >"$W/match"
  eq "$(cat "$W/match")" true "an error message matches /$regex/ (errors: $(q "$W/out" '[e["message"] for e in r["errors"]]' | head -c 800))"
  hostile_output_checks
}

t_hostile() {
  local name=$1
  hostile_env
  hostile_run "$HOSTILE/h-$name.lua" json
  hostile_check "train/h-$name" "${HOSTILE_EXPECT[$name]}"
}

# Findings reported before the policy failed stay in the report, blocking.
t_hostile_before() {
  t_hostile "$1"
  eq "$(q "$W/out" '[(f["message"], f["blocking"]) for f in r["findings"]]')" \
    '[["finding reported before the failure", true]]' "the finding made before the failure"
}

# t_hostile_fs ROUTE FN: reads outside the workspace (h-fs.lua).
t_hostile_fs() {
  local route=$1 fn=$2
  hostile_env
  hostile_run "$HOSTILE/h-fs.lua" json "  train/h-fs:
    params: {route: $route, fn: $fn, secret_abs: \"$W/outside/secret.txt\"}"
  hostile_check train/h-fs "CONTAINED: every read was refused"
}

t_hostile_flood_log() {
  t_hostile flood-log
  # The parent prints a bounded number of sanitised log lines.
  [ "$(wc -l <"$W/err")" -le 250 ] || die "$(wc -l <"$W/err") lines on stderr"
}

t_hostile_print() {
  t_hostile print-long
  grep -qE "info: z{2000}\$" "$W/err" || die "the 2000-byte log line is not whole: $(grep -m1 'info: z' "$W/err" | head -c 300)"
  grep -qE "info: x{4000}" "$W/err" || die "the long log line is not there: $(grep -m1 'info: x' "$W/err" | head -c 300)"
  grep -qE "info: 1 w{1500} true\$" "$W/err" || die "print of 3 values: $(grep -m1 'info: 1' "$W/err" | head -c 300)"
}

# The expansion happens in C, outside the Lua allocator: the engine caps
# those conversions (4 MiB per finding record, 64 MiB per encoded value),
# so it ends the same way with or without the address-space backstop that
# sanitizer builds lack.
t_hostile_alias_bomb() {
  t_hostile "alias-bomb-$1"
}

t_hostile_flood_findings() {
  t_hostile flood-findings
  [ "$(q "$W/out" 'len(r["findings"])')" -le 1000 ] || die "more findings than limits.findings"
}

# Injection through findings, logs and errors, in both formats and -v.
t_hostile_inject() {
  local fmt=$1
  hostile_env
  hostile_run "$HOSTILE/h-inject.lua" "$fmt" "" -v
  expect_rc 2 "fail closed"
  if [ "$fmt" = json ]; then
    hostile_check train/h-inject "${HOSTILE_EXPECT[inject]}"
    # JSON keeps the data exactly (escaped), so tools see what the policy said.
    eq "$(q "$W/out" '"\n::error::pwned-newline" in [f["message"] for f in r["findings"]]')" true \
      "the payload is kept verbatim in JSON"
  else
    hostile_output_checks text
    has "$W/out" "pwned-error" "text report (the error is shown)"
    has "$W/out" "pwned-newline" "text report (the finding is shown)"
  fi
  local f
  for f in "$W/err" $([ "$fmt" = text ] && echo "$W/out"); do
    if LC_ALL=C grep -q $'\r' "$f"; then die "raw CR in $(basename "$f")"; fi
    if grep -qP '[\x{202A}-\x{202E}\x{2066}-\x{2069}]' "$f"; then
      die "raw bidi control in $(basename "$f"): $(grep -m2 -P '[\x{202A}-\x{202E}\x{2066}-\x{2069}]' "$f" | cat -v)"
    fi
  done
  has "$W/err" "pwned-mask" "stderr (log lines are shown, sanitised)"
}

# `mlgate list` and `mlgate explain` print policy metadata.
t_hostile_meta_output() {
  hostile_env
  local cmd f
  for cmd in "list" "list --format json" "explain train/h-inject-meta" \
             "explain train/h-inject-meta --format json" "explain e2e:"$'\x1b'"[31m::error::pwned-alias"; do
    # shellcheck disable=SC2086
    MGDIR=$W/cwd mg $cmd --policies "$HOSTILE/h-inject-meta.lua"
    expect_rc 0 "mlgate $cmd"
    has "$W/out" "pwned" "mlgate $cmd (the metadata is shown)"
    for f in "$W/out" "$W/err"; do
      if LC_ALL=C grep -q $'\x1b' "$f"; then
        die "mlgate $cmd: raw ESC byte in $(basename "$f"): $(LC_ALL=C grep -m2 $'\x1b' "$f" | cat -v)"
      fi
      if LC_ALL=C grep -q $'\r' "$f"; then
        die "mlgate $cmd: raw CR in $(basename "$f"): $(LC_ALL=C grep -m2 $'\r' "$f" | cat -v)"
      fi
      no_workflow_commands "$f" "$([[ $cmd != *json* ]] && echo 1)"
    done
  done
}

# Policy tests are untrusted input too: case names and messages with
# workflow commands and escapes, in text, JSON and JUnit output.
t_hostile_test_output() {
  local fmt f
  for fmt in text json junit; do
    OUT=$W/out.$fmt mg test "$E2E/policies" "$E2E/hostile-tests" --format "$fmt"
    expect_rc 1 "mlgate test --format $fmt (the hostile case fails)"
    f=$W/out.$fmt
    has "$f" "pwned-case" "test output (the case is shown)"
    if LC_ALL=C grep -q $'\x1b' "$f" "$W/err"; then die "raw ESC in mlgate test --format $fmt"; fi
    no_workflow_commands "$f" "$([ "$fmt" = text ] && echo 1)"
    no_workflow_commands "$W/err" 1
  done
  "${CHECK[@]}" json "$W/out.json" 2>"$W/why" || die "test --format json: $(cat "$W/why")"
  "${CHECK[@]}" xml "$W/out.junit" 2>"$W/why" || die "test --format junit: $(cat "$W/why")"
}

# A metadata error is reported once, not once per loading pass.
t_hostile_meta_once() {
  hostile_env
  hostile_run "$HOSTILE/h-invalid-meta.lua" json
  expect_rc 2
  report "$W/out"
  eq "$(q "$W/out" 'len(r["errors"]) == len(set(tuple(sorted(e.items())) for e in r["errors"]))')" true \
    "each error once (errors: $(q "$W/out" '[e["message"] for e in r["errors"]]' | head -c 600))"
}

for _h in os-execute io-open io-popen require package-loadlib dofile loadfile load-dump \
          load-binary string-dump debug-getregistry debug-sethook debug-getinfo loop loop-pcall \
          loop-xpcall loop-toplevel error-tostring error-tostring-recursive mem-rep-huge mem-rep \
          mem-rep-pcall mem-table mem-table-pcall mem-concat pattern pattern-pcall gc gc-late \
          close close-late mode coroutine coroutine-rebuild recursion recursion-gsub \
          recursion-sort recursion-index index-chain fs-list inject-meta index-meta invalid-meta; do
  add "hostile/$_h" t_hostile "$_h"
done
add hostile/regex-backtrack t_hostile regex-backtrack
add hostile/alias-bomb-encode t_hostile_alias_bomb encode
add hostile/alias-bomb-details t_hostile_alias_bomb details
add hostile/flood-log t_hostile_flood_log
add hostile/print-long-strings t_hostile_print
add hostile/flood-findings t_hostile_flood_findings
for _h in before-error before-loop before-pattern before-memory; do
  add "hostile/$_h" t_hostile_before "$_h"
done
for _r in abs dotdot symlink; do
  for _f in read read_limited yaml json sha256 stat; do
    add "hostile/fs-$_r-$_f" t_hostile_fs "$_r" "$_f"
  done
done
for _f in read read_limited; do
  add "hostile/fs-git-credentials-$_f" t_hostile_fs git "$_f"
done
add hostile/inject-json t_hostile_inject json
add hostile/inject-text t_hostile_inject text
add hostile/metadata-in-list-and-explain t_hostile_meta_output
add hostile/test-output-injection t_hostile_test_output
add hostile/metadata-error-reported-once t_hostile_meta_once
unset _h _r _f

# The workspace alone (no hostile policy) carries the payloads: file names
# and a workflow whose `uses:` values end up in finding messages.
t_hostile_workspace_text() {
  local fmt
  rm -rf "${W:?}/ws"
  mkdir -p "$W/ws/src" "$W/ws/.github/workflows"
  local names=($'src/\n::error::pwned-name.py' $'src/\r::error::pwned-cr.py' '::error::pwned-lead.py'
               $'src/\e[31mpwned-esc.py' 'src/##[error]pwned-legacy.py' $'src/\u202Epwned-bidi.py')
  local n
  for n in "${names[@]}"; do
    printf 'FORBIDDEN = 1\n' >"$W/ws/$n"
  done
  cat >"$W/ws/.github/workflows/ci.yml" <<'YML'
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: "x/y@v1\n::error::pwned-uses"
      - uses: "x/y@v1 ##[error]pwned-uses-legacy"
      - uses: "x/y@\e[2Jv1"
YML
  cfg "$W/c.yml" <<<'version: 1'
  for fmt in json text; do
    mkdir -p "$W/outside" "$W/cwd" "$W/tmp" "$W/home"
    printf 'canary\n' >"$W/outside/canary.txt"
    printf 'x\n' >"$W/outside/secret.txt"
    SECRET_SHA=unused-$SECRET
    hostile_snapshot >"$W/before.snap"
    ELAPSED_MS=0
    MGDIR=$W/cwd mg eval "$W/ws" --config "$W/c.yml" "${POL[@]}" --format "$fmt"
    hostile_snapshot >"$W/after.snap"
    expect_rc 1 "findings in hostile file names ($fmt)"
    hostile_output_checks "$fmt"
    has "$W/out" "pwned-name" "the report shows the file"
    has "$W/out" "pwned-uses" "the report shows the message"
    if [ "$fmt" = json ]; then
      eq "$(q "$W/out" 'len([f for f in r["findings"] if f["policy"] == "train/e2e-forbidden"])')" 6 \
        "a finding per hostile file name"
      eq "$(q "$W/out" '"src/\n::error::pwned-name.py" in [f["location"]["path"] for f in r["findings"]]')" \
        true "the path is kept exactly in JSON"
    else
      if LC_ALL=C grep -q $'\r' "$W/out"; then die "raw CR in the text report"; fi
    fi
  done
}
add hostile/workspace-file-names-and-content t_hostile_workspace_text
