#!/usr/bin/env python3
"""Echo with two server threads on a 2-core machine (issue 4): requests/s of echo_server with
--workers 2 (two event loops, SO_REUSEPORT) and --workers 2 --runtime (one listener on the
work-stealing runtime), against the single-threaded echo_server, in the same interleaved rounds.

Nothing is pinned: the server threads and the load generator share both cores, as a real
deployment would. Uses run.py's process handling and load generator.

Usage: python3 bench/echo/workers.py [--build build/release] [--rounds 3] [--duration 3]
                                     [--conns 100] [--size 64]
Writes BUILD/bench/echo/workers.json and prints a markdown table.
"""
import argparse
import json
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (bench/echo/run.py)

SERVERS = [
    ("1 thread", []),
    ("--workers 2 (SO_REUSEPORT loops)", ["--workers", "2"]),
    ("--workers 2 --runtime", ["--workers", "2", "--runtime"]),
    ("--workers 2 --runtime --backend io_uring", ["--workers", "2", "--runtime", "--backend", "io_uring"]),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(run.REPO, "build", "release"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--conns", type=int, default=100)
    ap.add_argument("--size", type=int, default=64)
    args = ap.parse_args()
    run.harness.set_pinning(False)
    server = os.path.join(args.build, "examples", "echo_server")
    loadgen = os.path.join(args.build, "bench", "echo", "loadgen")
    for path in (server, loadgen):
        if not os.access(path, os.X_OK):
            sys.exit(f"{path} not found: build the release preset first")
    rps = {name: [] for name, _ in SERVERS}
    try:
        for rnd in range(args.rounds):
            for name, extra in SERVERS:
                argv = (lambda p, extra=extra: [server, "--port", str(p), *extra])
                r = run.run_one(loadgen, argv, args.conns, args.size, args.duration, args.warmup)
                rps[name].append(r["rps"])
                run.log(f"round {rnd + 1}: {name}: {r['rps']:.0f} req/s")
    finally:
        run.harness.stop_all()
    base = statistics.median(rps[SERVERS[0][0]])
    print(f"| echo_server, {args.conns} x {args.size} B, unpinned on {os.cpu_count()} CPUs | "
          "req/s (median) | min-max | vs 1 thread |")
    print("|---|---:|---|---:|")
    for name, _ in SERVERS:
        m = statistics.median(rps[name])
        print(f"| {name} | {m:,.0f} | {min(rps[name]):,.0f}-{max(rps[name]):,.0f} | "
              f"{m / base:.2f}x |")
    with open(os.path.join(args.build, "bench", "echo", "workers.json"), "w") as f:
        json.dump({"rounds": args.rounds, "conns": args.conns, "size": args.size, "rps": rps}, f,
                  indent=1)


if __name__ == "__main__":
    main()
