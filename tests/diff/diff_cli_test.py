#!/usr/bin/env python3
"""`promscope diff` from the command line: percentiles checked against a
hand computation, exit codes, usage errors, stdin, colour, escaping of
hostile label values, and the real corpus.

    diff_cli_test.py PROMSCOPE TESTDATA_DIFF CORPUS_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

FAILED = []


def check(cond, what):
    if cond:
        print(f"ok   {what}")
    else:
        print(f"FAIL {what}")
        FAILED.append(what)


def run(promscope, args, stdin=None, env=None, cwd=None):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    if env:
        e.update(env)
    r = subprocess.run([promscope] + args, input=stdin, capture_output=True, timeout=120,
                       env=e, cwd=cwd)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def test_percentiles(p, data):
    """testdata/diff/percentiles: buckets le 0.05, 0.1, 0.25, 0.5, 1, +Inf;
    --interval 10s. Expected values computed by hand with the rules of
    Prometheus' histogram_quantile (promql/quantile.go):

    method="get": old cumulative 100 150 180 195 200 200, new 140 220 270
      293 300 300: increases 40 70 90 98 100 100, 100 observations (10/s),
      sum 29 - 20 = 9, mean 0.09.
      p50: rank 50, first count >= 50 is le=0.1 (70); bucket (0.05, 0.1]
           holds 70 - 40 = 30, rank inside 50 - 40 = 10:
           0.05 + 0.05 * 10/30 = 0.0666...
      p90: rank 90 = count of le=0.25: 0.1 + 0.15 * (90-70)/(90-70) = 0.25
      p99: rank 99, le=1 (100); (0.5, 1] holds 2, rank inside 1: 0.75
    method="post": new 6 8 9 10 10 10 below old 50 80 90 95 100 100: every
      bucket reset, so the increase is the new value (as rate() does):
      10 observations (1/s), sum 1.5 (reset: new value), mean 0.15.
      p50: rank 5 in the lowest bucket (6), lower bound 0: 0.05 * 5/6
      p90: rank 9 = count of le=0.25 (9): 0.1 + 0.15 * (9-8)/(9-8) = 0.25
      p99: rank 9.9, le=0.5 (10): 0.25 + 0.25 * (9.9-9)/(10-9) = 0.475
    method="put": increases 0 0 0 0 1 3: 3 observations, 2 above le=1.
      p50: rank 1.5 is first reached by the +Inf bucket: the highest
           finite bound, 1; likewise p90 and p99.
    method="patch": old 10 20 30 30 30 30, new 12 15 40 40 40 40: le=0.1
      went down (reset), so its increase is 15; increases 2 15 10 10 10 10
      are not monotonic and become 2 15 15 15 15 15 (forced_monotonic),
      15 observations (1.5/s); mean = increase of _sum / increase of
      _count = (2 - 1) / (40 - 30) = 0.1, as rate(_sum) / rate(_count).
      p50: rank 7.5 in (0.05, 0.1] holding 13: 0.05 + 0.05 * 5.5/13
      p90: rank 13.5: 0.05 + 0.05 * 11.5/13
      p99: rank 14.85: 0.05 + 0.05 * 12.85/13
    method="idle": no observations: not listed.
    """
    want = {
        "get": dict(obs=100, rate=10, mean=0.09, reset=False, forced=False,
                    q=[0.05 + 0.05 * 10 / 30, 0.25, 0.75]),
        "post": dict(obs=10, rate=1, mean=0.15, reset=True, forced=False,
                     q=[0.05 * 5 / 6, 0.25, 0.475]),
        "put": dict(obs=3, rate=0.3, mean=7 / 3, reset=False, forced=False, q=[1, 1, 1]),
        "patch": dict(obs=15, rate=1.5, mean=0.1, reset=True, forced=True,
                      q=[0.05 + 0.05 * 5.5 / 13, 0.05 + 0.05 * 11.5 / 13,
                         0.05 + 0.05 * 12.85 / 13]),
    }
    code, out, err = run(p, ["diff", "--interval", "10s", "--quantiles", "0.5,0.9,0.99",
                             "--output", "json", "old.prom", "new.prom"],
                         cwd=os.path.join(data, "percentiles"))
    check(code == 1, f"percentiles: exit 1 (got {code}; {err.strip()})")
    doc = json.loads(out)
    got = {e["labels"]["method"]: e for e in doc.get("percentiles", [])}
    check(sorted(got) == sorted(want), f"percentiles: label sets {sorted(got)}")
    for m, w in want.items():
        e = got.get(m)
        if not e:
            continue
        qs = [e["quantiles"].get(k) for k in ("0.5", "0.9", "0.99")]
        ok = (close(e["observations"], w["obs"]) and close(e["rate"], w["rate"])
              and close(e["mean"], w["mean"]) and e["reset"] == w["reset"]
              and e["forced_monotonic"] == w["forced"]
              and all(isinstance(g, (int, float)) and close(g, x) for g, x in zip(qs, w["q"])))
        check(ok, f"percentiles: method={m} got obs={e['observations']} rate={e.get('rate')} "
                  f"mean={e.get('mean')} q={qs} reset={e['reset']}")


def test_usage(p, data):
    ec = os.path.join(data, "every-change")
    old, new = os.path.join(ec, "old.prom"), os.path.join(ec, "new.prom")
    cases = [
        ([], "no arguments"),
        ([old], "one argument"),
        ([old, new, new], "three arguments"),
        (["--output", "yaml", old, new], "bad --output"),
        (["--only", "everything", old, new], "bad --only"),
        (["--interval", "soon", old, new], "bad --interval"),
        (["--interval", "0s", old, new], "zero --interval"),
        (["--after", "2s", old], "--after with a file"),
        (["--after", "2s", "http://127.0.0.1:1/metrics", "http://127.0.0.1:1/metrics"],
         "--after with two URLs"),
        (["--after", "1s", "--interval", "1s", "http://127.0.0.1:1/metrics"],
         "--after with --interval"),
        (["--ignore-metric", "(", old, new], "bad regex"),
        (["--quantiles", "0.5,,0.9", old, new], "bad --quantiles"),
        (["--min-change", "-1", old, new], "negative --min-change"),
        (["--min-change", "x%", old, new], "bad --min-change percentage"),
        (["-", "-"], "both inputs stdin"),
        (["--no-such-option", old, new], "unknown option"),
    ]
    for args, what in cases:
        code, out, err = run(p, ["diff"] + args)
        check(code == 2 and err.startswith("promscope diff: ") and out == "",
              f"usage: {what} exits 2 with a message (got {code}: {err.strip()[:120]!r})")
    code, out, err = run(p, ["diff", "-h"])
    check(code == 0 and out.startswith("usage: promscope diff "), "-h prints the synopsis")


def test_exit_codes(p, data):
    def at(case):
        return os.path.join(data, case, "old.prom"), os.path.join(data, case, "new.prom")

    old, new = at("identical")
    code, out, _ = run(p, ["diff", old, new])
    check(code == 0 and out.rstrip().endswith("no differences"), "identical snapshots exit 0")
    code, out, _ = run(p, ["diff", old, old])
    check(code == 0, "a file against itself exits 0")
    old, new = at("only")
    for only, want in (("families", 0), ("metadata", 0), ("series", 1), ("values", 1),
                       ("families,values", 1)):
        code, out, _ = run(p, ["diff", "--only", only, old, new])
        check(code == want, f"--only {only} exits {want} (got {code})")
    code, out, _ = run(p, ["diff", "--only", "families", "--only", "metadata", old, new])
    check(code == 0 and "no differences" in out, "--only repeated")
    code, out, err = run(p, ["diff", os.path.join(data, "no-such-file.prom"), new])
    check(code == 3 and "no-such-file.prom" in err, f"missing file exits 3 naming it ({err.strip()})")


def test_stdin(p, data):
    d = os.path.join(data, "every-change")
    with open(os.path.join(d, "old.prom"), "rb") as f:
        old = f.read()
    code, out, err = run(p, ["diff", "--interval", "10s", "-", "new.prom"], stdin=old, cwd=d)
    with open(os.path.join(d, "expected.txt"), encoding="utf-8") as f:
        want = f.read().replace("--- old.prom", "--- <stdin>", 1)
    check(code == 1 and out == want, "OLD from stdin gives the golden output")


def test_colour(p, data):
    d = os.path.join(data, "every-change")
    code, out, _ = run(p, ["--color=always", "diff", "old.prom", "new.prom"], cwd=d)
    check(code == 1 and "\033[32m+" in out and "\033[31m-" in out and "\033[33m~" in out,
          "--color=always colours + - ~")
    code, out, _ = run(p, ["--color=never", "diff", "old.prom", "new.prom"], cwd=d)
    check("\033" not in out, "--color=never has no escapes")
    code, out, _ = run(p, ["diff", "old.prom", "new.prom"], cwd=d, env={"NO_COLOR": "1"})
    check("\033" not in out, "not a TTY: no escapes")


def test_hostile_values(p):
    with tempfile.TemporaryDirectory() as t:
        a, b = os.path.join(t, "a.prom"), os.path.join(t, "b.prom")
        with open(a, "wb") as f:
            f.write(b'# HELP x Help \x1b]52;c;Zm9v\x07 text.\n# TYPE x gauge\n'
                    b'x{v="\x1b[2J\xe2\x80\xae"} 1\n')
        with open(b, "wb") as f:
            f.write(b'# HELP x Other help.\n# TYPE x gauge\nx{v="\x1b[2J\xe2\x80\xae"} 2\n'
                    b'x{v="quote\\" back\\\\ nl\\n"} 3\n')
        for extra in ([], ["--output", "json"]):
            code, out, err = run(p, ["diff"] + extra + [a, b])
            check(code == 1 and "\x1b" not in out and "\x07" not in out,
                  f"control characters escaped ({' '.join(extra) or 'text'})")
        code, out, _ = run(p, ["diff", a, b])
        check('\\x1b[2J' in out and '\\x1b]52;c;Zm9v\\x07' in out, "escapes are visible as \\xNN")
        check('x{v="quote\\" back\\\\ nl\\n"}' in out, "label values quoted as in the exposition")
        code, out, _ = run(p, ["diff", "--output", "json", a, b])
        doc = json.loads(out)
        vals = sorted(e["labels"]["v"] for e in doc["series_added"] + doc["values_changed"])
        check(vals == sorted(['\x1b[2J\u202e', 'quote" back\\ nl\n']),
              f"JSON carries the exact label values ({vals!r})")


def test_corpus(p, corpus):
    for name in ("node_exporter", "prometheus", "pushgateway", "alertmanager"):
        path = os.path.join(corpus, name + ".prom")
        code, out, err = run(p, ["diff", path, path])
        check(code == 0 and "no differences" in out and err == "",
              f"corpus {name}.prom against itself: exit 0 (got {code}; {err.strip()[:200]})")
    a, b = os.path.join(corpus, "prometheus.prom"), os.path.join(corpus, "alertmanager.prom")
    code, out, err = run(p, ["diff", "--output", "json", a, b])
    doc = json.loads(out)
    check(code == 1 and doc["families_added"] and doc["families_removed"] and err == "",
          "corpus prometheus vs alertmanager: families added and removed")
    # the same scrape as text 0.0.4 and re-encoded as OpenMetrics: counters
    # are `x_total` families in text and `x` in OpenMetrics, and must pair up
    a, b = os.path.join(corpus, "pushgateway.prom"), os.path.join(corpus, "pushgateway.om")
    code, out, err = run(p, ["diff", "--output", "json", a, b])
    doc = json.loads(out)
    names = [e["family"] for e in doc["families_added"] + doc["families_removed"]]
    check(code in (0, 1) and not [n for n in names if not n.startswith("go_memstats_alloc_bytes")],
          f"corpus pushgateway .prom vs .om: no family added or removed but the known name "
          f"clash ({names})")


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    p, data, corpus = argv
    test_percentiles(p, data)
    test_usage(p, data)
    test_exit_codes(p, data)
    test_stdin(p, data)
    test_colour(p, data)
    test_hostile_values(p)
    if os.path.isdir(corpus):
        test_corpus(p, corpus)
    else:
        check(False, f"corpus folder {corpus} exists")
    print(f"{len(FAILED)} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
