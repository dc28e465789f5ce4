#!/usr/bin/env python3
"""Man pages agree with the binary (STYLE.md "Command line", after git).

    manpage_test.py PROMSCOPE MAN_DIR

For docs/man/promscope.1.scd and every docs/man/promscope-CMD.1.scd:
  - the first line of its SYNOPSIS section, with scdoc's emphasis marks
    (`*bold*`, `_underline_`) and escapes removed, equals the first usage
    line of `promscope CMD -h` (`promscope -h` for promscope.1) without its
    `usage: ` prefix;
  - it has an EXIT STATUS section listing the codes 0, 1, 2 and 3
    (DESIGN.md section 3: every man page documents them);
  - scdoc (when installed) turns it into a man page without error.
Also: every command in `promscope help` (except `help` itself) has a page,
and every page is for a command that exists.
"""
import os
import re
import shutil
import subprocess
import sys


def strip_scdoc(s):
    out, i = [], 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and i + 1 < len(s):
            out.append(s[i + 1])
            i += 2
            continue
        if ch in "*_":
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out).strip()


def sections(text):
    secs, cur = {}, None
    for line in text.split("\n"):
        m = re.match(r"^# (.+)$", line)
        if m:
            cur = m.group(1).strip().upper()
            secs[cur] = []
        elif cur:
            secs[cur].append(line)
    return secs


def usage_line(promscope, cmd):
    args = [promscope] + ([cmd, "-h"] if cmd else ["-h"])
    r = subprocess.run(args, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        return None, f"'{' '.join(args[1:])}' exited with {r.returncode}"
    first = r.stdout.decode("utf-8", "replace").split("\n", 1)[0]
    if not first.startswith("usage: "):
        return None, f"first line of '{' '.join(args[1:])}' does not start with 'usage: ': {first!r}"
    return first[len("usage: "):].strip(), None


def commands(promscope):
    r = subprocess.run([promscope, "help"], capture_output=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    cmds, in_list = [], False
    for line in r.stdout.decode("utf-8", "replace").split("\n"):
        if line.strip() == "commands:":
            in_list = True
            continue
        if in_list:
            m = re.match(r"^  (\S+)\s", line)
            if not m:
                if line.strip() == "":
                    break
                continue
            cmds.append(m.group(1))
    return cmds


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    promscope, mandir = argv
    failed = 0
    pages = sorted(f for f in os.listdir(mandir) if f.endswith(".1.scd"))
    if "promscope.1.scd" not in pages:
        print(f"FAIL no promscope.1.scd in {mandir}")
        failed += 1
    scdoc = shutil.which("scdoc")
    for page in pages:
        problems = []
        m = re.match(r"^promscope(?:-(.+))?\.1\.scd$", page)
        if not m:
            print(f"FAIL {page}: not named promscope.1.scd or promscope-CMD.1.scd")
            failed += 1
            continue
        cmd = m.group(1)
        with open(os.path.join(mandir, page), encoding="utf-8") as f:
            text = f.read()
        secs = sections(text)
        syn = [l for l in secs.get("SYNOPSIS", []) if l.strip()]
        want, err = usage_line(promscope, cmd)
        if err:
            problems.append(err)
        elif not syn:
            problems.append("no SYNOPSIS section")
        elif strip_scdoc(syn[0]) != want:
            problems.append(f"synopsis {strip_scdoc(syn[0])!r} differs from -h usage {want!r}")
        exit_sec = "\n".join(secs.get("EXIT STATUS", []))
        if not exit_sec:
            problems.append("no EXIT STATUS section")
        else:
            for code in "0123":
                if not re.search(r"(^|[^0-9])" + code + r"([^0-9]|$)", exit_sec):
                    problems.append(f"EXIT STATUS does not list code {code}")
        if scdoc:
            r = subprocess.run([scdoc], input=text.encode("utf-8"), capture_output=True, timeout=30)
            if r.returncode != 0:
                problems.append("scdoc: " + r.stderr.decode("utf-8", "replace").strip())
        if problems:
            failed += 1
            print(f"FAIL {page}: " + "; ".join(problems))
        else:
            print(f"ok   {page}")
    documented = {re.match(r"^promscope-(.+)\.1\.scd$", p).group(1)
                  for p in pages if p.startswith("promscope-")}
    cmds = commands(promscope)
    if not cmds:
        print("FAIL 'promscope help' lists no commands")
        failed += 1
    for c in cmds:
        if c != "help" and c not in documented:
            print(f"FAIL command '{c}' has no man page docs/man/promscope-{c}.1.scd")
            failed += 1
    for d in sorted(documented):
        if d not in cmds:
            print(f"FAIL promscope-{d}.1.scd documents a command 'promscope help' does not list")
            failed += 1
    print(f"{len(pages)} pages, {failed} problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
