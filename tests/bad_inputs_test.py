#!/usr/bin/env python3
"""The rows of ../shared/BAD-INPUTS.md (sections A-E and H) that need the
whole program, real-size inputs, or a bound on memory and time.

    bad_inputs_test.py PROMSCOPE [CASE...]

Each case is named after its row (a1_..., e5_...) and checks the exit
status, the id, line and column of the findings, the peak RSS of the
promscope process (GNU time's %M, so that the size of this Python process
does not count) and its wall time. Memory bounds are those of the
documentation (docs/formats.md, docs/performance.md, docs/convert.md) with
room for an AddressSanitizer build, detected from the binary. Rows that
small inputs cover are golden cases (testdata/) and tests/limits_test.py;
docs/reliability.md has the table of every row and its test.

PROMSCOPE_SLOW_TESTS=1 also runs the cases that take minutes (A15: more than
2^32 lines).
"""
import http.server
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

DIAG = re.compile(r"^(.*?):(\d+):(\d+): (error|warning|info): (.*) \[([a-z0-9-]+)\]$")
MIB = 1 << 20
TIME = "/usr/bin/time"


class Run:
    """One promscope run: exit status, output, findings, peak RSS (KiB) and
    wall time; `fed` counts the stdin bytes promscope accepted."""

    def __init__(self, code, out, err, rss_kib, secs, fed):
        self.code, self.out, self.err = code, out, err
        self.rss_kib, self.secs, self.fed = rss_kib, secs, fed
        self.text = out.decode("utf-8", "replace")
        self.errtext = err.decode("utf-8", "replace")
        self.diags = []
        for line in self.text.splitlines():
            m = DIAG.match(line)
            if m:
                self.diags.append((m.group(4), int(m.group(2)), int(m.group(3)), m.group(6), m.group(5)))
        self.errors = [(l, c, i) for s, l, c, i, _ in self.diags if s == "error"]


def run(promscope, args, data=None, gen=None, timeout=300, env=None):
    """Run promscope under GNU time. stdin: `data` bytes, or the chunks of
    `gen()` written by a thread (a closed pipe ends the writing: promscope
    may stop reading early, which is what some cases check), or nothing."""
    fd, tf = tempfile.mkstemp(prefix="promscope-rss-")
    os.close(fd)
    # meson test sets MALLOC_PERTURB_, which makes glibc write every block it
    # hands out: the RSS would then be the memory allocated, not the memory
    # used. The bounds here are about what a user sees.
    env = dict(os.environ if env is None else env)
    env.pop("MALLOC_PERTURB_", None)
    feed = data is not None or gen is not None
    start = time.monotonic()
    p = subprocess.Popen([TIME, "-f", "%M", "-o", tf, promscope] + list(args),
                         stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    fed = [0]

    def writer():
        try:
            for chunk in (gen() if gen else [data]):
                p.stdin.write(chunk)
                fed[0] += len(chunk)
        except (BrokenPipeError, ConnectionResetError, ValueError):
            pass
        finally:
            try:
                p.stdin.close()
            except OSError:
                pass

    th = threading.Thread(target=writer, daemon=True) if feed else None
    if th:
        th.start()
    box = {}

    def reader(name, f, cap):
        box[name] = f.read(cap)
        f.read()  # drain: a blocked writer would hang promscope

    readers = [threading.Thread(target=reader, args=("out", p.stdout, 64 * MIB), daemon=True),
               threading.Thread(target=reader, args=("err", p.stderr, 4 * MIB), daemon=True)]
    for r in readers:
        r.start()
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise
    finally:
        for r in readers:
            r.join(timeout=30)
        if th:
            th.join(timeout=30)
    secs = time.monotonic() - start
    with open(tf) as f:
        lines = f.read().strip().splitlines()
    os.unlink(tf)
    rss = int(lines[-1]) if lines and lines[-1].isdigit() else -1
    return Run(p.returncode, box.get("out", b""), box.get("err", b""), rss, secs, fed[0])


class Env:
    """What the cases share: the binary, a temporary folder, ASan or not."""

    def __init__(self, promscope, tmp):
        self.p = promscope
        self.tmp = tmp
        with open(promscope, "rb") as f:
            self.asan = b"__asan_init" in f.read()
        base = run(promscope, ["validate", "-"], data=b"a 1\n")
        self.base_kib = base.rss_kib

    def mem(self, plain_mib, asan_mib):
        """A peak-RSS bound in KiB: the process' baseline plus the case's own
        bound (AddressSanitizer keeps shadow memory and a quarantine of
        freed blocks, so its bound is larger)."""
        return self.base_kib + (asan_mib if self.asan else plain_mib) * 1024

    def path(self, name):
        return os.path.join(self.tmp, name)


def expect(r, code, errors=None, max_secs=None, max_kib=None, out_has=(), err_has=()):
    """errors: list of (line, column or None, id), all error findings in
    order; None: not checked."""
    problems = []
    if r.code < 0:
        problems.append(f"killed by signal {-r.code}: {r.errtext[-300:]}")
    if r.code != code:
        problems.append(f"exit status {r.code}, expected {code}; stderr: {r.errtext[:300]}")
    if errors is not None:
        ok = len(r.errors) == len(errors) and all(
            g[0] == w[0] and (w[1] is None or g[1] == w[1]) and g[2] == w[2] for g, w in zip(r.errors, errors))
        if not ok:
            problems.append(f"errors {r.errors[:5]}{' ...' if len(r.errors) > 5 else ''}, expected {errors}")
    if max_secs is not None and r.secs > max_secs:
        problems.append(f"took {r.secs:.1f} s, bound {max_secs} s")
    if max_kib is not None and not 0 < r.rss_kib <= max_kib:
        problems.append(f"peak RSS {r.rss_kib} KiB, bound {max_kib} KiB")
    for s in out_has:
        if s not in r.text:
            problems.append(f"stdout lacks {s!r}: {r.text[:300]!r}")
    for s in err_has:
        if s not in r.errtext:
            problems.append(f"stderr lacks {s!r}: {r.errtext[:300]!r}")
    return problems


def note(r):
    return f"{r.rss_kib} KiB peak, {r.secs:.2f} s"


def repeat(chunk, total):
    """A generator of `total` bytes made of `chunk` (without materialising them)."""
    def gen():
        left = total
        while left > 0:
            c = chunk if left >= len(chunk) else chunk[:left]
            yield c
            left -= len(c)
    return gen


def write_file(path, gen):
    with open(path, "wb") as f:
        for chunk in gen():
            f.write(chunk)
    return path


# ---- A. bytes, framing, size ----------------------------------------------

LINE_100MB = repeat(b"a" * MIB, 100 * MIB)


def a1_stdin(e):
    """A1: a 100 MiB line without newline on stdin: line-too-long at 1:1048577, reading stops, small RSS."""
    r = run(e.p, ["validate", "--max-size", "200MiB", "-"], gen=LINE_100MB)
    problems = expect(r, 1, [(1, MIB + 1, "line-too-long")], 60, e.mem(16, 96))
    if r.fed >= 100 * MIB:
        problems.append(f"promscope read all {r.fed} bytes; it should stop after the limit")
    return problems, note(r) + f", {r.fed >> 20} MiB written before promscope closed stdin"


def a1_file(e):
    """A1: the same line in a regular file: the same finding, small RSS."""
    path = write_file(e.path("a1.prom"), LINE_100MB)
    r = run(e.p, ["validate", path])
    return expect(r, 1, [(1, MIB + 1, "line-too-long")], 60, e.mem(16, 96)), note(r)


def a1_file_model_commands(e):
    """A1: lint, convert and cardinality on the 100 MiB line: the finding at 1:1048577; the file is mapped, never copied."""
    path = e.path("a1.prom")
    if not os.path.exists(path):
        write_file(path, LINE_100MB)
    problems, notes = [], []
    for args, code, pat in ((["lint"], 1, ":1:1048577: error: line exceeds"),
                            (["convert", "--to", "json"], 1, ":1:1048577: error: line exceeds"),
                            (["cardinality"], 1, "line exceeds the limit")):
        r = run(e.p, args + [path])
        # the mapping of the file may count once (100 MiB), a copy would be a second time
        problems += [f"{args[0]}: {p}" for p in expect(r, code, None, 60, e.mem(100 + 32, 100 + 160))]
        if pat not in r.text + r.errtext:
            problems.append(f"{args[0]}: output lacks {pat!r}: {(r.text + r.errtext)[:300]!r}")
        notes.append(f"{args[0]} {r.rss_kib} KiB")
    return problems, ", ".join(notes)


class BodyServer:
    """A loopback HTTP server answering every GET with a generated body."""

    def __init__(self, gen, content_type="text/plain; version=0.0.4"):
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    for chunk in outer.gen():
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.gen = gen
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d/metrics" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def a1_http(e):
    """A1 over HTTP: a 10 MiB line: line-too-long at 1:1048577; a 100 MiB body: over --max-size, exit 3."""
    env = dict(os.environ, no_proxy="127.0.0.1", NO_PROXY="127.0.0.1")
    for k in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(k, None)
    problems, notes = [], []
    s = BodyServer(repeat(b"a" * MIB, 10 * MIB))
    try:
        r = run(e.p, ["validate", s.url], env=env, timeout=120)
        problems += expect(r, 1, [(1, MIB + 1, "line-too-long")], 60, e.mem(10 + 32, 10 + 160))
        notes.append("10 MiB: " + note(r))
    finally:
        s.close()
    s = BodyServer(LINE_100MB)
    try:
        r = run(e.p, ["validate", s.url], env=env, timeout=120)
        problems += expect(r, 3, [], 60, e.mem(64 + 32, 64 * 2 + 160), err_has=["exceeds 64 MiB"])
        notes.append("100 MiB: " + note(r))
    finally:
        s.close()
    return problems, "; ".join(notes)


def a12_help(e):
    """A12: a 50 MB # HELP text: line-too-long at 1:1048577, small RSS."""
    def gen():
        yield b"# HELP a "
        yield from repeat(b"x" * MIB, 50 * 1000 * 1000)()
        yield b"\n# TYPE a gauge\na 1\n"
    r = run(e.p, ["validate", "-"], gen=gen)
    return expect(r, 1, [(1, MIB + 1, "line-too-long")], 60, e.mem(16, 96)), note(r)


def series_gen(n, fmt=b's{i="%d"} 1\n'):
    def gen():
        step = 100_000
        for start in range(0, n, step):
            yield b"".join(fmt % i for i in range(start, min(n, start + step)))
    return gen


def a13_ten_million_series(e):
    """A13: 10 M tiny distinct series (169 MB): sample-limit at line 1000001; the rest is not read."""
    r = run(e.p, ["validate", "--max-size", "1GiB", "-"], gen=series_gen(10_000_000), timeout=600)
    # The streaming validator keeps one record per label set of the current
    # family (docs/performance.md "Why memory stays flat"): here 1,000,000.
    problems = expect(r, 1, [(1_000_001, 1, "sample-limit")], 240, e.mem(640, 1600))
    if r.fed >= 150 * 1000 * 1000:
        problems.append(f"promscope read {r.fed} bytes: it should stop at the limit")
    return problems, note(r) + f", {r.fed // 1000000} MB written before promscope closed stdin"


def a14_urandom(e):
    """A14: /dev/urandom: errors from 1:1 on, at most 10000 listed, then the 64 MiB cap: exit 3, bounded."""
    r = run(e.p, ["validate", "/dev/urandom"], timeout=120)
    # the 10000 findings listed are kept in memory until printed
    problems = expect(r, 3, None, 60, e.mem(24, 160), err_has=["exceeds the --max-size limit of 67108864 bytes"])
    if not r.errors or r.errors[0][0] != 1:
        problems.append(f"first error {r.errors[:1]}, expected one on line 1")
    if len(r.diags) > 10000 or "more diagnostics not shown" not in r.text:
        problems.append(f"{len(r.diags)} diagnostics printed, expected at most 10000 and a 'not shown' line")
    return problems, note(r)


def a14_fifo(e):
    """A14: a FIFO whose writer never stops: the --max-size cap ends it (exit 3)."""
    path = e.path("fifo")
    os.mkfifo(path)
    stop = threading.Event()

    def writer():
        # bounded: 256 MiB at most, or until promscope closes its end
        try:
            with open(path, "wb") as f:
                line = b"# a comment line that never ends the exposition\n" * 4096
                for _ in range((256 * MIB) // len(line)):
                    if stop.is_set():
                        break
                    f.write(line)
        except (BrokenPipeError, OSError):
            pass

    th = threading.Thread(target=writer, daemon=True)
    th.start()
    try:
        r = run(e.p, ["validate", "--max-size", "8MiB", path], timeout=120)
    finally:
        stop.set()
        # unblock a writer still waiting in open() if promscope never opened the FIFO
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass
        th.join(timeout=30)
    # comment lines: no findings, no state; exit status 3 as the input
    # could not be read whole
    problems = expect(r, 3, [], 60, e.mem(16, 96), err_has=["exceeds the --max-size limit of 8388608 bytes"])
    return problems, note(r)


def a15_beyond_32_bits(e):
    """A15: more than 2^32 lines (4 GiB): the error on line 4294967302, column 4 (PROMSCOPE_SLOW_TESTS=1)."""
    if os.environ.get("PROMSCOPE_SLOW_TESTS") != "1":
        return None, "skipped: takes minutes; set PROMSCOPE_SLOW_TESTS=1"
    n = (1 << 32) + 5

    def gen():
        yield from repeat(b"\n" * (4 * MIB), n)()
        yield b"x{ 1\n"
    r = run(e.p, ["validate", "--max-size", "5GiB", "-"], gen=gen, timeout=3600)
    return expect(r, 1, [(n + 1, 4, "invalid-label-name")], None, e.mem(16, 96)), note(r)


# ---- B, C ------------------------------------------------------------------

def b5_backslashes(e):
    """B5: 10 MB of backslash pairs in a label value: valid, linear, and the decoded value is 5,000,000 bytes."""
    import json
    data = b'a{b="' + b"\\\\" * 5_000_000 + b'"} 1\n'
    lim = str(32 * MIB)
    r = run(e.p, ["convert", "--to", "json", "--max-line-bytes", lim, "--max-label-value-bytes", lim, "-"],
            data=data)
    problems = expect(r, 0, [], 60, e.mem(10 * 12, 10 * 40))
    try:
        doc = json.loads(r.out)
        v = doc[0]["metrics"][0]["labels"]["b"]
        if v != "\\" * 5_000_000:
            problems.append(f"decoded value has {len(v)} bytes, expected 5000000 backslashes")
    except (ValueError, LookupError, TypeError) as x:
        problems.append(f"unexpected JSON output ({x}): {r.text[:200]!r}")
    return problems, note(r)


def c16_million_digits(e):
    """C16: a 1 MiB digit string as a value: number-too-long at the value's column, bounded."""
    r = run(e.p, ["validate", "--max-line-bytes", str(4 * MIB), "-"], data=b"a " + b"7" * MIB + b"\n")
    return expect(r, 1, [(1, 3, "number-too-long")], 30, e.mem(16, 96)), note(r)


# ---- D ------------------------------------------------------------------------

def d15_le_on_histogram(e):
    """D15: `le` on a histogram's _sum or _count: reserved-label at the label, text and OpenMetrics."""
    problems = []
    for fmt, eof in (("text-0.0.4", b""), ("openmetrics", b"# EOF\n")):
        for data, pos in ((b'# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum{le="1"} 1\nh_count 1\n', (3, 7)),
                          (b'# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count{le="1"} 1\n', (4, 9))):
            r = run(e.p, ["validate", "--format", fmt, "-"], data=data + eof)
            # only this finding is required: follow-up findings about the same
            # line are a known weakness (docs/reliability.md)
            if r.code != 1 or (pos[0], pos[1], "reserved-label") not in r.errors:
                problems.append(f"{fmt}: exit {r.code}, errors {r.errors}, expected reserved-label at {pos}")
    return problems, ""


# ---- E. cardinality and resource exhaustion --------------------------------

def e1_million_labels_memory(e):
    """E1: 1e6 labels on one series (8 MB line): label-limit at label #257; memory O(line), not O(labels)."""
    parts, col = [], 3
    for i in range(1_000_000):
        parts.append(b'l%d="v"' % i)
    data = b"a{" + b",".join(parts) + b"} 1\n"
    col257 = 3 + sum(len(p) + 1 for p in parts[:256])
    r = run(e.p, ["validate", "--max-line-bytes", str(64 * MIB), "-"], data=data)
    # the line is buffered whole (streaming is per line): 2 x 8 MB at most
    return expect(r, 1, [(1, col257, "label-limit")], 60, e.mem(32, 128)), note(r)


def e2_huge_value_stdin(e):
    """E2: a 100 MB label value on stdin: the line cap stops it at 1:1048577 before the value is buffered."""
    def gen():
        yield b'a{n="'
        yield from repeat(b"v" * MIB, 100 * 1000 * 1000)()
        yield b'"} 1\nb 1\n'
    r = run(e.p, ["validate", "--max-size", "200MiB", "-"], gen=gen)
    return expect(r, 1, [(1, MIB + 1, "line-too-long")], 60, e.mem(16, 96)), note(r)


def e3_million_families(e):
    """E3: 1,000,001 distinct family names: sample-limit at line 1000001, linear time."""
    r = run(e.p, ["validate", "--max-size", "1GiB", "-"], gen=series_gen(1_000_001, b"f%d 1\n"))
    return expect(r, 1, [(1_000_001, 1, "sample-limit")], 120, e.mem(512, 1400)), note(r)


def _colliding(n, pairs):
    """n distinct strings that all have the same hash under h = h * M + c,
    built from blocks of equal-hash pairs (e.g. "Aa" and "BB" for M = 31)."""
    bits = max(1, (n - 1).bit_length())
    out = []
    for i in range(n):
        out.append(b"".join(pairs[(i >> k) & 1] for k in range(bits)))
    return out


def _plain(n, width):
    return [(b"k%0*d" % (width - 1, i)) for i in range(n)]


def _check_collisions(keys, m):
    hs = set()
    for k in keys:
        h = 0
        for c in k:
            h = (h * m + c) & 0xFFFFFFFF
        hs.add(h)
    return len(hs)


def e4_colliding_keys(e):
    """E4: 2^16 label values and family names that collide under unseeded multiplicative hashes: time within 4x of plain keys."""
    n = 1 << 16
    java = _colliding(n, (b"Aa", b"BB"))      # h * 31 + c (Java's String.hashCode)
    djb = _colliding(n, (b"AY", b"B8"))       # h * 33 + c (DJBX33A)
    problems = []
    for keys, m in ((java, 31), (djb, 33)):
        if _check_collisions(keys, m) != 1 or len(set(keys)) != n:
            return [f"generator broken: keys do not all collide under *{m}"], ""
    plain = _plain(n, len(java[0]))

    def label_sets(keys):
        return b"# TYPE c counter\n" + b"".join(b'c_total{k="%s"} 1\n' % k for k in keys)

    def families(keys):
        return b"".join(b"%s 1\n" % (b"m" + k) for k in keys)

    notes = []
    for what, make in (("label sets of one family", label_sets), ("family names", families)):
        for cmd in (["validate"], ["cardinality", "--by-label"], ["lint"]):
            t = {}
            for name, keys in (("plain", plain), ("java", java), ("djb", djb)):
                data = make(keys)
                best = None
                for _ in range(2):
                    r = run(e.p, cmd + ["-"], data=data, timeout=300)
                    if r.code not in (0, 1):
                        problems.append(f"{cmd[0]} on {name} {what}: exit {r.code}: {r.errtext[:200]}")
                    best = r.secs if best is None else min(best, r.secs)
                t[name] = best
            # quadratic behaviour would be hundreds of times slower; 4x
            # leaves room for the noise of a loaded machine
            floor = max(t["plain"], 0.1)
            for name in ("java", "djb"):
                if t[name] > 4 * floor:
                    problems.append(f"{cmd[0]} on {what}: colliding keys ({name}) took {t[name]:.2f} s, "
                                    f"plain keys {t['plain']:.2f} s")
            notes.append(f"{cmd[0]}/{what.split()[0]} {t['plain']:.2f}/{t['java']:.2f}/{t['djb']:.2f} s")
    return problems, "plain/java/djb: " + ", ".join(notes)


def _e5_input(e):
    """About 100 MB of a realistic exposition: services with a counter
    (handler x method x code), a 12-bucket histogram and a gauge."""
    path = e.path("e5.prom")
    if os.path.exists(path):
        return path
    methods = ["GET", "POST", "PUT", "DELETE"]
    codes = ["200", "201", "204", "400", "404", "500", "503"]
    les = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]
    n = 0
    with open(path, "wb") as f:
        fam = 0
        while n < 100_000_000:
            lines = [f"# HELP svc{fam}_http_requests_total Requests by handler, method and code.",
                     f"# TYPE svc{fam}_http_requests_total counter"]
            for h in range(20):
                for m in methods:
                    for c in codes:
                        v = (fam * 7919 + h * 31 + len(m) * 7 + int(c)) % 100000
                        lines.append(f'svc{fam}_http_requests_total{{handler="/api/v1/h{h}",method="{m}",'
                                     f'code="{c}"}} {v}')
            lines.append(f"# TYPE svc{fam}_request_seconds histogram")
            for h in range(20):
                acc = 0
                for i, le in enumerate(les):
                    acc += (h + i) % 5
                    lines.append(f'svc{fam}_request_seconds_bucket{{handler="/api/v1/h{h}",le="{le}"}} {acc}')
                lines.append(f'svc{fam}_request_seconds_sum{{handler="/api/v1/h{h}"}} {acc * 0.25}')
                lines.append(f'svc{fam}_request_seconds_count{{handler="/api/v1/h{h}"}} {acc}')
            lines.append(f"# TYPE svc{fam}_up gauge\nsvc{fam}_up 1")
            chunk = ("\n".join(lines) + "\n").encode()
            f.write(chunk)
            n += len(chunk)
            fam += 1
    return path


def e5_validate(e):
    """E5: 100 MB of valid input: validate streams it in flat memory (docs/performance.md)."""
    path = _e5_input(e)
    size_mib = os.path.getsize(path) / MIB
    r = run(e.p, ["validate", "--max-samples", "0", path])
    problems = expect(r, 0, [], 120, e.mem(24, 128))
    return problems, note(r) + f" for {size_mib:.0f} MiB"


def e5_model(e):
    """E5: convert, lint and cardinality build a model: peak RSS at most 5x the input plus the mapping (docs/convert.md)."""
    path = _e5_input(e)
    size = os.path.getsize(path)
    bound_mib = int(size * 6 / MIB) + 32  # 5x model peak + the mapped file itself
    problems, notes = [], []
    for args, code in ((["convert", "--to", "openmetrics"], 0), (["lint"], 1), (["cardinality"], 0)):
        r = run(e.p, args + ["--max-samples", "0", path], timeout=600)
        problems += [f"{args[0]}: {p}" for p in expect(r, code, None, 300, e.mem(bound_mib, bound_mib * 3))]
        notes.append(f"{args[0]} {r.rss_kib // 1024} MiB ({r.rss_kib * 1024 / size:.1f}x) {r.secs:.1f} s")
    return problems, ", ".join(notes)


# ---- H. CLI, output and local files -----------------------------------------

def h2_long_token(e):
    """H2: findings echoing a 100 KB token quote at most 40 bytes of it (escaped), never the whole token."""
    problems = []
    esc = b"\x1b" * 1000
    cases = [(b"a " + b"9" * 3000 + b"x" * 97000 + b"\n", "number-too-long", 200),
             (b"a " + b"1z" * 2000 + b"\n", "invalid-value", 200),
             (b"a 1 " + b"1z" * 2000 + b"\n", "invalid-timestamp", 200),
             (b"a{" + b"n" * 900 + b"-x=\"v\"} 1\n", "expected-equals", 200),
             (b"# TYPE a " + b"t" * 100000 + b"\n", "unknown-type", 200),
             (b"a" * 100000 + b"-b 1\n", "invalid-metric-name", 200),
             (b"# TYPE x gauge\nx{a=\"" + b"v" * 60000 + b"\"} 1\nx{a=\"" + b"v" * 60000 + b"\"} 1\n",
              "duplicate-series", 200),
             # 40 bytes of ESC are 160 bytes escaped
             (b"x{a=\"" + esc + b"\"} 1\nx{a=\"" + esc + b"\"} 1\n", "duplicate-series", 400)]
    for data, rule, cap in cases:
        r = run(e.p, ["validate", "-"], data=data)
        if r.code != 1 or not r.diags:
            problems.append(f"{rule}: exit {r.code}, findings {r.diags[:2]}")
            continue
        d = r.diags[0]
        if d[3] != rule:
            problems.append(f"expected {rule}, got {d[3]}: {d[4][:200]}")
        if len(d[4]) > cap:
            problems.append(f"{rule}: message of {len(d[4])} bytes: {d[4][:120]}...")
        if "\x1b" in r.text:
            problems.append(f"{rule}: a raw ESC byte in the output")
    return problems, ""


def h3_full_disk(e):
    """H3: output to a full disk (/dev/full): 'write error on standard output', exit 3, for every command."""
    bad = e.path("h3.prom")
    with open(bad, "wb") as f:
        f.write(b"# TYPE a_total counter\na_total{x=\"1\"} 1\nb{x=\"1\"} 2\nb{x=\"1\"} 3\n")
    ok = e.path("h3-ok.prom")
    with open(ok, "wb") as f:
        f.write(b"# TYPE a_total counter\na_total{x=\"1\"} 1\nb{x=\"1\"} 2\n")
    problems = []
    for args in (["validate", bad], ["lint", bad], ["convert", "--to", "json", ok], ["convert", "--to", "text", ok],
                 ["convert", "--to", "openmetrics", ok], ["cardinality", "--by-label", ok], ["diff", ok, bad],
                 ["validate", "--output", "json", bad], ["lint", "--output", "sarif", bad], ["--version"],
                 ["help"]):
        with open("/dev/full", "wb") as full:
            r = subprocess.run([e.p] + args, stdout=full, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               timeout=60)
        err = r.stderr.decode("utf-8", "replace")
        if r.returncode != 3 or "write error on standard output: No space left on device" not in err:
            problems.append(f"{' '.join(args[:2])}: exit {r.returncode}, stderr {err[:200]!r}")
    return problems, ""


def h4_paths(e):
    """H4: a folder, a dangling symlink, a missing file, a file used as a folder: exit 3 with the path and strerror; '-' is stdin."""
    good = e.path("h4.prom")
    with open(good, "wb") as f:
        f.write(b"a 1\n")
    dangling = e.path("dangling")
    os.symlink(e.path("nowhere"), dangling)
    cases = [(e.tmp, "is a directory"), (dangling, "No such file or directory"),
             (e.path("missing.prom"), "No such file or directory"),
             (good + "/x", "Not a directory")]
    if os.geteuid() != 0:
        unreadable = e.path("unreadable.prom")
        with open(unreadable, "wb") as f:
            f.write(b"a 1\n")
        os.chmod(unreadable, 0)
        cases.append((unreadable, "Permission denied"))
    problems = []
    commands = (["validate"], ["lint"], ["convert", "--to", "text"], ["cardinality"], ["diff", good])
    for path, reason in cases:
        for cmd in commands:
            r = run(e.p, cmd + [path])
            want = f"promscope: {path}: {reason}"
            if r.code != 3 or want not in r.errtext:
                problems.append(f"{cmd[0]} {path}: exit {r.code}, stderr {r.errtext[:200]!r}, expected {want!r}")
    for cmd in commands:
        r = run(e.p, cmd + ["-"], data=b"a 1\n")
        if r.code not in (0, 1) or "promscope:" in r.errtext and "error" in r.errtext:
            problems.append(f"{cmd[0]} -: exit {r.code}, stderr {r.errtext[:200]!r}")
    return problems, "" if os.geteuid() != 0 else "unreadable file not tried (running as root)"


CASES = [a1_stdin, a1_file, a1_file_model_commands, a1_http, a12_help, a13_ten_million_series,
         a14_urandom, a14_fifo, a15_beyond_32_bits, b5_backslashes, c16_million_digits,
         d15_le_on_histogram, e1_million_labels_memory, e2_huge_value_stdin, e3_million_families, e4_colliding_keys,
         e5_validate, e5_model, h2_long_token, h3_full_disk, h4_paths]


def main(argv):
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if not os.access(TIME, os.X_OK):
        print(f"FAIL: {TIME} (GNU time, Debian package 'time') is needed to measure memory")
        return 1
    promscope, only = os.path.abspath(argv[0]), set(argv[1:])
    failed = 0
    with tempfile.TemporaryDirectory(prefix="promscope-bad-inputs-") as tmp:
        e = Env(promscope, tmp)
        print(f"baseline RSS {e.base_kib} KiB{' (AddressSanitizer build)' if e.asan else ''}")
        for case in CASES:
            if only and case.__name__ not in only:
                continue
            doc = case.__doc__.split("\n")[0]
            try:
                problems, info = case(e)
            except subprocess.TimeoutExpired as x:
                problems, info = [f"timed out after {x.timeout} s"], ""
            if problems is None:
                print(f"skip {case.__name__}: {info}")
            elif problems:
                failed += 1
                print(f"FAIL {case.__name__}: {doc}\n  " + "\n  ".join(problems) + (f"\n  ({info})" if info else ""))
            else:
                print(f"ok   {case.__name__}: {doc}" + (f" [{info}]" if info else ""))
            sys.stdout.flush()
    print(f"{failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
