#!/usr/bin/env python3
"""promscope against the real Debian-packaged servers, on 127.0.0.1.

    scrape_servers.py PROMSCOPE

Starts prometheus-node-exporter, prometheus-pushgateway (with one pushed
group) and prometheus (scraping both and itself, on a temporary TSDB), then:
  - scrape, validate and convert each target's URL;
  - the summary's series count equals the series counted in `convert --to
    json` of the same body (one fetch, saved with -o);
  - --targets-from lists the three targets from /api/v1/targets, on scrape
    and on validate.
Every server is stopped at the end, also on failure; every wait is bounded.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

from scrape_util import Checker, clean_env, free_port, stop, wait_port

NODE = "/usr/bin/prometheus-node-exporter"
PGW = "/usr/bin/prometheus-pushgateway"
PROM = "/usr/bin/prometheus"


def json_series(doc):
    """Series in promscope's prom2json-style JSON, counted as Prometheus
    counts them: one per counter/gauge/untyped metric, and for summaries and
    histograms one per quantile or bucket plus _sum and _count."""
    n = 0
    for fam in doc:
        kind = fam.get("type", "").upper()
        for m in fam.get("metrics", []):
            if kind in ("HISTOGRAM", "GAUGEHISTOGRAM") or "buckets" in m:
                buckets = m.get("buckets", {})
                n += len(buckets) + 2
                if "+Inf" not in buckets:
                    n += 1  # the +Inf bucket is implied by count
            elif kind == "SUMMARY" or "quantiles" in m:
                n += len(m.get("quantiles", {})) + 2  # a summary may have no quantiles
            else:
                n += 1
    return n


def http_get(url, timeout=5):
    req = urllib.request.Request(url)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=timeout) as r:
        return r.status, r.read()


def wait_ready(url, proc, deadline_s=60):
    end = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            code, _ = http_get(url, timeout=2)
            if code == 200:
                return
        except Exception as e:  # not up yet
            last = e
        time.sleep(0.2)
    raise RuntimeError("%s not ready after %d s: %s" % (url, deadline_s, last))


def main():
    promscope = os.path.abspath(sys.argv[1])
    c = Checker(promscope)
    for exe in (NODE, PGW, PROM):
        if not os.access(exe, os.X_OK):
            print("%s is not installed (scripts/test installs it)" % exe)
            return 1
    tmp = tempfile.mkdtemp(prefix="promscope-servers-")
    procs = []
    logs = []

    def start(args, name):
        log = open(os.path.join(tmp, name + ".log"), "wb")
        logs.append(log)
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=clean_env(), cwd=tmp)
        procs.append(p)
        return p

    try:
        node_port, pgw_port, prom_port = free_port(), free_port(), free_port()
        node = start([NODE, "--web.listen-address=127.0.0.1:%d" % node_port], "node")
        pgw = start([PGW, "--web.listen-address=127.0.0.1:%d" % pgw_port], "pushgateway")
        wait_port(node_port, node)
        wait_port(pgw_port, pgw)
        # One pushed group, so that the pushgateway serves more than itself.
        body = (b"# TYPE promscope_test_jobs_total counter\n"
                b"promscope_test_jobs_total{outcome=\"ok\"} 17\n"
                b"# TYPE promscope_test_duration_seconds histogram\n"
                b"promscope_test_duration_seconds_bucket{le=\"0.5\"} 3\n"
                b"promscope_test_duration_seconds_bucket{le=\"+Inf\"} 4\n"
                b"promscope_test_duration_seconds_sum 2.5\n"
                b"promscope_test_duration_seconds_count 4\n")
        req = urllib.request.Request("http://127.0.0.1:%d/metrics/job/promscope/instance/test" % pgw_port,
                                     data=body, method="PUT")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=10) as r:
            c.check("push to pushgateway", r.status in (200, 202), str(r.status))

        cfg = os.path.join(tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n"
                    "  - job_name: node\n    static_configs: [{targets: ['127.0.0.1:%d']}]\n"
                    "  - job_name: pushgateway\n    honor_labels: true\n"
                    "    static_configs: [{targets: ['127.0.0.1:%d']}]\n"
                    "  - job_name: prometheus\n    static_configs: [{targets: ['127.0.0.1:%d']}]\n"
                    % (node_port, pgw_port, prom_port))
        prom = start([PROM, "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(tmp, "data"),
                      "--web.listen-address=127.0.0.1:%d" % prom_port], "prometheus")
        wait_ready("http://127.0.0.1:%d/-/ready" % prom_port, prom)
        server = "http://127.0.0.1:%d" % prom_port

        targets = {
            "node_exporter": "http://127.0.0.1:%d/metrics" % node_port,
            "pushgateway": "http://127.0.0.1:%d/metrics" % pgw_port,
            "prometheus": "http://127.0.0.1:%d/metrics" % prom_port,
        }
        for name, url in targets.items():
            r = c.expect(name + ": scrape", ["scrape", url], 0, timeout=60)
            if r:
                c.check(name + ": body has samples", r.out.count("\n") > 20, "%d lines" % r.out.count("\n"))
            c.expect(name + ": validate URL", ["validate", url], 0, timeout=60)
            r = c.expect(name + ": convert URL to json", ["convert", "--to", "json", url], 0, timeout=60)
            if r:
                try:
                    c.check(name + ": convert json has families", len(json.loads(r.out)) > 5)
                except ValueError as e:
                    c.fail(name + ": convert output is not JSON: %s" % e)
            # One fetch: the file and the summary row describe the same body.
            outdir = os.path.join(tmp, "out-" + name)
            r = c.expect(name + ": scrape -o with json summary", ["scrape", "-o", outdir, "--output", "json", url],
                         0, timeout=60)
            if not r:
                continue
            try:
                row = json.loads(r.out)[0]
            except (ValueError, IndexError) as e:
                c.fail(name + ": summary json: %s" % e)
                continue
            path = row.get("file") or ""
            c.check(name + ": file written", os.path.isfile(path), path)
            c.check(name + ": summary fields", row["ok"] and row["http_status"] == 200 and row["families"] > 5
                    and row["bytes_uncompressed"] > 0 and row["total_seconds"] > 0 and row["ttfb_seconds"] > 0,
                    json.dumps(row))
            if name != "pushgateway":  # Go servers gzip when asked
                c.check(name + ": gzip on the wire", 0 < row["bytes_compressed"] < row["bytes_uncompressed"],
                        json.dumps(row))
            if os.path.isfile(path):
                conv = c.run(["convert", "--to", "json", path])
                if conv and conv.returncode == 0:
                    n = json_series(json.loads(conv.out))
                    c.check(name + ": summary series %d == convert json series %d" % (row["series"], n),
                            row["series"] == n)
                else:
                    c.fail(name + ": convert of the saved body failed: %s" % (conv.err if conv else "timeout"))
        # The pushed group is there.
        c.expect("pushgateway serves the pushed group", ["scrape", targets["pushgateway"]], 0,
                 out_has=['promscope_test_jobs_total{instance="test",job="promscope",outcome="ok"} 17'])

        # --targets-from: service discovery fills /api/v1/targets a moment
        # after Prometheus is ready; wait (bounded) for the three targets.
        end = time.monotonic() + 60
        active = []
        while time.monotonic() < end:
            try:
                _, raw = http_get(server + "/api/v1/targets?state=active")
                active = json.loads(raw)["data"]["activeTargets"]
            except Exception:
                active = []
            if len(active) >= 3:
                break
            time.sleep(0.25)
        c.check("prometheus has three active targets", len(active) == 3, "%d" % len(active))
        r = c.expect("scrape --targets-from", ["scrape", "--targets-from", server, "--output", "json",
                                               "--parallel", "3"], 0, timeout=120)
        if r:
            try:
                rows = json.loads(r.out)
            except ValueError:
                rows = []
            c.check("--targets-from found the three targets",
                    sorted(x["url"] for x in rows) == sorted(targets.values()) and all(x["ok"] for x in rows),
                    r.out[:500])
        r = c.expect("scrape --targets-from plus a URL, table",
                     ["scrape", "--targets-from", server, targets["node_exporter"]], 0, timeout=120)
        if r:
            c.check("table has 4 rows", len([l for l in r.out.splitlines() if l.startswith("http://")]) == 4,
                    r.out)
        c.expect("validate --targets-from", ["validate", "--targets-from", server], 0, timeout=120)
        c.expect("--targets-from a server that is not there",
                 ["scrape", "--targets-from", "http://127.0.0.1:%d" % free_port()], 3, err_has=["cannot connect"])
        c.expect("--targets-from a non-Prometheus URL", ["scrape", "--targets-from", targets["node_exporter"]], 3)
    except Exception as e:  # a server did not start: report, then clean up
        c.fail("setup: %s" % e)
        for log in logs:
            try:
                log.flush()
                with open(log.name, "rb") as f:
                    print("---- %s (tail)\n%s" % (log.name, f.read()[-2000:].decode(errors="replace")))
            except OSError:
                pass
    finally:
        for p in procs:
            stop(p)
        for log in logs:
            log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
