#!/usr/bin/env python3
"""The documentation stays true to the code.

    docs_test.py SOURCE_ROOT [PROMSCOPE]

  - docs/api.md shows tests/api_example.c verbatim in a ```c block (the
    example users copy is the one the suite compiles and runs);
  - docs/errors.md has a heading for every error id of
    lib/include/promscope/codes.h, and no heading for an id that does not
    exist; each such section shows an example in a code block;
  - every relative link in README.md and docs/*.md points to an existing file;
  - with PROMSCOPE: every example session in docs/errors.md (a code block
    with `$ ` command lines) is replayed in a temporary folder with that
    binary as `promscope`: `$ cat FILE` followed by lines creates FILE, other
    commands run in bash, and each line the block shows after its last
    command must appear in their output.
"""
import os
import re
import subprocess
import sys
import tempfile


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def code_ids(root):
    text = read(os.path.join(root, "lib", "include", "promscope", "codes.h"))
    return [i for e, i in re.findall(r'X\(\s*([A-Z0-9_]+)\s*,\s*"([a-z0-9-]+)"\s*\)', text)
            if e != "ENUM_SUFFIX"]  # the format comment of PSC_CODE_LIST


def check_api(root, problems):
    example = read(os.path.join(root, "tests", "api_example.c"))
    doc = read(os.path.join(root, "docs", "api.md"))
    blocks = re.findall(r"^```c\n(.*?)^```$", doc, re.S | re.M)
    if not any(b == example for b in blocks):
        problems.append("docs/api.md has no ```c block equal to tests/api_example.c")


def check_errors(root, problems):
    ids = code_ids(root)
    if len(ids) < 20:
        problems.append(f"found only {len(ids)} ids in codes.h")
    doc = read(os.path.join(root, "docs", "errors.md"))
    # sections: "### `id`" headings
    heads = {}
    parts = re.split(r"^(#{2,4}) `([a-z0-9-]+)`[^\n]*$", doc, flags=re.M)
    for i in range(1, len(parts) - 2, 3):
        heads[parts[i + 1]] = parts[i + 2]
    for i in ids:
        if i == "none":
            continue
        if i not in heads:
            problems.append(f"docs/errors.md: no section (### `{i}`) for error id '{i}'")
        elif "```" not in heads[i]:
            problems.append(f"docs/errors.md: the section of '{i}' shows no example")
    for h in heads:
        if h not in ids:
            problems.append(f"docs/errors.md: section for '{h}', which is not an id in codes.h")


def check_links(root, problems):
    files = [os.path.join(root, "README.md")]
    docs = os.path.join(root, "docs")
    files += [os.path.join(docs, f) for f in sorted(os.listdir(docs)) if f.endswith(".md")]
    for path in files:
        text = read(path)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            t = target.split("#", 1)[0]
            full = os.path.normpath(os.path.join(os.path.dirname(path), t))
            if not os.path.exists(full):
                problems.append(f"{os.path.relpath(path, root)}: broken link '{target}'")


def replay_block(block, promscope):
    """Run one example session; return a problem string or None."""
    lines = block.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    with tempfile.TemporaryDirectory() as tmp:
        bindir = os.path.join(tmp, "bin")
        os.mkdir(bindir)
        os.symlink(os.path.abspath(promscope), os.path.join(bindir, "promscope"))
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
        output, expected, i = b"", [], 0
        while i < len(lines):
            line = lines[i]
            m = re.match(r"^\$ cat (\S+)$", line)
            if m:
                body = []
                i += 1
                while i < len(lines) and not lines[i].startswith("$ "):
                    body.append(lines[i] + "\n")
                    i += 1
                with open(os.path.join(tmp, m.group(1)), "w", encoding="utf-8") as f:
                    f.write("".join(body))
                continue
            if line.startswith("$ "):
                r = subprocess.run(["bash", "-c", line[2:]], cwd=tmp, env=env,
                                   capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
                output += r.stdout + r.stderr
                expected = []
            else:
                expected.append(line)
            i += 1
        text = output.decode("utf-8", "replace")
        missing = [e for e in expected if e not in text.split("\n")]
        if missing:
            return f"expected {missing[0]!r}, got {text.strip()[:400]!r}"
    return None


def check_error_examples(root, problems, promscope):
    doc = read(os.path.join(root, "docs", "errors.md"))
    blocks = re.findall(r"^```\n(.*?)^```$", doc, re.S | re.M)
    replayed = 0
    for b in blocks:
        if not re.search(r"^\$ .*promscope ", b, re.M):
            continue
        replayed += 1
        why = replay_block(b, promscope)
        if why:
            first = [l for l in b.split("\n") if "promscope " in l][0]
            problems.append(f"docs/errors.md example '{first[:120]}': {why}")
    if replayed < 20:
        problems.append(f"only {replayed} example sessions found in docs/errors.md")


def main(argv):
    if len(argv) not in (1, 2):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    root = argv[0]
    checks = [("api example", check_api), ("error ids", check_errors), ("links", check_links)]
    if len(argv) == 2:
        checks.append(("error examples",
                       lambda r, p: check_error_examples(r, p, argv[1])))
    failed = 0
    for name, fn in checks:
        problems = []
        try:
            fn(root, problems)
        except OSError as e:
            problems.append(str(e))
        if problems:
            failed += 1
            print(f"FAIL {name}:\n  " + "\n  ".join(problems))
        else:
            print(f"ok   {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
