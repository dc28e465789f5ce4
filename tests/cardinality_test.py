#!/usr/bin/env python3
"""`promscope cardinality` from files: series per family and distinct values
per label, checked against counts computed here independently, plus --top,
--by-label, the unbounded flag, JSON and table output, exit codes, and a
1,000,000-series input.

    cardinality_test.py PROMSCOPE CORPUS_DIR CASES_DIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

PROBLEMS = []
PS = None


def check(cond, what):
    if not cond:
        PROBLEMS.append(what)
    return cond


def card(*args, timeout=60):
    r = subprocess.run([PS, "cardinality", *args], capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return r.returncode, r.stdout.decode("utf-8"), r.stderr.decode("utf-8")


def card_json(*args, timeout=60):
    rc, out, err = card("--output", "json", *args, timeout=timeout)
    try:
        return rc, json.loads(out), err
    except ValueError as e:
        PROBLEMS.append(f"cardinality {' '.join(args)}: not JSON ({e}): {out[:200]!r} {err!r}")
        return rc, {}, err


def parse_labels(s):
    """label pairs of a text-format label block body (quote- and escape-aware)."""
    out, i = [], 0
    while i < len(s):
        while i < len(s) and s[i] in " ,":
            i += 1
        if i >= len(s):
            break
        j = s.index("=", i)
        name = s[i:j].strip()
        i = s.index('"', j) + 1
        val = []
        while s[i] != '"':
            if s[i] == "\\":
                val.append({"n": "\n", "\\": "\\", '"': '"'}.get(s[i + 1], "\\" + s[i + 1]))
                i += 2
            else:
                val.append(s[i])
                i += 1
        out.append((name, "".join(val)))
        i += 1
    return out


def reference(path):
    """Series per family and per-label statistics of a Prometheus text file."""
    types, fams, labels = {}, {}, {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for ln in lines:
        m = re.match(r"^# TYPE (\S+) (\S+)", ln)
        if m:
            types[m.group(1)] = m.group(2)
    for ln in lines:
        if not ln or ln.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s", ln)
        name = m.group(1)
        fam = name
        if name not in types:
            for suf, owners in (("_bucket", ("histogram",)), ("_count", ("histogram", "summary")),
                                ("_sum", ("histogram", "summary")),
                                ("_created", ("histogram", "summary", "counter"))):
                if name.endswith(suf) and types.get(name[: -len(suf)]) in owners:
                    fam = name[: -len(suf)]
        fams[fam] = fams.get(fam, 0) + 1
        for k, v in parse_labels(m.group(3) or ""):
            st = labels.setdefault(k, [set(), 0])
            st[0].add(v)
            st[1] += 1
    return fams, labels


def test_against_reference(corpus):
    for name in sorted(os.listdir(corpus)):
        if not name.endswith(".prom"):
            continue
        path = os.path.join(corpus, name)
        fams, labels = reference(path)
        rc, js, err = card_json("--top", "0", "--by-label", path)
        if not check(rc == 0, f"{name}: exit {rc}: {err!r}"):
            continue
        total = sum(fams.values())
        check(js["total_series"] == total, f"{name}: total {js['total_series']}, reference {total}")
        got = {f["name"]: f["series"] for f in js["families"]}
        check(js["families_total"] == len(fams) == len(got), f"{name}: {js['families_total']} families, reference {len(fams)}")
        for fam, n in fams.items():
            check(got.get(fam) == n, f"{name}: family {fam}: {got.get(fam)} series, reference {n}")
        order = [(-f["series"], f["name"]) for f in js["families"]]
        check(order == sorted(order), f"{name}: families not sorted by series, then name")
        check(abs(sum(f["share"] for f in js["families"]) - 1) < 1e-3, f"{name}: shares do not add up to 1")
        got = {l["name"]: l for l in js["labels"]}
        check(len(got) == len(labels), f"{name}: {len(got)} labels, reference {len(labels)}")
        for k, (vals, series) in labels.items():
            l = got.get(k)
            if not check(l is not None, f"{name}: label {k} missing"):
                continue
            check(l["values"] == len(vals) and l["series"] == series,
                  f"{name}: label {k}: {l['values']} values/{l['series']} series, reference {len(vals)}/{series}")
            check(set(l["examples"]) <= vals and len(l["examples"]) == min(3, len(vals)),
                  f"{name}: label {k}: examples {l['examples']}")
            check(not l["unbounded"], f"{name}: label {k} flagged unbounded: {l}")


def test_options(corpus, cases):
    node = os.path.join(corpus, "node_exporter.prom")
    rc, out, _ = card(node)
    lines = out.rstrip("\n").split("\n")
    check(rc == 0 and re.match(r"^ *SERIES +SHARE +TYPE +METRIC$", lines[0]), f"table header: {lines[:1]}")
    check(len(lines) == 1 + 10 + 1 + 1, f"table: default --top 10 gives 13 lines, got {len(lines)}")
    check(re.match(r"^\d+ series in \d+ families$", lines[-1]), f"table: last line {lines[-1]!r}")
    check(re.search(r"\(\d+ more families\)$", lines[-2]), f"table: rest line {lines[-2]!r}")
    rc, js, _ = card_json("--top", "3", node)
    check(len(js["families"]) == 3 and "labels" not in js, f"--top 3: {len(js['families'])} families")
    rc, js2, _ = card_json("--top", "3", node, node)
    check(js2["total_series"] == 2 * js["total_series"] and
          [f["series"] for f in js2["families"]] == [2 * f["series"] for f in js["families"]],
          "two inputs add up")
    rc, out, _ = card("--by-label", "--top", "2", os.path.join(cases, "unbounded-label.prom"))
    check(re.search(r"^ *VALUES +SERIES +LABEL +UNBOUNDED +EXAMPLES$", out, re.M), f"by-label table header: {out!r}")
    rc, js, _ = card_json("--by-label", "--top", "0", os.path.join(cases, "unbounded-label.prom"))
    flags = {l["name"]: (l["unbounded"], l["id_kind"]) for l in js["labels"]}
    want = {"user": (True, "uuid"), "client": (True, "ip"), "path": (True, "url-path"), "to": (True, "email"),
            "started": (True, "timestamp"), "sha": (True, "hex")}
    check(flags == want, f"unbounded flags: {flags}")
    rc, js, _ = card_json("--by-label", os.path.join(cases, "unbounded-label-miss.prom"))
    check(not any(l["unbounded"] for l in js["labels"]), f"near miss flagged: {js['labels']}")
    # exit codes
    for args, what in [(["--top", "x", node], "bad --top"), (["--output", "csv", node], "bad --output"),
                       (["--nope", node], "unknown option"), ([], "no INPUT")]:
        rc, _, err = card(*args)
        check(rc == 2 and err.startswith("promscope cardinality: "), f"{what}: exit {rc}: {err!r}")
    rc, _, err = card("/nonexistent/metrics.prom")
    check(rc == 3, f"missing input: exit {rc}")
    rc, out, err = card(os.path.join(cases, "parse.prom"))
    check(rc == 1 and "1 format error" in err and "1 series in 1 family" in out,
          f"invalid input: exit {rc}, report on the valid lines: {out!r} {err!r}")


def test_million(tmp):
    path = os.path.join(tmp, "million.prom")
    n = 1_000_000
    with open(path, "w") as f:
        f.write("# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n")
        for i in range(n - 1000):
            f.write(f'http_requests_total{{path="/api/items/{i}",code="{200 + i % 5}"}} {i}\n')
        f.write("# HELP up Up.\n# TYPE up gauge\n")
        for i in range(1000):
            f.write(f'up{{instance="10.1.{i // 256}.{i % 256}:9100"}} 1\n')
    t0 = time.monotonic()
    rc, js, err = card_json("--by-label", path, timeout=300)
    secs = time.monotonic() - t0
    check(rc == 0, f"1M series: exit {rc}: {err!r}")
    check(js.get("total_series") == n, f"1M series: total {js.get('total_series')}")
    labels = {l["name"]: l for l in js.get("labels", [])}
    check(labels.get("path", {}).get("values") == n - 1000 and labels["path"]["unbounded"], "1M series: path label")
    check(labels.get("code", {}).get("values") == 5 and not labels["code"]["unbounded"], "1M series: code label")
    check(labels.get("instance", {}).get("id_kind") == "ip", "1M series: instance label")
    # loose: seconds in a release build, well under a minute with sanitizers
    check(secs < 60, f"1M series took {secs:.1f} s")
    print(f"1M series with --by-label: {secs:.2f} s")


def main():
    global PS
    PS, corpus, cases = sys.argv[1:4]
    tmp = tempfile.mkdtemp(prefix="promscope-card-")
    try:
        test_against_reference(corpus)
        test_options(corpus, cases)
        test_million(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for p in PROBLEMS:
        print(p)
    print(f"{len(PROBLEMS)} problems")
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
