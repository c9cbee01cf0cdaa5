"""Starting and stopping the example servers, for the tests beside this file (imported from the
script's own folder). Every process start() runs is in `started`; a test ends with
kill_leftovers() in a `finally`, so none outlives it."""
import re
import signal
import subprocess

LISTENING = r"^listening on 127\.0\.0\.1:(\d+)$"
started = []


def start(argv, pattern=LISTENING):
    """Starts a server and returns (process, port) once it prints its listening line."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started.append(p)
    line = p.stdout.readline()
    m = re.search(pattern, line)
    if not m:
        raise SystemExit(f"{argv[0]}: unexpected first line {line!r}")
    return p, int(m.group(1))


def stop(p):
    """SIGTERM; the server must exit with status 0 within 10 s. Returns its stderr."""
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise SystemExit(f"{p.args[0]} did not stop on SIGTERM")
    err = p.stderr.read()
    if rc != 0:
        raise SystemExit(f"{p.args[0]} exited with {rc} after SIGTERM: {err}")
    return err


def expect_usage_error(argv):
    """The command must fail at once with status 2 and a message."""
    r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    if r.returncode != 2 or not r.stderr:
        raise SystemExit(f"{argv} should fail with status 2 and a message, got {r.returncode}")


def kill_leftovers():
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait()
        for f in (p.stdout, p.stderr):
            f.close()
