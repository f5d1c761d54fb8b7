#!/usr/bin/env python3
"""Scores mlgate's pipeline policies against zizmor's audit snapshots.

../shared/peer-fixtures/zizmor (its README, "How a harness should score"):
one `mlgate eval` per tests.jsonl row of the tier, findings matched to the
expected rows of the same run by alias (zizmor:<audit> or catalog:<ID>),
path and line (strict; --loose drops the line), same-line duplicates
collapsed on both sides, micro-averaged per rule and overall.

Precision counts our findings that are in scope for the run. zizmor's audit
tests run the audit under test (and, for a few integration-style tests, the
handful of others their snapshot shows), so a finding is in scope when one
of its zizmor aliases names the audit of the test's module or a rule that
appears in the run's expected rows. Counting every zizmor-mapped finding on
every fixture would score as false positives the unpinned `uses:` that
nearly every fixture has and that zizmor's snapshot for, say,
cache-poisoning never looked for.

Exit status: 0 when the T1 bar holds (recall >= 95 %, precision >= 90 % over
the mapped rules, and no in-scope finding on a test that expects none), 1
otherwise (with --check), 2 on harness errors.
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

RECALL_BAR = 0.95
PRECISION_BAR = 0.90
PERSONA_PROFILE = {"regular": "regular", "pedantic": "pedantic", "auditor": "auditor"}


def load_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def audit_of_source(source):
    # "audit/cache_poisoning.rs" -> "cache-poisoning"
    base = os.path.basename(source or "")
    if not base.endswith(".rs"):
        return None
    return base[:-3].replace("_", "-")


def run_one(mlgate, zroot, test, profile, tmpdir):
    fixture = os.path.join(zroot, test["fixture"])
    out = os.path.join(tmpdir, test["id"].replace("/", "_").replace(":", "_") + ".json")
    cmd = [mlgate, "eval", fixture, "--no-config", "--gate", "pipeline",
           "--profile", profile, "--format", "json:" + out, "--no-progress", "-j", "1"]
    try:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        return test, None, str(e)
    if p.returncode not in (0, 1, 2) or not os.path.exists(out):
        return test, None, "exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace")[:500])
    with open(out, encoding="utf-8") as f:
        report = json.load(f)
    return test, report, None


def finding_path(test, loc_path):
    """The finding's file, relative to zizmor/ like expected rows' `path`."""
    fixture = test["fixture"].rstrip("/")
    if fixture.endswith((".yml", ".yaml")):
        # A single-file evaluation: paths are relative to its directory.
        base = os.path.dirname(fixture)
    else:
        base = fixture
    return os.path.normpath(os.path.join(base, loc_path)) if loc_path else fixture


_lines_cache = {}


def file_ignores(zroot, path, rule):
    """Whether any `# zizmor: ignore[rule]` comment is in the file (zizmor
    honours one anywhere in a finding's span, which may be a whole job)."""
    zizmor_ignored(zroot, path, 1, rule)
    return any(zizmor_ignored(zroot, path, i + 1, rule)
               for i in range(len(_lines_cache.get(path, []))))


def zizmor_ignored(zroot, path, line, rule):
    """Whether zizmor's own `# zizmor: ignore[rule]` comment is on that line.

    zizmor's snapshots leave such findings out (tests.jsonl counts them as
    `ignored`); mlgate has its own suppression syntax and does not honour
    zizmor's, so a finding there is neither right nor wrong."""
    if path not in _lines_cache:
        try:
            with open(os.path.join(zroot, path), encoding="utf-8", errors="replace") as f:
                _lines_cache[path] = f.read().split("\n")
        except OSError:
            _lines_cache[path] = []
    lines = _lines_cache[path]
    if not line or line > len(lines):
        return False
    text = lines[line - 1]
    i = text.find("zizmor: ignore[")
    if i < 0:
        return False
    names = text[i + len("zizmor: ignore["):].split("]")[0]
    return rule in [n.strip() for n in names.split(",")]


def zizmor_rules(aliases, catalog_to_rules):
    rules = set()
    for a in aliases:
        if a.startswith("zizmor:"):
            rules.add(a[len("zizmor:"):])
        elif a.startswith("catalog:"):
            rules |= catalog_to_rules.get(a[len("catalog:"):], set())
    return rules


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tier", default="T1", choices=["T1", "T2"])
    ap.add_argument("-r", "--rule", action="append", default=[],
                    help="only print this zizmor audit (repeatable)")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="list misses and false positives")
    ap.add_argument("--loose", action="store_true", help="match without the line")
    ap.add_argument("--check", action="store_true", help="exit 1 when the T1 bar fails")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()

    mlgate = os.environ.get("MLGATE_BIN", os.path.join(root, "build", "mlgate"))
    zroot = os.environ.get("ZIZMOR", os.path.join(root, "..", "shared", "peer-fixtures", "zizmor"))
    if not os.access(mlgate, os.X_OK):
        print("zizmor.py: no %s (run make first)" % mlgate, file=sys.stderr)
        return 2
    tests_path = os.path.join(zroot, "tests.jsonl")
    if not os.path.exists(tests_path):
        print("zizmor.py: no %s" % tests_path, file=sys.stderr)
        return 2
    tests = [t for t in load_jsonl(tests_path)
             if t["kind"] == "audit" and t["tier"] == args.tier and t.get("fixture")]
    if args.tier == "T2":
        # Configs (zizmor.yml) have no general translation; personas do.
        tests = [t for t in tests if not t.get("config")]
    expected = defaultdict(list)
    catalog_to_rules = defaultdict(set)
    for e in load_jsonl(os.path.join(zroot, "expected.jsonl")):
        if e.get("catalog"):
            catalog_to_rules[e["catalog"]].add(e["peer_rule"])
        expected[e["id"]].append(e)

    results = []
    with tempfile.TemporaryDirectory() as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = []
        for t in tests:
            persona = t.get("persona") or "regular"
            futs.append(ex.submit(run_one, mlgate, zroot, t, PERSONA_PROFILE.get(persona, "regular"), tmp))
        for fu in futs:
            results.append(fu.result())

    exp_n = defaultdict(int)      # rule -> expected (deduplicated)
    hit_n = defaultdict(int)      # rule -> expected rows matched
    ours_n = defaultdict(int)     # rule -> our in-scope findings (deduplicated)
    good_n = defaultdict(int)     # rule -> our findings that matched
    misses, extras, harness_errors, dirty_negatives = [], [], [], []
    out_of_scope = defaultdict(int)
    ignored_n = defaultdict(int)  # on lines zizmor's own ignore comments hide
    run_errors = []

    for test, report, err in sorted(results, key=lambda r: r[0]["id"]):
        if err:
            harness_errors.append("%s: %s" % (test["id"], err))
            continue
        for e in report.get("errors", []):
            run_errors.append("%s: %s" % (test["id"], e.get("message", "")))
        scope = set(r["peer_rule"] for r in expected[test["id"]])
        own = audit_of_source(test.get("source"))
        if own:
            scope.add(own)
        # Expected rows, deduplicated on (rule, path, line).
        exp_keys = {}
        for e in expected[test["id"]]:
            key = (e["peer_rule"], e["path"], None if args.loose else e["line"])
            exp_keys.setdefault(key, e)
        # Our findings, deduplicated on (path, line, rules).
        ours = {}
        for f in report.get("findings", []):
            rules = zizmor_rules(f.get("aliases", []), catalog_to_rules)
            loc = f.get("location", {})
            path = finding_path(test, loc.get("path", ""))
            line = loc.get("line", 0)
            in_scope = rules & scope
            if not rules:
                continue
            if not in_scope:
                for r in rules:
                    out_of_scope[r] += 1
                continue
            for r in in_scope:
                key = (r, path, None if args.loose else line)
                ours.setdefault(key, f)
        for key in exp_keys:
            exp_n[key[0]] += 1
            if key in ours:
                hit_n[key[0]] += 1
            else:
                misses.append((test["id"], key, exp_keys[key]))
        budget = test.get("ignored") or 0
        for key, f in list(ours.items()):
            if key in exp_keys:
                continue
            line = f.get("location", {}).get("line")
            if zizmor_ignored(zroot, key[1], line, key[0]) or (
                    budget > 0 and file_ignores(zroot, key[1], key[0])):
                budget -= 1
                ignored_n[key[0]] += 1
                del ours[key]
        for key, f in ours.items():
            ours_n[key[0]] += 1
            if key in exp_keys:
                good_n[key[0]] += 1
            else:
                extras.append((test["id"], key, f))
                if test.get("expected_total") == 0:
                    dirty_negatives.append((test["id"], key))

    rules = sorted(set(exp_n) | set(ours_n))
    show = set(args.rule) if args.rule else None

    def pct(a, b):
        return "%5.1f%%" % (100.0 * a / b) if b else "    - "

    print("zizmor %s (%s matching): %d tests" % (args.tier, "loose" if args.loose else "line-exact",
                                                   len(results)))
    print("%-28s %6s %6s %7s %6s %6s %7s" % ("audit", "expect", "found", "recall", "ours",
                                              "right", "precis."))
    for r in rules:
        if show and r not in show:
            continue
        print("%-28s %6d %6d %7s %6d %6d %7s" % (r, exp_n[r], hit_n[r], pct(hit_n[r], exp_n[r]),
                                                  ours_n[r], good_n[r], pct(good_n[r], ours_n[r])))
    te, th = sum(exp_n.values()), sum(hit_n.values())
    to, tg = sum(ours_n.values()), sum(good_n.values())
    print("%-28s %6d %6d %7s %6d %6d %7s" % ("TOTAL", te, th, pct(th, te), to, tg, pct(tg, to)))
    if ignored_n:
        print("on lines with zizmor ignore comments (not judged): " +
              ", ".join("%s %d" % (k, v) for k, v in sorted(ignored_n.items())))
    if out_of_scope:
        print("out of scope (not judged): " +
              ", ".join("%s %d" % (k, v) for k, v in sorted(out_of_scope.items())))
    if args.verbose:
        for tid, key, e in misses:
            if show and key[0] not in show:
                continue
            print("MISS  %s %s %s:%s  (%s)" % (tid, key[0], key[1], e["line"], e["message"]))
        for tid, key, f in extras:
            if show and key[0] not in show:
                continue
            print("EXTRA %s %s %s:%s  %s" % (tid, key[0], key[1], key[2],
                                             f.get("message", "")[:100]))
    for h in harness_errors:
        print("HARNESS ERROR " + h)
    for e in run_errors:
        if args.verbose:
            print("EVAL ERROR " + e)
    if dirty_negatives:
        print("negative tests with findings: %d" % len(dirty_negatives))
        for tid, key in dirty_negatives:
            print("  %s %s %s:%s" % (tid, key[0], key[1], key[2]))

    if harness_errors:
        return 2
    ok = (te == 0 or th / te >= RECALL_BAR) and (to == 0 or tg / to >= PRECISION_BAR) \
        and not dirty_negatives
    print("bar (recall >= %d%%, precision >= %d%%, clean negatives): %s" % (
        RECALL_BAR * 100, PRECISION_BAR * 100, "met" if ok else "NOT met"))
    if args.check and args.tier == "T1" and not ok:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
