#!/usr/bin/env python3
"""Limits and resource exhaustion with real-size inputs (BAD-INPUTS A, B, C, E).

    limits_test.py PROMSCOPE [CASE...]

The inputs are generated here (megabytes that do not belong in git) and piped
to `promscope validate` with the default limits unless a case says otherwise.
Each case checks the exit status, the exact position and id of the findings,
and a wall-clock bound generous enough for an ASan+UBSan build on 2 cores;
the scaling cases check that quadrupling the input does not
multiply the time by more than 10 (linear would be 4, quadratic 16).
"""
import re
import subprocess
import sys
import time

DIAG = re.compile(r"^(.*?):(\d+):(\d+): (error|warning|info): (.*) \[([a-z0-9-]+)\]$")
MIB = 1 << 20


class Result:
    def __init__(self, r, secs):
        self.code = r.returncode
        self.secs = secs
        self.out = r.stdout.decode("utf-8", "replace")
        self.err = r.stderr.decode("utf-8", "replace")
        self.diags = []
        for l in self.out.splitlines():
            m = DIAG.match(l)
            if m:
                self.diags.append((m.group(4), int(m.group(2)), int(m.group(3)), m.group(6),
                                   m.group(5)))
        self.errors = [d for d in self.diags if d[0] == "error"]


def validate(promscope, data, args=(), path=None, timeout=300):
    cmd = [promscope, "validate"] + list(args) + [path or "-"]
    t = time.monotonic()
    r = subprocess.run(cmd, input=None if path else data, capture_output=True, timeout=timeout,
                       stdin=subprocess.DEVNULL if path else None)
    return Result(r, time.monotonic() - t)


def expect(res, code, errors, max_secs):
    """errors: list of (line, column or None, id) expected, in order."""
    problems = []
    if res.code != code:
        problems.append(f"exit status {res.code}, expected {code}")
    got = [(l, c, i) for _, l, c, i, _ in res.errors]
    want_ok = len(got) == len(errors) and all(
        g[0] == w[0] and (w[1] is None or g[1] == w[1]) and g[2] == w[2]
        for g, w in zip(got, errors))
    if not want_ok:
        problems.append(f"errors {got[:5]}{' ...' if len(got) > 5 else ''}, expected {errors}")
    if res.secs > max_secs:
        problems.append(f"took {res.secs:.1f} s, bound {max_secs} s")
    if res.code < 0:
        problems.append(f"killed by signal {-res.code}: {res.err[-500:]}")
    return problems


# ---- cases --------------------------------------------------------------

def a1_long_line(p):
    """A1: a 3 MiB line without newline: line-too-long at 1:1048577, once."""
    data = b"a" * (3 * MIB)
    return expect(validate(p, data), 1, [(1, MIB + 1, "line-too-long")], 60)


def a1_long_line_file(p, tmpdir):
    """A1 from a regular file (mapped, not piped)."""
    path = f"{tmpdir}/long_line.prom"
    with open(path, "wb") as f:
        f.write(b"a" * (3 * MIB))
    return expect(validate(p, None, path=path), 1, [(1, MIB + 1, "line-too-long")], 60)


def a12_long_help(p):
    """A12: a 2 MiB HELP text: line-too-long once, and checking ends there."""
    data = b"# HELP a " + b"x" * (2 * MIB) + b"\n# TYPE a gauge\na{ 1\n"
    return expect(validate(p, data), 1, [(1, MIB + 1, "line-too-long")], 60)


def a13_sample_limit(p):
    """A13: 1,000,001 distinct series: sample-limit at the first sample past 1,000,000."""
    n = 1_000_001
    data = b"".join(b's{i="%d"} 1\n' % i for i in range(n))
    return expect(validate(p, data), 1, [(n, 1, "sample-limit")], 240)


def a13_sample_limit_option(p):
    """A13 with --max-samples 10: the limit is an option."""
    data = b"".join(b"s%d 1\n" % i for i in range(20))
    return expect(validate(p, data, ["--max-samples", "10"]), 1, [(11, 1, "sample-limit")], 30)


def _labels(n):
    parts, cols, col = [], [], 3  # "a{" is columns 1-2
    for i in range(n):
        item = b'l%d="v"' % i
        cols.append(col)
        parts.append(item)
        col += len(item) + 1
    return b"a{" + b",".join(parts) + b"} 1\n", cols


def e1_label_limit(p):
    """E1: 300 labels: label-limit at the column of label #257."""
    data, cols = _labels(300)
    return expect(validate(p, data), 1, [(1, cols[256], "label-limit")], 30)


def e1_million_labels(p):
    """E1: 1e6 labels on one series (with the line cap raised): still stops at #257."""
    data, cols = _labels(1_000_000)
    res = validate(p, data, ["--max-line-bytes", str(64 * MIB)])
    return expect(res, 1, [(1, cols[256], "label-limit")], 60)


def e2_label_name(p):
    """E2: a 2 KiB label name (limit 1 KiB)."""
    data = b"a{" + b"n" * 2048 + b'="v"} 1\n'
    return expect(validate(p, data), 1, [(1, 3, "label-name-too-long")], 30)


def e2_label_value(p):
    """E2: a 100 KiB label value (limit 64 KiB), reported on line 1."""
    data = b'a{n="' + b"v" * (100 * 1024) + b'"} 1\nb 2\n'
    return expect(validate(p, data), 1, [(1, None, "label-value-too-long")], 30)


def e2_huge_label_value(p, tmpdir):
    """E2: a 100 MB label value in a file: the line cap stops it first, at 1:1048577."""
    path = f"{tmpdir}/huge_value.prom"
    with open(path, "wb") as f:
        f.write(b'a{n="' + b"v" * (100 * 1000 * 1000) + b'"} 1\nb 1\n')
    return expect(validate(p, None, path=path), 1, [(1, MIB + 1, "line-too-long")], 120)


def b5_backslashes(p):
    """B5: 10 MB of backslash pairs in a label value: valid, linear time."""
    data = b'a{b="' + b"\\\\" * (5 * 1000 * 1000) + b'"} 1\n'
    lim = str(32 * MIB)
    res = validate(p, data, ["--max-line-bytes", lim, "--max-label-value-bytes", lim])
    return expect(res, 0, [], 60)


def c16_long_number(p):
    """C16: a 1 MiB digit string as a value: a correct parse or number-too-long."""
    data = b"a " + b"0" * MIB + b"1\n"
    res = validate(p, data, ["--max-line-bytes", str(4 * MIB)])
    if res.code == 0:
        return expect(res, 0, [], 60)
    return expect(res, 1, [(1, 3, "number-too-long")], 60)


def _scaling(p, make, label):
    """Time for n and 4n inputs; the ratio must stay well below quadratic."""
    small, big = make(50_000), make(200_000)
    t_small = min(validate(p, small).secs for _ in range(2))
    res = validate(p, big)
    t_big = min(res.secs, validate(p, big).secs)
    problems = expect(res, 0, [], 120)
    ratio = t_big / max(t_small, 0.05)
    if ratio > 10:
        problems.append(f"{label}: 4x the input took {ratio:.1f}x the time "
                        f"({t_small:.2f} s -> {t_big:.2f} s)")
    return problems


def e3_many_families(p):
    """E3: 200k distinct families: linear time."""
    return _scaling(p, lambda n: b"".join(b"# TYPE f%d gauge\nf%d 1\n" % (i, i) for i in range(n)),
                    "families")


def d14_big_family(p):
    """D8/D14: one counter family of 200k series (duplicate check per series): linear."""
    return _scaling(p, lambda n: b"# TYPE c counter\n" + b"".join(
        b'c{i="%d"} 1\n' % i for i in range(n)), "series in one family")


def a14_dev_zero(p):
    """A14: /dev/zero never ends: an error at 1:1 (a NUL byte), bounded time."""
    try:
        res = validate(p, None, path="/dev/zero", timeout=120)
    except subprocess.TimeoutExpired:
        return ["did not finish within 120 s"]
    if not res.errors:
        return [f"exit status {res.code} without an error diagnostic: {res.err.strip()[:300]}"]
    first = res.errors[0]
    problems = []
    if res.code != 1:
        problems.append(f"exit status {res.code}, expected 1")
    if (first[1], first[2]) != (1, 1):
        problems.append(f"first error at {first[1]}:{first[2]}, expected 1:1")
    return problems


CASES = [a1_long_line, a1_long_line_file, a12_long_help, a13_sample_limit,
         a13_sample_limit_option, e1_label_limit, e1_million_labels, e2_label_name,
         e2_label_value, e2_huge_label_value, b5_backslashes, c16_long_number,
         e3_many_families, d14_big_family, a14_dev_zero]


def main(argv):
    import inspect
    import tempfile
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    promscope, only = argv[0], set(argv[1:])
    failed = 0
    with tempfile.TemporaryDirectory() as tmpdir:
        for case in CASES:
            if only and case.__name__ not in only:
                continue
            args = [promscope] + ([tmpdir] if len(inspect.signature(case).parameters) > 1 else [])
            try:
                problems = case(*args)
            except subprocess.TimeoutExpired as e:
                problems = [f"timed out after {e.timeout} s"]
            doc = case.__doc__.split("\n")[0]
            if problems:
                failed += 1
                print(f"FAIL {case.__name__}: {doc}\n  " + "\n  ".join(problems))
            else:
                print(f"ok   {case.__name__}: {doc}")
            sys.stdout.flush()
    print(f"{failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
