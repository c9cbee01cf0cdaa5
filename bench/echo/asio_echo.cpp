// Asio peer for the echo benchmark: C++20 coroutines (asio::awaitable), one io_context, one
// thread. The canonical Asio coroutine echo: one coroutine per connection doing
// async_read_some then async_write of what was read.
// Usage: asio_echo [--port P]   (listens on 127.0.0.1 only; port 0 picks one)
#include <asio.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>

using asio::ip::tcp;

namespace {

asio::awaitable<void> echo(tcp::socket socket) {
  char data[65536];
  try {
    for (;;) {
      std::size_t n = co_await socket.async_read_some(asio::buffer(data), asio::use_awaitable);
      co_await asio::async_write(socket, asio::buffer(data, n), asio::use_awaitable);
    }
  } catch (const std::exception&) {
    // end of stream or reset: drop the connection
  }
}

asio::awaitable<void> listener(tcp::acceptor acceptor) {
  auto executor = co_await asio::this_coro::executor;
  for (;;) {
    tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(executor, echo(std::move(socket)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  unsigned short port = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      port = static_cast<unsigned short>(std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--port P]\n", argv[0]);
      return 1;
    }
  }
  asio::io_context ctx(1);
  tcp::acceptor acceptor(ctx);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  acceptor.open(ep.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(ep);
  acceptor.listen(4096);
  std::printf("listening on 127.0.0.1:%u\n",
              static_cast<unsigned>(acceptor.local_endpoint().port()));
  std::fflush(stdout);
  asio::co_spawn(ctx, listener(std::move(acceptor)), asio::detached);
  ctx.run();
}
