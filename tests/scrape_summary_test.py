#!/usr/bin/env python3
"""scrape_summary_test.py PROMSCOPE: `promscope scrape --summary` counts
every target's own body, whichever thread parses it (docs/scrape.md).

A server on 127.0.0.1 (port chosen by the kernel) answers /t/K with an
exposition of K counter families of K series each, after (K * 7) % 30
milliseconds, so that targets finish out of order; /bad/K adds one invalid
line. Each row of the JSON summary must carry its own target's counts,
with and without -o, for --parallel 1, 3 and 16. Python 3 standard library.
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def body(k, bad):
    lines = []
    for f in range(k):
        lines.append("# TYPE fam%d_total counter" % f)
        for s in range(k):
            lines.append('fam%d_total{s="%d"} %d' % (f, s, s))
    if bad:
        lines.append("this line is not an exposition line")
    return ("\n".join(lines) + "\n").encode()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the name http.server calls)
        parts = self.path.split("/")
        if len(parts) != 3 or parts[1] not in ("t", "bad") or not parts[2].isdigit():
            self.send_error(404)
            return
        k = int(parts[2])
        time.sleep(((k * 7) % 30) / 1000.0)
        b = body(k, parts[1] == "bad")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def log_message(self, fmt, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def main():
    promscope = sys.argv[1]
    srv = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    base = "http://127.0.0.1:%d" % srv.server_address[1]
    env = dict(os.environ, no_proxy="127.0.0.1,localhost", NO_PROXY="127.0.0.1,localhost")
    ks = list(range(1, 41))
    urls = [base + ("/bad/%d" if k % 10 == 0 else "/t/%d") % k for k in ks]
    failures = 0

    def check(name, ok, detail=""):
        nonlocal failures
        print(("ok    " if ok else "FAIL  ") + name + ("" if ok else ": " + detail))
        if not ok:
            failures += 1

    def rows_ok(rows):
        if len(rows) != len(ks):
            return "%d rows" % len(rows)
        for k, url, r in zip(ks, urls, rows):
            want = (k, k * k, 1 if k % 10 == 0 else 0)
            got = (r.get("families"), r.get("series"), r.get("parse_errors"))
            if r.get("url") != url or got != want or not r.get("ok"):
                return "%s: want families, series, parse errors %s, got %s" % (url, want, got)
        return ""

    with tempfile.TemporaryDirectory() as tmp:
        for parallel in ("1", "3", "16"):
            for outdir in (None, os.path.join(tmp, "out" + parallel)):
                args = [promscope, "scrape", "--parallel", parallel, "--output", "json"]
                if outdir:
                    args += ["-o", outdir]
                name = "--parallel %s%s" % (parallel, " -o DIR" if outdir else "")
                try:
                    p = subprocess.run(args + urls, capture_output=True, text=True, env=env, timeout=120)
                except subprocess.TimeoutExpired:
                    check(name, False, "timed out")
                    continue
                try:
                    rows = json.loads(p.stdout)
                except ValueError as e:
                    check(name, False, "exit %d, not JSON (%s): %s" % (p.returncode, e, p.stderr[-500:]))
                    continue
                why = rows_ok(rows)
                check(name + ": each row has its own target's counts", p.returncode == 0 and not why,
                      why or "exit %d: %s" % (p.returncode, p.stderr[-500:]))
                if outdir:
                    files = [r.get("file") for r in rows]
                    good = all(f and os.path.isfile(f) and open(f, "rb").read() == body(k, k % 10 == 0)
                               for k, f in zip(ks, files))
                    check(name + ": each file has its own target's body", good)
    srv.shutdown()
    print("%d failure(s)" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
