"""asyncio / uvloop peer for the echo benchmark (the servers of uvloop's vmbench).

--mode streams: asyncio.start_server, a coroutine per connection doing reader.read + writer.write.
--mode protocol: an asyncio.Protocol whose data_received writes the data back.
--uvloop: run on uvloop's loop instead of the default one.
Usage: /usr/bin/python3 asyncio_echo.py [--port P] [--mode streams|protocol] [--uvloop]
Listens on 127.0.0.1 only; port 0 picks one.
"""
import argparse
import asyncio
import socket


async def echo_streams(reader, writer):
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
    except ConnectionError:
        pass
    writer.close()


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport

    def connection_lost(self, exc):
        self.transport = None

    def data_received(self, data):
        self.transport.write(data)


async def main(args):
    loop = asyncio.get_running_loop()
    if args.mode == "streams":
        server = await asyncio.start_server(echo_streams, "127.0.0.1", args.port, backlog=4096)
    else:
        server = await loop.create_server(EchoProtocol, "127.0.0.1", args.port, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--mode", choices=("streams", "protocol"), default="streams")
    p.add_argument("--uvloop", action="store_true")
    args = p.parse_args()
    if args.uvloop:
        import uvloop

        uvloop.install()
    asyncio.run(main(args))
