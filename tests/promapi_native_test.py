#!/usr/bin/env python3
"""report percentiles on a real native histogram: the Debian prometheus with
--enable-feature=native-histograms scrapes a target of the test's own that
serves the protobuf exposition (hand-encoded, Python stdlib only).

    promapi_native_test.py PROMSCOPE

The target's histogram `rpc_duration_seconds` (schema 0: buckets
(0.25,0.5], (0.5,1], (1,2]) gains 3, 5 and 2 observations in those buckets
at every scrape, so any rate() over the window keeps the proportions
3:5:2, whatever the scrape timing, and the quantiles are exact:
p50 = 0.5 + 0.5 * 2/5 = 0.7, p90 = 1 + 1 * 1/2 = 1.5, p99 = 1 + 0.95 = 1.95
(histogram_quantile's linear interpolation inside a bucket, Prometheus
2.42). The report must detect the native histogram and send the native
queries; the classic `_bucket` form would find nothing.
"""
import json
import os
import shutil
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promapi_util as u  # noqa: E402

PROTO_CT = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def zigzag(n):
    return (n << 1) ^ (n >> 63)


def key(field, wire):
    return varint(field << 3 | wire)


def f_varint(field, n):
    return key(field, 0) + varint(n)


def f_bytes(field, b):
    return key(field, 2) + varint(len(b)) + b


def f_double(field, x):
    return key(field, 1) + struct.pack("<d", x)


def histogram_family(n, route):
    """io.prometheus.client.MetricFamily with one native histogram metric."""
    counts = [3 * n, 5 * n, 2 * n]          # buckets -1, 0, 1 of schema 0
    deltas, prev = [], 0
    for c in counts:
        deltas.append(c - prev)
        prev = c
    h = (f_varint(1, sum(counts))                        # sample_count
         + f_double(2, n * (3 * 0.375 + 5 * 0.75 + 2 * 1.5))  # sample_sum
         + f_varint(5, zigzag(0))                         # schema 0
         + f_double(6, 2.938735877055719e-39)             # zero_threshold
         + f_varint(7, 0)                                 # zero_count
         + f_bytes(12, f_varint(1, zigzag(-1)) + f_varint(2, 3))  # positive_span
         + b"".join(f_varint(13, zigzag(d)) for d in deltas))     # positive_delta
    label = f_bytes(1, f_bytes(1, b"route") + f_bytes(2, route.encode()))
    metric = label + f_bytes(7, h)
    fam = f_bytes(1, b"rpc_duration_seconds") + f_bytes(2, b"RPC latency.") + f_varint(3, 4) + f_bytes(4, metric)
    return varint(len(fam)) + fam


class Target(BaseHTTPRequestHandler):
    scrapes = 0
    lock = threading.Lock()

    def log_message(self, *a):
        pass

    def do_GET(self):
        with Target.lock:
            Target.scrapes += 1
            n = Target.scrapes
        body = histogram_family(n, "/a") + histogram_family(n, "/b")
        self.send_response(200)
        self.send_header("Content-Type", PROTO_CT)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    promscope = sys.argv[1]
    if not shutil.which("prometheus"):
        print("SKIP: prometheus is not installed")
        return 77
    c = u.Checker()
    target = ThreadingHTTPServer(("127.0.0.1", 0), Target)
    threading.Thread(target=target.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    try:
        with u.Servers() as srv:
            url = u.start_prometheus(srv, os.path.join(srv.tmp, "data"),
                                     scrape_targets=["127.0.0.1:%d" % target.server_address[1]],
                                     extra_args=["--enable-feature=native-histograms"])
            S = ["--server", url]

            def report(*extra):
                return u.run(promscope, "report", "percentiles", "--by", "route", "--window", "1m",
                             *extra, *S, "rpc_duration_seconds")

            def ready():
                rc, out, _ = report("-o", "json")
                rows = json.loads(out) if rc == 0 else []
                return len(rows) == 2 and all(r["rate"] and r["rate"] > 0 for r in rows)
            u.wait_until(ready, "two scrapes of the native histogram", timeout=40, interval=0.5)

            rc, out, err = report("-o", "json", "--show-queries")
            rows = json.loads(out) if rc == 0 else []
            c.check([r["labels"] for r in rows] == [{"route": "/a"}, {"route": "/b"}], "one row per route",
                    out + err)
            for r in rows:
                for q, e in (("0.5", 0.7), ("0.9", 1.5), ("0.99", 1.95)):
                    c.check(u.close(r["quantiles"][q], e), "%s p%s = %r (hand: %r)"
                            % (r["labels"]["route"], q, r["quantiles"][q], e))
            c.check("histogram_quantile(0.99, sum by (route) (rate(rpc_duration_seconds[1m])))" in err
                    and "sum by (route) (histogram_count(rate(rpc_duration_seconds[1m])))" in err
                    and "_bucket" not in err, "native queries sent (detected, not assumed)", err)
            rc, out, err = report("--expect", "p99 < 2s", "--expect", "p50 > 500ms")
            c.check(rc == 0 and "700ms" in out and "1.95s" in out, "table with durations; expectations hold",
                    out + err)
            rc, out, err = report("--expect", "p90 < 1s")
            c.check(rc == 1 and err.count("failed for") == 2 and "p90 = 1.5s" in err,
                    "--expect 'p90 < 1s' names both routes", err)
            rc, out, err = u.run(promscope, "query", "-o", "json", *S, "rpc_duration_seconds")
            d = json.loads(out) if rc == 0 else {}
            h = d.get("result", [{}])[0].get("histogram", [0, {}])[1]
            c.check(rc == 0 and len(h.get("buckets", [])) == 3 and h["buckets"][0][1:3] == ["0.25", "0.5"],
                    "query shows the native histogram sample with its buckets", out + err)
            rc, out, err = u.run(promscope, "query", *S, "rpc_duration_seconds")
            c.check(rc == 0 and "histogram count=" in out and "buckets=3" in out, "query table of native samples",
                    out + err)
    finally:
        target.shutdown()
        target.server_close()
    return c.done()


if __name__ == "__main__":
    sys.exit(main())
