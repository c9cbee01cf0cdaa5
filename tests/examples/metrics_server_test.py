#!/usr/bin/env python3
"""Runs examples/metrics_server on loopback (one event loop, then the runtime with 2 workers),
scrapes /metrics over HTTP (curl when installed, else http.client) until the periodic task and
its pool jobs show in it, checks the families it must hold, runs `promtool check metrics` on the
scrape when promtool is installed, and stops the server with SIGTERM (status 0).

Usage: metrics_server_test.py METRICS_SERVER
"""
import http.client
import re
import shutil
import subprocess
import sys
import time

from example_servers import kill_leftovers, start, stop

server_bin = sys.argv[1]


def fail(message):
    raise SystemExit(f"metrics_server_test: {message}")


def check(cond, message):
    if not cond:
        fail(message)


def scrape(port):
    if shutil.which("curl"):
        r = subprocess.run(["curl", "-sS", "--max-time", "10", "-D", "-",
                            f"http://127.0.0.1:{port}/metrics"], capture_output=True)
        check(r.returncode == 0, f"curl: {r.stderr!r}")
        head, _, body = r.stdout.decode().partition("\r\n\r\n")
        check(head.startswith("HTTP/1.1 200"), f"curl: {head!r}")
        check("text/plain; version=0.0.4" in head, f"content type: {head!r}")
        return body
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/metrics")
    r = c.getresponse()
    check(r.status == 200, f"GET /metrics: {r.status}")
    body = r.read().decode()
    c.close()
    return body


def value(text, sample):
    """Sum of the samples whose name and labels start with `sample` ("name" or "name{...")."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        name, _, v = line.rpartition(" ")
        if name == sample or name.startswith(sample + "{"):
            total += float(v)
    return total


def run(*extra):
    p, port = start([server_bin, "--port", "0", *extra])
    # The ticks come every 100 ms of real time: look again until two are in (bounded).
    deadline = time.monotonic() + 20
    while True:
        text = scrape(port)
        if value(text, "metrics_server_ticks_total") >= 2:
            break
        check(time.monotonic() < deadline, "no ticks after 20 s")
        time.sleep(0.05)
    for family in ["coloop_tasks_spawned_total", "coloop_timers_fired_total",
                   "coloop_loop_lag_seconds_bucket", "coloop_pool_completed_jobs_total",
                   "coloop_pool_queue_wait_seconds_count", "coloop_stream_read_bytes_total",
                   "metrics_server_job_seconds_count"]:
        check(re.search(rf"^{family}(\{{| )", text, re.M), f"{family} missing:\n{text}")
    check(value(text, "coloop_pool_completed_jobs_total") >= 2, "pool jobs not counted")
    check(value(text, "coloop_timers_fired_total") >= 2, "timers not counted")
    check('metrics_server_http_requests_total{path="/metrics",code="200"}' in text,
          "the /metrics requests are not counted")
    if shutil.which("promtool"):
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True)
        check(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(),
              f"promtool: {r.stdout}{r.stderr}")
    else:
        print("promtool not installed: its check is skipped")
    stop(p)


try:
    run()
    run("--workers", "2")
finally:
    kill_leftovers()
print("metrics_server_test: ok")
