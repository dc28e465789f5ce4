#!/usr/bin/env python3
"""Run a program and compare its standard output with an expected file.

    expect_output.py EXPECTED_FILE PROGRAM [ARGS...]

Fails (exit 1) when the program exits non-zero, is killed by a signal, takes
longer than 60 s, or prints anything other than the expected bytes; prints a
unified diff of the difference.
"""
import difflib
import subprocess
import sys


def main():
    if len(sys.argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    expected_path, cmd = sys.argv[1], sys.argv[2:]
    with open(expected_path, "rb") as f:
        expected = f.read()
    try:
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        print(f"{cmd[0]}: timed out after 60 s", file=sys.stderr)
        return 1
    sys.stderr.buffer.write(r.stderr)
    ok = True
    if r.returncode != 0:
        print(f"{cmd[0]}: exit status {r.returncode}, expected 0", file=sys.stderr)
        ok = False
    if r.stdout != expected:
        diff = difflib.unified_diff(
            expected.decode("utf-8", "replace").splitlines(True),
            r.stdout.decode("utf-8", "replace").splitlines(True),
            fromfile=expected_path, tofile="actual output")
        sys.stderr.writelines(diff)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
