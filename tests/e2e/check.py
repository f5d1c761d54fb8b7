#!/usr/bin/python3
"""JSON and XML checks for tests/e2e/run.sh (standard library + jsonschema).

  check.py report FILE...      each FILE is exactly one mlgate.report/v1 document:
                               valid against docs/report.schema.json, findings
                               sorted (path, line, column, policy), gate counts
                               consistent with the findings
  check.py list FILE           `mlgate list --format json` output
  check.py json FILE           FILE parses as one JSON document
  check.py xml FILE            FILE is well-formed XML
  check.py q FILE EXPR         prints EXPR evaluated with r = the parsed FILE
                               (strings as is, booleans as true/false, else JSON)

Exit status 0 when every check passed, 1 with the reasons on stderr.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "..", "..", "docs", "report.schema.json")

GATES = ["pipeline", "data", "train", "model", "deploy", "monitor"]


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    # json.loads refuses trailing garbage: stdout must be the report only.
    return json.loads(data.decode("utf-8"))


def check_report(path):
    import jsonschema

    problems = []
    try:
        doc = load(path)
    except (ValueError, UnicodeDecodeError) as e:
        return ["%s: not one JSON document: %s" % (path, e)]
    with open(SCHEMA) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in err.path) or "(root)"
        problems.append("%s: schema: %s: %s" % (path, where, err.message))
    if problems:
        return problems

    keys = [(f["location"]["path"].encode("utf-8"), f["location"]["line"],
             f["location"]["column"], f["policy"]) for f in doc["findings"]]
    for i in range(1, len(keys)):
        if keys[i - 1] > keys[i]:
            problems.append("%s: findings not sorted at index %d: %r after %r"
                            % (path, i, keys[i], keys[i - 1]))
    for g in doc["gates"]:
        n = sum(1 for f in doc["findings"] if f["gate"] == g["name"])
        if n != g["findings"]:
            problems.append("%s: gate %s says %d findings, the report lists %d"
                            % (path, g["name"], g["findings"], n))
    names = [g["name"] for g in doc["gates"]]
    if len(set(names)) != len(names):
        problems.append("%s: a gate is listed twice: %r" % (path, names))
    if doc["errors"] and doc["exit_code"] != 2:
        problems.append("%s: errors but exit_code %d (an error must fail closed)"
                        % (path, doc["exit_code"]))
    blocking = any(f["blocking"] for f in doc["findings"])
    if not doc["errors"]:
        want = 1 if blocking else 0
        if doc["exit_code"] != want:
            problems.append("%s: exit_code %d but %s blocking finding"
                            % (path, doc["exit_code"], "a" if blocking else "no"))
    return problems


def check_list(path):
    try:
        doc = load(path)
    except ValueError as e:
        return ["%s: not JSON: %s" % (path, e)]
    if not isinstance(doc, list):
        return ["%s: not an array" % path]
    problems = []
    want = {"id", "title", "gates", "severity", "enforcement", "atlas", "aliases"}
    for i, p in enumerate(doc):
        if not isinstance(p, dict) or set(p) != want:
            problems.append("%s[%d]: keys %r, expected %r" % (path, i, sorted(p), sorted(want)))
            continue
        if not all(isinstance(p[k], str) for k in ("id", "title", "severity", "enforcement")):
            problems.append("%s[%d]: id/title/severity/enforcement must be strings" % (path, i))
        for k in ("gates", "atlas", "aliases"):
            if not isinstance(p[k], list) or not all(isinstance(x, str) for x in p[k]):
                problems.append("%s[%d]: %s must be a list of strings" % (path, i, k))
        if not p["gates"] or not set(p["gates"]) <= set(GATES):
            problems.append("%s[%d]: bad gates %r" % (path, i, p["gates"]))
        if p["severity"] not in ("info", "low", "medium", "high", "critical"):
            problems.append("%s[%d]: bad severity %r" % (path, i, p["severity"]))
        if p["enforcement"] not in ("advisory", "soft", "hard"):
            problems.append("%s[%d]: bad enforcement %r" % (path, i, p["enforcement"]))
    ids = [p.get("id") for p in doc if isinstance(p, dict)]
    if ids != sorted(ids):
        problems.append("%s: policies not sorted by id" % path)
    return problems


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    problems = []
    if cmd == "report":
        for path in args:
            problems += check_report(path)
    elif cmd == "list":
        problems = check_list(args[0])
    elif cmd == "json":
        try:
            load(args[0])
        except (ValueError, UnicodeDecodeError) as e:
            problems = ["%s: not one JSON document: %s" % (args[0], e)]
    elif cmd == "xml":
        import xml.etree.ElementTree as ET
        try:
            ET.parse(args[0])
        except ET.ParseError as e:
            problems = ["%s: not well-formed XML: %s" % (args[0], e)]
    elif cmd == "q":
        r = load(args[0])
        v = eval(args[1], {"r": r, "len": len, "sorted": sorted, "set": set, "any": any,
                           "all": all})
        if isinstance(v, str):
            print(v)
        elif isinstance(v, bool):
            print("true" if v else "false")
        else:
            print(json.dumps(v, sort_keys=True))
        return 0
    else:
        sys.stderr.write("unknown command %s\n" % cmd)
        return 2
    for p in problems:
        sys.stderr.write(p + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
