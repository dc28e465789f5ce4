#!/usr/bin/env python3
"""Write the seed corpora of the fuzz targets from the test data.

    fuzz/seed_corpus.py [SHARED_DIR]

SHARED_DIR defaults to ../shared beside the repository. For each target
below, fuzz/corpus/TARGET/ is emptied and filled again with copies of
testdata/, the OpenMetrics conformance suite and the real /metrics of
SHARED_DIR/corpus, named after their source (`text-NAME`, `om-NAME`,
`conformance-CASE`, `real-FILE`, `lint-FILE`, `diff-CASE`). Files over
64 KiB are cut at the last line feed before 64 KiB; the halves of a diff
pair at 32 KiB. Identical contents are stored once per target.

Not touched: fuzz/corpus/promapi/ (hand-written API answers), and
fuzz/regressions/ (inputs that once broke a target: kept forever).

Run it after adding test data, then commit the changes of fuzz/corpus.
"""
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTDATA = os.path.join(ROOT, "testdata")
MAX = 64 * 1024


def cut(data, limit=MAX):
    if len(data) <= limit:
        return data
    nl = data.rfind(b"\n", 0, limit)
    return data[: nl + 1] if nl >= 0 else data[:limit]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def files(folder, exts):
    if not os.path.isdir(folder):
        sys.exit(f"seed_corpus.py: missing folder {folder}")
    return sorted(os.path.join(folder, n) for n in os.listdir(folder)
                  if any(n.endswith(e) for e in exts))


def sources(shared):
    """name -> bytes for each kind of seed."""
    conf_dir = os.path.join(shared, "conformance", "openmetrics-1.0")
    conformance = {}
    for case in sorted(os.listdir(conf_dir)):
        spec_path = os.path.join(conf_dir, case, "test.json")
        if not os.path.isfile(spec_path):
            continue
        with open(spec_path, encoding="utf-8") as f:
            spec = json.load(f)
        conformance["conformance-" + case] = read(os.path.join(conf_dir, case, spec.get("file", "metrics")))
    text = {"text-" + os.path.basename(p): read(p) for p in files(os.path.join(TESTDATA, "text"), [".prom"])}
    om = {"om-" + os.path.basename(p): read(p) for p in files(os.path.join(TESTDATA, "openmetrics"), [".om"])}
    real = {"real-" + os.path.basename(p): read(p)
            for p in files(os.path.join(shared, "corpus"), [".prom", ".om"])}
    real.update({"real-testdata-" + os.path.basename(p): read(p)
                 for p in files(os.path.join(TESTDATA, "corpus"), [".prom", ".om"])})
    lint = {"lint-" + os.path.basename(p): read(p)
            for p in files(os.path.join(TESTDATA, "lint"), [".prom", ".om"])}
    pairs = {}
    diff_dir = os.path.join(TESTDATA, "diff")
    for case in sorted(os.listdir(diff_dir)):
        d = os.path.join(diff_dir, case)
        old = [n for n in os.listdir(d) if n.startswith("old.")]
        new = [n for n in os.listdir(d) if n.startswith("new.")]
        if old and new:
            pairs["diff-" + case] = (old[0], read(os.path.join(d, old[0])), new[0], read(os.path.join(d, new[0])))
    return conformance, text, om, real, lint, pairs


def write_target(target, seeds):
    d = os.path.join(ROOT, "fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    for n in os.listdir(d):
        os.remove(os.path.join(d, n))
    seen = set()
    count = size = 0
    for name, data in sorted(seeds.items()):
        data = cut(data)
        h = hashlib.sha1(data).digest()
        if h in seen:
            continue
        seen.add(h)
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        count += 1
        size += len(data)
    print(f"fuzz/corpus/{target}: {count} files, {size} bytes")


def main(argv):
    shared = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(ROOT), "shared")
    conformance, text, om, real, lint, pairs = sources(shared)
    real_text = {k: v for k, v in real.items() if k.endswith(".prom")}
    real_om = {k: v for k, v in real.items() if k.endswith(".om")}
    lint_text = {k: v for k, v in lint.items() if k.endswith(".prom")}
    lint_om = {k: v for k, v in lint.items() if k.endswith(".om")}
    diff_text = {f"{k}-{p[i]}": p[i + 1] for k, p in pairs.items() for i in (0, 2) if p[i].endswith(".prom")}

    write_target("text", {**text, **real_text, **lint_text, **diff_text})
    write_target("openmetrics", {**om, **conformance, **real_om, **lint_om})
    write_target("model", {**text, **om, **conformance, **real, **lint})
    write_target("lint", {**lint, **real, **{k: v for k, v in {**text, **om}.items() if "-ok_" in k}})
    # diff: OLD 0xFF NEW (fuzz_diff.c); an input without 0xFF is compared
    # with itself
    diff = {k: cut(o, MAX // 2) + b"\xff" + cut(n, MAX // 2) for k, (_, o, _, n) in pairs.items()}
    stems = {}
    for k, v in real.items():
        stems.setdefault(k.rsplit(".", 1)[0], []).append((k, v))
    for stem, versions in sorted(stems.items()):
        if len(versions) == 2:  # the same scrape as text and as OpenMetrics
            (_, a), (_, b) = sorted(versions)
            diff[stem + "-om-vs-prom"] = cut(a, MAX // 2) + b"\xff" + cut(b, MAX // 2)
    for k, v in {**lint, **{k: v for k, v in om.items() if "-ok_" in k}}.items():
        diff["self-" + k] = v
    write_target("diff", diff)
    write_target("diagout", {**{k: v for k, v in {**text, **om, **conformance}.items() if "bad_" in k},
                             **lint, **{k: cut(v, 16 * 1024) for k, v in real.items()}})
    write_target("differential", {**conformance, **text, **om, **real})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
