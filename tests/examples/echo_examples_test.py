#!/usr/bin/env python3
"""Runs the networking examples together on loopback: echo_server (both modes, on every
compiled-in backend), echo_client against it directly and through tcp_proxy, a bad-argument run of each, and a SIGTERM stop that
must end every server with status 0. Every process started here is stopped here.

Usage: echo_examples_test.py ECHO_SERVER ECHO_CLIENT TCP_PROXY
"""
import subprocess
import sys

from example_servers import expect_usage_error, kill_leftovers, start, stop

server_bin, client_bin, proxy_bin = sys.argv[1:4]


def compiled_backends():
    """The backends echo_server --help lists as compiled in ("backends: automatic (...), a, b")."""
    r = subprocess.run([server_bin, "--help"], capture_output=True, text=True, timeout=10)
    for line in (r.stdout + r.stderr).splitlines():
        if line.startswith("backends:"):
            return [name.strip() for name in line.split("),", 1)[1].split(",")]
    raise SystemExit(f"echo_server --help lists no backends: {r.stderr!r}")


backends = compiled_backends()


def client(port, *extra):
    r = subprocess.run([client_bin, "--port", str(port), "--timeout", "10", *extra],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or "round trips" not in r.stdout:
        raise SystemExit(f"echo_client {extra} failed ({r.returncode}): {r.stdout} {r.stderr}")


try:
    # The default backend in both modes (and through the proxy), then every other compiled-in
    # backend (libuv when it is built) in both modes too.
    runs = [[], ["--streams"]]
    for b in backends[1:]:
        runs += [["--backend", b], ["--backend", b, "--streams"]]
    # Two threads: SO_REUSEPORT loops, and the work-stealing runtime; each in both modes.
    for threads in (["--workers", "2"], ["--workers", "2", "--runtime"]):
        runs += [threads, [*threads, "--streams"]]
    for b in backends[1:]:
        runs += [["--backend", b, "--workers", "2", "--runtime"]]
    for mode in runs:
        server, port = start([server_bin, "--port", "0", *mode])
        client(port, "--count", "200", "--size", "64")
        client(port, "--count", "3", "--size", str(1 << 20))  # larger than any socket buffer
        if not mode:
            proxy, proxy_port = start(
                [proxy_bin, "--listen", "127.0.0.1:0", "--target", f"127.0.0.1:{port}"],
                r"^listening on 127\.0\.0\.1:(\d+),")
            client(proxy_port, "--count", "50", "--size", "4096")
            stop(proxy)
        err = stop(server)
        if "--backend" in mode and f"backend {mode[1]}\n" not in err:
            raise SystemExit(f"echo_server {mode} did not run on {mode[1]}: {err!r}")
    expect_usage_error([server_bin, "--port", "70000"])
    expect_usage_error([server_bin, "--port", "0", "--backend", "nosuch"])
    expect_usage_error([server_bin, "--port", "0", "--workers", "0"])
    expect_usage_error([server_bin, "--port", "0", "--runtime"])
    for missing in {"epoll", "kqueue", "io_uring", "libuv"} - set(backends):
        # Known but not compiled in: the message names what is available.
        r = subprocess.run([server_bin, "--port", "0", "--backend", missing], capture_output=True,
                           text=True, timeout=10)
        if r.returncode != 2 or "not compiled in" not in r.stderr or backends[0] not in r.stderr:
            raise SystemExit(f"--backend {missing}: {r.returncode} {r.stderr!r}")
    expect_usage_error([client_bin, "--port", "x"])
    expect_usage_error([proxy_bin, "--listen", "127.0.0.1:0"])
    # Nothing listens on the port a stopped server had: the client reports the refusal.
    r = subprocess.run([client_bin, "--port", str(port), "--timeout", "5"], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 1 or "refused" not in r.stderr.lower():
        raise SystemExit(f"echo_client against a closed port: {r.returncode} {r.stderr}")
finally:
    kill_leftovers()
print(f"examples ok (backends: {', '.join(backends)})")
