#!/usr/bin/env python3
"""Runs examples/http_server on loopback and talks HTTP/1.1 to it: curl (when installed),
Python's http.client, and raw sockets for pipelining, split and malformed requests, request
smuggling, the limits (413, 431), a slowloris client cut off by the header timeout while others
are served, the idle timeout, --workers 2, and a SIGTERM stop with status 0. Every process
started here is stopped here.

Usage: http_server_test.py HTTP_SERVER
"""
import http.client
import re
import shutil
import socket
import subprocess
import sys
import time

import example_servers
from example_servers import expect_usage_error, kill_leftovers, stop

server_bin = sys.argv[1]
DATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|"
                  r"Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")


def fail(message):
    raise SystemExit(f"http_server_test: {message}")


def check(cond, message):
    if not cond:
        fail(message)


def start(*extra):
    return example_servers.start([server_bin, "--port", "0", *extra])


def connect(port, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_until_closed(s):
    """Everything the server sends until it closes (a reset after its last bytes counts too)."""
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except ConnectionResetError:
        pass
    return out


class reader:
    """Reads responses off a raw socket one at a time (Content-Length framing)."""

    def __init__(self, s):
        self.s, self.buf = s, b""

    def _fill(self):
        d = self.s.recv(65536)
        if not d:
            fail(f"connection closed with {self.buf!r} unread")
        self.buf += d

    def response(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
        n = int(headers.get("content-length", "0"))
        while len(self.buf) < n:
            self._fill()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, body


def expect_plaintext(status, headers, body, what):
    check(status == 200, f"{what}: status {status}")
    check(headers.get("content-type") == "text/plain", f"{what}: content type {headers}")
    check(headers.get("content-length") == "13", f"{what}: content length {headers}")
    check(headers.get("server") == "coloop", f"{what}: server {headers}")
    check(DATE.match(headers.get("date", "")), f"{what}: date {headers.get('date')!r}")
    check(body == b"Hello, World!", f"{what}: body {body!r}")


def with_curl(port):
    if shutil.which("curl") is None:
        print("curl is not installed: its part is skipped")
        return
    url = f"http://127.0.0.1:{port}"

    def curl(*args):
        r = subprocess.run(["curl", "-sS", "-i", "--max-time", "10", *args], capture_output=True,
                           timeout=30)
        check(r.returncode == 0, f"curl {args}: {r.stderr!r}")
        head, body = r.stdout.split(b"\r\n\r\n", 1)
        while head.startswith(b"HTTP/1.1 100"):  # curl prints the interim response too
            head, body = body.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
        return int(lines[0].split(" ")[1]), headers, body

    expect_plaintext(*curl(url + "/"), "curl GET /")
    status, headers, body = curl(url + "/json")
    check((status, headers["content-type"], body) ==
          (200, "application/json", b'{"message":"Hello, World!"}'), f"curl /json: {body!r}")
    check(curl(url + "/nowhere")[0] == 404, "curl /nowhere is not 404")
    check(curl("-X", "POST", "--data-binary", "posted", url + "/echo")[2] == b"posted",
          "curl POST /echo with Content-Length")
    chunked = curl("-X", "POST", "-H", "Transfer-Encoding: chunked", "--data-binary", "x" * 5000,
                   url + "/echo")
    check(chunked[2] == b"x" * 5000, f"curl POST /echo chunked: {chunked[0]} {chunked[1]} {len(chunked[2])} {chunked[2][:80]!r}")
    # Over 1 KiB curl sends Expect: 100-continue and waits for the interim 100 first.
    big = curl("-X", "POST", "--data-binary", "y" * 100000, url + "/echo")
    check(big[2] == b"y" * 100000, "curl POST /echo of 100 kB")
    # Two requests over one kept-alive connection.
    r = subprocess.run(["curl", "-sS", "--max-time", "10", url + "/", url + "/json"],
                       capture_output=True, timeout=30)
    check(r.stdout == b'Hello, World!{"message":"Hello, World!"}', f"curl keep-alive: {r.stdout!r}")


def with_http_client(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(3):  # keep-alive: one connection
        c.request("GET", "/")
        r = c.getresponse()
        expect_plaintext(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read(), "GET /")
    c.request("HEAD", "/")
    r = c.getresponse()
    check(r.status == 200 and r.getheader("Content-Length") == "13" and r.read() == b"",
          "HEAD / has a Content-Length and no body")
    c.request("POST", "/echo", body=b"a body", headers={"Content-Type": "text/plain"})
    r = c.getresponse()
    check(r.read() == b"a body", "http.client POST /echo")
    c.request("POST", "/echo", body=iter([b"chunk one,", b"chunk two"]))  # chunked encoding
    r = c.getresponse()
    check(r.read() == b"chunk one,chunk two", "http.client chunked POST /echo")
    c.request("GET", "/json")
    r = c.getresponse()
    check(r.read() == b'{"message":"Hello, World!"}', "http.client /json")
    c.close()


def pipelined(port):
    targets = ["/", "/json", "/missing"] * 40
    s = connect(port)
    s.sendall(b"".join(f"GET {t} HTTP/1.1\r\nHost: x\r\n\r\n".encode() for t in targets))
    rd = reader(s)
    for t in targets:
        status, headers, body = rd.response()
        expected = {"/": 200, "/json": 200, "/missing": 404}[t]
        check(status == expected, f"pipelined {t}: {status}")
        if t == "/":
            expect_plaintext(status, headers, body, "pipelined /")
    # Pipelined POSTs with bodies of both kinds, then a request that closes the connection:
    # the requests behind it get no answer.
    s.sendall(b"POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
              b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
              b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"
              b"GET /json HTTP/1.1\r\n\r\n")
    check(rd.response()[2] == b"hello", "pipelined Content-Length body")
    check(rd.response()[2] == b"abcde", "pipelined chunked body")
    status, headers, body = rd.response()
    check(headers.get("connection") == "close" and body == b"Hello, World!", "Connection: close")
    check(rd.buf + read_until_closed(s) == b"", "an answer after Connection: close")
    s.close()
    # A request in pieces (one byte at a time), then a body split from its headers.
    s = connect(port)
    for b in b"GET /json HTTP/1.1\r\nHost: x\r\n\r\n":
        s.sendall(bytes([b]))
    rd = reader(s)
    check(rd.response()[2] == b'{"message":"Hello, World!"}', "a request one byte at a time")
    s.sendall(b"POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\n01234")
    s.sendall(b"56789")  # usually a second segment (http_test splits bodies deterministically)
    check(rd.response()[2] == b"0123456789", "a body in two pieces")
    # HTTP/1.0: closes after the response unless the client asks for keep-alive.
    s.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    status, headers, body = rd.response()
    check(headers.get("connection") == "keep-alive" and body == b"Hello, World!", "1.0 keep-alive")
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    status, headers, body = rd.response()
    check(headers.get("connection") == "close", f"HTTP/1.0 without keep-alive: {headers}")
    check(rd.buf + read_until_closed(s) == b"", "HTTP/1.0 connection left open")
    s.close()
    # Expect: 100-continue: the interim response comes before the body is sent.
    s = connect(port)
    s.sendall(b"POST /echo HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    interim = b""
    while not interim.endswith(b"\r\n\r\n"):
        interim += s.recv(1)
    check(interim == b"HTTP/1.1 100 Continue\r\n\r\n", f"interim response {interim!r}")
    s.sendall(b"body")
    check(reader(s).response()[2] == b"body", "body after 100 Continue")
    s.close()


def rejected(port, data, status, what):
    s = connect(port)
    s.sendall(data)
    out = read_until_closed(s)  # the server closes after an error response
    s.close()
    check(out.startswith(f"HTTP/1.1 {status} ".encode()), f"{what}: {out[:60]!r}")
    check(b"Connection: close\r\n" in out, f"{what}: no Connection: close")


def bad_requests(port, body_limit):
    rejected(port, b"GARBAGE\r\n\r\n", 400, "malformed request line")
    rejected(port, b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400, "header without a colon")
    rejected(port, b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
             b"3\r\nabc\r\n0\r\n\r\n", 400, "Content-Length with Transfer-Encoding")
    rejected(port, b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
             b"abc", 400, "Transfer-Encoding with Content-Length")
    rejected(port, b"POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc", 400,
             "Transfer-Encoding not ending in chunked")
    rejected(port, b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400,
             "two Content-Lengths")
    rejected(port, b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400,
             "bad chunk size")
    rejected(port, b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 5000 + b"\r\n\r\n", 431, "a big header")
    rejected(port, b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 101 + b"\r\n", 431, "too many headers")
    rejected(port, b"GET /" + b"p" * 5000 + b" HTTP/1.1\r\n\r\n", 431, "a long target")
    rejected(port, f"POST /echo HTTP/1.1\r\nContent-Length: {body_limit + 1}\r\n\r\n".encode(), 413,
             "Content-Length over the limit")
    half = body_limit // 2 + 1  # two chunks, each under the limit, together over it
    chunk = f"{half:x}\r\n".encode() + b"z" * half + b"\r\n"
    rejected(port, b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk +
             b"0\r\n\r\n", 413, "chunked body over the limit")
    # A good request before a bad one in the same batch is still answered, in order.
    s = connect(port)
    s.sendall(b"GET / HTTP/1.1\r\n\r\nGARBAGE\r\n\r\n")
    out = read_until_closed(s)
    s.close()
    check(out.startswith(b"HTTP/1.1 200 OK") and b"HTTP/1.1 400 Bad Request" in out,
          f"good then bad: {out!r}")


def slowloris_and_idle(port):
    """Run with --header-timeout-ms 400 --idle-timeout-ms 600."""
    slow = connect(port)
    began = time.monotonic()
    cut = False
    request = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 200 + b"\r\n\r\n"
    served_meanwhile = 0
    for b in request:  # 1 byte per 20 ms: the whole request would take over 4 s
        try:
            slow.sendall(bytes([b]))
        except (BrokenPipeError, ConnectionResetError):
            cut = True
            break
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/")
        served_meanwhile += c.getresponse().read() == b"Hello, World!"
        c.close()
        slow.settimeout(0.02)
        try:
            if slow.recv(100) == b"":
                cut = True
                break
        except socket.timeout:
            pass
        except ConnectionResetError:
            cut = True
            break
    check(cut, "a slowloris client sent its whole request")
    elapsed = time.monotonic() - began
    check(elapsed < 3, f"the slowloris client was cut only after {elapsed:.1f} s")
    check(served_meanwhile > 0, "nobody was served while the slowloris client was connected")
    slow.close()
    # A busy connection outlives both timeouts: each request starts the idle timeout again.
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    began = time.monotonic()
    while time.monotonic() - began < 1.5:
        c.request("GET", "/")
        check(c.getresponse().read() == b"Hello, World!", "a busy connection")
        time.sleep(0.1)  # paces the client: a tenth of the idle timeout between requests
    c.close()
    # Idle: a kept-alive connection that sends nothing more is closed by the server.
    s = connect(port)
    s.sendall(b"GET / HTTP/1.1\r\n\r\n")
    rd = reader(s)
    rd.response()
    s.settimeout(10)
    began = time.monotonic()
    check(read_until_closed(s) == b"", "idle connection got data")
    elapsed = time.monotonic() - began
    check(elapsed < 5, f"idle connection closed only after {elapsed:.1f} s")
    s.close()
    # A connection that never sends a byte falls under the header timeout too.
    s = connect(port)
    s.settimeout(10)
    check(read_until_closed(s) == b"", "silent connection got data")
    s.close()


try:
    server, port = start("--max-header-bytes", "4096", "--max-body-bytes", "1500")
    with_http_client(port)
    pipelined(port)
    bad_requests(port, 1500)
    idle = connect(port)  # still open at SIGTERM: the stop must not wait for it
    stop(server)
    idle.close()

    server, port = start("--max-body-bytes", "200000")
    with_curl(port)
    stop(server)

    server, port = start("--header-timeout-ms", "400", "--idle-timeout-ms", "600")
    slowloris_and_idle(port)
    stop(server)

    server, port = start("--workers", "2", "--max-header-bytes", "4096",
                         "--max-body-bytes", "200000")
    with_http_client(port)
    pipelined(port)
    bad_requests(port, 200000)
    with_curl(port)
    stop(server)

    server, port = start("--workers", "1", "--runtime")
    with_http_client(port)
    stop(server)

    for argv in (["--port", "x"], [], ["--port", "0", "--workers", "0"],
                 ["--port", "0", "--idle-timeout-ms", "0"], ["--port", "0", "--bogus"]):
        expect_usage_error([server_bin, *argv])
    print("ok")
finally:
    kill_leftovers()
