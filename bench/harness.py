"""What the benchmark drivers share (bench/echo/run.py, bench/http/run.py): pinning, ports, the
processes they start and always stop, the host description, the entry point. Standard library."""
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys

live = []  # every process started and not yet reaped: stop_all() ends them, also on Ctrl-C
_pinning = [True]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def init_pinning(what):
    """Pins (taskset) only with 2+ CPUs and taskset there; says so when it cannot."""
    _pinning[0] = shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    if not _pinning[0]:
        log(f"warning: fewer than 2 CPUs or no taskset: {what} are not pinned")
    return _pinning[0]


def set_pinning(on):
    """Turns pinning off for a driver that measures unpinned (bench/echo/workers.py)."""
    _pinning[0] = on


def pin(cpu, argv):
    return (["taskset", "-c", str(cpu)] + argv) if _pinning[0] else argv


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _signal(proc, sig):
    """To the process group when the process leads one (started with start_new_session: it and
    its children), else to the process alone."""
    try:
        if os.getpgid(proc.pid) == proc.pid:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass


def stop(proc, grace=5):
    """SIGTERM, wait, SIGKILL if needed; always reaps."""
    if proc.poll() is None:
        _signal(proc, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            _signal(proc, signal.SIGKILL)
            proc.wait()
    if proc in live:
        live.remove(proc)


def stop_all():
    for p in list(live):
        stop(p, grace=2)


def first_line(argv):
    """The first line a command prints (a version), or None."""
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _on_term(signum, frame):
    raise KeyboardInterrupt


def run_main(main):
    """Exits with main()'s status; SIGTERM and SIGINT (even where the shell started us with SIGINT
    ignored) interrupt it, and every process it started is stopped whatever happens."""
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
    finally:
        stop_all()
