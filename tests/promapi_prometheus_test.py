#!/usr/bin/env python3
"""query, series, labels, label-values, metadata, targets, report and
cardinality --server against the real Debian `prometheus`.

    promapi_prometheus_test.py PROMSCOPE

A histogram and a counter over one fixed hour (promapi_util.py) are loaded
with `promtool tsdb create-blocks-from openmetrics`; prometheus runs on
127.0.0.1 on that data (retention 100y), scraping itself and a dead
target. Report values at a fixed --time are compared with Prometheus'
arithmetic done by hand in promapi_util.py, exact to 1e-9 relative.
"""
import csv
import io
import json
import math
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promapi_util as u  # noqa: E402

T = str(u.T_EVAL)


def main():
    promscope = sys.argv[1]
    for prog in ("prometheus", "promtool"):
        if not shutil.which(prog):
            print("SKIP: %s is not installed" % prog)
            return 77
    c = u.Checker()
    with u.Servers() as srv:
        data = os.path.join(srv.tmp, "data")
        u.load_blocks(srv, data)
        dead = u.free_port()  # nothing listens there
        url = u.start_prometheus(srv, data, scrape_targets=["127.0.0.1:%d" % dead])
        S = ["--server", url]

        def ps(*args, **kw):
            return u.run(promscope, *(list(args) + S), **kw)

        # ---- report percentiles ----------------------------------------
        exp = u.expected_percentiles(u.prom_rate)
        rc, out, err = ps("report", "percentiles", "--by", "route", "--time", T, "-o", "json",
                          u.HIST)
        c.check(rc == 0, "percentiles --by route exits 0", err)
        rows = json.loads(out) if rc == 0 else []
        c.check([r["labels"] for r in rows] == [{"route": "/api"}, {"route": "/login"}],
                "percentiles: one row per route, sorted", out)
        for r in rows:
            e = exp[r["labels"]["route"]]
            for q in (0.5, 0.9, 0.99):
                got = r["quantiles"][repr(q)]
                c.check(u.close(got, e["q"][q]), "percentiles %s p%g = %r (hand: %r)"
                        % (r["labels"]["route"], q * 100, got, e["q"][q]))
            c.check(u.close(r["rate"], e["rate"]), "percentiles %s rate = %r (hand: %r)"
                    % (r["labels"]["route"], r["rate"], e["rate"]))

        # one group, other quantiles, extra matchers, suffix ignored
        sel = "{instance=\"a:80\"}"
        rc, out, err = ps("report", "percentiles", "--quantiles", "0.25,0.75,0.999", "--selector", sel,
                          "--time", T, "-o", "json", u.HIST + "_bucket")
        rows = json.loads(out) if rc == 0 else []
        h = u.histogram_series()
        g = {le: sum(u.prom_rate(s["buckets"][le]) for (rt, inst), s in h.items() if inst == "a:80")
             for le in u.LES}
        bl = [(u.le_value(le), g[le]) for le in u.LES]
        ok = rc == 0 and len(rows) == 1 and rows[0]["labels"] == {}
        c.check(ok, "percentiles without --by: one group with no labels", out + err)
        for q in (0.25, 0.75, 0.999):
            e = u.bucket_quantile(q, bl)
            got = rows[0]["quantiles"].get(repr(q)) if ok else None
            c.check(ok and u.close(got, e), "percentiles --selector p%g = %r (hand: %r)" % (q * 100, got, e))

        # table: durations, right-aligned numbers
        rc, out, err = ps("report", "percentiles", "--by", "route", "--time", T, u.HIST)
        lines = out.splitlines()
        c.check(rc == 0 and lines and lines[0].split() == ["route", "P50", "P90", "P99", "RATE/S"],
                "percentiles table header", out + err)
        c.check(len(lines) == 3 and "65.08ms" in lines[1] and "898.5ms" in lines[1] and "1s" in lines[2],
                "percentiles table shows seconds as durations", out)
        # csv
        rc, out, err = ps("report", "percentiles", "--by", "route", "--time", T, "-o", "csv", u.HIST)
        rows = list(csv.reader(io.StringIO(out)))
        c.check(rc == 0 and rows[0] == ["route", "p50", "p90", "p99", "rate"] and len(rows) == 3
                and u.close(float(rows[1][1]), exp["/api"]["q"][0.5]), "percentiles csv", out + err)

        # --expect
        rc, out, err = ps("report", "percentiles", "--by", "route", "--time", T, "--expect", "p99 < 950ms",
                          u.HIST)
        c.check(rc == 1 and "route=\"/login\"" in err and "route=\"/api\"" not in err
                and "p99 = 1s" in err, "--expect 'p99 < 950ms' exits 1 naming /login only", err)
        rc, out, err = ps("report", "percentiles", "--by", "route", "--time", T, "--expect", "p50 < 0.5",
                          "--expect", "rate > 10", u.HIST)
        c.check(rc == 0 and err == "", "--expect that holds exits 0", err)
        rc, out, err = ps("report", "percentiles", "--by", "route", "--time", T, "--expect", "p99.9 < 2s",
                          "-o", "json", u.HIST)
        rows = json.loads(out) if out.startswith("[") else []
        c.check(rc == 0 and rows and "0.999" in rows[0]["quantiles"],
                "--expect p99.9 adds the quantile 0.999", out + err)
        rc, out, err = ps("report", "percentiles", "--time", T, "--expect", "p99 < 1", "no_such_metric_seconds")
        c.check(rc == 1 and "no group matched" in err, "--expect with no data exits 1", err)

        # ---- report rates ------------------------------------------------
        exp_r = u.expected_rates(u.prom_rate, by=("route", "code"))
        total = sum(exp_r.values())
        rc, out, err = ps("report", "rates", "--by", "route,code", "--top", "3", "--time", T, "-o", "json",
                          u.COUNTER)
        rows = json.loads(out) if rc == 0 else []
        order = sorted(exp_r.items(), key=lambda kv: -kv[1])[:3]
        c.check([(r["labels"]["route"], r["labels"]["code"]) for r in rows] == [k for k, _ in order],
                "rates --top 3: the three fastest groups, fastest first", out + err)
        for r, (k, v) in zip(rows, order):
            c.check(u.close(r["rate"], v) and u.close(r["share"], v / total),
                    "rates %s rate %r share %r (hand: %r, %r)" % (k, r["rate"], r["share"], v, v / total))
        c.check("top 3 of 4 groups" in err, "rates says how many groups were left out", err)

        # per series (no --by), includes the series with a counter reset
        exp_s = u.expected_rates(u.prom_rate, by=("route", "code", "instance"))
        rc, out, err = ps("report", "rates", "--time", T, "-o", "json", u.COUNTER)
        rows = json.loads(out) if rc == 0 else []
        c.check(len(rows) == 8 and all(set(r["labels"]) == {"code", "instance", "job", "route"} for r in rows),
                "rates without --by: one row per series", out + err)
        for r in rows:
            k = (r["labels"]["route"], r["labels"]["code"], r["labels"]["instance"])
            c.check(u.close(r["rate"], exp_s[k]), "rates series %s = %r (hand: %r)" % (k, r["rate"], exp_s[k]))

        # a selector over several metrics: rate() drops the names, the report puts them back
        every = u.all_series()
        rc, out, err = ps("report", "rates", "--top", "0", "--time", T, "-o", "json", '{job="api"}')
        rows = json.loads(out) if rc == 0 else []
        got = {(r["labels"].pop("__name__", None), frozenset(r["labels"].items())): r["rate"] for r in rows}
        c.check(rc == 0 and set(got) == set(every), "rates over every metric of a job: %d series, names kept"
                % len(got), err)
        bad = [k for k in got if k in every and not u.close(got[k], u.prom_rate(every[k]))]
        c.check(rc == 0 and not bad, "rates over several metrics equal the hand arithmetic", repr(bad[:2]))
        rc, out, err = ps("report", "rates", "--by", "__name__", "--time", T, "-o", "json", '{job="api"}')
        rows = json.loads(out) if rc == 0 else []
        per_name = {}
        for (name, _), vals in every.items():
            per_name[name] = per_name.get(name, 0.0) + u.prom_rate(vals)
        c.check(len(rows) == 4 and all(u.close(r["rate"], per_name[r["labels"]["__name__"]]) for r in rows),
                "rates --by __name__ over a job", out + err)
        rc, out, err = ps("report", "rates", "--by", "route,code", "--time", T, "--expect", "rate > 1",
                          u.COUNTER)
        c.check(rc == 1 and err.count("failed for") == 1 and 'code="500", route="/login"' in err,
                "--expect 'rate > 1' names the one slow group", err)
        rc, out, err = ps("report", "rates", "--by", "route", "--time", T, "--expect", "share < 80%", u.COUNTER)
        c.check(rc == 0, "--expect 'share < 80%' holds", err)
        rc, out, err = ps("report", "rates", "--by", "route", "--time", T, "-o", "csv", u.COUNTER)
        rows = list(csv.reader(io.StringIO(out)))
        c.check(rc == 0 and rows[0] == ["route", "rate", "share"] and rows[1][0] == "/api", "rates csv", out + err)
        rc, out, err = ps("report", "rates", "--by", "route", "--time", T, u.COUNTER)
        lines = out.splitlines()
        c.check(rc == 0 and lines[0].split() == ["route", "RATE/S", "SHARE"] and lines[1].endswith("%"),
                "rates table", out + err)

        # trends over a range: every point is the rate at that step
        start, end, step = u.BASE + 900, u.T_EVAL, 60
        rc, out, err = ps("report", "rates", "--by", "route", "--start", str(start), "--end", str(end),
                          "--step", "60s", "-o", "json", u.COUNTER)
        rows = json.loads(out) if rc == 0 else []
        ok = rc == 0 and len(rows) == 2
        c.check(ok and all(len(r["trend"]) == (end - start) // step + 1 for r in rows),
                "rates trend has one point per step", out + err)
        bad = []
        for r in rows if ok else []:
            route = r["labels"]["route"]
            for t, v in r["trend"]:
                e = sum(u.prom_rate(vals, t=t) for (rt, code, inst), vals in u.counter_series().items()
                        if rt == route)
                if not u.close(v, e):
                    bad.append((route, t, v, e))
        c.check(ok and not bad, "rates trend values equal the hand arithmetic at every step", repr(bad[:3]))
        rc, out, err = ps("report", "percentiles", "--by", "route", "--start", str(start), "--end", str(end),
                          u.HIST)
        c.check(rc == 0 and "P50 TREND" in out.splitlines()[0] and any(0x2581 <= ord(ch) <= 0x2588 for ch in out),
                "percentiles with a range: sparkline columns", out + err)

        # ---- query -------------------------------------------------------
        expr = "sum by (route) (rate(%s[5m]))" % u.COUNTER
        exp_q = u.expected_rates(u.prom_rate, by=("route",))
        rc, out, err = ps("query", "--time", T, expr)
        lines = out.splitlines()
        c.check(rc == 0 and lines[0].split() == ["route", "VALUE"] and len(lines) == 3
                and lines[1].startswith("/api") and lines[2].startswith("/login"),
                "query table: a column per varying label, sorted", out + err)
        widths = {len(l) for l in lines}
        c.check(len(widths) == 1, "query table: values right-aligned", out)
        rc, out, err = ps("query", "--time", T, "-o", "json", expr)
        d = json.loads(out) if rc == 0 else {}
        c.check(d.get("resultType") == "vector" and len(d.get("result", [])) == 2, "query json", out + err)
        for s in d.get("result", []):
            k = (s["metric"]["route"],)
            c.check(s["value"][0] == u.T_EVAL and u.close(float(s["value"][1]), exp_q[k]),
                    "query json value %s" % (k,))
        rc, out, err = ps("query", "--time", T, "-o", "csv", expr)
        rows = list(csv.reader(io.StringIO(out)))
        c.check(rc == 0 and rows[0] == ["route", "timestamp", "value"] and rows[1][1] == T
                and u.close(float(rows[1][2]), exp_q[("/api",)]), "query csv", out + err)
        rc, out, err = ps("query", "--time", T, "--sort", "value", "-o", "table", "rate(%s[5m])" % u.COUNTER)
        vals = [float(l.split()[-1]) for l in out.splitlines()[1:]]
        c.check(rc == 0 and len(vals) == 8 and vals == sorted(vals, reverse=True), "query --sort value", out + err)
        rc, out, err = ps("query", "--time", T, "scalar(sum(rate(%s[5m])))" % u.COUNTER)
        c.check(rc == 0 and u.close(float(out.strip()), total), "query scalar", out + err)
        rc, out, err = ps("query", "--time", T, "-o", "json", '"hello"')
        c.check(rc == 0 and json.loads(out)["result"][1] == "hello", "query string", out + err)
        rc, out, err = ps("query", "foo(")
        c.check(rc == 3 and "bad_data" in err and "parse error" in err, "query syntax error exits 3", err)
        # a query longer than the GET limit goes as a POST body
        long_expr = expr + "".join(" + 0 * scalar(vector(%d))" % i for i in range(120))
        rc, out, err = ps("query", "--time", T, "-o", "json", long_expr)
        d = json.loads(out) if rc == 0 else {}
        c.check(len(long_expr) > 2048 and rc == 0 and len(d.get("result", [])) == 2
                and u.close(float(d["result"][0]["value"][1]), exp_q[("/api",)]),
                "a %d-byte query is answered (POST)" % len(long_expr), err)

        # range
        rargs = ["--start", str(start), "--end", str(end), "--step", "60s"]
        npts = (end - start) // 60 + 1
        rc, out, err = ps("query", *rargs, "-o", "json", expr)
        d = json.loads(out) if rc == 0 else {}
        c.check(d.get("resultType") == "matrix" and all(len(s["values"]) == npts for s in d.get("result", [])),
                "range query json: matrix with a point per step", out[:300] + err)
        rc, out, err = ps("query", *rargs, "-o", "csv", expr)
        c.check(rc == 0 and len(out.splitlines()) == 1 + 2 * npts, "range query csv: a line per sample", err)
        rc, out, err = ps("query", *rargs, "-o", "table", expr)
        c.check(rc == 0 and out.splitlines()[0].split() == ["route", "TIME", "VALUE"]
                and "2023-11-14T22:28:20Z" in out, "range query table with RFC 3339 times", out[:300] + err)
        rc, out, err = ps("--color=always", "query", *rargs, "-o", "chart", "--utc", expr,
                          env={"COLUMNS": "100"})
        has_braille = any(0x2801 <= ord(ch) <= 0x28ff for ch in out)
        c.check(rc == 0 and has_braille and "{route=\"/api\"}" in out and "22:28" in out and "UTC" in out
                and "\033[" in out, "range query chart: braille, legend, time axis, colours", out + err)
        # the y axis spans exactly the values: top label the maximum, bottom the minimum
        one = "sum(rate(%s[5m]))" % u.COUNTER
        rc, out, err = ps("query", *rargs, "-o", "json", one)
        vals = [float(v) for _, v in json.loads(out)["result"][0]["values"]] if rc == 0 else [0]
        rc, out, err = ps("--color=always", "query", *rargs, "-o", "chart", "--height", "6", one,
                          env={"COLUMNS": "80"})
        lines = out.splitlines()
        c.check(rc == 0 and len(lines) == 6 + 3 and lines[0].split()[0] == "%.4g" % max(vals)
                and lines[5].split()[0] == "%.4g" % min(vals) and lines[-1].endswith("{}"),
                "chart: 6 rows, y axis from %.4g to %.4g, axis and legend" % (min(vals), max(vals)), out)
        rc, out, err = ps("query", *rargs, "-o", "chart", "rate(%s[5m])" % u.COUNTER)
        c.check(rc == 0 and "TREND" in out and "MIN" in out and len(out.splitlines()) == 9,
                "range query with 8 series without colour: sparklines", out + err)

        # ---- series, labels, label-values ---------------------------------
        rng = ["--start", str(u.BASE), "--end", str(u.BASE + 3600)]
        rc, out, err = ps("series", *rng, "-o", "json", '%s{route="/api"}' % u.COUNTER)
        d = json.loads(out) if rc == 0 else []
        c.check(len(d) == 4 and all(s["__name__"] == u.COUNTER and s["route"] == "/api" for s in d),
                "series json", out + err)
        rc, out, err = ps("series", *rng, '%s{route="/api"}' % u.COUNTER)
        lines = out.splitlines()
        c.check(rc == 0 and lines[0].split() == ["__name__", "code", "instance"] and len(lines) == 5,
                "series table: name and varying labels", out + err)
        rc, out, err = ps("labels", *rng, "--match", u.COUNTER, "-o", "json")
        c.check(rc == 0 and json.loads(out) == ["__name__", "code", "instance", "job", "route"], "labels", out + err)
        rc, out, err = ps("label-values", *rng, "route")
        c.check(rc == 0 and out.splitlines() == ["route", "/api", "/login"], "label-values table", out + err)
        rc, out, err = ps("label-values", "--match", u.HIST + "_count", *rng, "-o", "json", "instance")
        c.check(rc == 0 and json.loads(out) == ["a:80", "b:80"], "label-values --match json", out + err)
        rc, out, err = ps("series", "{")
        c.check(rc == 3 and "bad_data" in err, "series with a bad selector exits 3", err)

        # ---- targets and metadata need scrapes: bounded waits ---------------
        def targets_ready():
            rc, out, _ = ps("targets", "-o", "json")
            d = json.loads(out) if rc == 0 else []
            return len(d) == 2 and all(t["health"] in ("up", "down") for t in d)
        u.wait_until(targets_ready, "both targets to be scraped", timeout=30)
        rc, out, err = ps("targets", "-o", "json")
        d = {t["scrapeUrl"]: t for t in json.loads(out)}
        up = d.get(url + "/metrics", {})
        down = d.get("http://127.0.0.1:%d/metrics" % dead, {})
        c.check(up.get("health") == "up" and up.get("lastError") == "" and up.get("lastScrapeDuration", 0) > 0
                and up.get("labels", {}).get("job") == "prometheus", "targets json: self is up", out)
        c.check(down.get("health") == "down" and "refused" in down.get("lastError", ""),
                "targets json: dead target is down with its error", out)
        rc, out, err = ps("targets")
        lines = out.splitlines()
        c.check(rc == 0 and lines[0].split()[:3] == ["POOL", "ENDPOINT", "HEALTH"] and len(lines) == 3
                and "refused" in out and " ago" in out, "targets table", out + err)

        u.wait_until(lambda: ps("metadata", "prometheus_http_requests_total")[1].count("\n") == 2,
                     "metadata of the self scrape", timeout=30)
        rc, out, err = ps("metadata", "-o", "json", "prometheus_http_requests_total")
        d = json.loads(out) if rc == 0 else []
        c.check(d == [{"metric": "prometheus_http_requests_total", "type": "counter", "unit": "",
                       "help": "Counter of HTTP requests."}], "metadata json", out + err)
        rc, out, err = ps("metadata", "--limit", "5", "-o", "json")
        d = json.loads(out) if rc == 0 else []
        c.check(rc == 0 and len({m["metric"] for m in d}) == 5
                and [m["metric"] for m in d] == sorted(m["metric"] for m in d), "metadata --limit, sorted", err)

        # ---- cardinality --server ------------------------------------------
        def direct():
            return json.loads(u.http_get(url + "/api/v1/status/tsdb")[1])["data"]["headStats"]["numSeries"]
        u.wait_until(lambda: direct() == direct() and direct() > 0, "stable head series", timeout=30)
        rc, out, err = ps("cardinality", "-o", "json", "--top", "5")
        d = json.loads(out) if rc == 0 else {}
        n = direct()
        c.check(rc == 0 and d.get("total_series") == n and len(d.get("families", [])) == 5
                and len(d.get("labels", [])) <= 5, "cardinality --server json (head series %s)" % n, out + err)
        fams = d.get("families", [])
        c.check(fams == sorted(fams, key=lambda f: -f["series"]) and all(0 < f["share"] <= 1 for f in fams),
                "cardinality --server: families by series, with shares", out)
        rc, out, err = ps("cardinality")
        c.check(rc == 0 and "series per metric" in out and "distinct values per label" in out
                and "head block: %d series" % n in out, "cardinality --server table", out + err)
        rc, out, err = ps("cardinality", "some-file.prom")
        c.check(rc == 2, "cardinality: INPUT and --server exclude each other", err)

        rc, out, err = ps("report", "percentiles", "up")
        c.check(rc == 0 and "up has float samples but no histogram buckets" in err and "no group matched" in err,
                "percentiles of a metric that is not a histogram says so", err)

        # ---- server from the environment; unreachable server ---------------
        rc, out, err = u.run(promscope, "label-values", "job", env={"PROMETHEUS_URL": url})
        c.check(rc == 0 and "prometheus" in out, "PROMETHEUS_URL names the server", out + err)
        rc, out, err = u.run(promscope, "labels", "--server", "http://127.0.0.1:%d" % dead, "--timeout", "5s")
        c.check(rc == 3 and "127.0.0.1:%d" % dead in err, "unreachable server exits 3", err)
    return c.done()


if __name__ == "__main__":
    sys.exit(main())
