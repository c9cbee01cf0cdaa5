#!/usr/bin/env python3
"""Echo benchmark driver (BENCHMARKS.md, "Echo benchmark"). Standard library only.

For every round, point and server: start the server pinned to CPU 0, wait for its
"listening on" line, run bench/echo's closed-loop load generator pinned to CPU 1 (it verifies
every byte and reads the server's CPU time from /proc), stop the server. Rounds are interleaved
(round 1 runs every point and server, then round 2, ...) and each round runs the servers in a
different order, so drift over the run spreads over everyone. Reports the median with min-max,
and ratios to the hand-written epoll floor measured in the same round.

    python3 bench/echo/run.py [--build build/release] [--quick] [--rounds 3] [--duration 3]
                              [--points 100x64,10x1024,1x64,1000x512] [--servers epoll,asio,...]
                              [--update-readme-assets]

Writes BUILD/bench/echo/results.json, results.md and echo.png (gnuplot).
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402  (bench/harness.py)
import offline_build  # noqa: E402  (bench/offline_build.py)
from harness import cpu_model, first_line, free_port, live, log, pin, stop  # noqa: E402

PY = "/usr/bin/python3"  # the Debian python, where python3-uvloop lives
DEFAULT_POINTS = "100x64,10x1024,1x64,1000x512"
FLOOR = "epoll"
# Rows also compared with a peer measured in the same round: coloop on libuv against raw libuv.
PEERS = {"coloop-libuv": "libuv"}

# ---------------------------------------------------------------------------------------------
# Servers


def server_catalogue(build, out):
    """name -> (description, argv builder taking the port, or None and why it is unavailable)."""
    b = os.path.join(build, "bench", "echo")
    cat = {}

    def binary(name, desc, path, extra=()):
        if os.access(path, os.X_OK):
            cat[name] = (desc, lambda p, path=path: [path, "--port", str(p), *extra], None)
        else:
            cat[name] = (desc, None, f"{os.path.relpath(path, REPO)} not built")

    binary("epoll", "hand-written epoll, C (floor)", os.path.join(b, "epoll_echo"))
    binary("io_uring", "hand-written io_uring (liburing), C", os.path.join(b, "uring_echo"))
    coloop = os.path.join(build, "examples", "echo_server")
    binary("coloop", "coloop echo_server", coloop, ("--host", "127.0.0.1"))
    if "coloop" in cat and cat["coloop"][1] and help_mentions(coloop, "io_uring"):
        binary("coloop-io_uring", "coloop echo_server --backend io_uring", coloop,
               ("--host", "127.0.0.1", "--backend", "io_uring"))
    else:
        cat["coloop-io_uring"] = ("coloop echo_server --backend io_uring", None,
                                  "echo_server missing or without the io_uring backend")
    if "coloop" in cat and cat["coloop"][1] and help_mentions(coloop, "--streams"):
        binary("coloop-streams", "coloop echo_server --streams", coloop,
               ("--host", "127.0.0.1", "--streams"))
    else:
        cat["coloop-streams"] = ("coloop echo_server --streams", None,
                                 "echo_server missing or without --streams")
    # The same server on coloop's libuv backend, next to the raw libuv server below (PEERS).
    if "coloop" in cat and cat["coloop"][1] and supports_backend(coloop, "libuv"):
        binary("coloop-libuv", "coloop echo_server --backend libuv", coloop,
               ("--host", "127.0.0.1", "--backend", "libuv"))
    else:
        cat["coloop-libuv"] = ("coloop echo_server --backend libuv", None,
                               "echo_server missing or built without the libuv backend")
    binary("asio", "Asio C++20 coroutines", os.path.join(b, "asio_echo"))
    binary("libuv", "raw libuv, C", os.path.join(b, "libuv_echo"))

    script = os.path.join(HERE, "asyncio_echo.py")
    has_uvloop = subprocess.run([PY, "-c", "import uvloop"], capture_output=True).returncode == 0
    for mode in ("streams", "protocol"):
        cat[f"asyncio-{mode}"] = (f"Python asyncio, {mode}",
                                  lambda p, m=mode: [PY, script, "--port", str(p), "--mode", m],
                                  None)
        if has_uvloop:
            cat[f"uvloop-{mode}"] = (f"Python uvloop, {mode}",
                                     lambda p, m=mode: [PY, script, "--port", str(p), "--mode", m,
                                                        "--uvloop"], None)
        else:
            cat[f"uvloop-{mode}"] = (f"Python uvloop, {mode}", None,
                                     "python3-uvloop not installed")

    go_bin, why = offline_build.go_build(os.path.join(HERE, "echo.go"),
                                         os.path.join(out, "go_echo"), out)
    if go_bin:
        cat["go"] = ("Go, goroutine per connection", lambda p: [go_bin, "--port", str(p)], None)
    else:
        cat["go"] = ("Go", None, why)
    node = shutil.which("node")
    if node:
        js = os.path.join(HERE, "echo.js")
        cat["node"] = ("Node.js net", lambda p: [node, js, "--port", str(p)], None)
    else:
        cat["node"] = ("Node.js", None, "node not installed")
    return cat


def help_mentions(path, word):
    try:
        r = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10)
        return word in (r.stdout + r.stderr)
    except (OSError, subprocess.TimeoutExpired):
        return False


def supports_backend(path, name):
    """True when echo_server's --help lists `name` among its compiled-in backends."""
    try:
        r = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10)
        text = r.stdout + r.stderr
        return any(line.startswith("backends:") and name in line for line in text.splitlines())
    except (OSError, subprocess.TimeoutExpired):
        return False


def build_native(build):
    """Build the echo targets (and coloop's echo_server when that target exists)."""
    if not (os.path.exists(os.path.join(build, "build.ninja"))
            or os.path.exists(os.path.join(build, "Makefile"))):
        log(f"{build} is not a configured build tree; using whatever binaries are there")
        return
    r = subprocess.run(["cmake", "--build", build, "--target", "bench_echo"])
    if r.returncode != 0:
        sys.exit("building bench_echo failed")
    targets = subprocess.run(["cmake", "--build", build, "--target", "help"],
                             capture_output=True, text=True).stdout
    if any(l.startswith("echo_server:") for l in targets.splitlines()):
        r = subprocess.run(["cmake", "--build", build, "--target", "echo_server"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            log("building examples/echo_server failed; the coloop rows use the last built binary"
                " if any. Last lines:\n" + "\n".join(r.stdout.splitlines()[-8:]))


# ---------------------------------------------------------------------------------------------
# Processes


class Server:
    def __init__(self, argv):
        self.port = free_port()
        self.proc = subprocess.Popen(pin(0, argv(self.port)), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, text=True)
        live.append(self.proc)
        self.output = []
        self.ready = threading.Event()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stdout:
            self.output.append(line.rstrip())
            if line.startswith("listening on") and not self.ready.is_set():
                try:
                    self.port = int(line.strip().rsplit(":", 1)[1])
                except ValueError:
                    pass
                self.ready.set()
        self.ready.set()  # EOF: the server exited

    def wait_ready(self, timeout=15):
        self.ready.wait(timeout)
        if self.proc.poll() is not None or not any(l.startswith("listening on")
                                                    for l in self.output):
            raise RuntimeError("server did not start: " + " | ".join(self.output[-5:]))


def run_one(loadgen, argv, conns, size, duration, warmup):
    srv = Server(argv)
    try:
        srv.wait_ready()
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            out = f.name
        try:
            cmd = pin(1, [loadgen, "--host", "127.0.0.1", "--port", str(srv.port), "--conns",
                          str(conns), "--size", str(size), "--duration", str(duration),
                          "--warmup", str(warmup), "--server-pid", str(srv.proc.pid),
                          "--json", out])
            lg = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            live.append(lg)
            try:
                text, _ = lg.communicate(timeout=duration + warmup + 60)
            finally:
                stop(lg)
            if lg.returncode != 0:
                raise RuntimeError("loadgen failed: " + text.strip())
            if srv.proc.poll() is not None:
                raise RuntimeError("server exited during the run: " + " | ".join(srv.output[-5:]))
            with open(out) as f:
                return json.load(f)
        finally:
            os.unlink(out)
    finally:
        stop(srv.proc)


# ---------------------------------------------------------------------------------------------
# Reporting


def med(xs):
    return statistics.median(xs) if xs else None


def summarize(raw, points, servers):
    """Per point and server: medians, min-max, per-round ratios to the floor."""
    summary = {}
    for pt in points:
        key = pt_key(pt)
        summary[key] = {}
        floor_runs = raw.get(key, {}).get(FLOOR, {})
        for name in servers:
            runs = raw.get(key, {}).get(name, {})
            ok = [r for r in runs.values() if "error" not in r]
            errors = [r["error"] for r in runs.values() if "error" in r]
            s = {"rounds": len(ok), "errors": errors}
            if ok:
                for m in ("rps", "p50_us", "p99_us", "p999_us", "cpu_ns_per_req",
                          "loadgen_cpu_ns_per_req", "ramp_s"):
                    vals = [r[m] for r in ok if r.get(m) is not None and r[m] >= 0]
                    if vals:
                        s[m] = med(vals)
                        s[m + "_min"] = min(vals)
                        s[m + "_max"] = max(vals)
                # Ratios to the floor measured in the same round.
                cpu_r, rps_r = [], []
                for rnd, r in runs.items():
                    f = floor_runs.get(rnd)
                    if "error" in r or not f or "error" in f:
                        continue
                    if r["cpu_ns_per_req"] > 0 and f["cpu_ns_per_req"] > 0:
                        cpu_r.append(r["cpu_ns_per_req"] / f["cpu_ns_per_req"])
                    rps_r.append(r["rps"] / f["rps"])
                peer_runs = raw.get(key, {}).get(PEERS.get(name), {})
                peer_r = [r["cpu_ns_per_req"] / peer_runs[rnd]["cpu_ns_per_req"]
                          for rnd, r in runs.items()
                          if "error" not in r and "error" not in peer_runs.get(rnd, {"error": 1})
                          and peer_runs[rnd]["cpu_ns_per_req"] > 0]
                for m, vals in (("cpu_ratio", cpu_r), ("rps_ratio", rps_r),
                                ("cpu_vs_peer", peer_r)):
                    if vals:
                        s[m], s[m + "_min"], s[m + "_max"] = med(vals), min(vals), max(vals)
            summary[key][name] = s
    return summary


def pt_key(pt):
    return f"{pt[0]}x{pt[1]}"


def pt_title(pt):
    c, b = pt
    size = f"{b // 1024} KiB" if b >= 1024 and b % 1024 == 0 else f"{b} B"
    return f"{c} × {size}"


def fmt_range(s, m, fmt, scale=1.0):
    if m not in s:
        return "—"
    v, lo, hi = s[m] * scale, s[m + "_min"] * scale, s[m + "_max"] * scale
    if s["rounds"] <= 1:
        return fmt.format(v)
    return f"{fmt.format(v)} ({fmt.format(lo)}–{fmt.format(hi)})"


def markdown(summary, points, servers, meta):
    lines = [
        f"Echo benchmark, {meta['date']}, {meta['cpu']} ({meta['nproc']} CPUs), "
        f"kernel {meta['kernel']}. Server on CPU 0, load generator on CPU 1; "
        f"{meta['rounds']} interleaved round(s) of {meta['warmup']} s warm-up + "
        f"{meta['duration']} s measured; median (min–max). Ratios are to the hand-written epoll "
        f"server measured in the same round (median of per-round ratios).",
        "",
    ]
    for pt in points:
        key = pt_key(pt)
        lines += [f"### {pt_title(pt)} ({pt[0]} connection{'s' if pt[0] > 1 else ''}, "
                  f"{pt[1]}-byte messages)", "",
                  "| server | req/s | p50 µs | p99 µs | p99.9 µs | CPU ns/req | CPU vs floor "
                  "| req/s vs floor |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for name in servers:
            s = summary[key][name]
            if not s["rounds"]:
                lines.append(f"| {name} | failed: {s['errors'][0][:80] if s['errors'] else '—'} "
                             "| | | | | | |")
                continue
            lines.append("| " + " | ".join([
                name,
                fmt_range(s, "rps", "{:,.0f}"),
                f"{s['p50_us']:.0f}",
                f"{s['p99_us']:.0f}",
                f"{s['p999_us']:.0f}",
                fmt_range(s, "cpu_ns_per_req", "{:,.0f}"),
                fmt_range(s, "cpu_ratio", "{:.2f}×"),
                fmt_range(s, "rps_ratio", "{:.2f}×"),
            ]) + " |")
        for name, peer in PEERS.items():
            s = summary[key].get(name, {})
            if "cpu_vs_peer" in s:
                lines += ["", f"CPU per request, {name} vs {peer} in the same round: "
                          f"{fmt_range(s, 'cpu_vs_peer', '{:.2f}×')}."]
        slow = [f"{n} {summary[key][n]['ramp_s']:.1f} s" for n in servers
                if summary[key][n].get("ramp_s", 0) >= 0.5]
        if slow:
            lines += ["", "Time until every connection had its first echo (before the warm-up, not "
                      "measured): " + ", ".join(slow) + "."]
        lines.append("")
    return "\n".join(lines)


def chart(summary, points, servers, out_dir, meta):
    gp = shutil.which("gnuplot")
    if not gp:
        log("gnuplot not found: no chart")
        return None
    main = pt_key(points[0])
    names = [n for n in servers if summary[main][n]["rounds"]]
    d1 = os.path.join(out_dir, "chart_ratios.dat")
    with open(d1, "w") as f:
        f.write("server rps_ratio cpu_ratio\n")
        for n in names:
            s = summary[main][n]
            f.write(f"{n} {s.get('rps_ratio', 0):.4f} {s.get('cpu_ratio', 0):.4f}\n")
    d2 = os.path.join(out_dir, "chart_rps.dat")
    with open(d2, "w") as f:
        f.write("server " + " ".join(f'"{pt_title(p)}"' for p in points) + "\n")
        for n in servers:
            vals = [summary[pt_key(p)][n].get("rps", 0) / 1000.0 for p in points]
            f.write(n + " " + " ".join(f"{v:.3f}" for v in vals) + "\n")
    png = os.path.join(out_dir, "echo.png")
    ncol = len(points)
    script = f"""
set terminal pngcairo size 1400,1000 font "sans,11"
set output "{png}"
set multiplot layout 2,1 title "coloop echo benchmark — {meta['date']}, server on 1 CPU, closed loop, median of {meta['rounds']} round(s)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key top left autotitle columnheader
set grid ytics
set xtics rotate by -25 scale 0
set title "{pt_title(points[0])}: ratio to the hand-written epoll floor (same round)"
set ylabel "× epoll"
set yrange [0:*]
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc rgb "#444444" front
plot "{d1}" using 2:xtic(1) title "req/s ÷ floor (higher is better)" lc rgb "#2e7d32", \\
     "" using 3 title "server CPU ns/req ÷ floor (lower is better)" lc rgb "#c62828"
unset arrow 1
set title "requests/s per point (thousands)"
set ylabel "k req/s"
plot for [i=2:{ncol + 1}] "{d2}" using i:xtic(1) title columnheader(i)
unset multiplot
"""
    sp = os.path.join(out_dir, "echo.gp")
    with open(sp, "w") as f:
        f.write(script)
    r = subprocess.run([gp, sp], capture_output=True, text=True)
    if r.returncode != 0:
        log("gnuplot failed:\n" + r.stderr)
        return None
    return png


def versions():
    cmd = first_line
    v = {
        "python": cmd([PY, "--version"]),
        "uvloop": cmd([PY, "-c", "import uvloop; print(uvloop.__version__)"]),
        "go": cmd(["go", "version"]),
        "node": cmd(["node", "--version"]),
        "libuv": cmd(["pkg-config", "--modversion", "libuv"]),
        "cc": cmd(["cc", "--version"]),
    }
    try:
        with open("/usr/include/asio/version.hpp") as f:
            for line in f:
                if line.startswith("#define ASIO_VERSION "):
                    n = int(line.split()[2])
                    v["asio"] = f"{n // 100000}.{n // 100 % 1000}.{n % 100}"
    except OSError:
        pass
    return v


# ---------------------------------------------------------------------------------------------


def parse_points(text):
    pts = []
    for p in text.split(","):
        c, b = p.lower().split("x")
        pts.append((int(c), int(b)))
    return pts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build", "release"))
    ap.add_argument("--quick", action="store_true", help="1 round, 2 s, 0.5 s warm-up (smoke run)")
    ap.add_argument("--points", default=DEFAULT_POINTS, help=f"default {DEFAULT_POINTS}")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=3.0, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per run")
    ap.add_argument("--servers", default=None,
                    help="comma-separated subset (default: every one available)")
    ap.add_argument("--no-build", action="store_true", help="do not run cmake --build first")
    ap.add_argument("--update-readme-assets", action="store_true",
                    help="also copy echo.png and results.md to bench/echo/")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 2.0, 0.5

    pinned = harness.init_pinning("server and load generator")

    build = os.path.abspath(args.build)
    out = os.path.join(build, "bench", "echo")
    os.makedirs(out, exist_ok=True)
    if not args.no_build:
        build_native(build)
    loadgen = os.path.join(out, "loadgen")
    if not os.access(loadgen, os.X_OK):
        sys.exit(f"{loadgen} not found: build the bench_echo target first")

    points = parse_points(args.points)
    cat = server_catalogue(build, out)
    wanted = args.servers.split(",") if args.servers else list(cat)
    for n in wanted:
        if n not in cat:
            sys.exit(f"unknown server {n!r}; known: {', '.join(cat)}")
    servers = []
    for n in wanted:
        if cat[n][1] is None:
            log(f"skipping {n}: {cat[n][2]}")
        else:
            servers.append(n)
    if FLOOR not in servers:
        log(f"note: the floor ({FLOOR}) is not in the run: no ratios")

    total = len(points) * len(servers) * args.rounds
    est = total * (args.duration + args.warmup + 0.7)
    log(f"{len(servers)} servers × {len(points)} points × {args.rounds} rounds = {total} runs, "
        f"about {est / 60:.1f} min")

    raw = {pt_key(p): {n: {} for n in servers} for p in points}
    t_start = time.time()
    done = 0
    for rnd in range(args.rounds):
        order = servers[rnd % len(servers):] + servers[:rnd % len(servers)]
        for pt in points:
            for n in order:
                done += 1
                try:
                    r = run_one(loadgen, cat[n][1], pt[0], pt[1], args.duration, args.warmup)
                    log(f"[{done}/{total}] round {rnd + 1} {pt_key(pt):>8} {n:<16} "
                        f"{r['rps']:>9,.0f} req/s  p50 {r['p50_us']:7.0f} µs  "
                        f"p99 {r['p99_us']:7.0f} µs  cpu {r['cpu_ns_per_req']:7,.0f} ns/req")
                except RuntimeError as e:
                    r = {"error": str(e)}
                    log(f"[{done}/{total}] round {rnd + 1} {pt_key(pt):>8} {n:<16} ERROR {e}")
                raw[pt_key(pt)][n][str(rnd)] = r

    meta = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "host": platform.node(), "kernel": platform.release(), "cpu": cpu_model(),
        "nproc": os.cpu_count(), "rounds": args.rounds, "duration": args.duration,
        "warmup": args.warmup, "pinned": pinned, "elapsed_s": round(time.time() - t_start, 1),
        "versions": versions(),
        "servers": {n: cat[n][0] for n in servers},
        "skipped": {n: cat[n][2] for n in wanted if cat[n][1] is None},
    }
    summary = summarize(raw, points, servers)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"meta": meta, "points": [pt_key(p) for p in points], "summary": summary,
                   "raw": raw}, f, indent=1)
    md = markdown(summary, points, servers, meta)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(md + "\n")
    print(md)
    png = chart(summary, points, servers, out, meta)
    log(f"wrote {out}/results.json, results.md" + (", echo.png" if png else ""))
    if args.update_readme_assets:
        shutil.copy(os.path.join(out, "results.md"), os.path.join(HERE, "results.md"))
        if png:
            shutil.copy(png, os.path.join(HERE, "echo.png"))
        log("copied results.md and echo.png to bench/echo/")
    failed = sum(1 for p in raw.values() for s in p.values() for r in s.values() if "error" in r)
    return 1 if failed else 0


if __name__ == "__main__":
    harness.run_main(main)
