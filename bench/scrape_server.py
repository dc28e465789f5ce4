#!/usr/bin/env python3
"""Serve one fixed exposition from N local HTTP listeners, for the scrape
benchmark of bench/run (Python 3 standard library only).

    scrape_server.py BODY_FILE N PORTS_FILE [LIFETIME_S]

Binds N listeners on 127.0.0.1 with ports chosen by the kernel (port 0), so
that nothing collides with other tests, writes their ports to PORTS_FILE
(one per line, written to a temporary name and renamed, so a reader never
sees half of it) and answers every GET with BODY_FILE as
`text/plain; version=0.0.4`. A query `?delay_ms=D` makes the answer wait
D milliseconds first, like an exporter that collects its metrics on each
scrape (node_exporter takes 10 to 50 ms). One listener per target rather than one port
with N paths: each target then costs its own TCP connection, as N exporters
do, and libcurl cannot reuse one connection for all of them.

The server ends after LIFETIME_S seconds (default 600) even when nobody
stops it, or earlier on SIGTERM / SIGINT.
"""
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(sys.argv[1], "rb") as f:
        body = f.read()
    n = int(sys.argv[2])
    ports_file = sys.argv[3]
    lifetime = float(sys.argv[4]) if len(sys.argv) == 5 else 600.0

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the name http.server calls)
            query = parse_qs(urlsplit(self.path).query)
            delay = query.get("delay_ms", ["0"])[0]
            if delay != "0":
                time.sleep(min(float(delay), 10000.0) / 1000.0)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 64

    servers = [Server(("127.0.0.1", 0), Handler) for _ in range(n)]
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    tmp = ports_file + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write("".join(f"{s.server_address[1]}\n" for s in servers))
    os.replace(tmp, ports_file)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait(lifetime)
    # the serving threads are daemons: they end with the process
    return 0


if __name__ == "__main__":
    sys.exit(main())
