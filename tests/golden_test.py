#!/usr/bin/env python3
"""Golden event logs: run dump_events on every testdata case and compare.

    golden_test.py [--update] DUMP_EVENTS TESTDATA_DIR [CASE...]

A case is an input file in TESTDATA_DIR/text (NAME.prom) or
TESTDATA_DIR/openmetrics (NAME.om) plus its golden log NAME.events. A golden
log starts with header lines:

    # args: --format text-0.0.4 [more dump_events options]
    # any other comment: what the case is about, its BAD-INPUTS row

followed by the expected output of `dump_events ARGS INPUT`, line by line
(see tests/dump_events.c). Naming rules, checked here: `ok_*` cases produce no
ERROR line, `bad_*` cases produce at least one.

--update rewrites the golden logs from the actual output (keeping the header);
review the result with `git diff` before committing: the golden files are the
expectation, not a recording.
"""
import difflib
import os
import subprocess
import sys

FOLDERS = {"text": (".prom",), "openmetrics": (".om",)}


def read_golden(path):
    header, body = [], []
    with open(path, "rb") as f:
        lines = f.read().decode("ascii").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        header.append(lines[i])
        i += 1
    body = lines[i:]
    args = None
    for h in header:
        if h.startswith("# args:"):
            args = h[len("# args:"):].split()
    return header, args, body


def find_cases(root, only):
    cases, problems = [], []
    for folder, exts in FOLDERS.items():
        d = os.path.join(root, folder)
        if not os.path.isdir(d):
            problems.append(f"missing folder {d}")
            continue
        names = sorted(os.listdir(d))
        inputs = {n for n in names if n.endswith(exts)}
        goldens = {n for n in names if n.endswith(".events")}
        for n in sorted(inputs):
            stem = os.path.splitext(n)[0]
            if stem + ".events" not in goldens:
                problems.append(f"{folder}/{n}: no golden log {stem}.events")
                continue
            if only and stem not in only:
                continue
            cases.append((f"{folder}/{stem}", os.path.join(d, n), os.path.join(d, stem + ".events")))
        stems = {os.path.splitext(n)[0] for n in inputs}
        for g in sorted(goldens):
            if os.path.splitext(g)[0] not in stems:
                problems.append(f"{folder}/{g}: golden log without an input")
        for n in names:
            if n not in inputs and n not in goldens and n != "README.md":
                problems.append(f"{folder}/{n}: not an input ({'/'.join(exts)}) nor a golden log")
    return cases, problems


def main(argv):
    update = "--update" in argv
    argv = [a for a in argv if a != "--update"]
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    dump, root, only = argv[0], argv[1], set(argv[2:])
    cases, problems = find_cases(root, only)
    for p in problems:
        print(f"FAIL {p}")
    failed = len(problems)
    if not cases:
        print(f"no cases found in {root}")
        return 1
    for name, inp, golden in cases:
        header, args, expected = read_golden(golden)
        stem = os.path.basename(name)
        if args is None:
            print(f"FAIL {name}: golden log has no '# args:' header line")
            failed += 1
            continue
        try:
            r = subprocess.run([dump] + args + [inp], capture_output=True, timeout=120,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            print(f"FAIL {name}: dump_events timed out after 120 s")
            failed += 1
            continue
        try:
            actual = r.stdout.decode("ascii").split("\n")
        except UnicodeDecodeError:
            print(f"FAIL {name}: dump_events printed non-ASCII output")
            failed += 1
            continue
        if actual and actual[-1] == "":
            actual.pop()
        problems = []
        if r.returncode != 0:
            problems.append(f"dump_events exited with status {r.returncode}:\n"
                            + r.stderr.decode("utf-8", "replace").rstrip())
        if update and r.returncode == 0:
            if actual != expected:
                with open(golden, "w", encoding="ascii", newline="\n") as f:
                    f.write("\n".join(header + actual) + "\n")
                print(f"UPDATED {name}")
            continue
        if actual != expected:
            diff = "".join(difflib.unified_diff(
                [l + "\n" for l in expected], [l + "\n" for l in actual],
                fromfile=golden, tofile="actual"))
            problems.append("output differs from the golden log:\n" + diff.rstrip())
        errors = [l for l in actual if l.startswith("ERROR ")]
        if stem.startswith("ok_") and errors:
            problems.append("an ok_ case must not produce ERROR lines")
        if stem.startswith("bad_") and not errors:
            problems.append("a bad_ case must produce at least one ERROR line")
        if problems:
            failed += 1
            print(f"FAIL {name}: " + "\n".join(problems))
        else:
            print(f"ok   {name}")
    print(f"{len(cases)} cases, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
