#!/usr/bin/env python3
"""Every lint rule fires on its input and stays silent on a near miss.

    lint_rules_test.py PROMSCOPE CASES_DIR LINT_H

CASES_DIR (testdata/lint) holds inputs (NAME.prom, NAME.om) and, next to
each, NAME.prom.expect / NAME.om.expect with one or more runs of
`promscope lint --output json [ARGS] INPUT`:

    # comment
    run: ARGS                    starts a run (the first run may omit it: no ARGS)
    RULE LINE:COL METRIC [~ TEXT]  a finding with this rule, position and metric
                                 ('-' for none) whose message contains TEXT
    !RULE                        no finding of this rule
    =RULE N                      exactly N findings of this rule
    exit N                       the exit status

Also checked: every rule id of lib/include/promscope/lint.h has at least one
case where it must fire and one near miss where it must not, so a new rule
cannot land without both; and docs/lint-rules.md (found from LINT_H) has a
section "### `ID`" with an example for every id and none for unknown ids.
"""
import json
import os
import re
import shlex
import subprocess
import sys


def parse_expect(path):
    runs, cur = [], None
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            if line.startswith("run:"):
                cur = {"args": shlex.split(line[4:]), "checks": [], "where": f"{path}:{n}"}
                runs.append(cur)
                continue
            if cur is None:
                cur = {"args": [], "checks": [], "where": f"{path}:{n}"}
                runs.append(cur)
            cur["checks"].append((n, line))
    return runs


def check_run(promscope, inp, run):
    problems, fired, silent = [], set(), set()
    args = [promscope, "lint", "--output", "json"] + run["args"] + [inp]
    r = subprocess.run(args, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    where = f"{os.path.basename(inp)} {' '.join(run['args'])}".strip()
    if r.returncode not in (0, 1):
        return [f"{where}: exit status {r.returncode}: {r.stderr.decode(errors='replace')}"], fired, silent
    try:
        findings = json.loads(r.stdout)
    except ValueError as e:
        return [f"{where}: output is not JSON ({e})"], fired, silent
    for n, line in run["checks"]:
        tag = f"{where} (expect line {n})"
        if line.startswith("!"):
            rule = line[1:].strip()
            bad = [f for f in findings if f["rule"] == rule]
            silent.add(rule)
            if bad:
                problems.append(f"{tag}: rule '{rule}' must be silent, got {bad[0]}")
        elif line.startswith("="):
            rule, count = line[1:].split()
            got = sum(1 for f in findings if f["rule"] == rule)
            if got != int(count):
                problems.append(f"{tag}: expected {count} findings of '{rule}', got {got}")
        elif line.startswith("exit "):
            want = int(line.split()[1])
            if r.returncode != want:
                problems.append(f"{tag}: expected exit status {want}, got {r.returncode}")
        else:
            m = re.match(r"^(\S+) (\d+):(\d+) (\S+)(?: ~ (.*))?$", line)
            if not m:
                problems.append(f"{tag}: cannot read expectation {line!r}")
                continue
            rule, ln, col, metric, text = m.groups()
            metric = "" if metric == "-" else metric
            hit = [f for f in findings if f["rule"] == rule and f["line"] == int(ln) and
                   f["column"] == int(col) and f["metric"] == metric and
                   (text is None or text in f["message"])]
            fired.add(rule)
            if not hit:
                near = [f"{f['line']}:{f['column']} {f['metric']} {f['message']}"
                        for f in findings if f["rule"] == rule]
                problems.append(f"{tag}: no finding '{line}'; findings of '{rule}': {near}")
            for f in findings:
                if f["source"] != inp:
                    problems.append(f"{tag}: source is {f['source']!r}, not {inp!r}")
                    break
    return problems, fired, silent


def main():
    promscope, cases, lint_h = sys.argv[1:4]
    with open(lint_h, encoding="utf-8") as f:
        ids = re.findall(r'X\(\s*[A-Z_]+\s*,\s*"([a-z-]+)"\s*,\s*PSC_SEV_', f.read())
    if len(ids) < 20:
        print(f"found only {len(ids)} rule ids in {lint_h}")
        return 1
    problems, fired, silent = [], set(), set()
    inputs = sorted(f for f in os.listdir(cases) if f.endswith((".prom", ".om")))
    for name in inputs:
        inp = os.path.join(cases, name)
        exp = inp + ".expect"
        if not os.path.exists(exp):
            problems.append(f"{name}: no {name}.expect")
            continue
        for run in parse_expect(exp):
            p, fi, si = check_run(promscope, inp, run)
            problems += p
            fired |= fi
            silent |= si
    for rule in ids:
        if rule not in fired:
            problems.append(f"rule '{rule}': no case where it must fire")
        if rule not in silent:
            problems.append(f"rule '{rule}': no near miss where it must stay silent")
    doc_path = os.path.join(os.path.dirname(lint_h), "..", "..", "..", "docs", "lint-rules.md")
    with open(doc_path, encoding="utf-8") as f:
        parts = re.split(r"^### `([a-z-]+)`[^\n]*$", f.read(), flags=re.M)
    sections = dict(zip(parts[1::2], parts[2::2]))
    for rule in ids:
        if rule not in sections:
            problems.append(f"docs/lint-rules.md: no section ### `{rule}`")
        elif "```" not in sections[rule]:
            problems.append(f"docs/lint-rules.md: the section of '{rule}' shows no example")
    for rule in sections:
        if rule not in ids:
            problems.append(f"docs/lint-rules.md: section for '{rule}', which is not a rule id")
    for p in problems:
        print(p)
    print(f"{len(inputs)} cases, {len(ids)} rules, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
