#!/usr/bin/env python3
"""Instructions per operation, two builds side by side (callgrind, no timing noise).

    python3 bench/ir/run.py BASE_BUILD_DIR NEW_BUILD_DIR [--n 10000]

Runs <build>/bench/ir/coloop_ir_ops <flavour> <op> N and 2N under `valgrind --tool=callgrind`
and reports (Ir(2N) - Ir(N)) / N: the setup and teardown of the program cancel out. Needs
valgrind; both builds should be the release preset.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

CASES = [("loop", "spawn_join"), ("loop", "await"), ("loop", "bare_await"), ("loop", "yield"), ("loop", "call_soon"),
         ("loop", "timer"), ("loop", "wait_for"), ("loop", "echo"), ("runtime", "spawn_join"),
         ("runtime", "yield"), ("runtime", "wait_for"), ("runtime", "echo")]


def total_ir(binary, flavour, op, n):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                            binary, flavour, op, str(n)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode == 2 and "unknown op" in r.stderr:
            return None  # an older tree's ir_ops, without this op
        if r.returncode != 0:
            sys.exit(f"{binary} {flavour} {op} {n}: exit {r.returncode}\n{r.stderr[-2000:]}")
        m = re.search(r"Collected : (\d+)", r.stderr)
        if m is None:
            sys.exit(f"no 'Collected' line from callgrind for {flavour} {op}")
        return int(m.group(1))


def per_op(build, flavour, op, n):
    binary = os.path.join(build, "bench", "ir", "coloop_ir_ops")
    small = total_ir(binary, flavour, op, n)
    return None if small is None else (total_ir(binary, flavour, op, 2 * n) - small) / n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base")
    ap.add_argument("new")
    ap.add_argument("--n", type=int, default=10000)
    args = ap.parse_args()
    print(f"| flavour | op | base Ir/op | new Ir/op | new/base |")
    print(f"|---|---|---|---|---|")
    for flavour, op in CASES:
        base = per_op(args.base, flavour, op, args.n)
        new = per_op(args.new, flavour, op, args.n)
        if base is None or new is None:
            print(f"| {flavour} | {op} | {base or 'n/a'} | {new or 'n/a'} | n/a |", flush=True)
        else:
            print(f"| {flavour} | {op} | {base:.1f} | {new:.1f} | {new / base:.3f} |", flush=True)


if __name__ == "__main__":
    main()
