#!/usr/bin/env python3
"""Memory per idle connection of an echo server: RSS growth over N connections that have each
done one 64-byte round trip and then sit idle (kernel socket buffers are not in RSS).

Usage: bench/echo/idle_memory.py [--connections N] SERVER [SERVER ARGS...]
The server must take --port 0 and print "listening on HOST:PORT" first, as examples/echo_server does.
"""
import argparse
import re
import resource
import socket
import subprocess
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=4000)
    ap.add_argument("server", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 2 * args.connections + 1024), hard))
    server = subprocess.Popen(args.server + ["--port", "0"], stdout=subprocess.PIPE, text=True)
    socks = []
    try:
        port = int(re.search(r":(\d+)$", server.stdout.readline().strip()).group(1))

        def rss_kib():
            with open(f"/proc/{server.pid}/status") as f:
                return next(int(l.split()[1]) for l in f if l.startswith("VmRSS"))

        def connect(n):
            batch = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
            for s in batch:
                s.sendall(b"x" * 64)
            for s in batch:
                got = b""
                while len(got) < 64:
                    got += s.recv(64)
            socks.extend(batch)

        connect(200)  # warm up the allocator and the frame pool
        time.sleep(0.3)
        before = rss_kib()
        connect(args.connections)
        time.sleep(0.3)
        after = rss_kib()
        print(f"{(after - before) * 1024 / args.connections:.0f} bytes per idle connection "
              f"(RSS growth over {args.connections} connections)")
    finally:
        for s in socks:
            s.close()
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
