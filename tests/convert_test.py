#!/usr/bin/env python3
"""promscope convert on real /metrics output (../shared/corpus) and its CLI contract.

    convert_test.py PROMSCOPE CORPUS_DIR

For every file of the corpus (issue 2 "Tests", docs/convert.md):
  - `convert --to json` of a valid input is prom2json-shaped JSON whose
    series count (one per value, bucket, quantile, count and sum) equals the
    number of sample lines of the input;
  - the round trips text->text, OM->OM and OM->text give output that
    `promscope validate` accepts, and converting the output again gives the
    same bytes;
  - the Go-encoded `.prom` files (written by Go's expfmt) come out of
    text->text byte for byte unchanged;
  - the Go-encoded `.om` files are rejected, by `convert --to openmetrics` and
    by `validate`, with a message naming go_memstats_alloc_bytes, and nothing
    is written to stdout; the `.prom` files cannot become OpenMetrics for the
    same reason and the message names both families;
  - python_client.om converts to all three formats; its exemplars are
    reported as dropped for text and JSON.
Then the CLI contract: exit codes 0/1/2/3, stdin, diagnostics on stderr in
the SOURCE:LINE:COLUMN form, a timestamp text cannot express.
Each check prints `ok` or `FAIL` with the reason; the test fails on any FAIL.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

GO_OM = ["alertmanager.om", "node_exporter.om", "prometheus.om", "pushgateway.om"]
PROM = ["alertmanager.prom", "node_exporter.prom", "prometheus.prom", "pushgateway.prom"]
GOOD_OM = ["python_client.om"]


class Checker:
    def __init__(self, promscope, corpus):
        self.promscope = promscope
        self.corpus = corpus
        self.failed = 0
        self.count = 0

    def run(self, args, data=None):
        return subprocess.run([self.promscope] + args, input=data, capture_output=True, timeout=120,
                              stdin=None if data is not None else subprocess.DEVNULL)

    def check(self, name, problems):
        self.count += 1
        if problems:
            self.failed += 1
            print(f"FAIL {name}: " + "; ".join(problems))
        else:
            print(f"ok   {name}")

    def path(self, f):
        return os.path.join(self.corpus, f)


def sample_lines(data):
    """Sample lines of an exposition: not blank, not a # line."""
    return [l for l in data.decode("utf-8").split("\n") if l and not l.startswith("#")]


def json_series(doc):
    n = 0
    for fam in doc:
        for m in fam.get("metrics", []):
            if "value" in m:
                n += 1
            else:
                n += len(m.get("buckets", {})) + len(m.get("quantiles", {}))
                n += ("count" in m) + ("sum" in m)
    return n


def check_json_shape(doc):
    problems = []
    if not isinstance(doc, list):
        return ["top level is not an array"]
    for fam in doc:
        for key in ("name", "help", "type"):
            if not isinstance(fam.get(key), str):
                problems.append(f"family without string {key!r}: {str(fam)[:100]}")
        if fam.get("type") not in ("COUNTER", "GAUGE", "SUMMARY", "UNTYPED", "HISTOGRAM", "GAUGE_HISTOGRAM"):
            problems.append(f"family {fam.get('name')!r} has type {fam.get('type')!r}")
        for m in fam.get("metrics", []):
            for k, v in m.items():
                if isinstance(v, dict):
                    if not all(isinstance(x, str) for x in list(v.keys()) + list(v.values())):
                        problems.append(f"{fam.get('name')}: {k} has a non-string member")
                elif not isinstance(v, str):
                    problems.append(f"{fam.get('name')}: {k} is not a string")
        if len(problems) > 5:
            break
    return problems


def validate_output(c, out, fmt):
    """Problems when `validate --format fmt -` rejects out."""
    r = c.run(["validate", "--format", fmt, "-"], data=out)
    if r.returncode != 0:
        errs = [l for l in r.stdout.decode("utf-8", "replace").splitlines() if ": error: " in l]
        return [f"validate of the output exits {r.returncode}: " + (errs[0][:300] if errs else "")]
    return []


def round_trip(c, src, src_fmt, to, label):
    problems = []
    r = c.run(["convert", "--format", src_fmt, "--to", to, src])
    if r.returncode != 0:
        c.check(label, [f"exit {r.returncode}: {r.stderr.decode('utf-8', 'replace')[:300]}"])
        return None
    out = r.stdout
    if not out:
        problems.append("empty output")
    vfmt = "openmetrics" if to == "openmetrics" else "text"
    problems += validate_output(c, out, vfmt)
    r2 = c.run(["convert", "--format", vfmt, "--to", to, "-"], data=out)
    if r2.returncode != 0:
        problems.append(f"second conversion exits {r2.returncode}: {r2.stderr.decode('utf-8', 'replace')[:200]}")
    elif r2.stdout != out:
        problems.append("converting the output again changes it (not idempotent)")
    if to == "openmetrics" and not out.endswith(b"# EOF\n"):
        problems.append("OpenMetrics output does not end with '# EOF'")
    c.check(label, problems)
    return out


def check_json(c, name, src_fmt):
    f = c.path(name)
    with open(f, "rb") as fh:
        want = len(sample_lines(fh.read()))
    r = c.run(["convert", "--format", src_fmt, "--to", "json", f])
    problems = []
    if r.returncode != 0:
        problems.append(f"exit {r.returncode}: {r.stderr.decode('utf-8', 'replace')[:300]}")
    else:
        try:
            doc = json.loads(r.stdout)
        except ValueError as e:
            doc = None
            problems.append(f"not JSON: {e}")
        if doc is not None:
            problems += check_json_shape(doc)
            got = json_series(doc)
            if got != want:
                problems.append(f"{got} series in the JSON, {want} sample lines in the input")
            if not r.stdout.endswith(b"]\n"):
                problems.append("output does not end with ']\\n'")
    c.check(f"{name}: --to json has one series per sample line ({want})", problems)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    c = Checker(sys.argv[1], sys.argv[2])
    if not os.path.isdir(c.corpus):
        print(f"FAIL corpus folder {c.corpus} is missing (../shared beside the repository)")
        return 1

    for name in PROM:
        f = c.path(name)
        check_json(c, name, "text")
        out = round_trip(c, f, "text", "text", f"{name}: text -> text validates and is idempotent")
        with open(f, "rb") as fh:
            orig = fh.read()
        c.check(f"{name}: text -> text is byte for byte what Go's expfmt wrote",
                [] if out == orig else ["output differs from the input"])
        r = c.run(["convert", "--to", "openmetrics", f])
        err = r.stderr.decode("utf-8", "replace")
        problems = []
        if r.returncode != 1:
            problems.append(f"exit {r.returncode}, expected 1")
        if r.stdout:
            problems.append("something was written to stdout")
        if not ("gauge 'go_memstats_alloc_bytes'" in err and "counter 'go_memstats_alloc_bytes_total'" in err):
            problems.append(f"message does not name both families: {err[:300]}")
        if not re.search(re.escape(f) + r":\d+: ", err):
            problems.append("message does not give SOURCE:LINE")
        c.check(f"{name}: --to openmetrics fails naming gauge and counter go_memstats_alloc_bytes", problems)

    for name in GO_OM:
        f = c.path(name)
        for args, label in ((["convert", "--to", "openmetrics", f], "convert --to openmetrics"),
                            (["validate", f], "validate")):
            r = c.run(args)
            text = (r.stdout + r.stderr).decode("utf-8", "replace")
            problems = []
            if r.returncode != 1:
                problems.append(f"exit {r.returncode}, expected 1")
            if "go_memstats_alloc_bytes" not in text:
                problems.append("no message names go_memstats_alloc_bytes")
            if args[0] == "convert":
                if r.stdout:
                    problems.append("something was written to stdout")
                if not re.search(re.escape(f) + r":\d+:\d+: error: .*go_memstats_alloc_bytes.*\[[a-z-]+\]", text):
                    problems.append("no SOURCE:LINE:COLUMN: error: ... [ID] diagnostic on stderr")
            c.check(f"{name}: {label} rejects it naming go_memstats_alloc_bytes", problems)

    for name in GOOD_OM:
        f = c.path(name)
        check_json(c, name, "openmetrics")
        round_trip(c, f, "openmetrics", "openmetrics", f"{name}: OM -> OM validates and is idempotent")
        round_trip(c, f, "openmetrics", "text", f"{name}: OM -> text validates and is idempotent")
        with open(f, "rb") as fh:
            nx = fh.read().count(b" # {")
        for to in ("text", "openmetrics", "json"):
            r = c.run(["convert", "--to", to, f])
            err = r.stderr.decode("utf-8", "replace")
            problems = []
            if r.returncode != 0 or not r.stdout:
                problems.append(f"exit {r.returncode}, {len(r.stdout)} bytes: {err[:200]}")
            dropped = re.search(r"dropped (\d+) exemplars", err)
            if to == "openmetrics":
                if dropped:
                    problems.append("exemplars reported as dropped")
                if r.stdout.count(b" # {") != nx:
                    problems.append(f"{r.stdout.count(b' # {')} exemplars written, {nx} in the input")
            elif not dropped or int(dropped.group(1)) != nx:
                problems.append(f"expected a warning about {nx} dropped exemplars, got: {err[:200]}")
            c.check(f"{name}: converts to {to}", problems)
        # the text form folds back into the same OpenMetrics
        r1 = c.run(["convert", "--to", "openmetrics", f])
        r2 = c.run(["convert", "--to", "text", f])
        r3 = c.run(["convert", "--format", "text", "--to", "openmetrics", "-"], data=r2.stdout)
        c.check(f"{name}: OM -> text -> OM gives OM -> OM without the exemplars",
                [] if r3.returncode == 0 and r3.stdout == re.sub(rb" # \{[^\n]*", b"", r1.stdout)
                else [f"exit {r3.returncode}: {r3.stderr.decode('utf-8', 'replace')[:300]}"])

    # ---- CLI contract ----
    prom = c.path("pushgateway.prom")
    r = c.run(["convert", "--to", "json", "-"], data=open(prom, "rb").read())
    c.check("stdin '-' works", [] if r.returncode == 0 and r.stdout.startswith(b"[{") else [f"exit {r.returncode}"])
    for args, label in ((["convert", prom], "no --to"),
                        (["convert", "--to", "yaml", prom], "bad --to"),
                        (["convert", "--to", "text"], "no INPUT"),
                        (["convert", "--to", "text", prom, prom], "two INPUTs"),
                        (["convert", "--to", "text", "--format", "xml", prom], "bad --format"),
                        (["convert", "--frobnicate", "--to", "text", prom], "unknown option")):
        r = c.run(args)
        c.check(f"usage error ({label}) exits 2",
                [] if r.returncode == 2 and not r.stdout and r.stderr else [f"exit {r.returncode}"])
    r = c.run(["convert", "-h"])
    c.check("-h prints the synopsis",
            [] if r.returncode == 0 and r.stdout.startswith(b"usage: promscope convert --to") else [f"exit {r.returncode}"])
    with tempfile.TemporaryDirectory() as tmp:
        missing = os.path.join(tmp, "missing.prom")
        r = c.run(["convert", "--to", "text", missing])
        c.check("unreadable input exits 3",
                [] if r.returncode == 3 and missing.encode() in r.stderr and not r.stdout else [f"exit {r.returncode}"])
        bad = os.path.join(tmp, "bad.prom")
        with open(bad, "wb") as fh:
            fh.write(b"# TYPE a gauge\na{b=\"1\"} 1\na{b=\"1\"} 2\nc{d=} 3\n")
        r = c.run(["convert", "--to", "json", bad])
        err = r.stderr.decode("utf-8", "replace")
        problems = []
        if r.returncode != 1:
            problems.append(f"exit {r.returncode}")
        if r.stdout:
            problems.append("output written for an invalid input")
        for want in (f"{bad}:3:1: error: ", f"{bad}:4:"):
            if want not in err:
                problems.append(f"no diagnostic starting {want!r} in: {err[:300]}")
        if "[duplicate-series]" not in err:
            problems.append("no [duplicate-series] id")
        c.check("invalid input: diagnostics on stderr, no output, exit 1", problems)
        ts = os.path.join(tmp, "ts.om")
        with open(ts, "wb") as fh:
            fh.write(b"# TYPE a gauge\na 1 1.5\na{b=\"c\"} 1 1.0001\n# EOF\n")
        r = c.run(["convert", "--to", "text", ts])
        err = r.stderr.decode("utf-8", "replace")
        c.check("a timestamp that is not whole milliseconds cannot become text (exit 1, names the line)",
                [] if r.returncode == 1 and not r.stdout and f"{ts}:3: " in err and "line 3" in err
                else [f"exit {r.returncode}: {err[:300]}"])
        r = c.run(["convert", "--to", "openmetrics", ts])
        c.check("... but stays as it is in OpenMetrics",
                [] if r.returncode == 0 and b"a{b=\"c\"} 1.0 1.0001\n" in r.stdout and b"a 1.0 1.5\n" in r.stdout
                else [f"exit {r.returncode}: {r.stdout[:200]!r}"])

        # --format decides for files; detection only fills in for auto. This
        # file looks like OpenMetrics (it ends with # EOF), where 'untyped'
        # is no type; as text it is valid and # EOF is just a comment.
        looks_om = os.path.join(tmp, "looks-om.prom")
        with open(looks_om, "wb") as fh:
            fh.write(b"# TYPE a untyped\na 1\n# EOF\n")
        r = c.run(["convert", "--format", "text", "--to", "json", looks_om])
        c.check("--format text wins over the detected format of a file",
                [] if r.returncode == 0 and b'"UNTYPED"' in r.stdout
                else [f"exit {r.returncode}: {r.stdout[:200]!r} {r.stderr[:200]!r}"])
        r = c.run(["convert", "--to", "json", looks_om])
        c.check("... and without --format the file is detected as OpenMetrics",
                [] if r.returncode == 1 and not r.stdout
                else [f"exit {r.returncode}: {r.stdout[:200]!r} {r.stderr[:200]!r}"])

    print(f"{c.count - c.failed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
