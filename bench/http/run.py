#!/usr/bin/env python3
"""HTTP benchmark driver (BENCHMARKS.md, "HTTP benchmark"): wrk against coloop's http_server and
its peers. Standard library only.

For every round and server: start the server pinned to CPU 0, wait until it accepts, check one
response (status 200, Content-Type text/plain, body `Hello, World!`, keep-alive: a server that
answers differently is not measured), warm up with wrk, then run wrk pinned to CPU 1 (one
thread, N connections, keep-alive, `GET /`) and read the server's CPU time from /proc over that
run; stop the server. Rounds are interleaved and each runs the servers in a different order.
Reports medians with min-max, and ratios to nginx measured in the same round.

    python3 bench/http/run.py [--build build/release] [--rounds 3] [--duration 3] [--warmup 1]
                              [--connections 100] [--only nginx,coloop,...] [--no-build]
                              [--update-readme-assets]

Writes BUILD/bench/http/results.json, results.md and http.png (gnuplot).
"""
import argparse
import datetime
import glob
import http.client
import json
import os
import platform
import resource
import shutil
import socket
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

PY = "/usr/bin/python3"  # the Debian python, where python3-httptools and python3-uvloop live
REF = "nginx"
BODY = b"Hello, World!"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# Servers: name -> (description, argv builder (port, scratch dir) -> argv, or None, why not, env)


def server_catalogue(build, out, do_build):
    cat = {}

    def add(name, desc, argv=None, why=None, env=None):
        cat[name] = (desc, argv, why, env or {})

    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK)
                                      else None)
    if nginx:
        add("nginx", "nginx, one process, `return 200` (reference)",
            lambda p, d: nginx_argv(nginx, p, d))
    else:
        add("nginx", "nginx", why="nginx not installed (Debian: nginx-light)")

    coloop = os.path.join(build, "examples", "http_server")
    if os.access(coloop, os.X_OK):
        text = help_text(coloop)
        host = ["--host", "127.0.0.1"] if "--host" in text else []
        add("coloop", "coloop examples/http_server, event loop",
            lambda p, d: [coloop, "--port", str(p), *host])
        # The work-stealing runtime on one worker, when the server can be asked for it (like
        # echo_server's --runtime); http_server's --workers 1 alone is the event loop again.
        if "--runtime" in text and "--workers" in text:
            add("coloop-runtime1", "coloop examples/http_server --workers 1 --runtime",
                lambda p, d: [coloop, "--port", str(p), *host, "--workers", "1", "--runtime"])
        else:
            add("coloop-runtime1", "coloop on the runtime, 1 worker",
                why="http_server has no --runtime flag (its --workers 1 is the event loop)")
    else:
        for n in ("coloop", "coloop-runtime1"):
            add(n, "coloop examples/http_server",
                why=f"{os.path.relpath(coloop, REPO)} not built")

    beast = os.path.join(out, "beast_http")
    if os.access(beast, os.X_OK):
        add("beast", "Boost.Beast on one Asio io_context", lambda p, d: [beast, "--port", str(p)])
    else:
        add("beast", "Boost.Beast", why=f"{os.path.relpath(beast, REPO)} not built (libboost-dev)")

    hyper, why = build_hyper(out, do_build)
    if hyper:
        add("hyper", "hyper 0.14 on tokio current_thread", lambda p, d: [hyper, "--port", str(p)])
    else:
        add("hyper", "hyper", why=why)

    go, why = build_go(out, do_build)
    if go:
        add("go", "Go net/http, GOMAXPROCS=1", lambda p, d: [go, "--port", str(p), "-procs", "1"],
            env={"GOMAXPROCS": "1"})
    else:
        add("go", "Go net/http", why=why)

    node = shutil.which("node")
    if node:
        js = os.path.join(HERE, "http.js")
        add("node", "Node.js http", lambda p, d: [node, js, "--port", str(p)])
    else:
        add("node", "Node.js http", why="node not installed")

    script = os.path.join(HERE, "asyncio_http.py")
    missing = [m for m in ("httptools", "uvloop") if not py_has(m)]
    for loop in ("uvloop", "asyncio"):
        need = [m for m in missing if m == "httptools" or m == loop]
        if need:
            add(loop, f"Python {loop} + httptools",
                why=" and ".join(f"python3-{m}" for m in need) + " not installed")
        else:
            add(loop, f"Python {loop}, Protocol + httptools",
                lambda p, d, loop=loop: [PY, script, "--port", str(p), "--loop", loop])
    return cat


def nginx_argv(nginx, port, scratch):
    with open(os.path.join(HERE, "nginx.conf.in")) as f:
        conf = f.read().replace("@DIR@", scratch).replace("@PORT@", str(port))
    path = os.path.join(scratch, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return [nginx, "-p", scratch, "-e", os.path.join(scratch, "error.log"), "-c", path]


def help_text(path):
    try:
        r = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10)
        return r.stdout + r.stderr
    except (OSError, subprocess.TimeoutExpired):
        return ""


def py_has(module):
    return subprocess.run([PY, "-c", f"import {module}"], capture_output=True).returncode == 0


def build_hyper(out, do_build):
    path = os.path.join(out, "cargo", "release", "hyper_http")
    if not do_build:
        return (path, None) if os.access(path, os.X_OK) else (None, "not built (--no-build)")
    return offline_build.cargo_build(os.path.join(HERE, "hyper"), os.path.join(out, "cargo"),
                                     "hyper_http", {"hyper": "librust-hyper-dev",
                                                    "tokio": "librust-tokio-dev"})


def build_go(out, do_build):
    dst = os.path.join(out, "go_http")
    if not do_build:
        return (dst, None) if os.access(dst, os.X_OK) else (None, "not built (--no-build)")
    return offline_build.go_build(os.path.join(HERE, "http.go"), dst, out)


def build_native(build):
    """Builds bench_http (the Beast peer) and coloop's http_server when that target exists."""
    if not (os.path.exists(os.path.join(build, "build.ninja"))
            or os.path.exists(os.path.join(build, "Makefile"))):
        log(f"{build} is not a configured build tree; using whatever binaries are there")
        return
    r = subprocess.run(["cmake", "--build", build, "--target", "bench_http"])
    if r.returncode != 0:
        log("building bench_http failed; the Beast row uses the last built binary if any")
    targets = subprocess.run(["cmake", "--build", build, "--target", "help"],
                             capture_output=True, text=True).stdout
    if any(line.startswith("http_server:") for line in targets.splitlines()):
        r = subprocess.run(["cmake", "--build", build, "--target", "http_server"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            log("building examples/http_server failed; the coloop rows use the last built binary"
                " if any. Last lines:\n" + "\n".join(r.stdout.splitlines()[-8:]))


# ---------------------------------------------------------------------------------------------
# Processes


class Server:
    def __init__(self, argv, env, scratch):
        self.port = free_port()
        self.proc = subprocess.Popen(pin(0, argv(self.port, scratch)), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, text=True,
                                     env=dict(os.environ, **env))
        live.append(self.proc)
        self.output = []
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stdout:
            self.output.append(line.rstrip())

    def why_dead(self):
        return "server exited: " + (" | ".join(self.output[-5:]) or f"status {self.proc.poll()}")

    def wait_ready(self, timeout=15):
        """Until the port accepts (nginx prints nothing, so every server is polled the same)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.why_dead())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"server did not accept on port {self.port} within {timeout} s")


def check_response(port):
    """One response compared with what every server must answer, then a second request on the
    same connection (keep-alive). Returns the first response's headers; raises on a difference."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/")
        r = conn.getresponse()
        body = r.read()
        headers = dict((k.lower(), v) for k, v in r.getheaders())
        problems = []
        if r.status != 200:
            problems.append(f"status {r.status}")
        if body != BODY:
            problems.append(f"body {body[:40]!r}")
        if headers.get("content-type") != "text/plain":
            problems.append(f"Content-Type {headers.get('content-type')!r}")
        if r.version != 11:
            problems.append(f"HTTP version {r.version}")
        if r.will_close:
            problems.append("the connection is not kept alive")
        if not problems:
            sock = conn.sock
            conn.request("GET", "/")
            r2 = conn.getresponse()
            if r2.read() != BODY or r2.status != 200 or conn.sock is not sock:
                problems.append("the second request on the connection was not answered the same")
        if problems:
            raise RuntimeError("wrong response, not measured: " + "; ".join(problems))
        return headers
    except (OSError, http.client.HTTPException) as e:
        raise RuntimeError(f"no valid HTTP response: {e!r}") from e
    finally:
        conn.close()


def proc_cpu_s(pid):
    """utime+stime of the whole process (every thread) in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def wrk(port, conns, duration):
    """Runs wrk pinned to CPU 1; returns (its done() record, its CPU seconds)."""
    cmd = pin(1, ["wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--latency", "--timeout", "5s",
                  "-s", os.path.join(HERE, "wrk_report.lua"), f"http://127.0.0.1:{port}/"])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    live.append(p)
    try:
        text, _ = p.communicate(timeout=duration + 60)
    finally:
        stop(p)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    recs = [l.split(" ", 1)[1] for l in text.splitlines() if l.startswith("WRK_JSON ")]
    if p.returncode != 0 or not recs:
        raise RuntimeError(f"wrk failed (exit {p.returncode}): {text.strip()[-300:]}")
    return json.loads(recs[-1]), cpu


def run_one(spec, conns, duration, warmup):
    _, argv, _, env = spec
    with tempfile.TemporaryDirectory(prefix="coloop-http-") as scratch:
        srv = Server(argv, env, scratch)
        try:
            srv.wait_ready()
            headers = check_response(srv.port)
            if warmup > 0:
                wrk(srv.port, conns, warmup)
            cpu0 = proc_cpu_s(srv.proc.pid)
            w, wrk_cpu = wrk(srv.port, conns, duration)
            if srv.proc.poll() is not None:
                raise RuntimeError(srv.why_dead())
            cpu = proc_cpu_s(srv.proc.pid) - cpu0
        finally:
            stop(srv.proc)
    if w["status_errors"]:
        raise RuntimeError(f"{w['status_errors']} non-2xx/3xx responses")
    n = w["requests"]
    if n <= 0:
        raise RuntimeError("no request completed")
    socket_errors = w["connect_errors"] + w["read_errors"] + w["write_errors"] + w["timeouts"]
    return {"rps": n / (w["duration_us"] / 1e6), "requests": n,
            "p50_us": w["p50_us"], "p90_us": w["p90_us"], "p99_us": w["p99_us"],
            "p999_us": w["p999_us"], "max_us": w["max_us"],
            "cpu_ns_per_req": cpu * 1e9 / n, "wrk_cpu_ns_per_req": wrk_cpu * 1e9 / n,
            "socket_errors": socket_errors, "wrk": w,
            "server_header": headers.get("server"), "headers": sorted(headers)}


# ---------------------------------------------------------------------------------------------
# Reporting


def med(xs):
    return statistics.median(xs) if xs else None


def summarize(raw, servers):
    summary = {}
    ref_runs = raw.get(REF, {})
    for name in servers:
        runs = raw[name]
        ok = {rnd: r for rnd, r in runs.items() if "error" not in r}
        s = {"rounds": len(ok), "errors": [r["error"] for r in runs.values() if "error" in r]}
        for m in ("rps", "p50_us", "p99_us", "p999_us", "cpu_ns_per_req", "wrk_cpu_ns_per_req"):
            vals = [r[m] for r in ok.values()]
            if vals:
                s[m], s[m + "_min"], s[m + "_max"] = med(vals), min(vals), max(vals)
        s["socket_errors"] = sum(r["socket_errors"] for r in ok.values())
        ratios = {"cpu_ratio": [], "rps_ratio": [], "p99_ratio": []}
        for rnd, r in ok.items():
            f = ref_runs.get(rnd)
            if not f or "error" in f:
                continue
            ratios["cpu_ratio"].append(r["cpu_ns_per_req"] / f["cpu_ns_per_req"])
            ratios["rps_ratio"].append(r["rps"] / f["rps"])
            ratios["p99_ratio"].append(r["p99_us"] / max(f["p99_us"], 1))
        for m, vals in ratios.items():
            if vals:
                s[m], s[m + "_min"], s[m + "_max"] = med(vals), min(vals), max(vals)
        summary[name] = s
    return summary


def targets(summary, servers):
    """Issue 14's targets, per coloop row: CPU per request below every peer but nginx and within
    1.1x of nginx's; p99 within 1.2x of the best peer's (medians of the run)."""
    peers = [n for n in servers if not n.startswith("coloop") and summary[n]["rounds"]]
    lines = []
    for n in servers:
        s = summary[n]
        if not n.startswith("coloop") or not s["rounds"]:
            continue
        parts = []
        if "cpu_ratio" in s:
            parts.append(f"CPU/req {s['cpu_ratio']:.2f}× nginx (≤ 1.10×: "
                         f"{'✓' if s['cpu_ratio'] <= 1.10 else '✗'})")
        others = [p for p in peers if p != REF]
        if others:
            best = min(others, key=lambda p: summary[p]["cpu_ns_per_req"])
            below = s["cpu_ns_per_req"] < summary[best]["cpu_ns_per_req"]
            parts.append(f"below every other peer's (lowest: {best}, "
                         f"{summary[best]['cpu_ns_per_req']:,.0f} ns): {'✓' if below else '✗'}")
        if peers:
            best = min(peers, key=lambda p: summary[p]["p99_us"])
            r = s["p99_us"] / max(summary[best]["p99_us"], 1)
            parts.append(f"p99 {r:.2f}× the best peer's ({best}) (≤ 1.2×: "
                         f"{'✓' if r <= 1.2 else '✗'})")
        lines.append(f"- {n}: " + "; ".join(parts))
    return lines


def fmt_range(s, m, fmt, rounds):
    if m not in s:
        return "—"
    v = fmt.format(s[m])
    return v if rounds <= 1 else f"{v} ({fmt.format(s[m + '_min'])}–{fmt.format(s[m + '_max'])})"


def markdown(summary, servers, meta):
    lines = [
        f"HTTP benchmark, {meta['date']}, {meta['cpu']} ({meta['nproc']} CPUs), kernel "
        f"{meta['kernel']}. `wrk -t1 -c{meta['connections']}` (keep-alive, `GET /`, "
        f"{meta['wrk']}) on CPU 1, each server on CPU 0; {meta['rounds']} interleaved round(s) of "
        f"{meta['warmup']} s warm-up + {meta['duration']} s measured; median (min–max). Ratios "
        f"are to nginx measured in the same round (median of per-round ratios).",
        "",
        "| server | req/s | p50 µs | p99 µs | CPU ns/req | CPU vs nginx | req/s vs nginx "
        "| wrk CPU ns/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in servers:
        s = summary[n]
        if not s["rounds"]:
            lines.append(f"| {n} | failed: {s['errors'][0][:90] if s['errors'] else '—'} "
                         "| | | | | | |")
            continue
        k = meta["rounds"]
        lines.append("| " + " | ".join([
            n, fmt_range(s, "rps", "{:,.0f}", k), f"{s['p50_us']:,.0f}", f"{s['p99_us']:,.0f}",
            fmt_range(s, "cpu_ns_per_req", "{:,.0f}", k), fmt_range(s, "cpu_ratio", "{:.2f}×", k),
            fmt_range(s, "rps_ratio", "{:.2f}×", k), f"{s['wrk_cpu_ns_per_req']:,.0f}"]) + " |")
    lines += ["", "Servers: " + "; ".join(f"{n}: {meta['servers'][n]}" for n in servers) + "."]
    if meta["skipped"]:
        lines += ["", "Skipped: " + "; ".join(f"{n} ({w})" for n, w in meta["skipped"].items())
                  + "."]
    errs = [f"{n} {summary[n]['socket_errors']}" for n in servers if summary[n]["socket_errors"]]
    if errs:
        lines += ["", "wrk socket errors (connect/read/write/timeout) over the measured runs: "
                  + ", ".join(errs) + "."]
    t = targets(summary, servers)
    if t:
        lines += ["", "Issue 14's targets:", *t]
    failed = [f"{n}: {e}" for n in servers for e in summary[n]["errors"]]
    if failed:
        lines += ["", "Failed runs: " + "; ".join(failed)]
    return "\n".join(lines) + "\n"


def chart(summary, servers, out, meta):
    gp = shutil.which("gnuplot")
    if not gp:
        log("gnuplot not found: no chart")
        return None
    names = [n for n in servers if summary[n]["rounds"]]
    d1 = os.path.join(out, "chart_ratios.dat")
    with open(d1, "w") as f:
        f.write("server rps_ratio cpu_ratio\n")
        for n in names:
            s = summary[n]
            f.write(f"{n} {s.get('rps_ratio', 0):.4f} {s.get('cpu_ratio', 0):.4f}\n")
    d2 = os.path.join(out, "chart_latency.dat")
    with open(d2, "w") as f:
        f.write("server p50 p99\n")
        for n in names:
            f.write(f"{n} {summary[n]['p50_us'] / 1000:.3f} {summary[n]['p99_us'] / 1000:.3f}\n")
    png = os.path.join(out, "http.png")
    ref_note = "ratio to nginx (same round)" if REF in names else "no nginx in this run"
    script = f"""
set terminal pngcairo size 1400,1000 font "sans,11"
set output "{png}"
set multiplot layout 2,1 title "coloop HTTP benchmark (wrk -c{meta['connections']}, plaintext, keep-alive) — {meta['date']}, server on 1 CPU, median of {meta['rounds']} round(s)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key top left autotitle columnheader
set grid ytics
set xtics rotate by -25 scale 0
set title "{ref_note}"
set ylabel "× nginx"
set yrange [0:*]
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc rgb "#444444" front
plot "{d1}" using 2:xtic(1) title "req/s ÷ nginx (higher is better)" lc rgb "#2e7d32", \\
     "" using 3 title "server CPU ns/req ÷ nginx (lower is better)" lc rgb "#c62828"
unset arrow 1
set title "latency under load, from wrk"
set ylabel "ms"
plot "{d2}" using 2:xtic(1) title "p50" lc rgb "#1565c0", "" using 3 title "p99" lc rgb "#ef6c00"
unset multiplot
"""
    sp = os.path.join(out, "http.gp")
    with open(sp, "w") as f:
        f.write(script)
    r = subprocess.run([gp, sp], capture_output=True, text=True)
    if r.returncode != 0:
        log("gnuplot failed:\n" + r.stderr)
        return None
    return png


def versions():
    def crate(name):
        found = sorted(glob.glob(os.path.join(offline_build.DEBIAN_REGISTRY, name + "-[0-9]*")))
        return os.path.basename(found[-1]) if found else None

    v = {"wrk": first_line(["wrk", "-v"]), "nginx": first_line(["nginx", "-v"]),
         "go": first_line(["go", "version"]), "node": first_line(["node", "--version"]),
         "python": first_line([PY, "--version"]),
         "httptools": first_line([PY, "-c", "import httptools; print(httptools.__version__)"]),
         "uvloop": first_line([PY, "-c", "import uvloop; print(uvloop.__version__)"]),
         "rustc": first_line(["rustc", "--version"]), "hyper": crate("hyper"),
         "tokio": crate("tokio"), "cc": first_line(["c++", "--version"])}
    try:
        with open("/usr/include/boost/version.hpp") as f:
            for line in f:
                if line.startswith("#define BOOST_LIB_VERSION"):
                    v["boost"] = line.split()[2].strip('"')
    except OSError:
        pass
    return v


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(REPO, "build", "release"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=3, help="measured seconds per run (wrk -d)")
    ap.add_argument("--warmup", type=int, default=1, help="warm-up seconds per run (0: none)")
    ap.add_argument("--connections", type=int, default=100, help="wrk -c")
    ap.add_argument("--only", default=None, help="comma-separated servers (default: all there)")
    ap.add_argument("--no-build", action="store_true",
                    help="build nothing (cmake, cargo, go): use the binaries in --build")
    ap.add_argument("--update-readme-assets", action="store_true",
                    help="also copy results.md and http.png to bench/http/")
    args = ap.parse_args()
    if args.rounds < 1 or args.duration < 1 or args.warmup < 0 or args.connections < 1:
        sys.exit("--rounds, --duration and --connections must be >= 1, --warmup >= 0")
    if not shutil.which("wrk"):
        sys.exit("wrk not installed (Debian: wrk)")

    pinned = harness.init_pinning("servers and wrk")

    build = os.path.abspath(args.build)
    out = os.path.join(build, "bench", "http")
    os.makedirs(out, exist_ok=True)
    if not args.no_build:
        build_native(build)
    cat = server_catalogue(build, out, not args.no_build)
    wanted = args.only.split(",") if args.only else list(cat)
    for n in wanted:
        if n not in cat:
            sys.exit(f"unknown server {n!r}; known: {', '.join(cat)}")
    servers = []
    for n in wanted:
        if cat[n][1] is None:
            log(f"skipping {n}: {cat[n][2]}")
        else:
            servers.append(n)
    if not servers:
        sys.exit("no server to measure")
    if REF not in servers:
        log(f"note: the reference ({REF}) is not in the run: no ratios")

    total = len(servers) * args.rounds
    log(f"{len(servers)} servers × {args.rounds} rounds = {total} runs, about "
        f"{total * (args.duration + args.warmup + 1) / 60:.1f} min")
    raw = {n: {} for n in servers}
    t_start = time.time()
    done = 0
    for rnd in range(args.rounds):
        order = servers[rnd % len(servers):] + servers[:rnd % len(servers)]
        for n in order:
            done += 1
            try:
                r = run_one(cat[n], args.connections, args.duration, args.warmup)
                log(f"[{done}/{total}] round {rnd + 1} {n:<16} {r['rps']:>9,.0f} req/s  "
                    f"p50 {r['p50_us']:6,} µs  p99 {r['p99_us']:6,} µs  "
                    f"cpu {r['cpu_ns_per_req']:7,.0f} ns/req  (wrk {r['wrk_cpu_ns_per_req']:,.0f})")
            except RuntimeError as e:
                r = {"error": str(e)}
                log(f"[{done}/{total}] round {rnd + 1} {n:<16} ERROR {e}")
            raw[n][str(rnd)] = r

    try:
        load = os.getloadavg()
    except OSError:
        load = None
    meta = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "host": platform.node(), "kernel": platform.release(), "cpu": cpu_model(),
        "nproc": os.cpu_count(), "rounds": args.rounds, "duration": args.duration,
        "warmup": args.warmup, "connections": args.connections, "pinned": pinned,
        "loadavg_at_end": load, "elapsed_s": round(time.time() - t_start, 1),
        "git": subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip(),
        "versions": versions(),
        "servers": {n: cat[n][0] for n in servers},
        "skipped": {n: cat[n][2] for n in wanted if cat[n][1] is None},
    }
    meta["wrk"] = meta["versions"]["wrk"].split(" [")[0] if meta["versions"]["wrk"] else "wrk"
    summary = summarize(raw, servers)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"meta": meta, "summary": summary, "raw": raw}, f, indent=1)
    md = markdown(summary, servers, meta)
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write(md)
    print(md)
    png = chart(summary, servers, out, meta)
    log(f"wrote {out}/results.json, results.md" + (", http.png" if png else ""))
    if args.update_readme_assets:
        shutil.copy(os.path.join(out, "results.md"), os.path.join(HERE, "results.md"))
        if png:
            shutil.copy(png, os.path.join(HERE, "http.png"))
        log("copied results.md and http.png to bench/http/")
    return 1 if any("error" in r for s in raw.values() for r in s.values()) else 0


if __name__ == "__main__":
    harness.run_main(main)
