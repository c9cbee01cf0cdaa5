#!/usr/bin/env python3
"""Scheduler benchmarks (BENCHMARKS.md, "Scheduler benchmarks"): runs coloop_sched_bench on every
(benchmark, flavour) pair it lists, plus Go's skynet when `go` is installed and tokio's skynet and
fib when cargo and librust-tokio-dev are (bench/sched/tokio, built offline), each in its own
process (so the peak RSS, VmHWM, is that benchmark's alone), in >= 3 interleaved rounds, and
reports medians with min-max.

Usage: python3 bench/sched/run.py [--build build/release] [--rounds 3] [--quick] [--no-build]
                                  [--only skynet,fib,...]

Writes BUILD/bench/sched/results.json (every run plus the summary) and results.md (the table).
Flavours: event_loop (coloop::run), runtime1/runtime2 (the work-stealing runtime of issue 4, once
<coloop/runtime/runtime.hpp> exists: see flavour.hpp), tbb1/tbb2 (oneTBB task_group in a
task_arena of 1 / 2 threads), go1/go2 (GOMAXPROCS), tokio1/tokio2 (tokio's multi-thread runtime
with 1 / 2 workers), raw (eventfd ping-pong, wake's reference).
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import offline_build  # noqa: E402  (bench/offline_build.py)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

BENCH_ORDER = ["skynet", "fib", "spawn_many_local", "spawn_many_remote", "ping_pong",
               "yield_many", "chained_spawn", "wake", "wake_pinned", "baseline"]
LABELS = {
    "skynet": "skynet (1M leaves, 10-way)",
    "fib": "fib(30), spawn per call",
    "spawn_many_local": "spawn_many_local (10k)",
    "spawn_many_remote": "spawn_many_remote (10k)",
    "ping_pong": "ping_pong (1000 pairs x 10)",
    "yield_many": "yield_many (200 x 1000)",
    "chained_spawn": "chained_spawn (1000)",
    "wake": "cross-thread wake round trip (threads unpinned)",
    "wake_pinned": "cross-thread wake round trip (pinned: scheduler CPU 0, foreign CPU 1)",
    "baseline": "empty process (RSS floor)",
}
FLAVOUR_ORDER = ["event_loop", "runtime1", "runtime2", "tbb1", "tbb2", "tokio1", "tokio2", "go1",
                 "go2", "raw", "none"]
FLAVOUR_LABELS = {
    "event_loop": "coloop event_loop", "runtime1": "coloop runtime", "runtime2": "coloop runtime",
    "tbb1": "oneTBB task_group", "tbb2": "oneTBB task_group", "go1": "Go goroutines",
    "go2": "Go goroutines", "tokio1": "tokio multi-thread runtime",
    "tokio2": "tokio multi-thread runtime", "raw": "raw eventfd ping-pong", "none": "-",
}
COLOOP = {"event_loop", "runtime1", "runtime2"}
RSS_TARGET_KB = 64 * 1024


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def build_native(build, no_build):
    binary = os.path.join(build, "bench", "sched", "coloop_sched_bench")
    configured = (os.path.exists(os.path.join(build, "build.ninja"))
                  or os.path.exists(os.path.join(build, "Makefile")))
    if not no_build and configured:
        r = subprocess.run(["cmake", "--build", build, "--target", "coloop_sched_bench"])
        if r.returncode != 0:
            log("building coloop_sched_bench failed; using the last built binary if any")
    if not os.path.exists(binary):
        sys.exit(f"{binary} not found: cmake --preset release && "
                 f"cmake --build {build} --target coloop_sched_bench")
    return binary


def run_case(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    if not lines:
        return None, f"exit {r.returncode}: {r.stderr.strip()[-300:]}"
    rec = json.loads(lines[-1])
    if r.returncode != 0 or not rec.get("ok"):
        return None, f"check failed ({rec.get('check')}), exit {r.returncode}"
    return rec, None


def median_minmax(v):
    return statistics.median(v), min(v), max(v)


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}" if ns / scale < 100 else f"{ns / scale:.0f} {unit}"
    return f"{ns:.0f} ns"


def fmt_ns(ns):
    return f"{ns:.1f} ns" if ns < 1000 else fmt_time(ns)


def summarize(runs):
    """Groups runs by (bench, flavour) and computes medians, ratios and target checks."""
    groups = {}
    for r in runs:
        groups.setdefault((r["bench"], r["flavour"]), []).append(r)
        # wake: the raw eventfd reference, measured in the same process in interleaved blocks.
        if r.get("ref_ns_per_op", -1) > 0 and r["flavour"] == "event_loop":
            ref = dict(r, flavour="raw", threads=2, ns_per_op=r["ref_ns_per_op"],
                       ns_per_iter=r["ref_ns_per_op"] * r["ops_per_iter"])
            groups.setdefault((r["bench"], "raw"), []).append(ref)
    rows = {}
    for (bench, fl), rs in groups.items():
        t = median_minmax([r["ns_per_iter"] for r in rs])
        rows[(bench, fl)] = {
            "bench": bench, "flavour": fl, "threads": rs[0]["threads"], "rounds": len(rs),
            "op": rs[0]["op"], "iters": rs[0]["iters"], "ops_per_iter": rs[0]["ops_per_iter"],
            "ns_per_iter": {"median": t[0], "min": t[1], "max": t[2]},
            "ns_per_op": statistics.median([r["ns_per_op"] for r in rs]),
            "peak_rss_kb": {"median": statistics.median([r["peak_rss_kb"] for r in rs]),
                            "max": max(r["peak_rss_kb"] for r in rs)},
        }

    def med(bench, fl):
        row = rows.get((bench, fl))
        return row["ns_per_iter"]["median"] if row else None

    for (bench, fl), row in rows.items():
        # Reference: oneTBB at the same thread count (skynet, fib), the raw eventfd (wake).
        ref = None
        if bench in ("skynet", "fib") and fl not in ("tbb1", "tbb2"):
            ref = ("oneTBB", med(bench, f"tbb{row['threads']}"))
        if ref and ref[1]:
            row["ratio"] = {"to": ref[0], "value": row["ns_per_iter"]["median"] / ref[1]}
        # The runtime coloop copies: coloop's runtime rows against tokio at the same worker count.
        tokio = med(bench, f"tokio{row['threads']}") if fl in ("runtime1", "runtime2") else None
        if tokio:
            row["ratio_tokio"] = row["ns_per_iter"]["median"] / tokio
        paired = [r["ns_per_op"] / r["ref_ns_per_op"] for r in groups[(bench, fl)]
                  if fl != "raw" and r.get("ref_ns_per_op", -1) > 0]
        if paired:  # wake: the median of each process's own ratio
            row["ratio"] = {"to": "raw eventfd", "value": statistics.median(paired)}
        # 1 -> 2 thread speed-up, on the 2-thread row.
        for one, two in (("runtime1", "runtime2"), ("tbb1", "tbb2"), ("go1", "go2"),
                         ("tokio1", "tokio2")):
            if fl == two and med(bench, one):
                row["speedup_1_to_2"] = med(bench, one) / row["ns_per_iter"]["median"]
        if fl in COLOOP:
            row["targets"] = targets_for(row)
    return rows


def targets_for(row):
    """Issue 4's targets (for the runtime; evaluated on every coloop row for comparison)."""
    out = []
    bench = row["bench"]
    ratio = row.get("ratio", {}).get("value")
    if bench == "skynet":
        out.append(("time <= oneTBB", None if ratio is None else ratio <= 1.0))
        out.append(("peak RSS <= 64 MB", row["peak_rss_kb"]["max"] <= RSS_TARGET_KB))
    if bench == "fib":
        out.append(("faster than oneTBB", None if ratio is None else ratio < 1.0))
    if bench in ("skynet", "fib") and row["flavour"] == "runtime2":
        s = row.get("speedup_1_to_2")
        out.append(("1->2 workers >= 1.7x", None if s is None else s >= 1.7))
    if bench == "chained_spawn":
        out.append(("<= 300 ns/spawn", row["ns_per_op"] <= 300))
    if bench in ("wake", "wake_pinned"):
        out.append(("<= 1.3x raw eventfd", None if ratio is None else ratio <= 1.3))
    return [{"target": t, "met": m} for t, m in out]


def table(rows):
    lines = ["| benchmark | flavour | threads | time (median, min–max) | per op | peak RSS "
             "| ratio to reference | 1→2 speed-up | issue 4 target |",
             "|---|---|---|---|---|---|---|---|---|"]
    keys = sorted(rows, key=lambda k: (BENCH_ORDER.index(k[0]) if k[0] in BENCH_ORDER else 99,
                                       FLAVOUR_ORDER.index(k[1]) if k[1] in FLAVOUR_ORDER else 99))
    for k in keys:
        r = rows[k]
        t = r["ns_per_iter"]
        time = f"{fmt_time(t['median'])} ({fmt_time(t['min'])}–{fmt_time(t['max'])})"
        per_op = "-" if r["bench"] == "baseline" else f"{fmt_ns(r['ns_per_op'])} / {r['op']}"
        if r["bench"] == "baseline":
            time = "-"
        rss = f"{r['peak_rss_kb']['median'] / 1024:.1f} MB"
        ratio = (f"{r['ratio']['value']:.2f}× {r['ratio']['to']}" if "ratio" in r else "")
        if "ratio_tokio" in r:
            ratio += f"; {r['ratio_tokio']:.2f}× tokio"
        speedup = f"{r['speedup_1_to_2']:.2f}×" if "speedup_1_to_2" in r else ""
        tg = "; ".join(f"{x['target']} {'?' if x['met'] is None else ('✓' if x['met'] else '✗')}"
                       for x in r.get("targets", []))
        fl = f"{FLAVOUR_LABELS.get(r['flavour'], r['flavour'])} ({r['flavour']})"
        lines.append(f"| {LABELS.get(r['bench'], r['bench'])} | {fl} | {r['threads']} | {time} "
                     f"| {per_op} | {rss} | {ratio} | {speedup} | {tg} |")
    return "\n".join(lines)


NOTES = """\
Time is per iteration of the benchmark's shape (skynet, fib: one whole tree; spawn_many_*: 10k
spawns; ping_pong: 1000 pairs x 10 round trips; yield_many: 200 x 1000 yields; chained_spawn: one
chain of 1000; wake: one round trip), timed inside the scheduler (start-up excluded); per op
divides by spawns / hops / yields / round trips. Every run checks its result (sums, counts,
depths). Peak RSS is the process's VmHWM: each (benchmark, flavour) runs in its own process, after
one untimed warm-up iteration (none with --quick). Ratio to reference: time ÷ oneTBB at the same
thread count (event_loop is compared with tbb1); for wake, the median over rounds of each
process's scheduler round trip ÷ the raw eventfd round trip (two threads ping-ponging eventfds)
that the same process measured in interleaved blocks (the raw rows come from the event_loop
processes); the coloop runtime rows of skynet and fib also give their time ÷ tokio's at the same
worker count. tokio rows (bench/sched/tokio, tokio 1.24 from Debian, built offline): every node is
a tokio::spawn joined through its JoinHandle, of a boxed future (recursion through spawn needs a
named future type, so each task costs tokio one more allocation than its task cell), timed inside
block_on after an untimed warm-up, like the Go row. Unpinned, the kernel places the threads as it likes, and a wake-up that crosses CPUs
costs several times one that does not; wake_pinned puts the scheduler and the raw peer on CPU 0
and the foreign thread on CPU 1, so both measurements cross CPUs. The issue 4 targets are the work-stealing runtime's; they are evaluated on the
event_loop rows too, for comparison (the event_loop runs spawned tasks FIFO, so skynet and fib
expand breadth-first and hold the whole tree in memory)."""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 1 round, small iteration "
                    "counts, no warm-up")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--only", default="", help="comma-separated benchmark names")
    args = ap.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    if not args.quick and rounds < 3:
        log("note: BENCHMARKS.md asks for >= 3 rounds")

    build = os.path.abspath(args.build)
    out = os.path.join(build, "bench", "sched")
    os.makedirs(out, exist_ok=True)
    binary = build_native(build, args.no_build)
    only = set(filter(None, args.only.split(",")))

    cases = []  # (bench, flavour, cmd)
    listed = subprocess.run([binary, "--list"], check=True, capture_output=True,
                            text=True).stdout.split("\n")
    for line in listed:
        if not line.strip():
            continue
        bench, fl = line.split()
        cmd = [binary, bench, fl] + (["--quick"] if args.quick else [])
        cases.append((bench, fl, cmd))
    skipped = []
    flavours = {fl for _, fl, _ in cases}
    if "runtime1" not in flavours:
        skipped.append("runtime1/runtime2: <coloop/runtime/runtime.hpp> not there yet (issue 4)")
    if "tbb1" not in flavours:
        skipped.append("oneTBB: not found at configure time (libtbb-dev)")
    go_bin, why = offline_build.go_build(os.path.join(HERE, "skynet.go"),
                                         os.path.join(out, "go_skynet"), out)
    if go_bin:
        for procs in (1, 2):
            cases.append(("skynet", f"go{procs}", [go_bin, "-procs", str(procs)]
                          + (["-warmup=false"] if args.quick else [])))
    else:
        skipped.append(f"Go skynet: {why}")
    tokio_bin, why = offline_build.cargo_build(os.path.join(HERE, "tokio"),
                                               os.path.join(out, "cargo"), "tokio_sched",
                                               {"tokio": "librust-tokio-dev"})
    if tokio_bin:
        for bench in ("skynet", "fib"):
            for workers in (1, 2):
                cases.append((bench, f"tokio{workers}", [tokio_bin, bench, str(workers)]
                              + (["--quick"] if args.quick else [])))
    else:
        skipped.append(f"tokio skynet and fib: {why}")
    if only:
        cases = [c for c in cases if c[0] in only]

    runs, failures = [], []
    for rnd in range(rounds):
        log(f"round {rnd + 1}/{rounds}")
        for bench, fl, cmd in cases:
            rec, err = run_case(cmd)
            if rec is None:
                failures.append(f"{bench} {fl} (round {rnd + 1}): {err}")
                log(f"  {bench:18} {fl:10} FAILED: {err}")
                continue
            rec["round"] = rnd + 1
            runs.append(rec)
            log(f"  {bench:18} {fl:10} {fmt_time(rec['ns_per_iter']):>10}  "
                f"{rec['peak_rss_kb'] / 1024:7.1f} MB  {rec['check']}")

    rows = summarize(runs)
    md = table(rows)
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    meta = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "host": platform.node(), "cpus": os.cpu_count(), "loadavg_at_end": load,
        "rounds": rounds, "quick": args.quick, "binary": binary,
        "git": subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip(),
        "skipped": skipped, "failures": failures,
    }
    summary = [dict(v) for v in rows.values()]
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"meta": meta, "summary": summary, "runs": runs}, f, indent=1)
    header = (f"Scheduler benchmarks, {meta['date']}, {meta['cpus']} CPUs, {rounds} interleaved "
              f"round(s){' (quick)' if args.quick else ''}, git {meta['git']}.\n")
    extra = "".join(f"\n- skipped: {s}" for s in skipped) + \
        "".join(f"\n- FAILED: {s}" for s in failures)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(header + "\n" + md + "\n\n" + NOTES + "\n" + extra + "\n")
    print(header)
    print(md)
    if extra:
        print(extra)
    log(f"\nwrote {os.path.join(out, 'results.json')} and {os.path.join(out, 'results.md')}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
