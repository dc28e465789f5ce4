#!/usr/bin/env python3
"""Real /metrics output (../shared/corpus, see its README.md) through promscope.

    corpus_test.py PROMSCOPE CORPUS_DIR

Validation (BAD-INPUTS, issue 2 "Tests"):
  - every `*.prom` file (Prometheus text 0.0.4 from real servers) validates
    with exit 0, auto-detected and with an explicit --format, from a path and
    from stdin, with no error diagnostic;
  - `python_client.om` (genuine OpenMetrics 1.0) validates with exit 0;
  - the Go-encoded `*.om` files are rejected with exit 1, and a diagnostic
    names `go_memstats_alloc_bytes`, the family where the gauge
    `go_memstats_alloc_bytes` and the counter `go_memstats_alloc_bytes_total`
    clash once encoded as OpenMetrics.
Each check prints `ok` or `FAIL` with the reason; the test fails on any FAIL.
"""
import json
import os
import subprocess
import sys

GO_OM = ["alertmanager.om", "node_exporter.om", "prometheus.om", "pushgateway.om"]
PROM = ["alertmanager.prom", "node_exporter.prom", "prometheus.prom", "pushgateway.prom"]
GOOD_OM = ["python_client.om"]


class Checker:
    def __init__(self, promscope, corpus):
        self.promscope = promscope
        self.corpus = corpus
        self.failed = 0
        self.count = 0

    def run(self, args, stdin_file=None):
        data = None
        if stdin_file:
            with open(stdin_file, "rb") as f:
                data = f.read()
        return subprocess.run([self.promscope] + args, input=data, capture_output=True,
                              timeout=120, stdin=None if data is not None else subprocess.DEVNULL)

    def check(self, name, problems):
        self.count += 1
        if problems:
            self.failed += 1
            print(f"FAIL {name}: " + "; ".join(problems))
        else:
            print(f"ok   {name}")

    def path(self, f):
        return os.path.join(self.corpus, f)


def expect_valid(c, label, r):
    problems = []
    if r.returncode != 0:
        problems.append(f"exit status {r.returncode}, expected 0")
    errors = [l for l in r.stdout.decode("utf-8", "replace").splitlines() if ": error: " in l]
    if errors:
        problems.append(f"{len(errors)} errors, first: {errors[0][:300]}")
    if r.stderr.strip():
        problems.append("stderr: " + r.stderr.decode("utf-8", "replace").strip()[:300])
    c.check(label, problems)


def validate_checks(c):
    for f in PROM:
        p = c.path(f)
        expect_valid(c, f"validate {f}", c.run(["validate", p]))
        expect_valid(c, f"validate --format text-0.0.4 {f}",
                     c.run(["validate", "--format", "text-0.0.4", p]))
        expect_valid(c, f"validate - < {f}", c.run(["validate", "-"], stdin_file=p))
    for f in GOOD_OM:
        p = c.path(f)
        expect_valid(c, f"validate {f}", c.run(["validate", p]))
        expect_valid(c, f"validate --format openmetrics - < {f}",
                     c.run(["validate", "--format", "openmetrics", "-"], stdin_file=p))
    for f in GO_OM:
        p = c.path(f)
        for args in (["validate", p], ["validate", "--format", "openmetrics", p]):
            r = c.run(args)
            out = r.stdout.decode("utf-8", "replace")
            problems = []
            if r.returncode != 1:
                problems.append(f"exit status {r.returncode}, expected 1")
            named = [l for l in out.splitlines()
                     if ": error: " in l and "go_memstats_alloc_bytes" in l]
            if not named:
                problems.append("no error diagnostic names go_memstats_alloc_bytes; output: "
                                + out[:400])
            for l in named:
                if not l.startswith(p + ":"):
                    problems.append(f"diagnostic does not start with the path: {l[:200]}")
            c.check(" ".join(["promscope"] + args[:-1] + [f]), problems)
        # the JSON form carries the same finding, with the family in "metric"
        r = c.run(["validate", "--output", "json", p])
        problems = []
        try:
            diags = json.loads(r.stdout)
            hits = [d for d in diags if d.get("severity") == "error"
                    and ("go_memstats_alloc_bytes" in d.get("message", "")
                         or d.get("metric", "").startswith("go_memstats_alloc_bytes"))]
            if not hits:
                problems.append("no JSON error diagnostic about go_memstats_alloc_bytes")
            for d in hits:
                for k in ("source", "line", "column", "severity", "rule", "metric", "message"):
                    if k not in d:
                        problems.append(f"JSON diagnostic lacks '{k}'")
        except ValueError as e:
            problems.append(f"--output json is not JSON: {e}")
        if r.returncode != 1:
            problems.append(f"exit status {r.returncode}, expected 1")
        c.check(f"validate --output json {f}", problems)


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    promscope, corpus = argv
    missing = [f for f in PROM + GOOD_OM + GO_OM if not os.path.isfile(os.path.join(corpus, f))]
    if missing:
        print(f"corpus files missing in {corpus}: {', '.join(missing)} (the shared contract data "
              f"must sit beside the repository as ../shared)", file=sys.stderr)
        return 1
    c = Checker(promscope, corpus)
    validate_checks(c)
    print(f"{c.count} checks, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
