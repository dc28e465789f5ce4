#!/usr/bin/env python3
"""Results of bench/run: medians, ratios, the issue's targets; markdown and JSON.

    report.py render --out-dir DIR --json FILE
        reads DIR/rows.jsonl (a {"row": ...} line per measured command and a
        {"run": ...} line per run of it), DIR/micro-text.json and DIR/micro-om.json (bench/micro),
        DIR/meta.json and DIR/buildoptions.json; prints the markdown tables on
        stdout and writes FILE. Exit 1 when a row is FAILED.
    report.py check FILE
        the CI check of a --smoke run: every expected row is present, none is
        FAILED and each has a finite positive time, MB/s and series/s (and a
        peak memory); the generator, the library's parser and the Python
        parsers agree on the number of samples. Timings are never asserted.

Python standard library only. 1 MB = 10^6 bytes; memory in MiB (2^20 bytes).
"""
import argparse
import json
import math
import os
import statistics
import sys

MICRO_STAGES = [
    ("parse", "parser only (psc_parser_next)"),
    ("validate", "parser + validator (psc_validate_buffer)"),
    ("model", "model building (psc_model_parse)"),
    ("write-text", "text writer, model to a null sink"),
    ("write-openmetrics", "OpenMetrics writer, model to a null sink"),
    ("write-json", "JSON writer, model to a null sink"),
    ("lint-rules", "lint rules on a built model (psc_lint_model)"),
    ("lint", "lint from bytes (psc_lint_buffer)"),
    ("cardinality", "cardinality with labels (psc_card_add)"),
]

# Row ids every run has (peers only when installed; scaling only without --smoke).
REQUIRED = (["validate.text.file", "validate.text.pipe", "validate.om.file", "validate.om.pipe",
             "convert.openmetrics", "convert.text", "convert.json", "lint", "cardinality",
             "onefamily.validate", "onefamily.lint", "onefamily.cardinality", "onefamily.convert",
             "scrape.curl.0", "scrape.promscope.0", "scrape.curl.20", "scrape.promscope.20"]
            + [f"micro.{f}.{s}" for f in ("text", "om") for s, _ in MICRO_STAGES])

MIB = 1024 * 1024


def load_json(path, default=None):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def finite(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def cli_row(raw):
    """Medians of one measured command; numbers only when every run succeeded."""
    runs = raw["runs"]
    row = {k: raw[k] for k in ("id", "group", "title", "bytes", "series", "peer", "note", "command")}
    row["kind"] = "command"
    row["runs"] = runs
    bad = [r["exit"] for r in runs if r["exit"] not in raw["expect"]]
    if not runs:
        row["failed"] = "not run"
    elif bad:
        row["failed"] = f"exit status {bad[0]} (expected {', '.join(map(str, raw['expect']))})"
    elif any(r["rss_kib"] is None for r in runs):
        row["failed"] = "no GNU time record"
    if row.get("failed"):
        row["status"] = "FAILED"
        return row
    row["status"] = "ok"
    t = statistics.median(r["wall_s"] for r in runs)
    row["median_s"] = t
    row["min_s"] = min(r["wall_s"] for r in runs)
    row["mb_s"] = raw["bytes"] / 1e6 / t if t > 0 else None
    row["series_s"] = raw["series"] / t if t > 0 else None
    row["peak_rss_mib"] = max(r["rss_kib"] for r in runs) / 1024
    row["cpu_s"] = statistics.median(r["cpu_s"] for r in runs)
    # the measured program's own user and sys seconds and minor page faults
    # (GNU time), for the split of the scaling costs
    for k in ("user_s", "sys_s", "minflt"):
        vals = [r.get(k) for r in runs]
        row[k] = statistics.median(vals) if all(v is not None for v in vals) else None
    return row


def micro_rows(path, tag, fmt_name):
    data = load_json(path)
    rows = []
    for name, what in MICRO_STAGES:
        row = {"id": f"micro.{tag}.{name}", "group": "library", "kind": "micro",
               "title": f"{what}, {fmt_name}", "peer": "", "note": ""}
        if data is None:
            row.update(status="FAILED", failed=f"{os.path.basename(path)} missing (bench/micro failed)")
            rows.append(row)
            continue
        stage = next((s for s in data["stages"] if s["name"] == name), None)
        row["bytes"] = data["bytes"]
        row["series"] = data["samples"]
        if stage is None or stage.get("failed"):
            row.update(status="FAILED", failed=(stage or {}).get("failed", "stage missing"))
            rows.append(row)
            continue
        t = stage["median_s"]
        row.update(status="ok", runs=stage["seconds"], median_s=t, min_s=min(stage["seconds"]),
                   mb_s=data["bytes"] / 1e6 / t if t > 0 else None,
                   series_s=data["samples"] / t if t > 0 else None,
                   allocs=stage["allocs"],
                   allocs_per_sample=stage["allocs"] / data["samples"] if data["samples"] else None,
                   heap_peak_mib=stage["peak_bytes"] / MIB, heap_kept_mib=stage["kept_bytes"] / MIB,
                   out_bytes=stage["out_bytes"])
        if name == "model":
            row["model_bytes"] = data["model_bytes"]
            row["model_peak_bytes"] = data["model_peak_bytes"]
            row["model_peak_ratio"] = data["model_peak_bytes"] / data["bytes"]
            row["model_kept_ratio"] = data["model_bytes"] / data["bytes"]
        rows.append(row)
    return rows


def fmt(x, spec=".1f", none="–"):
    return none if x is None else format(x, spec)


def fmt_rate(x):
    if x is None:
        return "–"
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.0f} k"
    return f"{x:.0f}"


def cell(text):
    """Text for a markdown table cell: a | would end the cell."""
    return str(text).replace("|", "\\|")


def fmt_mb(b):
    return f"{b / 1e6:.1f} MB" if b >= 1e6 else f"{b / 1e3:.0f} kB"


class Report:
    def __init__(self, out_dir):
        self.meta = load_json(os.path.join(out_dir, "meta.json"), {})
        opts = load_json(os.path.join(out_dir, "buildoptions.json"), [])
        self.build = {o["name"]: o["value"] for o in opts
                      if o.get("name") in ("buildtype", "optimization", "debug", "b_ndebug", "b_sanitize", "b_lto")}
        raw = {}
        with open(os.path.join(out_dir, "rows.jsonl"), encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                obj = json.loads(line)
                if "row" in obj:
                    raw[obj["row"]["id"]] = dict(obj["row"], runs=[])
                else:
                    run = obj["run"]
                    raw[run.pop("id")]["runs"].append(run)
        self.rows = [cli_row(r) for r in raw.values()]
        self.rows += micro_rows(os.path.join(out_dir, "micro-text.json"), "text", "text")
        self.rows += micro_rows(os.path.join(out_dir, "micro-om.json"), "om", "OpenMetrics")
        self.by_id = {r["id"]: r for r in self.rows}
        self.cross_check()
        self.ratios()
        self.scaling = self.scaling_table()
        self.scrape = self.scrape_table()
        self.targets = self.target_table()

    def get(self, rid):
        r = self.by_id.get(rid)
        return r if r and r["status"] == "ok" else None

    def cross_check(self):
        """The generator, our parser and the peers must agree on the samples."""
        for tag, cli in (("text", "validate.text.file"), ("om", "validate.om.file")):
            want = self.by_id.get(cli, {}).get("series")
            for name, _ in MICRO_STAGES:
                r = self.by_id.get(f"micro.{tag}.{name}")
                if r and r["status"] == "ok" and want is not None and r["series"] != want:
                    r.update(status="FAILED",
                             failed=f"the parser saw {r['series']} samples, the generator wrote {want}")

    def ratios(self):
        """promscope / peer, for each peer of a row (comma-separated ids):
        speedup = our MB/s over theirs (inputs may differ in size: --quick),
        time_ratio = their median time over ours (same input), rss_ratio =
        our peak RSS over theirs."""
        for r in self.rows:
            r["vs"] = []
            if r["status"] != "ok":
                continue
            for pid in filter(None, (r.get("peer") or "").split(",")):
                peer = self.get(pid)
                if not peer:
                    continue
                v = {"peer": pid, "speedup": r["mb_s"] / peer["mb_s"] if peer["mb_s"] else None}
                if peer["bytes"] == r["bytes"] and r["median_s"]:
                    v["time_ratio"] = peer["median_s"] / r["median_s"]
                if r.get("peak_rss_mib") and peer.get("peak_rss_mib"):
                    v["rss_ratio"] = r["peak_rss_mib"] / peer["peak_rss_mib"]
                r["vs"].append(v)

    def vs(self, rid, pid, key):
        r = self.get(rid)
        for v in (r or {}).get("vs", []):
            if v["peer"] == pid:
                return v.get(key)
        return None

    def s_per_mb(self, rid, key="cpu_s"):
        r = self.get(rid)
        return r[key] / (r["bytes"] / 1e6) if r and r[key] else None

    def scaling_table(self):
        out = []
        mb = self.meta.get("inputs", {}).get("text_mb", 100)
        for cmd, main_id, one_id in (("validate", "validate.text.file", "onefamily.validate"),
                                     ("convert --to openmetrics", "convert.openmetrics", "onefamily.convert"),
                                     ("lint", "lint", "onefamily.lint"),
                                     ("cardinality --by-label", "cardinality", "onefamily.cardinality")):
            key = cmd.split()[0]
            ids = {"10": f"scale.{key}.10", str(mb): main_id, "1000": f"scale.{key}.1000", "one_family": one_id,
                   "one_family_10": f"onefamily10.{key}"}
            ent = {"command": cmd, "main_mb": mb,
                   "rows": [main_id, ids["10"], ids["1000"], one_id, ids["one_family_10"]]}
            # judged on CPU seconds (user + sys): on a shared machine the wall
            # time also counts the time spent waiting for a CPU
            for basis, k in (("cpu", "cpu_s"), ("wall", "median_s")):
                spm = {size: self.s_per_mb(rid, k) for size, rid in ids.items()}
                ent[f"{basis}_s_per_mb"] = spm
                pre = "" if basis == "cpu" else "wall_"
                main_v = spm[str(mb)]
                ent[pre + "ratio_main_over_10"] = main_v / spm["10"] if spm["10"] and main_v else None
                ent[pre + "ratio_1000_over_main"] = spm["1000"] / main_v if spm["1000"] and main_v else None
                ent[pre + "ratio_one_family_over_main"] = (spm["one_family"] / main_v
                                                           if spm["one_family"] and main_v else None)
                # one family grown tenfold (a tenth of the series, then all)
                ent[pre + "ratio_one_family_over_10"] = (spm["one_family"] / spm["one_family_10"]
                                                         if spm["one_family"] and spm["one_family_10"] else None)
            # the 1 GB run against the main one, split: user and sys seconds
            # per MB, minor page faults per MB, and sys microseconds per
            # fault (the kernel's price of a fresh page, which is not ours)
            big, main = self.get(ids["1000"]), self.get(main_id)
            split = None
            if big and main and all(r.get(k) for r in (big, main) for k in ("user_s", "sys_s", "minflt")):
                per = {n: {k: r[k] / (r["bytes"] / 1e6) for k in ("user_s", "sys_s", "minflt")}
                       for n, r in (("main", main), ("1000", big))}
                split = {"per_mb": per,
                         "user_ratio": per["1000"]["user_s"] / per["main"]["user_s"],
                         "sys_ratio": per["1000"]["sys_s"] / per["main"]["sys_s"],
                         "faults_ratio": per["1000"]["minflt"] / per["main"]["minflt"],
                         "sys_us_per_fault": {n: r["sys_s"] / r["minflt"] * 1e6
                                              for n, r in (("main", main), ("1000", big))}}
            ent["split_1000_over_main"] = split
            out.append(ent)
        return out

    def scrape_table(self):
        out = []
        n = self.meta.get("scrape", {}).get("targets", 200)
        for d in ("0", str(self.meta.get("scrape", {}).get("delay_ms", 20))):
            ours, curl = self.get(f"scrape.promscope.{d}"), self.get(f"scrape.curl.{d}")
            ent = {"delay_ms": int(d), "targets": n,
                   "promscope_s": ours and ours["median_s"], "curl_s": curl and curl["median_s"]}
            if ours and curl:
                ent["overhead_per_target_ms"] = (ours["median_s"] - curl["median_s"]) / n * 1000
                ent["ratio"] = ours["median_s"] / curl["median_s"]
            if ours:
                ent["cpu_per_target_ms"] = ours["cpu_s"] / n * 1000
            if curl:
                ent["curl_cpu_per_target_ms"] = curl["cpu_s"] / n * 1000
            out.append(ent)
        return out

    def target_table(self):
        """The issue's targets. result: pass, fail, FAILED (a row it needs
        failed) or not measured (a row it needs is not part of this run)."""
        t = []

        def add(name, value, unit, ok, need, deps):
            if value is not None:
                result = "pass" if ok(value) else "fail"
            elif any(self.by_id.get(d, {}).get("status") == "FAILED" for d in deps):
                result = "FAILED"
            else:
                result = "not measured"
            t.append({"target": name, "measured": value, "unit": unit, "need": need,
                      "result": result, "rows": deps})

        def val(rid, key):
            r = self.get(rid)
            return r.get(key) if r else None

        add("validate text >= 1 GB/s", val("validate.text.file", "mb_s"), "MB/s",
            lambda v: v >= 1000, ">= 1000", ["validate.text.file"])
        add("validate text >= 30x promtool", self.vs("validate.text.file", "promtool", "speedup"), "x",
            lambda v: v >= 30, ">= 30", ["validate.text.file", "promtool"])
        for tag, peer, cli in (("text", "python.text", "validate.text.file"),
                               ("OpenMetrics", "python.om", "validate.om.file")):
            add(f"validate {tag} >= 30x Python prometheus_client (MB/s)", self.vs(cli, peer, "speedup"), "x",
                lambda x: x >= 30, ">= 30", [cli, peer])
        tx, omr = val("validate.text.file", "mb_s"), val("validate.om.file", "mb_s")
        add("validate OpenMetrics within 20% of text (MB/s ratio)", omr / tx if tx and omr else None, "x",
            lambda v: v >= 0.8, ">= 0.8", ["validate.text.file", "validate.om.file"])
        add("validate 1 GB from a pipe: peak RSS < 32 MiB", val("pipe1g.validate", "peak_rss_mib"), "MiB",
            lambda v: v < 32, "< 32", ["pipe1g.validate"])
        add("model building >= 400 MB/s (in-process, text)", val("micro.text.model", "mb_s"), "MB/s",
            lambda v: v >= 400, ">= 400", ["micro.text.model"])
        add("model building peak heap <= 1.5x input", val("micro.text.model", "model_peak_ratio"), "x",
            lambda v: v <= 1.5, "<= 1.5", ["micro.text.model"])
        for cmd in ("lint", "cardinality"):
            add(f"{cmd} >= 10x faster than promtool", self.vs(cmd, "promtool", "time_ratio"), "x",
                lambda v: v >= 10, ">= 10", [cmd, "promtool"])
            add(f"{cmd} peak RSS < 1/4 of promtool's", self.vs(cmd, "promtool", "rss_ratio"), "x",
                lambda v: v < 0.25, "< 0.25", [cmd, "promtool"])
        for to in ("openmetrics", "text", "json"):
            add(f"convert --to {to} >= 300 MB/s", val(f"convert.{to}", "mb_s"), "MB/s",
                lambda v: v >= 300, ">= 300", [f"convert.{to}"])
        for ent in self.scaling:
            main_id, key10, key1000, one_id, one10_id = ent["rows"]
            # "including a single family of 1M series (no quadratic paths)":
            # judged on one family grown tenfold. The one family's cost per
            # byte against the mixed input compares two shapes, not two
            # sizes: it is in the scaling table, and docs/performance.md
            # explains it.
            for key, label, deps in (("ratio_main_over_10", f"{ent['main_mb']} MB / 10 MB", [key10, main_id]),
                                     ("ratio_1000_over_main", f"1 GB / {ent['main_mb']} MB", [key1000, main_id]),
                                     ("ratio_one_family_over_10", "one family, all series / a tenth",
                                      [one_id, one10_id])):
                if ent["command"].startswith("cardinality") and key != "ratio_one_family_over_10":
                    continue
                if key == "ratio_one_family_over_10" and self.meta.get("mode") == "smoke":
                    continue
                if key == "ratio_1000_over_main" and self.meta.get("mode") != "full":
                    continue
                add(f"linear scaling, {ent['command']}: CPU s/MB {label} <= 1.15", ent[key], "x",
                    lambda v: v <= 1.15, "<= 1.15", deps)
        for ent in self.scrape:
            if ent["delay_ms"]:
                d = ent["delay_ms"]
                add(f"scrape {ent['targets']} targets answering after {d} ms: wall <= 1.1x curl's",
                    ent.get("ratio"), "x", lambda v: v <= 1.1, "<= 1.1", [f"scrape.promscope.{d}", f"scrape.curl.{d}"])
        return t

    # ---- markdown ----

    def markdown(self):
        m, b = self.meta, self.build
        out = []
        w = out.append
        w(f"promscope benchmarks, {m.get('started', '?')}, mode {m.get('mode', '?')}, "
          f"median of {m.get('reps', '?')} runs")
        w("")
        w(f"- machine: {m.get('cpu', '?')}, {m.get('cpus', '?')} CPUs, {m.get('mem_mib', '?')} MiB, "
          f"{m.get('os', '?')}, {m.get('host', '?')}; load average {m.get('loadavg_start', '?')} at the "
          f"start, {m.get('loadavg_end', '?')} at the end")
        w(f"- build: {m.get('compiler', '?')}, buildtype {b.get('buildtype', '?')}, -O{b.get('optimization', '?')}, "
          f"sanitizers {b.get('b_sanitize', '?')}; {m.get('promscope', '?')} at {m.get('commit', '?')}")
        w(f"- inputs: {', '.join(f'`{v}`' for k, v in m.get('inputs', {}).items() if k != 'text_mb')}"
          " (bench/gen_exposition)")
        if m.get("mode") == "smoke":
            w("- smoke run: 1 MB inputs and one repetition; it checks that every command works, "
              "its timings mean nothing")
        w("")
        w("| measurement | input | median s | CPU s | MB/s | series/s | peak RSS MiB | promscope / peer | status |")
        w("|---|---|---:|---:|---:|---:|---:|---|---|")
        for r in self.rows:
            if r["kind"] != "command" or r["group"] == "scrape":
                continue
            w(self.md_cli(r))
        w("")
        w("In-process (bench/micro, input in memory; heap counted by wrapping malloc):")
        w("")
        w("| stage | input | median s | MB/s | series/s | allocs/sample | heap peak MiB | heap kept MiB | status |")
        w("|---|---|---:|---:|---:|---:|---:|---:|---|")
        for r in self.rows:
            if r["kind"] != "micro":
                continue
            inp = fmt_mb(r["bytes"]) if "bytes" in r else "–"
            if r["status"] != "ok":
                w(f"| {cell(r['title'])} | {inp} | FAILED | | | | | | FAILED: {cell(r['failed'])} |")
                continue
            w(f"| {cell(r['title'])} | {inp} | {r['median_s']:.4f} | {fmt(r['mb_s'], '.0f')} | "
              f"{fmt_rate(r['series_s'])} | {fmt(r['allocs_per_sample'], '.4f')} | "
              f"{r['heap_peak_mib']:.1f} | {r['heap_kept_mib']:.1f} | ok |")
        mr = self.get("micro.text.model")
        if mr:
            w("")
            w(f"Model of the text input: {mr['model_bytes'] / MIB:.1f} MiB kept "
              f"({mr['model_kept_ratio']:.2f} x input), {mr['model_peak_bytes'] / MIB:.1f} MiB peak while "
              f"building ({mr['model_peak_ratio']:.2f} x input).")
        w("")
        main = self.scaling[0]["main_mb"] if self.scaling else 100
        for basis, pre, what in (("cpu", "", "CPU seconds (user + sys) per MB; the targets are judged on these"),
                                 ("wall", "wall_", "wall seconds per MB")):
            w(f"Scaling, {what}, and the ratios of the per-byte costs:")
            w("")
            w(f"| command | 10 MB | {main} MB | 1 GB | one family, a tenth | one family | {main}/10 | "
              f"1G/{main} | one family / a tenth | one family / {main} MB mixed |")
            w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for e in self.scaling:
                s = e[f"{basis}_s_per_mb"]
                w(f"| {e['command']} | {fmt(s['10'], '.5f')} | {fmt(s[str(main)], '.5f')} | "
                  f"{fmt(s['1000'], '.5f')} | {fmt(s['one_family_10'], '.5f')} | {fmt(s['one_family'], '.5f')} | "
                  f"{fmt(e[pre + 'ratio_main_over_10'], '.2f')} | {fmt(e[pre + 'ratio_1000_over_main'], '.2f')} | "
                  f"{fmt(e[pre + 'ratio_one_family_over_10'], '.2f')} | "
                  f"{fmt(e[pre + 'ratio_one_family_over_main'], '.2f')} |")
            w("")
        if any(e.get("split_1000_over_main") for e in self.scaling):
            w(f"The 1 GB runs against the {main} MB ones, split: the program's user and sys seconds and "
              "minor page faults per MB, and the kernel's sys time per fault:")
            w("")
            w(f"| command | user s/MB, {main} MB | 1 GB | 1G/{main} | sys s/MB, {main} MB | 1 GB | 1G/{main} | "
              f"faults/MB, {main} MB | 1 GB | 1G/{main} | sys us/fault, {main} MB | 1 GB |")
            w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for e in self.scaling:
                sp = e.get("split_1000_over_main")
                if not sp:
                    continue
                a, b = sp["per_mb"]["main"], sp["per_mb"]["1000"]
                w(f"| {e['command']} | {a['user_s']:.5f} | {b['user_s']:.5f} | {sp['user_ratio']:.2f} | "
                  f"{a['sys_s']:.5f} | {b['sys_s']:.5f} | {sp['sys_ratio']:.2f} | "
                  f"{a['minflt']:.0f} | {b['minflt']:.0f} | {sp['faults_ratio']:.2f} | "
                  f"{sp['sys_us_per_fault']['main']:.2f} | {sp['sys_us_per_fault']['1000']:.2f} |")
            w("")
        sc = m.get("scrape", {})
        w(f"Scrape of {sc.get('targets', 200)} local targets, --parallel {sc.get('parallel', 16)} "
          "(promscope parses every body with the model for --summary; curl only downloads):")
        w("")
        w("| targets answer | curl s | promscope s | promscope / curl | overhead per target | "
          "promscope CPU per target | curl CPU per target |")
        w("|---|---:|---:|---:|---:|---:|---:|")
        for e in self.scrape:
            when = "at once" if e["delay_ms"] == 0 else f"after {e['delay_ms']} ms"
            w(f"| {when} | {fmt(e['curl_s'], '.3f', 'FAILED')} | {fmt(e['promscope_s'], '.3f', 'FAILED')} | "
              f"{fmt(e.get('ratio'), '.2f')} | {fmt(e.get('overhead_per_target_ms'), '.2f')} ms | "
              f"{fmt(e.get('cpu_per_target_ms'), '.2f')} ms | {fmt(e.get('curl_cpu_per_target_ms'), '.2f')} ms |")
        for r in self.rows:
            if r["group"] == "scrape" and r["status"] != "ok":
                w(f"- {r['id']}: FAILED: {r['failed']}")
        w("")
        w("Targets of the issue:")
        w("")
        w("| target | measured | need | result |")
        w("|---|---:|---:|---|")
        for e in self.targets:
            res = {"fail": "**fail**", "FAILED": "**FAILED**"}.get(e["result"], e["result"])
            v = "–" if e["measured"] is None else f"{e['measured']:.2f} {e['unit']}"
            w(f"| {e['target']} | {v} | {e['need']} {e['unit']} | {res} |")
        return "\n".join(out) + "\n"

    def md_cli(self, r):
        inp = fmt_mb(r["bytes"])
        if r.get("note"):
            inp += f" ({r['note']})"
        if r["status"] != "ok":
            return f"| {cell(r['title'])} | {cell(inp)} | FAILED | | | | | | FAILED: {cell(r['failed'])} |"
        parts = []
        for v in r.get("vs", []):
            p = f"{v['speedup']:.1f}x the MB/s of {v['peer']}"
            if v.get("rss_ratio") is not None:
                p += f", {v['rss_ratio']:.3f}x its RSS"
            parts.append(p)
        vs = "; ".join(parts)
        return (f"| {cell(r['title'])} | {cell(inp)} | {r['median_s']:.3f} | {r['cpu_s']:.3f} | "
                f"{fmt(r['mb_s'], '.0f')} | "
                f"{fmt_rate(r['series_s'])} | {r['peak_rss_mib']:.1f} | {vs} | ok |")

    def to_json(self):
        return {"meta": self.meta, "build": self.build, "rows": self.rows, "scaling": self.scaling,
                "scrape": self.scrape, "targets": self.targets}


def render(args):
    rep = Report(args.out_dir)
    sys.stdout.write(rep.markdown())
    tmp = args.json + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(rep.to_json(), f, indent=1)
        f.write("\n")
    os.replace(tmp, args.json)
    failed = [r["id"] for r in rep.rows if r["status"] != "ok"]
    if failed:
        print(f"\nFAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def check(args):
    data = load_json(args.file)
    if data is None:
        print(f"check: {args.file}: missing or not JSON", file=sys.stderr)
        return 1
    problems = []
    rows = {r["id"]: r for r in data.get("rows", [])}
    for rid in REQUIRED:
        if rid not in rows:
            problems.append(f"row {rid} is missing")
    for rid, r in rows.items():
        if r.get("status") != "ok":
            problems.append(f"{rid}: {r.get('status')}: {r.get('failed')}")
            continue
        keys = ["median_s", "mb_s", "series_s"]
        keys.append("peak_rss_mib" if r["kind"] == "command" else "heap_peak_mib")
        for k in keys:
            v = r.get(k)
            if not finite(v) or v < 0 or (k != "heap_peak_mib" and v == 0):
                problems.append(f"{rid}: {k} is {v!r}, not a number")
    for e in data.get("scrape", []):
        for k in ("promscope_s", "curl_s", "overhead_per_target_ms", "cpu_per_target_ms"):
            if not finite(e.get(k)):
                problems.append(f"scrape after {e.get('delay_ms')} ms: {k} is {e.get(k)!r}")
    for t in data.get("targets", []):
        if t["measured"] is not None and not finite(t["measured"]):
            problems.append(f"target '{t['target']}': measured {t['measured']!r}")
    for p in problems:
        print(f"check: {p}", file=sys.stderr)
    print(f"check: {len(rows)} rows, {len(problems)} problems")
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("render")
    r.add_argument("--out-dir", required=True)
    r.add_argument("--json", required=True)
    c = sub.add_parser("check")
    c.add_argument("file")
    args = ap.parse_args()
    return render(args) if args.cmd == "render" else check(args)


if __name__ == "__main__":
    sys.exit(main())
