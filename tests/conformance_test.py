#!/usr/bin/env python3
"""The OpenMetrics 1.0 parser conformance suite, run as its upstream runner does.

    conformance_test.py PROMSCOPE SUITE_DIR

Every case folder in SUITE_DIR (../shared/conformance/openmetrics-1.0) holds
`metrics` and `test.json`. Its bytes are piped to
`promscope validate --format openmetrics -` and the exit status must be 0
exactly when `shouldParse` is true (DESIGN.md section 3). Beyond the exit
status, which is all the upstream runner checks, each result must also be
explained: a rejected case prints at least one diagnostic of the form
`<stdin>:LINE:COLUMN: error: MESSAGE [ID]` (1-based line and column inside
the input), an accepted one prints no error. A crash, a usage error (2) or a
runtime failure (3) is a disagreement whatever shouldParse says.

Every disagreeing case is reported by name; the test fails if there is one,
or if the suite does not hold its 211 cases.
"""
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

EXPECTED_CASES = 211
DIAG = re.compile(rb"^<stdin>:(\d+):(\d+): (error|warning|info): (.+) \[([a-z0-9-]+)\]$")


def run_case(promscope, folder):
    name = os.path.basename(folder)
    with open(os.path.join(folder, "test.json"), encoding="utf-8") as f:
        spec = json.load(f)
    with open(os.path.join(folder, spec.get("file", "metrics")), "rb") as f:
        data = f.read()
    should = spec["shouldParse"]
    try:
        r = subprocess.run([promscope, "validate", "--format", "openmetrics", "-"], input=data,
                           capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return name, should, "timed out after 60 s"
    problems = []
    if r.returncode < 0:
        problems.append(f"killed by signal {-r.returncode}")
    elif r.returncode not in (0, 1):
        problems.append(f"exit status {r.returncode} (expected {0 if should else 1})")
    elif (r.returncode == 0) != should:
        problems.append("accepted, but shouldParse is false" if r.returncode == 0
                        else "rejected, but shouldParse is true")
    lines = [l for l in r.stdout.split(b"\n") if l]
    errors = []
    nlines = data.count(b"\n") + 1
    for l in lines:
        m = DIAG.match(l)
        if not m:
            problems.append(f"output line not in the diagnostics format: {l[:200]!r}")
            continue
        line, col = int(m.group(1)), int(m.group(2))
        if not 1 <= line <= nlines or col < 1:
            problems.append(f"diagnostic position {line}:{col} outside the input: {l[:200]!r}")
        if m.group(3) == b"error":
            errors.append(l)
    if len(set(lines)) != len(lines):
        problems.append("the same diagnostic printed more than once")
    if r.returncode == 1 and not errors:
        problems.append("rejected without printing an error diagnostic")
    if r.returncode == 0 and errors:
        problems.append("accepted but printed error diagnostics")
    if r.stderr.strip() and r.returncode != 0 and r.returncode != 1:
        problems.append("stderr: " + r.stderr.decode("utf-8", "replace").strip()[:500])
    if problems:
        shown = b"\n".join(lines[:5]).decode("utf-8", "replace")
        return name, should, "; ".join(problems) + (f"\n    output: {shown}" if shown else "")
    return name, should, None


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    promscope, suite = argv
    if not os.path.isdir(suite):
        print(f"conformance suite not found at {suite}: the shared contract data must sit "
              f"beside the repository as ../shared", file=sys.stderr)
        return 1
    folders = sorted(os.path.join(suite, d) for d in os.listdir(suite)
                     if os.path.isfile(os.path.join(suite, d, "test.json")))
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda d: run_case(promscope, d), folders))
    bad = [(n, s, why) for n, s, why in results if why]
    for n, s, why in bad:
        print(f"DISAGREE {n} (shouldParse {str(s).lower()}): {why}")
    npass = sum(1 for _, s, _ in results if s)
    print(f"{len(results)} cases ({npass} shouldParse true, {len(results) - npass} false), "
          f"{len(results) - len(bad)} agree, {len(bad)} disagree")
    if len(results) != EXPECTED_CASES:
        print(f"expected {EXPECTED_CASES} cases in {suite}, found {len(results)}")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
