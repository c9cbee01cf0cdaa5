#!/usr/bin/env python3
"""Runs coloop_bench with repetitions, writes the JSON, and prints the README table.

Usage: bench/micro_report.py BENCH_BINARY OUT_JSON [extra benchmark flags...]
Each benchmark is repeated (Google Benchmark interleaves nothing, so we ask for 3 repetitions and
report the median with min-max); targets come from issues 2 and 14 / BENCHMARKS.md.
"""
import json
import subprocess
import sys

TARGETS = {
    "BM_task_create_await_pool": ("task create + await + destroy (frame pool)", "<= 10 ns"),
    "BM_task_create_await_malloc": ("task create + await + destroy (malloc)", "pool >= 2x faster"),
    "BM_bare_create_await_pool": ("bare coroutine, the same (frame pool; reference)",
                                  "task <= 1.15x"),
    "BM_spawn_join": ("spawn + join on the loop", "<= 60 ns"),
    "BM_call_soon_dispatch": ("call_soon dispatch, per call", "<= 20 ns"),
    "BM_yield": ("yield (post + resume)", "-"),
    "BM_when_all_1000": ("when_all of 1000, per child", "-"),
    "BM_timer_arm_cancel/10000": ("timer arm + cancel, 10k live", "<= 50 ns"),
    "BM_timer_arm_cancel/100000": ("timer arm + cancel, 100k live", "<= 50 ns"),
    "BM_timer_arm_cancel/1000000": ("timer arm + cancel, 1M live", "<= 50 ns"),
    "BM_pool_round_trip/spin:2000/real_time": ("thread_pool round trip, loop -> pool -> loop", "-"),
    "BM_to_thread_round_trip/real_time": ("to_thread round trip", "-"),
    "BM_pool_20k_in_flight/real_time": ("thread_pool, 20k in flight, per call", "-"),
    "BM_eventfd_ping_pong/real_time": ("raw eventfd ping-pong between two threads (reference)", "-"),
}
PER_ITEM = {"BM_call_soon_dispatch", "BM_when_all_1000", "BM_pool_20k_in_flight/real_time"}


def main() -> int:
    binary, out = sys.argv[1], sys.argv[2]
    cmd = [binary, "--benchmark_repetitions=3", "--benchmark_format=json",
           "--benchmark_filter=" + "|".join(f"^{k}$" for k in TARGETS)] + sys.argv[3:]
    data = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    with open(out, "w") as f:
        json.dump(data, f, indent=1)
    runs = {}
    for b in data["benchmarks"]:
        if b.get("run_type") != "iteration" or b.get("error_occurred"):
            continue
        name = b["run_name"]
        # Benchmarks that wait for other threads are timed by the wall clock (UseRealTime).
        t = b["real_time"] if name.endswith("/real_time") else b["cpu_time"]
        ns = t * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
        if name in PER_ITEM:
            ns = 1e9 / b["items_per_second"]
        runs.setdefault(name, []).append(ns)
    med = {}
    print("| benchmark | median ns | min-max | target |")
    print("|---|---|---|---|")
    for key, (label, target) in TARGETS.items():
        v = sorted(runs.get(key, []))
        if not v:
            print(f"| {label} | not run | | {target} |")
            continue
        med[key] = v[len(v) // 2]
        print(f"| {label} | {med[key]:.1f} | {v[0]:.1f}-{v[-1]:.1f} | {target} |")
    if "BM_task_create_await_pool" in med and "BM_task_create_await_malloc" in med:
        ratio = med["BM_task_create_await_malloc"] / med["BM_task_create_await_pool"]
        print(f"\nframe pool speed-up over malloc'd frames: {ratio:.2f}x (target >= 2x)")
    if "BM_task_create_await_pool" in med and "BM_bare_create_await_pool" in med:
        ratio = med["BM_task_create_await_pool"] / med["BM_bare_create_await_pool"]
        print(f"task against a bare coroutine: {ratio:.2f}x (target <= 1.15x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
