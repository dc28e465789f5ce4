"""Shared pieces of the Prometheus API tests (promapi_*_test.py).

- deterministic data: a histogram and a counter over one fixed hour, as an
  OpenMetrics file (for `promtool tsdb create-blocks-from openmetrics`) and
  as Prometheus text with millisecond timestamps (for VictoriaMetrics'
  /api/v1/import/prometheus);
- the engines' arithmetic, written out by hand from their documented
  semantics, to compute the expected report values independently of
  promscope: Prometheus 2.x `rate()` (extrapolatedRate, promql/functions.go)
  and `histogram_quantile()` (bucketQuantile, promql/quantile.go), and
  VictoriaMetrics' `rate()` (no extrapolation; the last sample before the
  window is the starting point, docs/MetricsQL.md "rate");
- servers on 127.0.0.1 with free ports, bounded waits, cleanup on failure.
Python 3 standard library only.
"""
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

# ---- data -------------------------------------------------------------------

BASE = 1700000000          # 2023-11-14T22:13:20Z: start of the fixed hour
STEP = 15                  # seconds between samples
NPOINTS = 241              # BASE .. BASE+3600 inclusive
TIMES = [BASE + STEP * k for k in range(NPOINTS)]
# Evaluation time: between two samples, so that no sample sits on the edge
# of a 5m window (Prometheus 2.x windows are closed, VictoriaMetrics'
# left-open: a sample on the edge would be counted differently).
T_EVAL = BASE + 1807
WINDOW = 300

HIST = "http_request_duration_seconds"
LES = ["0.05", "0.1", "0.25", "0.5", "1", "+Inf"]
ROUTES = ["/api", "/login"]
INSTANCES = ["a:80", "b:80"]
COUNTER = "http_requests_total"
CODES = ["200", "500"]


def _incr(k, i, seed):
    """Deterministic, uneven increments (so extrapolation matters)."""
    return 1 + (k * 7 + i * 3 + seed) % 5 + (k * k + seed) % 3


def histogram_series():
    """{(route, instance): {"buckets": {le: [values]}, "count": [...], "sum": [...]}}"""
    out = {}
    for ri, route in enumerate(ROUTES):
        for ii, inst in enumerate(INSTANCES):
            seed = ri * 11 + ii * 5
            # per-bucket weights differ by route so the quantiles differ;
            # /login has a few observations above 1s (the +Inf bucket)
            weights = [40, 30, 15, 8, 5, 0] if route == "/api" else [10, 10, 20, 30, 25, 1]
            buckets = {le: [] for le in LES}
            counts, sums = [], []
            per = [0] * len(LES)
            for k in range(NPOINTS):
                if k > 0:
                    for b in range(len(LES)):
                        per[b] += weights[b] * _incr(k, b, seed)
                c = 0
                for b, le in enumerate(LES):
                    c += per[b]
                    buckets[le].append(c)
                counts.append(c)
                # sum: observations at bucket midpoints (exact in binary: quarters)
                mids = [0.025, 0.075, 0.175, 0.375, 0.75, 2.0]
                sums.append(sum(per[b] * mids[b] for b in range(len(LES))))
            out[(route, inst)] = {"buckets": buckets, "count": counts, "sum": sums}
    return out


def counter_series():
    """{(route, code, instance): [values]} with a reset in one series."""
    out = {}
    for ri, route in enumerate(ROUTES):
        for ci, code in enumerate(CODES):
            for ii, inst in enumerate(INSTANCES):
                seed = ri * 17 + ci * 7 + ii * 3
                scale = {"200": 10, "500": 1}[code] * (3 if route == "/api" else 1)
                v = 1000 + seed * 10
                vals = []
                for k in range(NPOINTS):
                    if k > 0:
                        v += scale * _incr(k, ci, seed)
                    # a counter reset (process restart) inside the 5m window
                    # before T_EVAL for one series
                    if route == "/api" and code == "200" and inst == "b:80" and TIMES[k] == BASE + 1650:
                        v = 4
                    vals.append(v)
                out[(route, code, inst)] = vals
    return out


def fmt(v):
    if isinstance(v, int):
        return str(v)
    r = repr(float(v))
    return r[:-2] if r.endswith(".0") else r


def openmetrics_text():
    h, c = histogram_series(), counter_series()
    lines = ["# TYPE %s histogram" % HIST, "# UNIT %s seconds" % HIST,
             "# HELP %s Time spent serving requests." % HIST]
    for (route, inst), s in sorted(h.items()):
        for k, t in enumerate(TIMES):
            lab = 'instance="%s",job="api",route="%s"' % (inst, route)
            for le in LES:
                lines.append('%s_bucket{%s,le="%s"} %s %d' % (HIST, lab, le, fmt(s["buckets"][le][k]), t))
            lines.append("%s_count{%s} %s %d" % (HIST, lab, fmt(s["count"][k]), t))
            lines.append("%s_sum{%s} %s %d" % (HIST, lab, fmt(s["sum"][k]), t))
    lines += ["# TYPE http_requests counter", "# HELP http_requests Requests served."]
    for (route, code, inst), vals in sorted(c.items()):
        for k, t in enumerate(TIMES):
            lines.append('%s{code="%s",instance="%s",job="api",route="%s"} %s %d'
                         % (COUNTER, code, inst, route, fmt(vals[k]), t))
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def prometheus_text_ms():
    """The same samples in Prometheus text with millisecond timestamps."""
    out = []
    for line in openmetrics_text().split("\n"):
        if not line or line.startswith("#"):
            continue
        head, ts = line.rsplit(" ", 1)
        out.append("%s %d" % (head, int(ts) * 1000))
    return "\n".join(out) + "\n"


# ---- engine arithmetic --------------------------------------------------------

def window(values, t, w, left_open):
    """Samples (time, value) with t-w < time <= t (left_open) or t-w <= time <= t."""
    lo = t - w
    return [(ts, v) for ts, v in zip(TIMES, values)
            if ts <= t and (ts > lo if left_open else ts >= lo)]


def prom_rate(values, t=T_EVAL, w=WINDOW):
    """Prometheus 2.x rate(): extrapolatedRate(isCounter=True, isRate=True)."""
    pts = window(values, t, w, left_open=False)
    if len(pts) < 2:
        return None
    result = pts[-1][1] - pts[0][1]
    prev = pts[0][1]
    for _, v in pts[1:]:
        if v < prev:
            result += prev
        prev = v
    range_start, range_end = t - w, t
    dur_start = pts[0][0] - range_start
    dur_end = range_end - pts[-1][0]
    sampled = pts[-1][0] - pts[0][0]
    avg = sampled / (len(pts) - 1)
    if result > 0 and pts[0][1] >= 0:
        dur_zero = sampled * (pts[0][1] / result)
        if dur_zero < dur_start:
            dur_start = dur_zero
    threshold = avg * 1.1
    extrap = sampled
    extrap += dur_start if dur_start < threshold else avg / 2
    extrap += dur_end if dur_end < threshold else avg / 2
    return result * (extrap / sampled) / w


def vm_rate(values, t=T_EVAL, w=WINDOW):
    """VictoriaMetrics rate(): counter resets removed, then
    (last - prev) / (t_last - t_prev) where prev is the last sample at or
    before the window start (else the first sample in the window)."""
    corrected, corr, prevv = [], 0.0, None
    for v in values:
        if prevv is not None and v < prevv:
            corr += prevv
        prevv = v
        corrected.append(v + corr)
    lo = t - w
    inside = [(ts, v) for ts, v in zip(TIMES, corrected) if lo < ts <= t]
    before = [(ts, v) for ts, v in zip(TIMES, corrected) if ts <= lo]
    if before:
        start = before[-1]
        pts = inside
    else:
        if len(inside) < 2:
            return None
        start, pts = inside[0], inside[1:]
    if not pts:
        return None
    return (pts[-1][1] - start[1]) / (pts[-1][0] - start[0])


def bucket_quantile(q, buckets):
    """Prometheus histogram_quantile on [(upper_bound, cumulative count)]."""
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    buckets = sorted(buckets)
    if not math.isinf(buckets[-1][0]):
        return math.nan
    # coalesce equal bounds, ensure monotonic
    co = []
    for ub, c in buckets:
        if co and co[-1][0] == ub:
            co[-1] = (ub, co[-1][1] + c)
        else:
            co.append((ub, c))
    mono, mx = [], -math.inf
    for ub, c in co:
        mx = max(mx, c)
        mono.append((ub, mx))
    buckets = mono
    if len(buckets) < 2:
        return math.nan
    obs = buckets[-1][1]
    if obs == 0:
        return math.nan
    rank = q * obs
    b = next((i for i in range(len(buckets) - 1) if buckets[i][1] >= rank), len(buckets) - 1)
    if b == len(buckets) - 1:
        return buckets[-2][0]
    if b == 0 and buckets[0][0] <= 0:
        return buckets[0][0]
    start, end, count = 0.0, buckets[b][0], buckets[b][1]
    if b > 0:
        start = buckets[b - 1][0]
        count -= buckets[b - 1][1]
        rank -= buckets[b - 1][1]
    return start + (end - start) * (rank / count)


def le_value(le):
    return math.inf if le == "+Inf" else float(le)


def expected_percentiles(rate_fn, quantiles=(0.5, 0.9, 0.99), by_route=True):
    """{route or "": {"q": {q: value}, "rate": r}} from the hand arithmetic."""
    h = histogram_series()
    groups = {}
    for (route, inst), s in h.items():
        key = route if by_route else ""
        g = groups.setdefault(key, {"buckets": {le: 0.0 for le in LES}, "rate": 0.0})
        for le in LES:
            g["buckets"][le] += rate_fn(s["buckets"][le])
        g["rate"] += rate_fn(s["count"])
    out = {}
    for key, g in groups.items():
        bl = [(le_value(le), g["buckets"][le]) for le in LES]
        out[key] = {"q": {q: bucket_quantile(q, bl) for q in quantiles}, "rate": g["rate"]}
    return out


def expected_rates(rate_fn, by=("route",)):
    """{tuple(label values in `by` order): rate}"""
    c = counter_series()
    out = {}
    for (route, code, inst), vals in c.items():
        labels = {"route": route, "code": code, "instance": inst, "job": "api"}
        key = tuple(labels[b] for b in by)
        out[key] = out.get(key, 0.0) + rate_fn(vals)
    return out


def all_series():
    """{(name, frozenset(labels)): values} of every series of the fixed hour."""
    out = {}
    for (route, inst), s in histogram_series().items():
        base = {"instance": inst, "job": "api", "route": route}
        for le in LES:
            out[(HIST + "_bucket", frozenset(dict(base, le=le).items()))] = s["buckets"][le]
        out[(HIST + "_count", frozenset(base.items()))] = s["count"]
        out[(HIST + "_sum", frozenset(base.items()))] = s["sum"]
    for (route, code, inst), vals in counter_series().items():
        out[(COUNTER, frozenset({"code": code, "instance": inst, "job": "api", "route": route}.items()))] = vals
    return out


def close(a, b, rel=1e-9):
    if a is None or b is None:
        return a is b
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


# ---- processes ---------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


def wait_until(pred, what, timeout=60.0, interval=0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if pred():
                return
        except Exception as e:  # noqa: BLE001 - servers refuse while starting
            last = e
        time.sleep(interval)
    raise RuntimeError("timed out after %.0fs waiting for %s (last error: %s)" % (timeout, what, last))


class Servers:
    """Start processes; stop all of them on exit, also on failure."""

    def __init__(self):
        self.procs = []
        self.tmp = tempfile.mkdtemp(prefix="promscope-api-")

    def __enter__(self):
        return self

    def start(self, args, log_name):
        log = open(os.path.join(self.tmp, log_name), "wb")
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        self.procs.append((p, log))
        return p

    def log(self, log_name):
        try:
            with open(os.path.join(self.tmp, log_name), "rb") as f:
                return f.read().decode("utf-8", "replace")[-3000:]
        except OSError:
            return ""

    def __exit__(self, *exc):
        for p, log in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p, log in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
            log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


def start_prometheus(srv, data_dir, scrape_targets=(), port=None, extra_args=()):
    """Prometheus on 127.0.0.1 on data_dir (retention 100y so that the blocks
    of the fixed hour stay); scrapes itself and scrape_targets every second."""
    port = port or free_port()
    cfg = os.path.join(srv.tmp, "prometheus.yml")
    targets = ["127.0.0.1:%d" % port] + list(scrape_targets)
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                "scrape_configs:\n  - job_name: prometheus\n    static_configs:\n"
                "      - targets: [%s]\n" % ", ".join("'%s'" % t for t in targets))
    srv.start(["prometheus", "--config.file=" + cfg, "--storage.tsdb.path=" + data_dir,
               "--storage.tsdb.retention.time=100y", "--web.listen-address=127.0.0.1:%d" % port,
               "--log.level=warn"] + list(extra_args), "prometheus.log")
    url = "http://127.0.0.1:%d" % port
    try:
        wait_until(lambda: http_get(url + "/-/ready")[0] == 200, "prometheus to be ready", timeout=90)
    except RuntimeError:
        sys.stderr.write(srv.log("prometheus.log"))
        raise
    return url


def load_blocks(srv, data_dir):
    """promtool tsdb create-blocks-from openmetrics with the fixed hour."""
    om = os.path.join(srv.tmp, "data.om")
    with open(om, "w") as f:
        f.write(openmetrics_text())
    os.makedirs(data_dir, exist_ok=True)
    r = subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", om, data_dir],
                       capture_output=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError("promtool failed: %s" % r.stderr.decode("utf-8", "replace")[-2000:])


def run(promscope, *args, env=None, timeout=120, stdin=None):
    e = dict(os.environ)
    e.pop("PROMETHEUS_URL", None)
    e["NO_COLOR"] = "1"
    e["TZ"] = "UTC"
    if env:
        e.update(env)
    r = subprocess.run([promscope] + list(args), capture_output=True, timeout=timeout, env=e,
                       stdin=subprocess.DEVNULL if stdin is None else stdin)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


class Checker:
    def __init__(self):
        self.failures = 0
        self.checks = 0

    def check(self, cond, what, detail=""):
        self.checks += 1
        if cond:
            print("ok   %s" % what)
        else:
            self.failures += 1
            print("FAIL %s%s" % (what, ("\n     " + detail.replace("\n", "\n     ")) if detail else ""))
        return cond

    def done(self):
        print("%d checks, %d failed" % (self.checks, self.failures))
        return 1 if self.failures else 0
