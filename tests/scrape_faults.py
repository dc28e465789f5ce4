#!/usr/bin/env python3
"""promscope against a hostile server of our own (BAD-INPUTS.md section F,
H5, H6; docs/scrape.md).

    scrape_faults.py PROMSCOPE [SCRAPE_FETCH]

Starts two tests/fault_server.py instances on 127.0.0.1 (two origins, the
first also with TLS when the openssl CLI is installed) and checks exit
status, messages, memory and time of every case. Everything is bounded:
each promscope run has a timeout, each server a lifetime.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from scrape_util import Checker, FaultServer, clean_env, free_port

TEXT_BODY = (
    "# HELP fault_requests_total Requests served.\n"
    "# TYPE fault_requests_total counter\n"
    'fault_requests_total{code="200"} 1027\n'
    'fault_requests_total{code="500"} 3\n'
    "# HELP fault_temperature_celsius A gauge.\n"
    "# TYPE fault_temperature_celsius gauge\n"
    "fault_temperature_celsius 21.5\n"
)
PROM3_ACCEPT = ("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
                "application/openmetrics-text;version=0.0.1;q=0.5,"
                "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,"
                "text/plain;version=0.0.4;q=0.3,*/*;q=0.2")
TOKEN = "s3cr3t-T0ken_for.tests~"
PASSWORD = "pa ss:word"


def write_secret(d, name, content, mode=0o600):
    p = os.path.join(d, name)
    with open(p, "wb") as f:
        f.write(content)
    os.chmod(p, mode)
    return p


def make_cert(d):
    """A self-signed certificate for 127.0.0.1, or None without openssl."""
    openssl = shutil.which("openssl")
    if not openssl:
        return None, None
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    r = subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       capture_output=True, timeout=60)
    if r.returncode != 0:
        print("openssl failed: %s" % r.stderr.decode(errors="replace"))
        return None, None
    return cert, key


def max_rss_kib(promscope, args, env, timeout=120):
    """Exit status, stderr and peak RSS (KiB) of one promscope run, measured
    with wait4() on that child only."""
    p = subprocess.Popen([promscope] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                         stdin=subprocess.DEVNULL)
    try:
        err = p.stderr.read(1 << 20)  # bounded; promscope prints one line
    finally:
        p.stderr.close()
    import time
    end = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return p.returncode, err.decode(errors="replace"), ru.ru_maxrss
        if time.monotonic() > end:
            p.kill()
            os.wait4(p.pid, 0)
            return None, "timeout", 0
        time.sleep(0.05)


def main():
    promscope = os.path.abspath(sys.argv[1])
    fetch_tool = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
    c = Checker(promscope)
    tmp = tempfile.mkdtemp(prefix="promscope-faults-")
    a = b = None
    try:
        token_file = write_secret(tmp, "token", (TOKEN + "\n").encode())
        pw_file = write_secret(tmp, "password", PASSWORD.encode())
        # The server reads the expected token from a file of its own; the
        # basic-auth password is the same file's content for /basic.
        server_secret = write_secret(tmp, "server-token", TOKEN.encode())
        cert, key = make_cert(tmp)
        a = FaultServer(token_file=server_secret, tls_cert=cert, tls_key=key)
        b = FaultServer(token_file=server_secret)
        A, B = a.url, b.url

        # ---- plain scrapes and negotiation --------------------------------
        r = c.expect("text body to stdout", ["scrape", A + "/metrics/text"], 0)
        if r:
            c.check("text body exact", r.out == TEXT_BODY, repr(r.out[:200]))
        c.expect("openmetrics body", ["scrape", A + "/metrics/om"], 0, out_has=["# EOF\n"])
        r = c.expect("gzip body decoded", ["scrape", A + "/metrics/gzip"], 0)
        if r:
            c.check("gzip body exact", r.out == TEXT_BODY * 50, "len %d" % len(r.out))
        r = c.expect("accept header of Prometheus 3", ["scrape", "--format", "text", A + "/accept"], 0,
                     err_has=["unsupported Content-Type 'text/x-echo'; parsed as text-1.0.0", "warning"])
        if r:
            c.check("accept value", ("accept=%s\n" % PROM3_ACCEPT) in r.out, r.out)
            c.check("accept-encoding gzip", "encoding=gzip\n" in r.out, r.out)
        r = c.expect("--escaping underscores", ["-q", "scrape", "--format", "text", "--escaping", "underscores",
                                                A + "/accept"], 0)
        if r:
            c.check("escaping in accept", r.out.count("escaping=underscores") == 2 and "allow-utf-8" not in r.out,
                    r.out)
        c.expect("--accept and --no-gzip", ["-q", "scrape", "--format", "text", "--accept", "text/plain",
                                            "--no-gzip", A + "/accept"], 0,
                 out_has=["accept=text/plain\n", "encoding=identity\n"])
        c.expect("--escaping bad value", ["scrape", "--escaping", "nope", A + "/metrics/text"], 2,
                 err_has=["invalid --escaping 'nope'"])

        # ---- content types ------------------------------------------------
        c.expect("missing Content-Type", ["scrape", A + "/no-content-type"], 3,
                 err_has=["response has no Content-Type"], out_not=["fault_"])
        r = c.expect("missing Content-Type with --format", ["scrape", "--format", "text", A + "/no-content-type"],
                     0, err_has=["warning", "no Content-Type"])
        if r:
            c.check("fallback body", r.out == TEXT_BODY)
        c.expect("text/html", ["scrape", A + "/html"], 3, err_has=["unsupported Content-Type 'text/html; charset=utf-8'"],
                 out_not=["Login"])
        c.expect("gzip without Content-Encoding", ["scrape", A + "/gzip-no-encoding"], 3,
                 err_has=["body looks gzip-compressed but Content-Encoding is missing"])
        c.expect("openmetrics 0.0.1 is openmetrics", ["scrape", "--output", "json", A + "/metrics/om001"], 0,
                 out_has=['"format":"openmetrics-1.0"'])

        # ---- HTTP errors ----------------------------------------------------
        r = c.expect("HTTP 500 with HTML", ["scrape", A + "/error500"], 3,
                     err_has=["HTTP 500 Internal Server Error: <html>", "\\x1b[2J", "\\x07", "\\r\\n", "..."],
                     out_not=["<html>"])
        if r:
            c.check("no raw control characters on stderr", not re.search("[\x00-\x08\x0b-\x1f\x7f]", r.err), repr(r.err[:200]))
            c.check("snippet bounded", len(r.err) < 512 * 4 + 300, "stderr %d bytes" % len(r.err))
        c.expect("404", ["scrape", A + "/nope"], 3, err_has=["HTTP 404 Not Found"])

        # ---- transfer limits ------------------------------------------------
        # The bomb inflates to 1 GiB. Peak memory must stay near the limit:
        # the body buffer (up to the limit) plus the process' baseline. Under
        # AddressSanitizer the baseline is larger and freed blocks sit in its
        # quarantine, hence the wider bounds there.
        with open(promscope, "rb") as f:
            asan = b"__asan_init" in f.read()
        slack = 110 * 1024 if asan else 24 * 1024
        quarantine = 2 if asan else 1
        env = clean_env()
        code, err, rss = max_rss_kib(promscope, ["scrape", "--max-size", "8MiB", A + "/bomb"], env)
        c.check("gzip bomb stops at --max-size", code == 3 and "response exceeds 8 MiB after decompression" in err,
                "exit %s: %s" % (code, err))
        c.check("gzip bomb peak memory bounded (%d KiB)" % rss, 0 < rss < 8 * 1024 * (1 + quarantine) + slack,
                "max RSS %d KiB" % rss)
        print("     gzip bomb, --max-size 8MiB: max RSS %d KiB%s" % (rss, " (ASan)" if asan else ""))
        code, err, rss = max_rss_kib(promscope, ["scrape", A + "/bomb"], env)
        c.check("gzip bomb stops at the default 64 MiB", code == 3 and "exceeds 64 MiB after decompression" in err,
                "exit %s: %s" % (code, err))
        c.check("default-limit bomb peak memory bounded (%d KiB)" % rss,
                0 < rss < 64 * 1024 * (1 + quarantine) + slack, "max RSS %d KiB" % rss)
        print("     gzip bomb, default 64MiB: max RSS %d KiB%s" % (rss, " (ASan)" if asan else ""))

        c.expect("body that never ends: timeout", ["scrape", "--timeout", "1s", A + "/never-ends"], 3,
                 err_has=["timed out after 1 s (received "], max_seconds=8)
        c.expect("slow trickle: low-speed abort", ["scrape", "--timeout", "60s", "--low-speed-time", "1s",
                                                   A + "/trickle"], 3,
                 err_has=["transfer too slow: less than 1 bytes/s for 1 s"], max_seconds=15)
        c.expect("truncated body", ["scrape", A + "/truncated"], 3,
                 err_has=["truncated response", "500 bytes remaining"], out_not=["xxxx"])
        c.expect("Content-Encoding gzip on a plain body", ["scrape", A + "/bad-gzip"], 3,
                 err_has=["cannot decode the response body"], out_not=["fault_"])
        c.expect("truncated gzip member", ["scrape", A + "/truncated-gzip"], 3, out_not=["fault_"],
                 err_has=["gzip body is truncated or corrupt"])
        r = c.expect("chunked gzip body", ["scrape", A + "/metrics/gzip-chunked"], 0)
        if r:
            c.check("chunked gzip body exact", r.out == TEXT_BODY * 20, "len %d" % len(r.out))
        c.expect("chunked gzip body, truncated member", ["scrape", A + "/truncated-gzip-chunked"], 3,
                 err_has=["gzip body is truncated or corrupt"], out_not=["fault_"])
        c.expect("unknown Content-Encoding", ["scrape", A + "/unknown-encoding"], 3,
                 err_has=["cannot decode the response body"], out_not=["fault_"])
        c.expect("400 KiB of response headers", ["scrape", A + "/many-headers"], 3,
                 err_has=["response headers exceed 256 KiB"])
        dead = free_port()
        c.expect("dead target", ["scrape", "http://127.0.0.1:%d/metrics" % dead], 3, err_has=["cannot connect"])

        # ---- redirects ------------------------------------------------------
        c.expect("redirect to file://", ["scrape", A + "/redirect-file"], 3,
                 err_has=["redirect to a disallowed URL 'file:///etc/passwd'", "unsupported scheme 'file'"],
                 out_not=["root:"])
        c.expect("redirect loop", ["scrape", A + "/loop"], 3, err_has=["too many redirects (5)"], max_seconds=10)
        c.expect("5 redirects followed", ["scrape", A + "/chain/5"], 0, out_has=["fault_temperature_celsius 21.5"])
        c.expect("6 redirects refused", ["scrape", A + "/chain/6"], 3, err_has=["too many redirects (5)"])
        c.expect("--max-redirects 0", ["scrape", "--max-redirects", "0", A + "/chain/1"], 3,
                 err_has=["HTTP 302 Found (redirects are disabled)"])
        c.expect("ftp:// refused before connecting", ["scrape", "ftp://127.0.0.1:%d/x" % a.port], 2,
                 err_has=["is not an http:// or https:// URL"])

        # Credentials never go to another origin (b is another port).
        cross = A + "/redirect-cross?to=%d" % b.port
        c.expect("cross-origin redirect drops the bearer token", ["scrape", "--bearer-token-file", token_file, cross],
                 0, out_has=["fault_requests_total"])
        c.expect("cross-origin redirect drops an Authorization header",
                 ["scrape", "--header", "Authorization: Bearer " + TOKEN, cross], 0)
        c.expect("cross-origin redirect drops a Cookie header", ["scrape", "--header", "Cookie: session=1", cross], 0)
        c.expect("cross-origin redirect drops basic auth",
                 ["scrape", "--basic-auth", "scraper", "--password-file", pw_file, cross], 0)
        c.expect("cross-origin redirect drops URL userinfo",
                 ["scrape", "http://scraper:%s@127.0.0.1:%d/redirect-cross?to=%d" % (TOKEN, a.port, b.port)], 0,
                 err_not=[TOKEN])
        r = c.run(["-q", "scrape", "--format", "text", B + "/log"])
        if r:
            noauth = [l for l in r.out.splitlines() if l.startswith("/noauth")]
            c.check("second origin saw 5 requests, none with credentials",
                    len(noauth) == 5 and all(l.endswith(" -") for l in noauth), r.out)
        c.expect("same-origin redirect keeps the token", ["scrape", "--bearer-token-file", token_file,
                                                          A + "/redirect-same"], 0, out_has=["fault_requests_total"])
        # the control: without the defence, /noauth would answer 400
        c.expect("/noauth refuses credentials (control)", ["scrape", "--bearer-token-file", token_file, B + "/noauth"],
                 3, err_has=["HTTP 400 Bad Request: credentials leaked"])

        if a.tls_url:
            c.expect("https with --ca-file", ["scrape", "--ca-file", cert, a.tls_url + "/metrics/text"], 0,
                     out_has=["fault_temperature_celsius"])
            c.expect("https self-signed refused", ["scrape", a.tls_url + "/metrics/text"], 3, err_has=["TLS error"])
            c.expect("https --insecure warns", ["scrape", "--insecure", a.tls_url + "/metrics/text"], 0,
                     err_has=["--insecure: server certificates are not verified"])
            c.expect("https to http redirect refused",
                     ["scrape", "--ca-file", cert, a.tls_url + "/redirect-http?to=%d" % a.port], 3,
                     err_has=["redirect from https to http refused"], out_not=["fault_"])
        else:
            print("SKIP https cases: the openssl CLI is not installed")

        # ---- auth and secrets -------------------------------------------------
        c.expect("bearer token from file", ["scrape", "--bearer-token-file", token_file, A + "/auth"], 0,
                 out_has=["fault_requests_total"], err_not=[TOKEN])
        c.expect("no token: 401", ["scrape", A + "/auth"], 3, err_has=["HTTP 401 Unauthorized"])
        wrong = write_secret(tmp, "wrong", b"wrong-token\n")
        c.expect("wrong token: 401", ["scrape", "--bearer-token-file", wrong, A + "/auth"], 3,
                 err_has=["HTTP 401"])
        c.expect("token from PROMSCOPE_BEARER_TOKEN", ["scrape", A + "/auth"], 0,
                 env=clean_env(PROMSCOPE_BEARER_TOKEN=TOKEN))
        crlf = write_secret(tmp, "crlf", (TOKEN + "\r\n").encode())
        c.expect("token file with CRLF is trimmed", ["scrape", "--bearer-token-file", crlf, A + "/auth"], 0)
        empty = write_secret(tmp, "empty", b"\n")
        c.expect("empty token file", ["scrape", "--bearer-token-file", empty, A + "/auth"], 2,
                 err_has=["bearer token file '%s' is empty" % empty])
        inner = write_secret(tmp, "inner", b"abc\ndef\n")
        c.expect("token with LF inside", ["scrape", "--bearer-token-file", inner, A + "/auth"], 2,
                 err_has=["invalid character in bearer token file"], err_not=["abc", "def"])
        space = write_secret(tmp, "space", b"abc def")
        c.expect("token with a space", ["scrape", "--bearer-token-file", space, A + "/auth"], 2,
                 err_has=["invalid character in bearer token file"])
        c.expect("token with CR in the environment", ["scrape", A + "/auth"], 2,
                 env=clean_env(PROMSCOPE_BEARER_TOKEN="ab\rcd"), err_has=["invalid character in bearer token"])
        loose = write_secret(tmp, "loose", (TOKEN + "\n").encode(), mode=0o644)
        c.expect("world-readable token file warns", ["scrape", "--bearer-token-file", loose, A + "/auth"], 0,
                 err_has=["is readable by group or others"], err_not=[TOKEN])
        c.expect("missing token file", ["scrape", "--bearer-token-file", os.path.join(tmp, "nope"), A + "/auth"], 3,
                 err_has=["cannot read bearer token file"])
        c.expect("basic auth", ["scrape", "--basic-auth", "scraper", "--password-file", pw_file, A + "/basic"], 3,
                 err_has=["HTTP 401"])  # /basic wants the server token as password
        c.expect("basic auth, password from file", ["scrape", "--basic-auth", "scraper", "--password-file",
                                                    server_secret, A + "/basic"], 0, err_not=[TOKEN])
        c.expect("basic auth, password from PROMSCOPE_PASSWORD", ["scrape", "--basic-auth", "scraper", A + "/basic"],
                 0, env=clean_env(PROMSCOPE_PASSWORD=TOKEN))
        c.expect("basic auth without password", ["scrape", "--basic-auth", "scraper", A + "/basic"], 2,
                 err_has=["--basic-auth needs a password"])
        c.expect("token and basic auth conflict", ["scrape", "--basic-auth", "u", "--password-file", pw_file,
                                                   "--bearer-token-file", token_file, A + "/basic"], 2)
        r = c.expect("URL userinfo is basic auth and redacted",
                     ["scrape", "--output", "json", "http://scraper:%s@127.0.0.1:%d/basic" % (TOKEN, a.port)], 0,
                     out_has=['"url":"http://***@127.0.0.1:%d/basic"' % a.port], out_not=[TOKEN], err_not=[TOKEN])
        c.expect("userinfo redacted in errors", ["scrape", "http://scraper:%s@127.0.0.1:%d/html" % (TOKEN, a.port)],
                 3, err_has=["http://***@127.0.0.1"], err_not=[TOKEN])
        c.expect("header with CR refused", ["scrape", "--header", "X-A: b\rc", A + "/metrics/text"], 2,
                 err_has=["invalid --header"])

        # ---- URL INPUTs of other commands -------------------------------------
        c.expect("validate a URL", ["validate", A + "/metrics/om"], 0)
        c.expect("validate a URL with a 500", ["validate", A + "/error500"], 3, err_has=["HTTP 500"])
        c.expect("validate a URL without Content-Type", ["validate", A + "/no-content-type"], 3,
                 err_has=["no Content-Type"])
        c.expect("convert a URL", ["convert", "--to", "openmetrics", A + "/metrics/text"], 0,
                 out_has=["# EOF"])

        # ---- POST through the library (tests/scrape_fetch.c) -------------------
        if fetch_tool:
            def fetch(*args):
                r = subprocess.run([fetch_tool] + list(args), capture_output=True, timeout=60, env=clean_env())
                return r.returncode, r.stdout.decode(errors="replace")
            code, out = fetch(A + "/echo", "query=up&time=1")
            c.check("POST form body", code == 0 and "method=POST\nct=application/x-www-form-urlencoded\n"
                    "body=query=up&time=1\n" in out, out)
            code, out = fetch(A + "/echo", '{"a":1}', "application/json")
            c.check("POST with a content type", code == 0 and "ct=application/json\nbody={\"a\":1}\n" in out, out)
            for status, method in ((301, "GET"), (302, "GET"), (303, "GET"), (307, "POST"), (308, "POST")):
                code, out = fetch(A + "/post-redirect/%d" % status, "query=up")
                ok = code == 0 and "redirects=1" in out and ("method=%s\n" % method) in out
                if method == "POST":
                    ok = ok and "body=query=up\n" in out
                c.check("POST redirected with %d becomes %s" % (status, method), ok, out)

        # ---- many targets -----------------------------------------------------
        urls = [A + "/metrics/text?i=%d" % i for i in range(200)]
        dead_url = "http://127.0.0.1:%d/metrics" % free_port()
        r = c.expect("200 targets and one dead, --parallel 16",
                     ["scrape", "--parallel", "16", "--output", "json"] + urls[:100] + [dead_url] + urls[100:], 3,
                     err_has=["1 of 201 targets failed"], timeout=300, max_seconds=120)
        if r:
            try:
                rows = json.loads(r.out)
            except ValueError as e:
                rows = []
                c.fail("summary json: %s" % e)
            c.check("201 rows in order", len(rows) == 201 and rows[100]["url"] == dead_url
                    and rows[0]["url"] == urls[0] and rows[200]["url"] == urls[199], "%d rows" % len(rows))
            good = [x for i, x in enumerate(rows) if i != 100]
            c.check("every live target has its own complete result",
                    all(x["ok"] and x["http_status"] == 200 and x["series"] == 3 and x["families"] == 2
                        and x["bytes_uncompressed"] == len(TEXT_BODY) and x["error"] is None for x in good),
                    json.dumps([x for x in good if not x["ok"]][:2]))
            if len(rows) == 201:
                d = rows[100]
                c.check("the dead target has its own error", not d["ok"] and d["http_status"] is None
                        and "cannot connect" in (d["error"] or ""), json.dumps(d))

        # ---- summary table, -o DIR, progress ------------------------------------
        r = c.expect("summary table", ["scrape", "--summary", A + "/metrics/text", A + "/html"], 3,
                     out_has=["URL", "STATUS", "FAMILIES", "SERIES", "TTFB", "unsupported Content-Type"])
        if r:
            line = [l for l in r.out.splitlines() if "/metrics/text" in l]
            c.check("summary row", line and re.search(r"\s200\s+text-0\.0\.4\s+266B/266B\s+2\s+3\s", line[0]),
                    repr(line))
            c.check("no progress line in a pipe", "scraping:" not in r.err and "\r" not in r.err, repr(r.err))
        # On a terminal (a pty here) the progress line appears, and is erased.
        import pty
        master, slave = pty.openpty()
        try:
            p = subprocess.Popen([promscope, "scrape", "--parallel", "4"] + urls[:20], stdout=subprocess.DEVNULL,
                                 stderr=slave, stdin=subprocess.DEVNULL, env=clean_env())
            os.close(slave)
            slave = None
            got = b""
            while len(got) < (1 << 20):
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the pty
                    break
                if not chunk:
                    break
                got += chunk
            code = p.wait(timeout=60)
        finally:
            if slave is not None:
                os.close(slave)
            os.close(master)
        c.check("progress line on a terminal", code == 0 and b"scraping: " in got and b"/20 done" in got
                and got.endswith(b"\r\x1b[K"), repr(got[-200:]))
        outdir = os.path.join(tmp, "out")
        r = c.expect("-o DIR", ["scrape", "-o", outdir, A + "/metrics/text", A + "/metrics/om", A + "/html",
                                A + "/metrics/gzip?x=1"], 3, err_has=["unsupported Content-Type"])
        if r:
            files = sorted(os.listdir(outdir)) if os.path.isdir(outdir) else []
            want = sorted(["127.0.0.1_%d_metrics_text.prom" % a.port, "127.0.0.1_%d_metrics_om.om" % a.port,
                           "127.0.0.1_%d_metrics_gzip_x_1.prom" % a.port])
            c.check("one file per successful target", files == want, "%s" % files)
            if os.path.exists(os.path.join(outdir, "127.0.0.1_%d_metrics_text.prom" % a.port)):
                with open(os.path.join(outdir, "127.0.0.1_%d_metrics_text.prom" % a.port)) as f:
                    c.check("file content", f.read() == TEXT_BODY)
        c.expect("usage: no URL", ["scrape"], 2, err_has=["missing URL"])
        c.expect("usage: bad --parallel", ["scrape", "--parallel", "0", A + "/metrics/text"], 2)
        c.expect("help", ["scrape", "-h"], 0, out_has=["usage: promscope scrape", "--bearer-token-file"])
    finally:
        for s in (a, b):
            if s:
                s.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
