// tcp_proxy: forwards every connection on --listen to --target, both ways.
//
//   tcp_proxy --listen 127.0.0.1:9000 --target 127.0.0.1:8000
//
// Back-pressure comes from the copy loop itself: a direction reads again only once its last
// chunk is written, so a slow receiver stops the sender (at most one 16 KiB chunk per direction
// is held). End of stream is passed on as a half-close; the connection ends when both directions
// have ended, or when either fails. Stops on SIGINT/SIGTERM.

#include <signal.h>

#include <coloop/coloop.hpp>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace {

coloop::task<void> copy(coloop::tcp_stream& from, coloop::tcp_stream& to) {
  char chunk[16 * 1024];
  while (const std::size_t n = co_await from.read_some(chunk, sizeof chunk)) {
    co_await to.write_all(chunk, n);
  }
  to.shutdown_write();
}

coloop::task<void> relay(coloop::tcp_stream client, coloop::endpoint target) {
  try {
    coloop::tcp_stream upstream = co_await coloop::tcp_stream::connect(target);
    co_await coloop::when_all(copy(client, upstream), copy(upstream, client));
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "tcp_proxy: connection ended: %s\n", e.what());
  }
}

coloop::task<void> accept_loop(coloop::tcp_listener& listener, coloop::endpoint target) {
  for (;;) coloop::spawn(relay(co_await listener.accept(), target)).detach();
}

coloop::task<int> proxy(coloop::endpoint listen_at, coloop::endpoint target) {
  coloop::signal_set stop_signals{SIGINT, SIGTERM};
  coloop::tcp_listener listener = coloop::tcp_listener::bind(listen_at);
  std::printf("listening on %s, forwarding to %s\n", listener.local_endpoint().to_string().c_str(),
              target.to_string().c_str());
  std::fflush(stdout);
  auto acceptor = coloop::spawn(accept_loop(listener, target));
  co_await stop_signals.wait();
  acceptor.cancel();
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen_at, target;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view arg = argv[i];
    if (arg == "--listen") {
      listen_at = argv[i + 1];
    } else if (arg == "--target") {
      target = argv[i + 1];
    }
  }
  if (listen_at.empty() || target.empty() || argc != 5) {
    std::fprintf(stderr, "usage: tcp_proxy --listen HOST:PORT --target HOST:PORT\n");
    return 2;
  }
  try {
    return coloop::run(proxy(coloop::endpoint::parse(listen_at), coloop::endpoint::parse(target)));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tcp_proxy: %s\n", e.what());
    return 1;
  }
}
