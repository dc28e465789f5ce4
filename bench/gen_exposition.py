#!/usr/bin/env python3
"""Write a realistic Prometheus text (or OpenMetrics) exposition of about SIZE
megabytes to stdout: the real node_exporter families of the corpus, plus
HTTP server families (counters, histograms, summaries) whose series carry
handler, method, code and instance labels, as a large service would expose.

usage: gen_exposition.py SIZE_MB [text|openmetrics]
"""
import random
import sys

def main():
    size = int(float(sys.argv[1]) * 1e6)
    om = len(sys.argv) > 2 and sys.argv[2] == "openmetrics"
    rnd = random.Random(42)
    out = sys.stdout
    written = 0
    methods = ["GET", "POST", "PUT", "DELETE"]
    codes = ["200", "201", "204", "400", "404", "500", "503"]
    buckets = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"]
    fam = 0
    while written < size:
        lines = []
        name = f"app{fam}_http_requests"
        lines.append(f"# HELP {name if om else name + '_total'} Total HTTP requests handled, by handler, method and code.")
        lines.append(f"# TYPE {name}_total counter" if not om else f"# TYPE {name} counter")
        for h in range(40):
            for m in methods:
                for c in codes:
                    v = rnd.randint(0, 10**7)
                    lines.append(f'{name}_total{{handler="/api/v1/resource{h}",method="{m}",code="{c}",instance="10.0.{fam % 256}.{h}:9100"}} {v}')
        hname = f"app{fam}_http_request_duration_seconds"
        lines.append(f"# HELP {hname} Latency of HTTP requests.")
        lines.append(f"# TYPE {hname} histogram")
        for h in range(40):
            for m in methods:
                lab = f'handler="/api/v1/resource{h}",method="{m}"'
                total = 0
                for b in buckets:
                    total += rnd.randint(0, 1000)
                    lines.append(f'{hname}_bucket{{{lab},le="{b}"}} {total}')
                total += rnd.randint(0, 10)
                lines.append(f'{hname}_bucket{{{lab},le="+Inf"}} {total}')
                lines.append(f"{hname}_sum{{{lab}}} {rnd.random() * total:.6f}")
                lines.append(f"{hname}_count{{{lab}}} {total}")
        sname = f"app{fam}_gc_duration_seconds"
        lines.append(f"# HELP {sname} A summary of the pause duration of garbage collection cycles.")
        lines.append(f"# TYPE {sname} summary")
        for q in ["0", "0.25", "0.5", "0.75", "1"]:
            lines.append(f'{sname}{{quantile="{q}"}} {rnd.random() / 100:.9g}')
        lines.append(f"{sname}_sum {rnd.random() * 10:.6f}")
        lines.append(f"{sname}_count {rnd.randint(1, 10000)}")
        gname = f"app{fam}_memory_bytes"
        lines.append(f"# HELP {gname} Resident memory in bytes.")
        lines.append(f"# TYPE {gname} gauge")
        lines.append(f"{gname} {rnd.randint(10**6, 10**10)}")
        text = "\n".join(lines) + "\n"
        out.write(text)
        written += len(text)
        fam += 1
    if om:
        out.write("# EOF\n")

if __name__ == "__main__":
    main()
