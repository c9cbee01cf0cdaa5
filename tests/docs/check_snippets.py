#!/usr/bin/env python3
"""Compiles every ```cpp block of README.md and docs/*.md (libuv's CI builds its doc samples the
same way), so an example that no longer compiles fails the test suite.

A block is a whole translation unit unless the line before its fence says
`<!-- snippet: body -->`: then it is the body of a coroutine (statements that may co_await).
Either way tests/docs/snippet_prelude.hpp comes first: coloop.hpp, std::chrono_literals and the
placeholder functions the docs call (load_user, query, ...). Errors point at the markdown line.

usage: check_snippets.py CXX SOURCE_DIR BUILD_DIR [EXTRA_FLAG ...]
"""
import concurrent.futures
import os
import pathlib
import re
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^```(\w*)\s*$")
MARK = re.compile(r"^<!--\s*snippet:\s*(\w+)\s*-->\s*$")


def blocks(path):
    """Yields (first line number, mode, code) for each cpp block of `path`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i + 1
        end = start
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        if end == len(lines):
            sys.exit(f"{path}:{i + 1}: unterminated code block")
        if lang == "cpp":
            mark = MARK.match(lines[i - 1]) if i > 0 else None
            mode = mark.group(1) if mark else "file"
            if mode not in ("file", "body"):
                sys.exit(f"{path}:{i}: unknown snippet mode '{mode}' (file or body)")
            yield start + 1, mode, "\n".join(lines[start:end])
        i = end + 1


def source(md, line, mode, code):
    out = ['#include "snippet_prelude.hpp"', f'#line {line} "{md}"']
    if mode == "body":
        out = out[:1] + ["coloop::task<void> doc_snippet() {", f'#line {line} "{md}"',
                         code, "  co_return;", "}"]
    else:
        out.append(code)
    return "\n".join(out) + "\n"


def main():
    cxx, src, build, *extra = sys.argv[1:]
    src = pathlib.Path(src)
    docs = [src / "README.md"] + sorted((src / "docs").glob("*.md"))
    work = pathlib.Path(tempfile.mkdtemp(prefix="coloop-snippets-"))
    jobs = []
    for md in docs:
        for n, (line, mode, code) in enumerate(blocks(md)):
            f = work / f"{md.stem}_{n}.cpp"
            f.write_text(source(md.relative_to(src), line, mode, code))
            jobs.append(f)
    if not jobs:
        sys.exit("no ```cpp block found: is the source dir right?")
    flags = ["-std=gnu++20", "-fsyntax-only", "-Wall", "-Wno-unused", f"-I{src / 'include'}",
             f"-I{pathlib.Path(build) / 'include'}", f"-I{src / 'tests' / 'docs'}", *extra]

    def compile_one(f):
        r = subprocess.run([cxx, *flags, str(f)], capture_output=True, text=True, cwd=src)
        return f, r.returncode, r.stdout + r.stderr

    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for f, rc, log in pool.map(compile_one, jobs):
            if rc != 0:
                failed += 1
                print(f"--- {f.name} does not compile:\n{log}")
    for f in jobs:
        f.unlink()
    work.rmdir()
    print(f"{len(jobs) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
