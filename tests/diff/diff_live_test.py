#!/usr/bin/env python3
"""`promscope diff --after 2s URL` against a real node_exporter.

    diff_live_test.py PROMSCOPE [NODE_EXPORTER]

Starts the Debian-packaged prometheus-node-exporter on 127.0.0.1 on a free
port (and stops it, also on failure), then lets promscope scrape it twice,
2 seconds apart, and checks: exit 1 (values moved), nothing on stderr, the
interval measured (>= 2 s), every counter that moved has a positive rate
equal to its increase over the measured interval (or, after a reset, its
new value over the interval), the CPU and scrape counters among them, the
CPU-seconds rates of each CPU adding up to about 1, no family added or
removed between two scrapes of the same build. Loopback only; every wait is bounded.
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

FAILED = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILED.append(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_ready(url, proc, limit_s=20):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def main(argv):
    if len(argv) not in (1, 2):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    promscope = argv[0]
    exporter = argv[1] if len(argv) == 2 else "/usr/bin/prometheus-node-exporter"
    if not os.access(exporter, os.X_OK):
        print(f"FAIL {exporter} is not installed (Debian package prometheus-node-exporter)")
        return 1
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    # A few cheap collectors keep the scrape fast under sanitizers; the
    # exporter's own process and Go metrics are always there.
    proc = subprocess.Popen([exporter, f"--web.listen-address=127.0.0.1:{port}",
                             "--collector.disable-defaults", "--collector.cpu",
                             "--collector.loadavg", "--collector.meminfo", "--collector.stat"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        check(wait_ready(url, proc), f"node_exporter answers on {url}")
        if FAILED:
            return 1
        t0 = time.monotonic()
        r = subprocess.run([promscope, "diff", "--after", "2s", "--output", "json", url],
                           capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        elapsed = time.monotonic() - t0
        out = r.stdout.decode("utf-8", "replace")
        err = r.stderr.decode("utf-8", "replace")
        check(r.returncode == 1, f"exit 1 (got {r.returncode})")
        check(err == "", f"nothing on stderr ({err.strip()[:300]!r})")
        check(elapsed >= 2, f"took at least the 2 s wait ({elapsed:.2f}s)")
        try:
            doc = json.loads(out)
        except ValueError as e:
            check(False, f"JSON output parses ({e}): {out[:300]!r}")
            return 1
        iv = doc.get("interval")
        check(doc.get("interval_source") == "measured" and isinstance(iv, (int, float))
              and 2 <= iv < 30, f"interval measured between the scrapes ({iv})")
        check(doc["families_added"] == [] and doc["families_removed"] == [],
              "no family added or removed between two scrapes")
        counters = [e for e in doc["values_changed"] if "rate" in e]
        moved = [e for e in counters if not e["reset"]]
        check(len(moved) > 0, f"counters moved: {len(moved)} with rates")
        bad = []
        for e in counters:
            inc = e["new"] if e["reset"] else e["delta"]
            if not (e["rate"] > 0 and abs(e["rate"] - inc / iv) <= 1e-9 * max(1, abs(e["rate"]))):
                bad.append(e)
        check(not bad, f"every moved counter has rate = increase / interval > 0 ({bad[:3]})")
        names = {e["name"] for e in moved}
        for want in ("node_cpu_seconds_total", "promhttp_metric_handler_requests_total"):
            check(want in names, f"{want} moved with a positive rate")
        # Each CPU spends one second per second across its modes: the rates
        # of node_cpu_seconds_total per cpu add up to about 1 (modes that did
        # not move have rate 0 and are not listed).
        per_cpu = {}
        for e in moved:
            if e["name"] == "node_cpu_seconds_total":
                per_cpu[e["labels"].get("cpu")] = per_cpu.get(e["labels"].get("cpu"), 0) + e["rate"]
        check(per_cpu and all(0.5 < v < 1.5 for v in per_cpu.values()),
              f"per-cpu sums of node_cpu_seconds_total rates are about 1 ({per_cpu})")
        handler = [e for e in moved if e["name"] == "promhttp_metric_handler_requests_total"
                   and e["labels"].get("code") == "200"]
        check(len(handler) == 1 and handler[0]["delta"] == 1,
              "the exporter counted exactly the first scrape in between")
        gauges = [e for e in doc["values_changed"] if "rate" not in e]
        check(all(not e["reset"] for e in gauges), "gauges are never flagged as resets")

        # The text report of the same run shape works too.
        r = subprocess.run([promscope, "--color=never", "diff", "--after", "1s", url],
                           capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        text = r.stdout.decode("utf-8", "replace")
        check(r.returncode == 1 and "interval: " in text and "measured between the two scrapes"
              in text and "/s" in text, "text report with the measured interval and rates")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    print(f"{len(FAILED)} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
