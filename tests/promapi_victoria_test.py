#!/usr/bin/env python3
"""The reports and the API commands against VictoriaMetrics (the Debian
`victoria-metrics`), a second engine that serves the Prometheus API.

    promapi_victoria_test.py PROMSCOPE

The same fixed hour as the Prometheus test (promapi_util.py) is loaded
through /api/v1/import/prometheus. The reports run unchanged; their values
must match MetricsQL's documented semantics, computed by hand: rate() does
not extrapolate, it takes the last sample before the window as the
starting point (docs/MetricsQL.md "rate", "increase"); counter resets are
removed first. These differ from Prometheus' numbers for the same data,
so the test also shows the report does no arithmetic of its own.
"""
import json
import os
import shutil
import sys
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promapi_util as u  # noqa: E402

T = str(u.T_EVAL)


def main():
    promscope = sys.argv[1]
    vm = shutil.which("victoria-metrics")
    if not vm:
        print("SKIP: victoria-metrics is not installed")
        return 77
    c = u.Checker()
    with u.Servers() as srv:
        port = u.free_port()
        url = "http://127.0.0.1:%d" % port
        srv.start([vm, "-storageDataPath=" + os.path.join(srv.tmp, "vm"), "-retentionPeriod=100y",
                   "-httpListenAddr=127.0.0.1:%d" % port, "-loggerLevel=ERROR"], "vm.log")
        try:
            u.wait_until(lambda: u.http_get(url + "/health")[0] == 200, "victoria-metrics to be ready", timeout=60)
        except RuntimeError:
            sys.stderr.write(srv.log("vm.log"))
            raise
        req = urllib.request.Request(url + "/api/v1/import/prometheus", data=u.prometheus_text_ms().encode(),
                                     method="POST")
        with urllib.request.urlopen(req, timeout=60) as r:
            c.check(r.status == 204, "import accepted")
        u.http_get(url + "/internal/force_flush", timeout=30)

        def loaded():
            q = urllib.parse.urlencode({"query": "count(%s)" % u.COUNTER, "time": T})
            d = json.loads(u.http_get(url + "/api/v1/query?" + q)[1])
            return d["data"]["result"] and d["data"]["result"][0]["value"][1] == "8"
        u.wait_until(loaded, "the imported series to be searchable", timeout=60)
        S = ["--server", url]

        def ps(*args, **kw):
            return u.run(promscope, *(list(args) + S), **kw)

        # ---- percentiles: histogram_quantile over VictoriaMetrics' rates ----
        exp = u.expected_percentiles(u.vm_rate)
        exp_prom = u.expected_percentiles(u.prom_rate)
        rc, out, err = ps("report", "percentiles", "--by", "route", "--time", T, "-o", "json", u.HIST)
        rows = json.loads(out) if rc == 0 else []
        c.check([r["labels"] for r in rows] == [{"route": "/api"}, {"route": "/login"}],
                "percentiles: one row per route", out + err)
        for r in rows:
            e = exp[r["labels"]["route"]]
            for q in (0.5, 0.9, 0.99):
                got = r["quantiles"][repr(q)]
                c.check(u.close(got, e["q"][q]), "percentiles %s p%g = %r (hand, MetricsQL: %r)"
                        % (r["labels"]["route"], q * 100, got, e["q"][q]))
            c.check(u.close(r["rate"], e["rate"]), "percentiles %s rate = %r (hand, MetricsQL: %r)"
                    % (r["labels"]["route"], r["rate"], e["rate"]))
            c.check(not u.close(r["rate"], exp_prom[r["labels"]["route"]]["rate"]),
                    "percentiles %s rate differs from Prometheus' extrapolated %r"
                    % (r["labels"]["route"], exp_prom[r["labels"]["route"]]["rate"]))

        # ---- rates: grouped, per series (one with a counter reset) ----
        exp_r = u.expected_rates(u.vm_rate, by=("route", "code"))
        total = sum(exp_r.values())
        rc, out, err = ps("report", "rates", "--by", "route,code", "--time", T, "-o", "json", u.COUNTER)
        rows = json.loads(out) if rc == 0 else []
        c.check(len(rows) == 4 and [r["rate"] for r in rows] == sorted((r["rate"] for r in rows), reverse=True),
                "rates: four groups, fastest first", out + err)
        for r in rows:
            k = (r["labels"]["route"], r["labels"]["code"])
            c.check(u.close(r["rate"], exp_r[k]) and u.close(r["share"], exp_r[k] / total),
                    "rates %s rate %r share %r (hand: %r, %r)" % (k, r["rate"], r["share"], exp_r[k],
                                                                  exp_r[k] / total))
        exp_s = u.expected_rates(u.vm_rate, by=("route", "code", "instance"))
        rc, out, err = ps("report", "rates", "--top", "0", "--time", T, "-o", "json", u.COUNTER)
        rows = json.loads(out) if rc == 0 else []
        c.check(len(rows) == 8, "rates per series", out + err)
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
        bad = [k for k in got if k in every and not u.close(got[k], u.vm_rate(every[k]))]
        c.check(rc == 0 and not bad, "rates over several metrics equal the hand arithmetic", repr(bad[:2]))
        rc, out, err = ps("report", "rates", "--by", "__name__", "--time", T, "-o", "json", '{job="api"}')
        rows = json.loads(out) if rc == 0 else []
        per_name = {}
        for (name, _), vals in every.items():
            per_name[name] = per_name.get(name, 0.0) + u.vm_rate(vals)
        c.check(len(rows) == 4 and all(u.close(r["rate"], per_name[r["labels"]["__name__"]]) for r in rows),
                "rates --by __name__ over a job", out + err)
        rc, out, err = ps("report", "rates", "--by", "route,code", "--time", T, "--expect", "rate > 1", u.COUNTER)
        c.check(rc == 1 and err.count("failed for") == 1 and 'code="500", route="/login"' in err,
                "--expect 'rate > 1' names the slow group", err)
        rc, out, err = ps("report", "percentiles", "--by", "route", "--time", T, "--expect", "p50 < 0.1", u.HIST)
        c.check(rc == 1 and 'route="/login"' in err and 'route="/api"' not in err,
                "--expect 'p50 < 0.1' names /login", err)

        # trend points: each is MetricsQL's rate at that step
        start, end = u.BASE + 900, u.T_EVAL
        rc, out, err = ps("report", "rates", "--by", "route", "--start", str(start), "--end", str(end),
                          "--step", "60s", "-o", "json", u.COUNTER)
        rows = json.loads(out) if rc == 0 else []
        bad, npts = [], 0
        for r in rows:
            for t, v in r["trend"]:
                npts += 1
                e = sum(u.vm_rate(vals, t=t) for (rt, code, inst), vals in u.counter_series().items()
                        if rt == r["labels"]["route"])
                if not u.close(v, e):
                    bad.append((r["labels"]["route"], t, v, e))
        c.check(rc == 0 and len(rows) == 2 and npts == 2 * ((end - start) // 60 + 1) and not bad,
                "rates trend: %d points equal MetricsQL's rate" % npts, repr(bad[:3]) + err)

        # ---- query, series, labels, label-values ----
        expr = "sum by (route) (rate(%s[5m]))" % u.COUNTER
        exp_q = u.expected_rates(u.vm_rate, by=("route",))
        rc, out, err = ps("query", "--time", T, "-o", "json", expr)
        d = json.loads(out) if rc == 0 else {}
        c.check(d.get("resultType") == "vector" and len(d.get("result", [])) == 2
                and all(u.close(float(s["value"][1]), exp_q[(s["metric"]["route"],)]) for s in d["result"]),
                "query json", out + err)
        rc, out, err = ps("query", "--time", T, expr)
        c.check(rc == 0 and out.splitlines()[0].split() == ["route", "VALUE"], "query table", out + err)
        rng = ["--start", str(u.BASE), "--end", str(u.BASE + 3600)]
        rc, out, err = ps("series", *rng, "-o", "json", '%s{route="/api"}' % u.COUNTER)
        d = json.loads(out) if rc == 0 else []
        c.check(len(d) == 4 and all(s["route"] == "/api" for s in d), "series", out + err)
        rc, out, err = ps("label-values", *rng, "-o", "json", "code")
        c.check(rc == 0 and json.loads(out) == ["200", "500"], "label-values", out + err)
        rc, out, err = ps("labels", *rng, "-o", "json")
        c.check(rc == 0 and {"__name__", "code", "instance", "job", "le", "route"} <= set(json.loads(out)),
                "labels", out + err)
        rc, out, err = ps("cardinality", "-o", "json")
        c.check(rc == 0 and "total_series" in json.loads(out), "cardinality --server on VictoriaMetrics", out + err)
    return c.done()


if __name__ == "__main__":
    sys.exit(main())
