#!/usr/bin/env python3
"""The API client against a fake server of our own that answers what real
servers and proxies never should (BAD-INPUTS.md section G).

    promapi_fake_test.py PROMSCOPE

The server runs in a thread on 127.0.0.1. The case is chosen by a path
prefix of --server (http://127.0.0.1:PORT/case/NAME), so every command
talks to exactly one behaviour; the server records each request (method,
path, parameters, headers, body) for the checks.
"""
import json
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promapi_util as u  # noqa: E402

T = 1700000000


def ok(data, **extra):
    d = {"status": "success", "data": data}
    d.update(extra)
    return json.dumps(d).encode()


def vec(*series):
    return {"resultType": "vector", "result": list(series)}


GOOD_VECTOR = vec({"metric": {"job": "a"}, "value": [T, "1"]}, {"metric": {"job": "b"}, "value": [T, "2.5"]})


def nested(depth):
    return b'{"status":"success","data":' + b"[" * depth + b"]" * depth + b"}"


HIST = {"count": "40", "sum": "12.5", "buckets": [[0, "0", "0.25", "10"], [0, "0.25", "0.5", "20"],
                                                   [0, "0.5", "1", "10"]]}

CASES = {
    # (status, content type, body) or a function of the request
    "good": (200, "application/json", ok(GOOD_VECTOR)),
    "value-number": (200, "application/json",
                     ok(vec({"metric": {"job": "a"}, "value": [T, "1"]}, {"metric": {"job": "b"}, "value": [T, 2]}))),
    "value-len3": (200, "application/json", ok(vec({"metric": {}, "value": [T, "1", "2"]}))),
    "time-string": (200, "application/json", ok(vec({"metric": {}, "value": [str(T), "1"]}))),
    "metric-array": (200, "application/json", ok(vec({"metric": ["job", "a"], "value": [T, "1"]}))),
    "label-number": (200, "application/json", ok(vec({"metric": {"job": 1}, "value": [T, "1"]}))),
    "result-type": (200, "application/json", ok({"resultType": "table", "result": []})),
    "result-object": (200, "application/json", ok({"resultType": "vector", "result": {}})),
    "no-data": (200, "application/json", b'{"status":"success"}'),
    "hex-value": (200, "application/json",
                  ok(vec(*[{"metric": {"i": str(i)}, "value": [T, "1"]} for i in range(3)],
                         {"metric": {"i": "3"}, "value": [T, "0x1p3"]}))),
    "huge-value": (200, "application/json", ok(vec({"metric": {}, "value": [T, "1e400"]}))),
    "empty-value": (200, "application/json", ok(vec({"metric": {}, "value": [T, ""]}))),
    "specials": (200, "application/json",
                 ok(vec({"metric": {"v": "nan"}, "value": [T, "NaN"]}, {"metric": {"v": "pinf"}, "value": [T, "+Inf"]},
                        {"metric": {"v": "ninf"}, "value": [T, "-Inf"]}))),
    "deep": (200, "application/json", nested(10000)),
    "bare-nan": (200, "application/json", b'{"status":"success","data":{"resultType":"scalar","result":[1,NaN]}}'),
    "duplicate-key": (200, "application/json", b'{"status":"success","status":"error","data":[]}'),
    "nul-value": (200, "application/json",
                  b'{"status":"success","data":{"resultType":"vector","result":'
                  b'[{"metric":{"job":"a\\u0000b"},"value":[1700000000,"1"]}]}}'),
    "nul-key": (200, "application/json",
                b'{"status":"success","data":{"resultType":"vector","result":'
                b'[{"metric":{"jo\\u0000b":"a"},"value":[1700000000,"1"]}]}}'),
    "lone-surrogate": (200, "application/json",
                       b'{"status":"success","data":{"resultType":"vector","result":'
                       b'[{"metric":{"job":"\\ud800"},"value":[1700000000,"1"]}]}}'),
    "bad-utf8": (200, "application/json", b'{"status":"success","data":["\xff\xfe"]}'),
    "trailing": (200, "application/json", ok(GOOD_VECTOR) + b"xyz"),
    "top-array": (200, "application/json", b"[]"),
    "top-string": (200, "application/json", b'"ok"'),
    "bom": (200, "application/json", b"\xef\xbb\xbf" + ok(GOOD_VECTOR)),
    "empty": (200, "application/json", b""),
    "status-error-200": (200, "application/json",
                         b'{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": boom"}'),
    "status-error-422": (422, "application/json",
                         b'{"status":"error","errorType":"execution","error":"query processing would load too many samples"}'),
    "html-503": (503, "text/html",
                 b"<html><head><title>503 Service Unavailable</title></head>\n<body>\x1b[2Jupstream down</body></html>"),
    "html-200": (200, "text/html", b"<html><body>login</body></html>"),
    "escape-label": (200, "application/json", ok(vec({"metric": {"job": "a\x1b[2Jb\r"}, "value": [T, "1"]},
                                                     {"metric": {"job": "c"}, "value": [T, "2"]}))),
    "warnings": (200, "application/json", ok(GOOD_VECTOR, warnings=["warning %d" % i for i in range(25)],
                                             infos=["info: PromQL info"])),
    "scalar": (200, "application/json", ok({"resultType": "scalar", "result": [T, "42.5"]})),
    "string": (200, "application/json", ok({"resultType": "string", "result": [T, "hello\nworld"]})),
    "native": (200, "application/json", ok(vec({"metric": {"__name__": "h"}, "histogram": [T, HIST]}))),
    "native-bad-bucket": (200, "application/json",
                          ok(vec({"metric": {}, "histogram": [T, {"count": "1", "sum": "1",
                                                                  "buckets": [[0, "0", "1"]]}]}))),
    "matrix-mixed": (200, "application/json",
                     ok({"resultType": "matrix", "result": [{"metric": {"job": "a"},
                                                             "values": [[T, "1"], [T + 30, "3"]],
                                                             "histograms": [[T + 15, HIST]]}]})),
    "series-bad": (200, "application/json", ok([{"__name__": "up"}, {"__name__": ["x"]}])),
    "labels-bad": (200, "application/json", ok(["a", 5])),
    "targets-bad": (200, "application/json",
                    ok({"activeTargets": [{"labels": {}, "scrapeUrl": "http://x/metrics", "health": "up",
                                           "lastScrapeDuration": "fast"}], "droppedTargets": []})),
    "metadata-bad": (200, "application/json", ok({"up": {"type": "gauge"}})),
    "tsdb-bad": (200, "application/json", ok({"seriesCountByMetricName": [{"name": "up", "value": "3"}]})),
}


def big_body():
    # ~3 MB of valid vector: over --max-size 1MiB
    items = ",".join('{"metric":{"i":"%d"},"value":[%d,"1"]}' % (i, T) for i in range(60000))
    return b'{"status":"success","data":{"resultType":"vector","result":[' + items.encode() + b"]}}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log = []
    lock = threading.Lock()

    def log_message(self, *a):
        pass

    def handle_any(self):
        parsed = urllib.parse.urlsplit(self.path)
        parts = parsed.path.split("/")
        # /case/NAME/api/v1/...
        case = parts[2] if len(parts) > 3 and parts[1] == "case" else "good"
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        params = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        if self.command == "POST" and self.headers.get("Content-Type", "").startswith(
                "application/x-www-form-urlencoded"):
            for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items():
                params.setdefault(k, []).extend(v)
        rec = {"case": case, "method": self.command, "path": "/" + "/".join(parts[3:]), "params": params,
               "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        with Handler.lock:
            Handler.log.append(rec)
        if case == "big":
            status, ctype, out = 200, "application/json", big_body()
        elif case == "native-report":
            q = params.get("query", [""])[0]
            if q.startswith("histogram_quantile"):
                out = ok(vec({"metric": {}, "value": [T, "0.375"]}))
            elif q.startswith("sum"):
                out = ok(vec({"metric": {}, "value": [T, "2"]}))
            else:  # detection query: the metric itself
                out = ok(vec({"metric": {"__name__": "rpc_seconds", "job": "a"}, "histogram": [T, HIST]}))
            status, ctype = 200, "application/json"
        else:
            status, ctype, out = CASES.get(case, (404, "text/plain", b"no such case\n"))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        try:
            self.wfile.write(out)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (--max-size): expected

    do_GET = handle_any
    do_POST = handle_any


class Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def main():
    promscope = sys.argv[1]
    srv = Server(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    th = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    th.start()
    base = "http://127.0.0.1:%d" % srv.server_address[1]
    c = u.Checker()

    def q(case, *args, env=None):
        return u.run(promscope, *args, "--server", base + "/case/" + case, "--timeout", "10s", env=env, timeout=60)

    def last(case):
        with Handler.lock:
            recs = [r for r in Handler.log if r["case"] == case]
        return recs[-1] if recs else {}

    try:
        rc, out, err = q("good", "query", "up")
        c.check(rc == 0 and out.splitlines() == ["job  VALUE", "a        1", "b      2.5"], "good answer", out + err)

        # ---- wrong types: error names the JSON path (G3, G4) ----
        for case, path in [("value-number", "data.result[1].value[1]"), ("value-len3", "data.result[0].value"),
                           ("time-string", "data.result[0].value[0]"), ("metric-array", "data.result[0].metric"),
                           ("label-number", "data.result[0].metric.job"), ("result-type", "data.resultType"),
                           ("result-object", "data.result"), ("no-data", "(top level)"),
                           ("hex-value", "data.result[3].value[1]"), ("huge-value", "data.result[0].value[1]"),
                           ("empty-value", "data.result[0].value[1]"),
                           ("native-bad-bucket", "data.result[0].histogram[1].buckets[0]")]:
            rc, out, err = q(case, "query", "up")
            c.check(rc == 3 and "malformed response: %s:" % path in err and out == "",
                    "%s: exit 3 naming %s" % (case, path), err)
        rc, out, err = q("hex-value", "query", "up")
        c.check("invalid sample value '0x1p3'" in err, "hex value quoted in the error", err)
        rc, out, err = q("huge-value", "query", "up")
        c.check("out of range" in err, "1e400 is out of range", err)
        for case, cmd, path in [("series-bad", ["series", "up"], "data[1].__name__"),
                                ("labels-bad", ["labels"], "data[1]"),
                                ("targets-bad", ["targets"], "data.activeTargets[0].lastScrapeDuration"),
                                ("metadata-bad", ["metadata"], "data.up"),
                                ("tsdb-bad", ["cardinality"], "data.seriesCountByMetricName[0].value")]:
            rc, out, err = q(case, *cmd)
            c.check(rc == 3 and "malformed response: %s:" % path in err, "%s: exit 3 naming %s" % (case, path), err)

        # ---- JSON syntax (G1, G2, G5-G8, G14) ----
        for case, text in [("deep", "nested too deeply"), ("bare-nan", "invalid JSON"),
                           ("duplicate-key", "duplicate"), ("nul-key", "NUL byte in object key"),
                           ("lone-surrogate", "invalid"), ("bad-utf8", "invalid"),
                           ("trailing", "trailing data"), ("top-array", "expected a JSON object"),
                           ("top-string", "expected a JSON object"), ("bom", "not JSON"),
                           ("empty", "empty response body")]:
            rc, out, err = q(case, "query", "up")
            c.check(rc == 3 and text in err and out == "", "%s: exit 3, '%s'" % (case, text), err)
        rc, out, err = q("deep", "query", "up")
        c.check("line 1, column" in err, "nesting error has jansson's line and column", err)

        # ---- NUL in a label value is data (G6); terminal escaping (H1) ----
        rc, out, err = q("nul-value", "query", "up")
        c.check(rc == 0 and "a\\x00b" in out, "NUL in a label value is accepted and shown escaped", out + err)
        rc, out, err = q("nul-value", "query", "-o", "json", "up")
        c.check(rc == 0 and json.loads(out)["result"][0]["metric"]["job"] == "a\u0000b", "NUL kept in JSON output",
                out + err)
        rc, out, err = q("escape-label", "query", "up")
        c.check(rc == 0 and "\x1b" not in out and "\r" not in out and "a\\x1b[2Jb\\x0d" in out,
                "control characters in labels are escaped", repr(out))

        # ---- API and HTTP errors (G9) ----
        rc, out, err = q("status-error-200", "query", "up")
        c.check(rc == 3 and 'bad_data: invalid parameter "query": boom' in err, "status error with HTTP 200", err)
        rc, out, err = q("status-error-422", "query", "up")
        c.check(rc == 3 and "execution: query processing would load too many samples (HTTP 422)" in err,
                "422 with an API error body", err)
        rc, out, err = q("html-503", "query", "up")
        c.check(rc == 3 and "503" in err and "upstream down" in err and "\x1b" not in err and "\\x1b" in err,
                "503 with HTML: status and an escaped snippet", err)
        rc, out, err = q("html-200", "query", "up")
        c.check(rc == 3 and "not JSON" in err and "login" in err, "200 with HTML: not JSON, with a snippet", err)
        rc, out, err = q("missing", "labels")
        c.check(rc == 3 and "404" in err, "404 from a path the server does not know", err)

        # ---- size limit (G11) ----
        rc, out, err = q("big", "query", "--max-size", "1MiB", "up")
        c.check(rc == 3 and "narrow the query or pass --limit" in err and out == "",
                "answer over --max-size: exit 3 with a hint", err)
        rc, out, err = q("big", "query", "--max-size", "16MiB", "-o", "csv", "up")
        c.check(rc == 0 and len(out.splitlines()) == 60001, "the same answer within --max-size", err[-300:])

        # ---- warnings and infos (G10) ----
        rc, out, err = q("warnings", "query", "up")
        lines = err.splitlines()
        c.check(rc == 0 and len(lines) == 21 and lines[0] == "promscope: warning: warning 0"
                and lines[-1] == "promscope: 6 more warnings and infos not shown", "25 warnings + 1 info: 20 shown",
                err)
        rc, out, err = u.run(promscope, "-q", "query", "--server", base + "/case/warnings", "up")
        c.check(rc == 0 and err == "", "-q silences warnings", err)

        # ---- result types ----
        rc, out, err = q("specials", "query", "--sort", "value", "up")
        c.check(rc == 0 and [l.split()[-1] for l in out.splitlines()[1:]] == ["+Inf", "-Inf", "NaN"],
                "NaN, +Inf, -Inf values", out + err)
        rc, out, err = q("specials", "query", "-o", "json", "up")
        vals = [s["value"][1] for s in json.loads(out)["result"]] if rc == 0 else []
        c.check(vals == ["NaN", "+Inf", "-Inf"], "specials kept as strings in JSON", out + err)
        rc, out, err = q("scalar", "query", "1")
        c.check(rc == 0 and out == "42.5\n", "scalar result", out + err)
        rc, out, err = q("string", "query", "-o", "csv", '"x"')
        c.check(rc == 0 and out == 'timestamp,value\n1700000000,"hello\nworld"\n', "string result as CSV", repr(out))
        rc, out, err = q("native", "query", "h")
        c.check(rc == 0 and "histogram count=40 sum=12.5 buckets=3" in out, "native histogram sample", out + err)
        rc, out, err = q("native", "query", "-o", "json", "h")
        d = json.loads(out) if rc == 0 else {}
        c.check(d.get("result", [{}])[0].get("histogram") == [T, HIST], "native histogram sample as JSON", out + err)
        rc, out, err = q("matrix-mixed", "query", "--start", str(T), "--end", str(T + 30), "--step", "15s",
                         "-o", "json", "x")
        d = json.loads(out) if rc == 0 else {}
        s = d.get("result", [{}])[0]
        c.check(s.get("values") == [[T, "1"], [T + 30, "3"]] and s.get("histograms") == [[T + 15, HIST]],
                "matrix with floats and histograms", out + err)
        rc, out, err = q("matrix-mixed", "query", "--start", str(T), "--end", str(T + 30), "--step", "15s",
                         "-o", "table", "x")
        c.check(rc == 0 and len(out.splitlines()) == 4 and "histogram count=40" in out.splitlines()[2],
                "matrix points merged in time order", out + err)

        # ---- request encoding: GET, POST for long queries, passed-through parameters ----
        rc, out, err = q("good", "query", "--time", "1700000000.5", "--limit", "5", "--query-timeout", "30s",
                         "--lookback-delta", "1m", "--stats", "up")
        r = last("good")
        c.check(rc == 0 and r.get("method") == "GET" and r.get("path") == "/api/v1/query"
                and r["params"] == {"query": ["up"], "time": ["1700000000.5"], "limit": ["5"], "timeout": ["30s"],
                                    "stats": ["all"], "lookback_delta": ["1m"]},
                "GET with time, limit, timeout, stats, lookback_delta", repr(r.get("params")))
        c.check(r.get("headers", {}).get("accept") == "application/json", "Accept: application/json",
                repr(r.get("headers")))
        long_q = "sum(up{job=~\"" + "|".join("job-%d" % i for i in range(400)) + "\"})"
        rc, out, err = q("good", "query", long_q)
        r = last("good")
        c.check(rc == 0 and r.get("method") == "POST" and r["headers"].get("content-type")
                == "application/x-www-form-urlencoded" and r["params"].get("query") == [long_q],
                "a %d-byte query is a form-encoded POST" % len(long_q), repr(r.get("method")))
        rc, out, err = q("good", "query", "--start", "2023-11-14T22:13:20Z", "--end", "2023-11-14T23:13:20.250Z",
                         "-o", "json", "up")
        r = last("good")
        c.check(r.get("path") == "/api/v1/query_range" and r["params"].get("start") == ["1700000000"]
                and r["params"].get("end") == ["1700003600.25"] and r["params"].get("step") == ["30"],
                "range: RFC 3339 times, default step range/200 rounded to 30s", repr(r.get("params")))
        rc, out, err = q("good", "label-values", "--match", "up", "--match", "x{a=\"b\"}", "--start", "-1h",
                         "my label")
        r = last("good")
        c.check(r.get("path") == "/api/v1/label/my%20label/values" and r["params"].get("match[]")
                == ["up", 'x{a="b"}'] and "start" in r["params"], "label-values: encoded name, match[]",
                repr(r))
        rc, out, err = q("good", "query", "up", env={"PROMSCOPE_BEARER_TOKEN": "s3cret-token"})
        r = last("good")
        c.check(r.get("headers", {}).get("authorization") == "Bearer s3cret-token" and "s3cret" not in out + err,
                "bearer token from the environment is sent, never printed", repr(r.get("headers")))

        # ---- native histogram detection in the percentiles report ----
        with Handler.lock:
            Handler.log.clear()
        rc, out, err = q("native-report", "report", "percentiles", "--by", "job", "--time", str(T), "-o", "json",
                         "rpc_seconds")
        with Handler.lock:
            sent = [r["params"].get("query", [""])[0] for r in Handler.log]
        c.check(sent == ["rpc_seconds", "histogram_quantile(0.5, sum by (job) (rate(rpc_seconds[5m])))",
                         "histogram_quantile(0.9, sum by (job) (rate(rpc_seconds[5m])))",
                         "histogram_quantile(0.99, sum by (job) (rate(rpc_seconds[5m])))",
                         "sum by (job) (histogram_count(rate(rpc_seconds[5m])))"],
                "native histogram detected: native queries sent", "\n".join(sent))
        d = json.loads(out) if rc == 0 else []
        c.check(d == [{"labels": {}, "quantiles": {"0.5": 0.375, "0.9": 0.375, "0.99": 0.375}, "rate": 2}],
                "native report rows", out + err)
        with Handler.lock:
            Handler.log.clear()
        rc, out, err = q("good", "report", "percentiles", "--selector", "{job=\"a\"}", "--window", "10m",
                         "--time", str(T), "--show-queries", "x_seconds")
        with Handler.lock:
            sent = [r["params"].get("query", [""])[0] for r in Handler.log]
        c.check(sent[:2] == ['x_seconds{job="a"}',
                             'histogram_quantile(0.5, sum by (le) (rate(x_seconds_bucket{job="a"}[10m])))']
                and sent[-1] == 'sum(rate(x_seconds_count{job="a"}[10m]))' and "promscope: query: " in err,
                "classic buckets when the metric has no histogram samples", "\n".join(sent))

        # ---- usage errors: exit 2, no request ----
        for args in (["query"], ["query", "--time", "yesterday", "up"], ["query", "--step", "0s", "up"],
                     ["query", "-o", "chart", "up"], ["query", "--start", "10", "--end", "5", "up"],
                     ["report"], ["report", "medians", "x"], ["report", "percentiles", "--quantiles", "1.5", "x"],
                     ["report", "percentiles", "--by", "le", "x"], ["report", "rates", "--expect", "p99 < 1", "x"],
                     ["report", "percentiles", "--expect", "p99 ~ 1", "x"], ["report", "percentiles", "{a=\"b\"}"],
                     ["report", "percentiles", "--window", "5 minutes", "x"], ["series"], ["label-values"],
                     ["query", "--server", "ftp://x", "up"]):
            rc, out, err = u.run(promscope, *args, "--server" if "--server" not in args else "--timeout",
                                 base + "/case/good" if "--server" not in args else "5s")
            c.check(rc == 2 and err.startswith("promscope"), "usage error: %s" % " ".join(args), err)
    finally:
        srv.shutdown()
        srv.server_close()
    return c.done()


if __name__ == "__main__":
    sys.exit(main())
