#!/usr/bin/env python3
"""A hostile metrics server for the scrape tests (BAD-INPUTS.md section F).

Listens on 127.0.0.1 only. Prints one line "PORT <n>" (and "TLSPORT <n>"
when --tls-cert is given) on stdout once it is ready, then serves until
stdin is closed or --lifetime seconds pass. Every loop is bounded in count
and time. Python 3 standard library only.

Paths (GET unless said otherwise):
  /metrics/text        text 0.0.4 exposition, text/plain; version=0.0.4
  /metrics/om          OpenMetrics 1.0, application/openmetrics-text; version=1.0.0
  /metrics/gzip        the text exposition gzip-compressed with Content-Encoding: gzip
  /metrics/om001       OpenMetrics body labelled version=0.0.1
  /accept              echoes the request's Accept and Accept-Encoding (text/plain)
  /bomb                gzip bomb: ~1 MiB compressed, 1 GiB of zeros decompressed
  /never-ends          200 and a body that keeps coming (until --lifetime)
  /trickle             200 and one byte every 2 s (at most 30 bytes)
  /truncated           Content-Length: 1000 but 500 bytes, then close
  /error500            500 with an HTML body containing control characters
  /redirect-file       302 to file:///etc/passwd
  /loop                302 to itself
  /chain/<k>           k redirects, then /metrics/text
  /redirect-http?to=N  (TLS port) 302 to http://127.0.0.1:N/metrics/text
  /redirect-cross?to=N 302 to http://127.0.0.1:N/noauth (another origin)
  /redirect-same       302 to /auth (same origin)
  /noauth              200 only when the request has no Authorization and no
                       Cookie header, else 400 "credentials leaked"
  /metrics/gzip-chunked      gzip in 7-byte chunks (HTTP/1.1, written by hand)
  /truncated-gzip-chunked    the same with the last 30 gzip bytes missing
  /bad-gzip            Content-Encoding: gzip on a plain body
  /truncated-gzip      Content-Encoding: gzip, half of the gzip member
  /unknown-encoding    Content-Encoding: x-unheard-of
  /many-headers        200 with 400 KiB of response headers
  /no-content-type     200, a valid text body, no Content-Type
  /html                200 text/html login page
  /gzip-no-encoding    gzip-compressed body, text/plain, no Content-Encoding
  /auth                200 only with "Authorization: Bearer <token from
                       --token-file>", else 401
  /basic               200 only with basic auth user "scraper" and the
                       password of --token-file, else 401
  /echo                GET: "method=GET"; POST: the method, Content-Type and body
  /post-redirect/<c>   POST: redirect with status c to /echo
  /log                 the requests seen so far, one per line: "PATH AUTH"
                       where AUTH is "auth" or "-" (for cross-origin checks)
"""
import argparse
import gzip
import http.server
import io
import os
import ssl
import sys
import threading
import time
import zlib

TEXT_BODY = (
    b"# HELP fault_requests_total Requests served.\n"
    b"# TYPE fault_requests_total counter\n"
    b'fault_requests_total{code="200"} 1027\n'
    b'fault_requests_total{code="500"} 3\n'
    b"# HELP fault_temperature_celsius A gauge.\n"
    b"# TYPE fault_temperature_celsius gauge\n"
    b"fault_temperature_celsius 21.5\n"
)
OM_BODY = (
    b"# TYPE fault_build info\n"
    b'fault_build_info{version="1.2.3"} 1\n'
    b"# TYPE fault_requests counter\n"
    b'fault_requests_total{code="200"} 1027\n'
    b"# EOF\n"
)

_bomb_lock = threading.Lock()
_bomb = None


def bomb_bytes():
    """A valid gzip member of 1 GiB of zeros, built from one deflate block
    (ended by a full flush, so it references nothing before it) repeated
    1024 times, then a final empty block and the trailer."""
    global _bomb
    with _bomb_lock:
        if _bomb is None:
            chunk = b"\0" * (1 << 20)
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
            reps = 1024
            crc = 0
            for _ in range(reps):
                crc = zlib.crc32(chunk, crc)
            size = (reps << 20) & 0xFFFFFFFF
            final = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
            _bomb = (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + block * reps + final
                     + crc.to_bytes(4, "little") + size.to_bytes(4, "little"))
        return _bomb


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server_version = "faultserver/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def record(self):
        auth = "auth" if (self.headers.get("Authorization") or self.headers.get("Cookie")) else "-"
        with self.server.log_lock:
            if len(self.server.log) < 10000:
                self.server.log.append("%s %s" % (self.path, auth))

    def send_body(self, code, body, ctype="text/plain; version=0.0.4; charset=utf-8", extra=()):
        self.send_response(code)
        if ctype is not None:
            self.send_header("Content-Type", ctype)
        for k, v in extra:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, code, location):
        self.send_response(code)
        self.send_header("Location", location)
        self.send_header("Content-Type", "text/plain")
        body = b"moved\n"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def query(self):
        out = {}
        if "?" in self.path:
            for kv in self.path.split("?", 1)[1].split("&"):
                if "=" in kv:
                    k, v = kv.split("=", 1)
                    out[k] = v
        return out

    def do_POST(self):
        self.record()
        n = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
        body = self.rfile.read(n) if n else b""
        path = self.path.split("?", 1)[0]
        try:
            if path.startswith("/post-redirect/"):
                code = int(path.rsplit("/", 1)[1])
                self.redirect(code, "/echo")
            elif path == "/echo":
                self.send_body(200, b"method=POST\nct=%s\nbody=%s\n" % (
                    (self.headers.get("Content-Type") or "-").encode(), body), "text/x-echo")
            else:
                self.send_body(404, b"not found\n", "text/plain")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass

    def do_GET(self):
        self.record()
        path = self.path.split("?", 1)[0]
        q = self.query()
        srv = self.server
        try:
            if path.startswith("/metrics/text"):
                self.send_body(200, TEXT_BODY)
            elif path == "/metrics/om":
                self.send_body(200, OM_BODY, "application/openmetrics-text; version=1.0.0; charset=utf-8")
            elif path == "/metrics/om001":
                self.send_body(200, OM_BODY, "application/openmetrics-text; version=0.0.1; charset=utf-8")
            elif path == "/metrics/gzip":
                self.send_body(200, gzip.compress(TEXT_BODY * 50), extra=[("Content-Encoding", "gzip")])
            elif path == "/echo":
                self.send_body(200, b"method=GET\n", "text/x-echo")
            elif path == "/accept":
                body = ("accept=%s\nencoding=%s\n" % (self.headers.get("Accept"),
                                                       self.headers.get("Accept-Encoding"))).encode()
                self.send_body(200, body, "text/x-echo")
            elif path == "/bomb":
                self.send_body(200, bomb_bytes(), extra=[("Content-Encoding", "gzip")])
            elif path == "/never-ends":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.end_headers()
                deadline = time.monotonic() + srv.lifetime
                i = 0
                while time.monotonic() < deadline and i < 100000:
                    self.wfile.write(b"never_ending_total{i=\"%d\"} 1\n" % i)
                    self.wfile.flush()
                    i += 1
                    time.sleep(0.01)
            elif path == "/trickle":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", "30")
                self.end_headers()
                for _ in range(30):
                    self.wfile.write(b"#")
                    self.wfile.flush()
                    time.sleep(2)
            elif path == "/truncated":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(b"# " + b"x" * 497 + b"\n")
                self.wfile.flush()
                self.close_connection = True
            elif path == "/error500":
                body = (b"<html><head><title>500 Internal Server Error</title></head>\n"
                        b"<body>\x1b[2J\x1b]52;c;cGFzdGU=\x07 upstream failed\r\n" + b"x" * 2000 + b"</body></html>\n")
                self.send_body(500, body, "text/html")
            elif path == "/redirect-file":
                self.redirect(302, "file:///etc/passwd")
            elif path == "/loop":
                self.redirect(302, "/loop")
            elif path.startswith("/chain/"):
                k = int(path.rsplit("/", 1)[1])
                self.redirect(302, "/chain/%d" % (k - 1) if k > 1 else "/metrics/text")
            elif path == "/redirect-http":
                self.redirect(302, "http://127.0.0.1:%s/metrics/text" % q.get("to", "1"))
            elif path == "/redirect-cross":
                self.redirect(302, "http://127.0.0.1:%s/noauth" % q.get("to", "1"))
            elif path == "/redirect-same":
                self.redirect(302, "/auth")
            elif path == "/noauth":
                if self.headers.get("Authorization") or self.headers.get("Cookie"):
                    self.send_body(400, b"credentials leaked\n", "text/plain")
                else:
                    self.send_body(200, TEXT_BODY)
            elif path in ("/metrics/gzip-chunked", "/truncated-gzip-chunked"):
                # Written by hand: HTTP/1.1, chunked, gzip, small chunks (one
                # with an extension) so that the trailer spans chunks.
                z = gzip.compress(TEXT_BODY * 20)
                if path.startswith("/truncated"):
                    z = z[:-30]
                out = [b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                       b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"]
                for i in range(0, len(z), 7):
                    part = z[i:i + 7]
                    ext = b";ext=1" if i == 14 else b""
                    out.append(b"%x%s\r\n%s\r\n" % (len(part), ext, part))
                out.append(b"0\r\n\r\n")
                self.wfile.write(b"".join(out))
                self.close_connection = True
            elif path == "/bad-gzip":
                self.send_body(200, TEXT_BODY, extra=[("Content-Encoding", "gzip")])
            elif path == "/truncated-gzip":
                z = gzip.compress(TEXT_BODY * 20)
                self.send_body(200, z[: len(z) // 2], extra=[("Content-Encoding", "gzip")])
            elif path == "/unknown-encoding":
                self.send_body(200, TEXT_BODY, extra=[("Content-Encoding", "x-unheard-of")])
            elif path == "/many-headers":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                for i in range(400):  # 400 KiB of headers
                    self.send_header("X-Filler-%d" % i, "y" * 1000)
                self.send_header("Content-Length", str(len(TEXT_BODY)))
                self.end_headers()
                self.wfile.write(TEXT_BODY)
            elif path == "/no-content-type":
                self.send_body(200, TEXT_BODY, None)
            elif path == "/html":
                self.send_body(200, b"<html><body><form>Login</form></body></html>\n", "text/html; charset=utf-8")
            elif path == "/gzip-no-encoding":
                self.send_body(200, gzip.compress(TEXT_BODY))
            elif path == "/auth":
                if srv.token is not None and self.headers.get("Authorization") == "Bearer " + srv.token:
                    self.send_body(200, TEXT_BODY)
                else:
                    self.send_body(401, b"unauthorized\n", "text/plain")
            elif path == "/basic":
                import base64
                want = "Basic " + base64.b64encode(("scraper:%s" % srv.token).encode()).decode()
                if srv.token is not None and self.headers.get("Authorization") == want:
                    self.send_body(200, TEXT_BODY)
                else:
                    self.send_body(401, b"unauthorized\n", "text/plain")
            elif path == "/log":
                with srv.log_lock:
                    body = ("\n".join(srv.log) + "\n").encode()
                self.send_body(200, body, "text/x-log")
            else:
                self.send_body(404, b"not found\n", "text/plain")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # many targets connect at once


def make_server(lifetime, token):
    srv = Server(("127.0.0.1", 0), Handler)
    srv.lifetime = lifetime
    srv.token = token
    srv.log = []
    srv.log_lock = threading.Lock()
    return srv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lifetime", type=float, default=120.0)
    ap.add_argument("--token-file")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()
    token = None
    if a.token_file:
        with open(a.token_file) as f:
            token = f.read().strip()
    servers = [make_server(a.lifetime, token)]
    lines = ["PORT %d" % servers[0].server_address[1]]
    if a.tls_cert:
        tls = make_server(a.lifetime, token)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
        servers.append(tls)
        lines.append("TLSPORT %d" % tls.server_address[1])
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    bomb_bytes()  # build it before announcing readiness
    print("\n".join(lines), flush=True)

    # Serve until stdin closes (the test ended) or the lifetime runs out.
    done = threading.Event()

    def watch_stdin():
        try:
            sys.stdin.buffer.read()
        except Exception:
            pass
        done.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    done.wait(a.lifetime)
    for s in servers:
        s.shutdown()
    os._exit(0)


if __name__ == "__main__":
    main()
