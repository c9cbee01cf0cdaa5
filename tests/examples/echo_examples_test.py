#!/usr/bin/env python3
"""Runs the networking examples together on loopback: echo_server (both modes), echo_client
against it directly and through tcp_proxy, a bad-argument run of each, and a SIGTERM stop that
must end every server with status 0. Every process started here is stopped here.

Usage: echo_examples_test.py ECHO_SERVER ECHO_CLIENT TCP_PROXY
"""
import re
import signal
import subprocess
import sys

server_bin, client_bin, proxy_bin = sys.argv[1:4]
started = []


def start(argv, pattern):
    """Starts a server and returns (process, port) once it prints its listening line."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started.append(p)
    line = p.stdout.readline()
    m = re.search(pattern, line)
    if not m:
        raise SystemExit(f"{argv[0]}: unexpected first line {line!r}")
    return p, int(m.group(1))


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise SystemExit(f"{p.args[0]} did not stop on SIGTERM")
    if rc != 0:
        raise SystemExit(f"{p.args[0]} exited with {rc} after SIGTERM: {p.stderr.read()}")


def client(port, *extra):
    r = subprocess.run([client_bin, "--port", str(port), "--timeout", "10", *extra],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or "round trips" not in r.stdout:
        raise SystemExit(f"echo_client {extra} failed ({r.returncode}): {r.stdout} {r.stderr}")


def expect_usage_error(argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    if r.returncode != 2 or not r.stderr:
        raise SystemExit(f"{argv} should fail with status 2 and a message, got {r.returncode}")


try:
    for mode in ([], ["--streams"], ["--backend", "io_uring"]):  # io_uring: epoll if not built
        server, port = start([server_bin, "--port", "0", *mode], r"^listening on 127\.0\.0\.1:(\d+)$")
        client(port, "--count", "200", "--size", "64")
        client(port, "--count", "3", "--size", str(1 << 20))  # larger than any socket buffer
        if not mode:
            proxy, proxy_port = start(
                [proxy_bin, "--listen", "127.0.0.1:0", "--target", f"127.0.0.1:{port}"],
                r"^listening on 127\.0\.0\.1:(\d+),")
            client(proxy_port, "--count", "50", "--size", "4096")
            stop(proxy)
        stop(server)
    expect_usage_error([server_bin, "--port", "70000"])
    expect_usage_error([server_bin, "--port", "0", "--backend", "nosuch"])
    expect_usage_error([client_bin, "--port", "x"])
    expect_usage_error([proxy_bin, "--listen", "127.0.0.1:0"])
    # Nothing listens on the port a stopped server had: the client reports the refusal.
    r = subprocess.run([client_bin, "--port", str(port), "--timeout", "5"], capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 1 or "refused" not in r.stderr.lower():
        raise SystemExit(f"echo_client against a closed port: {r.returncode} {r.stderr}")
finally:
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait()
print("examples ok")
