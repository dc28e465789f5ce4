#!/usr/bin/env python3
"""Golden cases of `promscope diff` (testdata/diff/CASE/).

    diff_golden_test.py PROMSCOPE CASES_DIR [--update]

Each case folder holds old.* and new.* (the two snapshots), `args` (extra
options, one per line; may be empty), `expected.txt` (stdout of the text
output) and `expected.json` (stdout of `--output json`), and `exit` (the
expected exit status). The command runs inside the case folder, so the
sources appear as relative names, with `--color=never`.

The text output must match byte for byte. The JSON output must be valid
JSON (no NaN/Infinity tokens: those are strings) and equal as data to
expected.json; its summary must agree with the exit status.

--update rewrites the expected files from the current output (review the
result by hand before committing it).
"""
import json
import os
import subprocess
import sys


def reject_constant(name):
    raise ValueError(f"non-standard JSON token {name}")


def run(promscope, case_dir, args):
    olds = sorted(f for f in os.listdir(case_dir) if f.startswith("old."))
    news = sorted(f for f in os.listdir(case_dir) if f.startswith("new."))
    if len(olds) != 1 or len(news) != 1:
        raise RuntimeError(f"{case_dir}: needs exactly one old.* and one new.*")
    cmd = [promscope, "--color=never", "diff"] + args + [olds[0], news[0]]
    r = subprocess.run(cmd, cwd=case_dir, capture_output=True, timeout=120,
                       stdin=subprocess.DEVNULL)
    return r, cmd


def read_args(case_dir):
    path = os.path.join(case_dir, "args")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.rstrip("\n") != ""]


def main(argv):
    update = "--update" in argv
    argv = [a for a in argv if a != "--update"]
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    promscope, cases_dir = argv
    cases = sorted(d for d in os.listdir(cases_dir) if os.path.isdir(os.path.join(cases_dir, d)))
    if len(cases) < 5:
        print(f"FAIL only {len(cases)} cases in {cases_dir}")
        return 1
    failed = 0
    for case in cases:
        d = os.path.join(cases_dir, case)
        args = read_args(d)
        problems = []

        r, cmd = run(promscope, d, args)
        text = r.stdout.decode("utf-8", "replace")
        stderr = r.stderr.decode("utf-8", "replace")
        rj, _ = run(promscope, d, args + ["--output", "json"])
        jtext = rj.stdout.decode("utf-8", "replace")

        if update:
            with open(os.path.join(d, "expected.txt"), "w", encoding="utf-8") as f:
                f.write(text)
            with open(os.path.join(d, "expected.json"), "w", encoding="utf-8") as f:
                f.write(jtext)
            with open(os.path.join(d, "exit"), "w", encoding="utf-8") as f:
                f.write(f"{r.returncode}\n")
            print(f"updated {case} (exit {r.returncode})")
            continue

        with open(os.path.join(d, "exit"), encoding="utf-8") as f:
            want_exit = int(f.read().strip())
        with open(os.path.join(d, "expected.txt"), encoding="utf-8") as f:
            want_text = f.read()
        with open(os.path.join(d, "expected.json"), encoding="utf-8") as f:
            want_json = json.load(f)

        if r.returncode != want_exit:
            problems.append(f"text run exited {r.returncode}, want {want_exit}; stderr: {stderr.strip()}")
        if rj.returncode != want_exit:
            problems.append(f"json run exited {rj.returncode}, want {want_exit}")
        if "error" in stderr.lower():
            problems.append(f"stderr mentions an error: {stderr.strip()}")
        if text != want_text:
            exp = want_text.splitlines()
            got = text.splitlines()
            for i in range(max(len(exp), len(got))):
                e = exp[i] if i < len(exp) else "<missing>"
                g = got[i] if i < len(got) else "<missing>"
                if e != g:
                    problems.append(f"text line {i + 1}:\n      want {e!r}\n      got  {g!r}")
                    break
        try:
            got_json = json.loads(jtext, parse_constant=reject_constant)
        except ValueError as e:
            problems.append(f"json output does not parse: {e}")
            got_json = None
        if got_json is not None:
            if got_json != want_json:
                for k in sorted(set(want_json) | set(got_json)):
                    if want_json.get(k) != got_json.get(k):
                        problems.append(f"json key {k!r}:\n      want {json.dumps(want_json.get(k))}"
                                        f"\n      got  {json.dumps(got_json.get(k))}")
            if got_json.get("summary", {}).get("different") != (want_exit == 1):
                problems.append("json summary.different disagrees with the exit status")

        if problems:
            failed += 1
            print(f"FAIL {case}: {' '.join(cmd[2:])}")
            for p in problems:
                print(f"    {p}")
        else:
            print(f"ok   {case}")
    print(f"{len(cases) - failed}/{len(cases)} cases pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
