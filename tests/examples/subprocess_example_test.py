#!/usr/bin/env python3
"""Runs the subprocess example: small and large pipelines (exact output, exit status 0) and a
bad argument (status 2 and a message).

Usage: subprocess_example_test.py SUBPROCESS
"""
import subprocess
import sys

binary = sys.argv[1]


def check(args, want_out, want_rc):
    r = subprocess.run([binary, *args], capture_output=True, text=True, timeout=60)
    if r.returncode != want_rc or (want_out is not None and r.stdout != want_out):
        raise SystemExit(f"subprocess {args}: status {r.returncode}, out {r.stdout!r}, "
                         f"err {r.stderr!r}")
    if want_rc != 0 and not r.stderr:
        raise SystemExit(f"subprocess {args}: failed without a message")


check(["--count", "1000", "--lines", "5"], "1000\n999\n998\n997\n996\n", 0)
check([], "1000\n999\n998\n997\n996\n", 0)
check(["--count", "300000", "--lines", "2"], "300000\n299999\n", 0)
check(["--count", "3", "--lines", "10"], "3\n2\n1\n", 0)
check(["--count", "0"], None, 2)
print("ok")
