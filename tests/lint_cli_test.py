#!/usr/bin/env python3
"""`promscope lint` as CI uses it: output formats, exit codes, --fail-on,
--disable/--enable, --ignore-metric, --baseline, --config, stdin and URLs.

    lint_cli_test.py PROMSCOPE CORPUS_DIR CASES_DIR

CORPUS_DIR is ../shared/corpus (node_exporter.prom has 68 problems),
CASES_DIR is testdata/lint.
"""
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

PROBLEMS = []
PS = None


def check(cond, what):
    if not cond:
        PROBLEMS.append(what)
    return cond


def run(*args, stdin=None):
    r = subprocess.run([PS, "lint", *args], capture_output=True, timeout=60,
                       input=stdin if stdin is not None else b"")
    return r.returncode, r.stdout.decode("utf-8"), r.stderr.decode("utf-8")


def lint_json(*args):
    rc, out, err = run("--output", "json", *args)
    try:
        return rc, json.loads(out), err
    except ValueError as e:
        PROBLEMS.append(f"lint --output json {' '.join(args)}: not JSON ({e}): {out[:200]!r}")
        return rc, [], err


TEXT_RE = re.compile(r"^(.+):(\d+):(\d+): (error|warning|info): (.+) \[([a-z-]+)\]$")
SUMMARY_RE = re.compile(r"^(\d+) problems? \((\d+) errors?, (\d+) warnings?, (\d+) info\)(; (\d+) hidden by the baseline)?$")


def test_text(node, cases):
    inputs = [os.path.join(cases, "camel-case.prom"), os.path.join(cases, "untyped.prom"), node]
    rc, out, _ = run(*inputs)
    lines = out.rstrip("\n").split("\n")
    check(rc == 1, f"text: exit {rc}, expected 1")
    m = SUMMARY_RE.match(lines[-1])
    if not check(m, f"text: last line is not the summary: {lines[-1]!r}"):
        return
    body = lines[:-1]
    sev = {"error": 0, "warning": 0, "info": 0}
    last = {}
    for ln in body:
        t = TEXT_RE.match(ln)
        if not check(t, f"text: line not SOURCE:LINE:COL: SEVERITY: MESSAGE [ID]: {ln!r}"):
            continue
        src, l, c = t.group(1), int(t.group(2)), int(t.group(3))
        check(src in inputs, f"text: unknown source {src!r}")
        check(last.get(src, (0, 0)) <= (l, c), f"text: not sorted by position at {ln!r}")
        last[src] = (l, c)
        sev[t.group(4)] += 1
    check(list(last) == inputs, f"text: inputs not in command-line order: {list(last)}")
    total, e, w, i = (int(m.group(k)) for k in range(1, 5))
    check(total == len(body) == e + w + i, f"text: summary {lines[-1]!r} vs {len(body)} lines")
    check((e, w, i) == (sev["error"], sev["warning"], sev["info"]), f"text: summary counts {lines[-1]!r} vs {sev}")
    check(w == 3 + 68 and i == 1 and e == 0, f"text: expected 71 warnings and 1 info: {lines[-1]!r}")


def test_json_github_sarif(node, cases):
    inputs = [os.path.join(cases, "histogram-consistency.prom"), os.path.join(cases, "untyped.prom"), node]
    rc, items, err = lint_json(*inputs)
    check(rc == 1, f"json: exit {rc}")
    keys = {"source", "line", "column", "severity", "rule", "metric", "message"}
    for it in items:
        check(set(it) == keys, f"json: fields {sorted(it)}")
    check(len(items) == 5 + 1 + 68, f"json: {len(items)} findings, expected 74")
    check("74 problems" in err, f"json: no summary on stderr: {err!r}")

    # github: one workflow command per finding, in the same order
    rc, out, _ = run("--output", "github", *inputs)
    lines = out.rstrip("\n").split("\n")
    check(rc == 1 and len(lines) == len(items), f"github: exit {rc}, {len(lines)} lines for {len(items)} findings")
    level = {"error": "error", "warning": "warning", "info": "notice"}
    for ln, it in zip(lines, items):
        m = re.match(r"^::(error|warning|notice) file=([^,]+),line=(\d+),col=(\d+),title=([a-z-]+)::(.+)$", ln)
        if not check(m, f"github: not a workflow command: {ln!r}"):
            continue
        check(m.group(1) == level[it["severity"]], f"github: level {m.group(1)} for {it['severity']}")
        check(m.group(2) == it["source"] and int(m.group(3)) == it["line"] and int(m.group(4)) == it["column"],
              f"github: location of {ln!r} vs {it}")
        check(m.group(5) == it["rule"] and m.group(6) == it["message"], f"github: {ln!r} vs {it}")

    # sarif: a SARIF 2.1.0 log with every rule and one result per finding
    rc, out, _ = run("--output", "sarif", *inputs)
    try:
        log = json.loads(out)
    except ValueError as e:
        PROBLEMS.append(f"sarif: not JSON: {e}")
        return
    check(rc == 1, f"sarif: exit {rc}")
    check(log.get("version") == "2.1.0" and "sarif-2.1.0" in log.get("$schema", ""), "sarif: version/$schema")
    runs = log.get("runs", [])
    if not check(len(runs) == 1, f"sarif: {len(runs)} runs"):
        return
    driver = runs[0]["tool"]["driver"]
    check(driver["name"] == "promscope", "sarif: driver name")
    ids = [r["id"] for r in driver["rules"]]
    check(len(ids) == len(set(ids)) >= 23 and "camel-case" in ids, f"sarif: rules {ids}")
    for r in driver["rules"]:
        check(r["shortDescription"]["text"] and r["defaultConfiguration"]["level"] in ("error", "warning", "note"),
              f"sarif: rule {r}")
    results = runs[0]["results"]
    check(len(results) == len(items), f"sarif: {len(results)} results for {len(items)} findings")
    level = {"error": "error", "warning": "warning", "info": "note"}
    for res, it in zip(results, items):
        check(res["ruleId"] == it["rule"] and ids[res["ruleIndex"]] == it["rule"], f"sarif: rule of {res}")
        check(res["level"] == level[it["severity"]], f"sarif: level of {res}")
        check(res["message"]["text"] == it["message"], f"sarif: message of {res}")
        loc = res["locations"][0]["physicalLocation"]
        uri = loc["artifactLocation"]["uri"]
        want = ("file://" + it["source"]) if it["source"].startswith("/") else it["source"]
        check(uri == want, f"sarif: uri {uri!r} for {it['source']!r}")
        check(loc["region"]["startLine"] == it["line"] and loc["region"]["startColumn"] == it["column"],
              f"sarif: region of {res}")
        check(res["properties"]["metric"] == it["metric"], f"sarif: metric of {res}")
    # no findings: still a valid log
    rc, out, _ = run("--output", "sarif", os.path.join(cases, "untyped-miss.prom"))
    check(rc == 0 and json.loads(out)["runs"][0]["results"] == [], f"sarif: empty log, exit {rc}")
    rc, out, _ = run("--output", "json", os.path.join(cases, "untyped-miss.prom"))
    check(rc == 0 and json.loads(out) == [], f"json: empty array, exit {rc}")


def test_exit_codes(node, cases, tmp):
    clean = os.path.join(cases, "help-missing-miss.prom")
    check(run(clean)[0] == 0, "exit 0 on a clean input")
    check(run(node)[0] == 1, "exit 1 on node_exporter.prom")
    for args, what in [(["--bogus", clean], "unknown option"), (["--output", "xml", clean], "bad --output"),
                       (["--fail-on", "fatal", clean], "bad --fail-on"), (["--disable", "no-such-rule", clean], "unknown rule"),
                       (["--ignore-metric", "(", clean], "bad regex"), (["--max-series", "-1", clean], "negative count"),
                       (["--max-series", "ten", clean], "bad count"), ([], "no INPUT"),
                       (["--format", "xml", clean], "bad --format"), (["--enable", "", clean], "empty rule list")]:
        rc, out, err = run(*args)
        check(rc == 2, f"{what}: exit {rc}, expected 2 ({err.strip()})")
        check(err.startswith("promscope lint: "), f"{what}: message {err!r}")
    rc, _, err = run("--disable", "camel-case,nope", clean)
    check("unknown rule 'nope'" in err, f"unknown rule message: {err!r}")
    missing = os.path.join(tmp, "missing.prom")
    rc, out, err = run(missing)
    check(rc == 3 and missing in err, f"missing input: exit {rc}: {err!r}")
    # the summary must not read as a clean result
    check(out == "0 problems (0 errors, 0 warnings, 0 info); 1 input not linted\n",
          f"missing input: summary {out!r}")
    rc, out, _ = run(missing, node)
    check(rc == 3 and "68 problems" in out, f"missing + findings: exit {rc}, expected 3 and the other input linted")
    check(out.endswith("; 1 input not linted\n"), f"missing + findings: summary {out.splitlines()[-1]!r}")
    rc, out, _ = run(missing, tmp, node)
    check(rc == 3 and out.endswith("; 2 inputs not linted\n"), f"missing + directory: exit {rc}, {out.splitlines()[-1]!r}")
    check(run(os.path.join(cases, "untyped.prom"))[0] == 0, "info findings do not fail by default")
    check(run("--fail-on", "info", os.path.join(cases, "untyped.prom"))[0] == 1, "--fail-on info")
    check(run("--fail-on", "error", node)[0] == 0, "--fail-on error with warnings only")
    check(run("--fail-on", "error", os.path.join(cases, "duplicate-series.prom"))[0] == 1, "--fail-on error with an error")
    check(run("--fail-on", "error", os.path.join(cases, "parse.prom"))[0] == 1, "a format error is an error")
    # stdin
    with open(os.path.join(cases, "counter-total.prom"), "rb") as f:
        data = f.read()
    rc, out, _ = run("-", stdin=data)
    check(rc == 1 and out.startswith("<stdin>:1:8: warning:"), f"stdin: exit {rc}: {out!r}")


def test_rule_switches(node, cases):
    rc, items, _ = lint_json("--disable", "camel-case", node)
    check(rc == 1 and len(items) == 2 and {i["rule"] for i in items} == {"base-unit"}, f"--disable camel-case: {len(items)}")
    rc, items, _ = lint_json("--disable", "all", "--enable", "base-unit", node)
    check(len(items) == 2, f"--disable all --enable base-unit: {len(items)}")
    rc, items, _ = lint_json("--disable", "camel-case,base-unit", node)
    check(rc == 0 and items == [], f"--disable a,b: exit {rc}, {len(items)}")
    rc, items, _ = lint_json("--ignore-metric", "node_memory_.*", "--ignore-metric", "node_netstat_.*", node)
    check(len(items) == 2, f"--ignore-metric x2: {len(items)} findings, expected the 2 base-unit ones")
    # anchored at both ends: "memory" alone matches no full name
    rc, items, _ = lint_json("--ignore-metric", "memory", node)
    check(len(items) == 68, f"--ignore-metric is anchored: {len(items)}")
    # parse errors are not ignored by metric
    rc, items, _ = lint_json("--ignore-metric", ".*", os.path.join(cases, "parse.prom"))
    check([i["rule"] for i in items] == ["parse"], f"--ignore-metric .* keeps parse: {items}")


def test_baseline(node, cases, tmp):
    bl = os.path.join(tmp, "baseline.json")
    rc, out, _ = run("--output", "json", node)
    with open(bl, "w") as f:
        f.write(out)
    rc, out, _ = run("--baseline", bl, node)
    check(rc == 0 and out == "0 problems (0 errors, 0 warnings, 0 info); 68 hidden by the baseline\n",
          f"baseline: exit {rc}: {out!r}")
    # a new problem shows and fails; the old ones stay hidden
    newer = os.path.join(tmp, "node_exporter.prom")
    with open(node) as f, open(newer, "w") as g:
        g.write(f.read())
        g.write("# HELP node_newThing_total A new camelCase counter.\n# TYPE node_newThing_total counter\nnode_newThing_total 1\n")
    rc, items, _ = lint_json("--baseline", bl, newer)
    check(rc == 1 and len(items) == 1 and items[0]["metric"] == "node_newThing_total",
          f"baseline + new finding: exit {rc}: {items}")
    # each entry hides as many findings as it occurs
    with open(os.path.join(cases, "reserved-label-name.prom")) as f:
        text = f.read()
    twice = os.path.join(tmp, "twice.prom")
    with open(twice, "w") as g:
        g.write(text.replace("requests_total", "a_total") + text.replace("requests_total", "b_total"))
    rc, items, _ = lint_json(twice)
    if not check(len(items) == 2, f"two families: {items}"):
        return
    entry = dict(items[0])
    entry["metric"] = "a_total"
    with open(bl, "w") as f:
        json.dump([entry], f)
    rc, items, _ = lint_json("--baseline", bl, twice)
    check(rc == 1 and len(items) == 1 and items[0]["metric"] == "b_total", f"one entry hides one finding: {items}")
    # bad baselines
    for content, what, want in [("{", "invalid JSON", ":1:"), ("{}", "not an array", "expected the JSON array"),
                                ('[{"rule": "x", "metric": "y"}]', "missing message", "[0].message: missing"),
                                ('[{"rule": 1, "metric": "y", "message": "z"}]', "rule not a string", "[0].rule: expected a string")]:
        with open(bl, "w") as f:
            f.write(content)
        rc, _, err = run("--baseline", bl, node)
        check(rc == 2 and want in err, f"baseline {what}: exit {rc}: {err!r}")
    rc, _, err = run("--baseline", os.path.join(tmp, "none.json"), node)
    check(rc == 3, f"missing baseline: exit {rc}")


def test_config(node, cases, tmp):
    cfg = os.path.join(tmp, "lint.json")

    def write(obj):
        with open(cfg, "w") as f:
            f.write(obj if isinstance(obj, str) else json.dumps(obj))

    write({"disable": ["camel-case"], "severity": {"base-unit": "error"}, "fail-on": "error"})
    rc, items, _ = lint_json("--config", cfg, node)
    check(rc == 1 and len(items) == 2 and all(i["severity"] == "error" for i in items), f"config: exit {rc}: {items[:1]}")
    # flags override: --fail-on, --enable, and --config anywhere on the line
    rc, items, _ = lint_json(node, "--enable", "camel-case", "--config", cfg)
    check(len(items) == 68, f"--enable over config: {len(items)}")
    write({"fail-on": "error", "disable": "camel-case,base-unit", "enable": ["base-unit"]})
    rc, items, _ = lint_json("--config", cfg, node)
    check(len(items) == 2, f"config disable then enable: {len(items)}")
    write({"ignore-metric": ["node_memory_.*"], "max-series": 10, "max-series-per-metric": 0,
           "max-label-values": 0, "output": "json", "format": "text-0.0.4"})
    rc, out, _ = run("--config", cfg, "--ignore-metric", "node_netstat_.*", "--disable", "base-unit", node)
    try:
        items = json.loads(out)
    except ValueError:
        items = None
    check(items is not None and [i["rule"] for i in items] == ["max-series"],
          f"config output/ignore/thresholds + flags: {out[:300]!r}")
    check(items and "507 series, more than the limit of 10" in items[0]["message"], f"max-series from config: {items}")
    # a relative baseline is relative to the config file
    sub = os.path.join(tmp, "cfgdir")
    os.makedirs(sub, exist_ok=True)
    rc, out, _ = run("--output", "json", node)
    with open(os.path.join(sub, "bl.json"), "w") as f:
        f.write(out)
    with open(os.path.join(sub, "lint.json"), "w") as f:
        json.dump({"baseline": "bl.json"}, f)
    rc, out, err = run("--config", os.path.join(sub, "lint.json"), node)
    check(rc == 0 and "68 hidden by the baseline" in out, f"config baseline path: exit {rc}: {out!r} {err!r}")
    # errors name the file and the JSON path; exit 2
    for obj, want in [('{"disable": [1]}', "disable[0]: expected a string, got an integer"),
                      ('{"max-series": "10"}', "max-series: expected a non-negative integer, got a string"),
                      ('{"max-series": -1}', "max-series: expected a non-negative integer"),
                      ('{"severity": {"camel-case": "high"}}', "severity.camel-case: invalid severity 'high'"),
                      ('{"severity": {"camel": "error"}}', "severity.camel: unknown rule 'camel'"),
                      ('{"severity": []}', "severity: expected an object"),
                      ('{"fail-on": true}', "fail-on: expected a string, got a boolean"),
                      ('{"disable": ["nope"]}', "disable[0]: unknown rule 'nope'"),
                      ('{"ignore-metric": ["("]}', "ignore-metric[0]: invalid regular expression"),
                      ('{"max_series": 1}', "max_series: unknown setting"),
                      ('[]', "expected a JSON object"),
                      ('{"output": "xml"}', "output: invalid output 'xml'"),
                      ('{"a": 1, "a": 2}', "duplicate object key"),
                      ('{"disable": ["camel-case",]}', "lint.json:1:")]:
        write(obj)
        rc, _, err = run("--config", cfg, node)
        check(rc == 2 and want in err and cfg in err, f"config {obj}: exit {rc}: {err!r} (want {want!r})")
    rc, _, err = run("--config", os.path.join(tmp, "nope.json"), node)
    check(rc == 3, f"missing config: exit {rc}")


class Handler(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *a):
        pass


def test_url(node):
    with open(node, "rb") as f:
        Handler.body = f.read()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/metrics"
        rc, items, err = lint_json("--timeout", "20s", url)
        check(rc == 1 and len(items) == 68 and all(i["source"] == url for i in items),
              f"URL input: exit {rc}, {len(items)} findings: {err!r}")
    finally:
        srv.shutdown()
        srv.server_close()


def main():
    global PS
    PS, corpus, cases = sys.argv[1:4]
    node = os.path.join(corpus, "node_exporter.prom")
    if not os.path.exists(node):
        print(f"{node} not found (../shared must be beside the repository)")
        return 1
    tmp = tempfile.mkdtemp(prefix="promscope-lint-")
    try:
        test_text(node, cases)
        test_json_github_sarif(node, cases)
        test_exit_codes(node, cases, tmp)
        test_rule_switches(node, cases)
        test_baseline(node, cases, tmp)
        test_config(node, cases, tmp)
        test_url(node)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for p in PROBLEMS:
        print(p)
    print(f"{len(PROBLEMS)} problems")
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(main())
