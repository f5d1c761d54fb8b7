#!/usr/bin/env python3
"""Pipeline gate on files whose verdict is known without a peer's snapshot.

1. actionlint-ok: the 84 workflows actionlint lints with zero errors. Each is
   evaluated as .github/workflows/<name> of a workspace of its own; none of
   the actionlint-equivalent checks (INJ-EXPR, CRED-HARDCODED, INJ-WFCMD,
   COND-ALWAYS, HYG-SCHEMA) may fire at medium or above, and no evaluation
   may end in an error (every file must load).
2. zizmor's test-data/invalid: definitions GitHub refuses. Each must give a
   located parse error ("path:line:col: ...") and exit status 2, never a
   crash, a pass or an unlocated message.

Exit status 0 when both hold, 1 otherwise, 2 on harness errors.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

CHECKED = {"catalog:INJ-EXPR", "catalog:CRED-HARDCODED", "catalog:INJ-WFCMD",
           "catalog:COND-ALWAYS", "catalog:HYG-SCHEMA"}
SEV = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
LOCATED = re.compile(r"^\S+:\d+:\d+: ")


def evaluate(mlgate, ws, out):
    p = subprocess.run([mlgate, "eval", ws, "--no-config", "--gate", "pipeline",
                        "--format", "json:" + out, "--no-progress"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    report = None
    if os.path.exists(out):
        with open(out, encoding="utf-8") as f:
            report = json.load(f)
    return p.returncode, report, p.stderr.decode(errors="replace")


def place(tmp, src, rel):
    """A fresh workspace holding src at rel (src may be a directory)."""
    ws = os.path.join(tmp, "ws")
    shutil.rmtree(ws, ignore_errors=True)
    if os.path.isdir(src):
        shutil.copytree(src, os.path.join(ws, rel) if rel else ws)
    else:
        dst = os.path.join(ws, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
    return ws


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", ".."))
    mlgate = os.environ.get("MLGATE_BIN", os.path.join(root, "build", "mlgate"))
    peers = os.environ.get("PEER_FIXTURES",
                           os.path.join(root, "..", "shared", "peer-fixtures"))
    verbose = "-v" in sys.argv[1:]
    if not os.access(mlgate, os.X_OK):
        print("pipeline_files.py: no %s" % mlgate, file=sys.stderr)
        return 2
    ok_dir = os.path.join(peers, "actionlint-ok", "ok")
    bad_dir = os.path.join(peers, "zizmor", "test-data", "invalid")
    if not os.path.isdir(ok_dir) or not os.path.isdir(bad_dir):
        print("pipeline_files.py: no fixtures under %s" % peers, file=sys.stderr)
        return 2
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r.json")
        names = sorted(n for n in os.listdir(ok_dir) if n.endswith((".yml", ".yaml")))
        fired = 0
        for name in names:
            ws = place(tmp, os.path.join(ok_dir, name), os.path.join(".github", "workflows", name))
            rc, report, err = evaluate(mlgate, ws, out)
            if report is None or rc not in (0, 1):
                msgs = [e.get("message", "") for e in (report or {}).get("errors", [])]
                failures.append("actionlint-ok/%s: exit %d %s" % (name, rc, "; ".join(msgs) or err[:300]))
                continue
            for f in report.get("findings", []):
                hit = CHECKED & set(f.get("aliases", []))
                if hit and SEV.get(f.get("severity"), 0) >= SEV["medium"]:
                    fired += 1
                    loc = f.get("location", {})
                    failures.append("actionlint-ok/%s:%s: %s %s: %s" % (
                        name, loc.get("line"), f.get("policy"), ",".join(sorted(hit)),
                        f.get("message", "")[:120]))
        print("actionlint-ok: %d workflows, %d actionlint-equivalent findings at medium+" % (
            len(names), fired))

        bad = sorted(os.listdir(bad_dir))
        located = 0
        for name in bad:
            src = os.path.join(bad_dir, name)
            # Directories hold an action.yml; files are workflows.
            rel = "" if os.path.isdir(src) else os.path.join(".github", "workflows", name)
            if os.path.isdir(src) and not any(
                    n.endswith((".yml", ".yaml")) for _, _, fs in os.walk(src) for n in fs):
                # No CI definition at all (zizmor's "no inputs"): nothing to
                # judge, and an empty pipeline gate passes.
                continue
            ws = place(tmp, src, rel)
            rc, report, err = evaluate(mlgate, ws, out)
            msgs = [e.get("message", "") for e in (report or {}).get("errors", [])]
            good = rc == 2 and msgs and all(LOCATED.match(m) for m in msgs)
            if good:
                located += 1
            else:
                failures.append("invalid/%s: exit %d, errors %r %s" % (name, rc, msgs, err[:200]))
            if verbose:
                print("  invalid/%s: exit %d: %s" % (name, rc, " | ".join(msgs)))
        print("zizmor invalid: %d definitions give a located error and exit 2" % located)
    for f in failures:
        print("FAIL " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
