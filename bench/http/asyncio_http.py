"""HTTP/1.1 plaintext server on asyncio or uvloop with httptools: the Python peers of bench/http.

uvloop's own HTTP benchmark server shape: an asyncio.Protocol feeding httptools'
HttpRequestParser (the http-parser uvloop's benchmark uses), one prebuilt response per second
(the Date header changes once a second). Keep-alive and pipelining; 400 and close on a parse error.

    /usr/bin/python3 bench/http/asyncio_http.py --port P [--loop asyncio|uvloop]

Prints `listening on 127.0.0.1:P` when ready; SIGTERM ends it.
"""
import argparse
import asyncio
import email.utils
import signal

import httptools

BODY = b"Hello, World!"
BAD_REQUEST = (b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


class Response:
    """The response bytes, rebuilt once a second for the Date header."""
    keep_alive = b""
    close = b""

    @classmethod
    def refresh(cls, loop):
        head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                + str(len(BODY)).encode() + b"\r\nDate: "
                + email.utils.formatdate(usegmt=True).encode() + b"\r\n")
        cls.keep_alive = head + b"\r\n" + BODY
        cls.close = head + b"Connection: close\r\n\r\n" + BODY
        loop.call_later(1.0, cls.refresh, loop)


class HttpProtocol(asyncio.Protocol):
    __slots__ = ("transport", "parser")

    def connection_made(self, transport):
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)

    def data_received(self, data):
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.write(BAD_REQUEST)
            self.transport.close()

    def on_message_complete(self):
        if self.parser.should_keep_alive():
            self.transport.write(Response.keep_alive)
        else:
            self.transport.write(Response.close)
            self.transport.close()

    def connection_lost(self, exc):
        self.transport = None


async def serve(port):
    loop = asyncio.get_running_loop()
    Response.refresh(loop)
    stop = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set_result, None)
    server = await loop.create_server(HttpProtocol, "127.0.0.1", port, backlog=1024)
    print(f"listening on 127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    await stop
    server.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    args = ap.parse_args()
    if args.loop == "uvloop":
        import uvloop
        uvloop.install()
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
