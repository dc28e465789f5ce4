#!/usr/bin/env python3
"""Parity with `promtool check metrics` (client_golang promlint).

    lint_promtool_test.py PROMSCOPE PROMTOOL CORPUS_DIR TESTDATA_DIR

For every .prom file in CORPUS_DIR (../shared/corpus) and under TESTDATA_DIR,
each problem promtool reports ("METRIC TEXT" lines) must map to a finding of
`promscope lint` with the matching rule id on the same metric. The one
documented exception (docs/lint-rules.md "Parity with promtool"): promtool
2.42 flags any type word in a name (`type-in-name`); lint only the family's
own type, so such a problem is accepted without a finding when the word is
not the family's TYPE. And a mapping: expfmt makes a `X_created` sample of a
text-format counter, histogram or summary `X` a family of its own; in our
model it belongs to `X` (as in OpenMetrics), so promtool's problem on
`X_created` maps to the same rule on `X`.

Files promtool cannot parse ("error while linting") have nothing to compare
and are counted as skipped. corpus/README.md says node_exporter.prom gives
68 problems: checked, so that a broken promtool run cannot pass silently.
"""
import json
import os
import re
import subprocess
import sys

# promlint message -> lint rule id
MESSAGES = [
    (re.compile(r"^no help text$"), "help-missing"),
    (re.compile(r'^use base unit "[a-z]+" instead of "[a-z]+"$'), "base-unit"),
    (re.compile(r'^counter metrics should have "_total" suffix$'), "counter-total"),
    (re.compile(r'^non-counter metrics should not have "_total" suffix$'), "non-counter-total"),
    (re.compile(r'^non-histogram (and non-summary )?metrics should not have "_(bucket|count|sum)" suffix$'),
     "reserved-suffix"),
    (re.compile(r'^non-(histogram|summary) metrics should not have "(le|quantile)" label$'), "reserved-label"),
    (re.compile(r"^metric name should not include type '([a-z_]+)'$"), "type-in-name"),
    (re.compile(r"^metric names should not contain ':'$"), "colon-in-name"),
    (re.compile(r"^(metric|label) names should be written in 'snake_case' not 'camelCase'$"), "camel-case"),
    (re.compile(r"^metric names should not contain abbreviated units$"), "unit-abbreviation"),
]


def family_type(text, metric):
    m = re.search(r"^# TYPE " + re.escape(metric) + r" (\S+)\s*$", text, re.M)
    return m.group(1) if m else "untyped"


def main():
    promscope, promtool, corpus, testdata = sys.argv[1:5]
    if not os.access(promtool, os.X_OK):
        print(f"{promtool} not found: install Debian's prometheus package (scripts/test does)")
        return 1
    files = sorted(os.path.join(corpus, f) for f in os.listdir(corpus) if f.endswith(".prom"))
    for root, _, names in os.walk(testdata):
        files += sorted(os.path.join(root, f) for f in names if f.endswith(".prom"))
    problems, compared, skipped, matched, excepted = [], 0, 0, 0, 0
    for path in files:
        with open(path, "rb") as f:
            data = f.read()
        r = subprocess.run([promtool, "check", "metrics"], input=data, capture_output=True, timeout=60)
        out = (r.stdout + r.stderr).decode("utf-8", "replace")
        if "error while linting" in out or r.returncode not in (0, 3):
            skipped += 1
            continue
        reported = [ln.split(" ", 1) for ln in out.splitlines() if ln.strip()]
        if os.path.basename(path) == "node_exporter.prom" and path.startswith(corpus) and len(reported) != 68:
            problems.append(f"{path}: promtool reported {len(reported)} problems, corpus/README.md says 68")
        lr = subprocess.run([promscope, "lint", "--output", "json", "--format", "text-0.0.4", path],
                            capture_output=True, timeout=60)
        if lr.returncode not in (0, 1):
            problems.append(f"{path}: promscope lint exited {lr.returncode}: {lr.stderr.decode(errors='replace')}")
            continue
        ours = {(f["metric"], f["rule"]) for f in json.loads(lr.stdout)}
        compared += 1
        text = data.decode("utf-8", "replace")
        for item in reported:
            if len(item) != 2:
                problems.append(f"{path}: cannot read promtool line {item!r}")
                continue
            metric, msg = item
            rule, word = None, None
            for rx, rid in MESSAGES:
                m = rx.match(msg)
                if m:
                    rule = rid
                    word = m.group(1) if rid == "type-in-name" else None
                    break
            if rule is None:
                problems.append(f"{path}: promtool message with no lint rule: {metric} {msg}")
                continue
            if (metric, rule) in ours:
                matched += 1
                continue
            base = metric[: -len("_created")] if metric.endswith("_created") else None
            if base and family_type(text, base) in ("counter", "histogram", "summary") and (base, rule) in ours:
                matched += 1  # the _created sample belongs to its family in our model
                continue
            if rule == "type-in-name" and word.replace("_", "") != family_type(text, metric):
                excepted += 1  # promtool 2.42's older semantics (any type word)
                continue
            problems.append(f"{path}: promtool: '{metric} {msg}'; lint has no '{rule}' finding on '{metric}'")
    for p in problems:
        print(p)
    print(f"{compared} files compared, {skipped} skipped (promtool cannot parse them), "
          f"{matched} promtool problems matched, {excepted} type-in-name exceptions, {len(problems)} problems")
    if compared < 5:
        print("too few files compared")
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
