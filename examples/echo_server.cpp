// echo_server: a TCP echo server on coloop, the server of the echo benchmark (bench/echo).
//
//   echo_server --port P [--host 127.0.0.1] [--backend NAME] [--streams] [--workers N [--runtime]]
//
// --backend takes any compiled-in backend (coloop::available_backends(); `--help` lists them);
// without it $COLOOP_BACKEND or the platform's default applies. The backend in use goes to stderr.
// Prints "listening on HOST:PORT" once it accepts connections and stops cleanly on SIGINT or
// SIGTERM. Each connection waits for readability without holding a buffer, then reads into one
// buffer shared by the whole thread and writes straight back; only bytes the socket cannot take
// at once are copied, so an idle connection costs a coroutine frame and a socket.
// With --backend io_uring a connection instead reads into a 16 KiB buffer of its own with
// read_some: on a completion backend the kernel fills the buffer while the task waits, which is
// what saves the syscalls (waiting for readability there would be a poll per read).
// --streams serves through stream_reader/stream_writer instead (start_server's; make_streams'
// on each of the --workers loops).
// --workers N (N > 1) uses N threads: by default N event loops, each with its own listener on
// the same port (SO_REUSEPORT: the kernel spreads the connections, and a connection never leaves
// its thread); with --runtime, one listener on a work-stealing runtime of N workers instead.
// SO_REUSEPORT measured better for echo (see README): an echo connection has no work to balance,
// so the runtime's shared driver and cross-thread wake-ups are pure cost.

#include <signal.h>

#include <coloop/coloop.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <latch>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct options {
  std::string host = "127.0.0.1";
  int port = -1;
  coloop::backend backend = coloop::backend::automatic;
  bool streams = false;
  unsigned workers = 1;
  bool runtime = false;  // --workers N on the work-stealing runtime instead of N loops
};

/// "epoll, libuv": the backends compiled into this coloop.
std::string available() {
  std::string out;
  for (coloop::backend b : coloop::available_backends()) {
    if (!out.empty()) out += ", ";
    out += coloop::to_string(b);
  }
  return out;
}

[[noreturn]] void usage(const char* error) {
  if (error != nullptr) std::fprintf(stderr, "echo_server: %s\n", error);
  std::fprintf(stderr,
               "usage: echo_server --port P [--host 127.0.0.1] [--backend NAME] [--streams]\n"
               "                   [--workers N [--runtime]]\n"
               "backends: automatic (the default: $COLOOP_BACKEND or %s), %s\n",
               std::string(coloop::to_string(coloop::available_backends().front())).c_str(),
               available().c_str());
  std::exit(error != nullptr ? 2 : 0);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value after " + std::string(arg)).c_str());
      return argv[++i];
    };
    if (arg == "--port") {
      const std::string v = value();
      char* end = nullptr;
      const long p = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || p < 0 || p > 65535) usage(("bad port: " + v).c_str());
      o.port = static_cast<int>(p);
    } else if (arg == "--host") {
      o.host = value();
    } else if (arg == "--backend") {
      const std::string name = value();
      try {
        o.backend = coloop::parse_backend(name);
      } catch (const std::invalid_argument&) {
        usage(("unknown backend '" + name + "' (available: " + available() + ")").c_str());
      }
      if (!coloop::is_available(o.backend)) {
        usage(
            ("backend '" + name + "' is not compiled in (available: " + available() + ")").c_str());
      }
    } else if (arg == "--streams") {
      o.streams = true;
    } else if (arg == "--workers") {
      const std::string v = value();
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1 || n > 1024) usage(("bad worker count: " + v).c_str());
      o.workers = static_cast<unsigned>(n);
    } else if (arg == "--runtime") {
      o.runtime = true;
    } else if (arg == "--help" || arg == "-h") {
      usage(nullptr);
    } else {
      usage(("unknown argument: " + std::string(arg)).c_str());
    }
  }
  if (o.port < 0) usage("--port is required");
  if (o.runtime && o.workers < 2) usage("--runtime needs --workers N with N > 1");
  return o;
}

// One scratch buffer per worker thread. Read its address after every resumption, through a call
// the compiler cannot inline: g++ may keep a thread_local's address in the coroutine frame across a
// co_await, and on the runtime the task may resume on another worker.
[[gnu::noinline]] char* thread_buffer() noexcept {
  static thread_local char buffer[64 * 1024];
  return buffer;
}
constexpr std::size_t thread_buffer_size = 64 * 1024;

coloop::task<void> echo(coloop::tcp_stream s) {
  try {
    for (;;) {
      char* const buffer = thread_buffer();
      const long n = s.try_read_some(buffer, thread_buffer_size);
      if (n < 0) {
        co_await s.wait_readable();
        continue;
      }
      if (n == 0) co_return;
      const long sent = s.try_write_some(buffer, static_cast<std::size_t>(n));
      if (sent < n) {  // the peer is slow: keep the rest, and stop reading until it is out
        const std::size_t done = sent < 0 ? 0 : static_cast<std::size_t>(sent);
        const std::string rest(buffer + done, static_cast<std::size_t>(n) - done);
        co_await s.write_all(rest.data(), rest.size());
      }
    }
  } catch (const std::system_error&) {
    // a reset or broken connection ends this connection only
  }
}

coloop::task<void> echo_owned_buffer(coloop::tcp_stream s) {
  char buffer[16 * 1024];
  try {
    for (;;) {
      const std::size_t n = co_await s.read_some(buffer, sizeof buffer);
      if (n == 0) co_return;
      for (std::size_t done = 0; done < n;) done += co_await s.write_some(buffer + done, n - done);
    }
  } catch (const std::system_error&) {
  }
}

coloop::task<void> echo_streams(coloop::stream_reader reader, coloop::stream_writer writer) {
  try {
    for (;;) {
      std::string data = co_await reader.read(64 * 1024);
      if (data.empty()) break;
      writer.write(data);
      co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
  } catch (const std::system_error&) {
  }
}

/// On stderr, so that stdout's first line stays "listening on HOST:PORT".
void announce_backend() {
  const std::string_view name = coloop::running_backend();
  std::fprintf(stderr, "echo_server: backend %.*s\n", static_cast<int>(name.size()), name.data());
}

enum class handler { echo, owned_buffer, streams };

/// The handler a listener's connections get: --streams, or (on io_uring, where the kernel does
/// the transfers into a buffer each connection owns) owned buffers, or the zero-buffer echo.
handler handler_for(const options& o) {
  if (o.streams) return handler::streams;
  return coloop::running_backend() == "io_uring" ? handler::owned_buffer : handler::echo;
}

coloop::task<void> accept_loop(coloop::tcp_listener& listener, handler h) {
  for (;;) {
    coloop::tcp_stream s = co_await listener.accept();
    switch (h) {
      case handler::echo:
        coloop::spawn(echo(std::move(s))).detach();
        break;
      case handler::owned_buffer:
        coloop::spawn(echo_owned_buffer(std::move(s))).detach();
        break;
      case handler::streams: {
        coloop::stream_pair pair = coloop::make_streams(std::move(s));
        coloop::spawn(echo_streams(std::move(pair.reader), std::move(pair.writer))).detach();
        break;
      }
    }
  }
}

coloop::task<int> serve(options o) {
  coloop::signal_set stop_signals{SIGINT, SIGTERM};
  if (o.streams) {
    coloop::server srv =
        co_await coloop::start_server(echo_streams, o.host, static_cast<std::uint16_t>(o.port));
    std::printf("listening on %s\n", srv.local_endpoint().to_string().c_str());
    announce_backend();
    std::fflush(stdout);
    co_await stop_signals.wait();
    srv.close();
    co_await srv.wait_closed();
    co_return 0;
  }
  const auto endpoints = co_await coloop::resolve(o.host, static_cast<std::uint16_t>(o.port));
  coloop::tcp_listener listener = coloop::tcp_listener::bind(endpoints.front());
  std::printf("listening on %s\n", listener.local_endpoint().to_string().c_str());
  announce_backend();
  std::fflush(stdout);
  auto acceptor = coloop::spawn(accept_loop(listener, handler_for(o)));
  const int signo = co_await stop_signals.wait();
  std::fprintf(stderr, "echo_server: %s, stopping\n", strsignal(signo));
  acceptor.cancel();
  co_return 0;  // coloop::run cancels the connections still open
}

/// One of the --workers loops: its own SO_REUSEPORT listener on the shared port, until `stop`.
coloop::task<void> serve_shard(const options& o, std::uint16_t port, coloop::future<void> stop,
                               std::latch& bound, coloop::endpoint& where) {
  const auto endpoints = co_await coloop::resolve(o.host, port);
  const coloop::tcp_listen_options listen{.reuse_port = true};
  coloop::tcp_listener listener = coloop::tcp_listener::bind(endpoints.front(), listen);
  where = listener.local_endpoint();
  bound.count_down();
  auto acceptor = coloop::spawn(accept_loop(listener, handler_for(o)));
  co_await stop;
  acceptor.cancel();
}

/// The main thread's part once every shard listens: announce it, then wait for a stop signal
/// (which the kernel may hand to any shard's thread; signal_set receives it all the same).
coloop::task<void> announce_and_wait(const options& o, const coloop::endpoint& where) {
  coloop::signal_set stop_signals{SIGINT, SIGTERM};
  std::printf("listening on %s\n", where.to_string().c_str());
  std::fprintf(stderr, "echo_server: %u event loops, SO_REUSEPORT\n", o.workers);
  std::fflush(stdout);
  const int signo = co_await stop_signals.wait();
  std::fprintf(stderr, "echo_server: %s, stopping\n", strsignal(signo));
}

int serve_shards(const options& o) {
  std::vector<coloop::promise<void>> stops(o.workers);
  std::vector<std::thread> threads;
  std::vector<coloop::endpoint> where(o.workers);
  std::uint16_t port = static_cast<std::uint16_t>(o.port);
  int status = 0;
  for (unsigned i = 0; i < o.workers; ++i) {
    std::latch bound(1);
    threads.emplace_back([&, i, port] {
      try {
        coloop::run(serve_shard(o, port, stops[i].get_future(), bound, where[i]),
                    {.backend = o.backend});
      } catch (const std::exception& e) {
        std::fprintf(stderr, "echo_server: worker %u: %s\n", i, e.what());
        status = 1;
        bound.count_down();
      }
    });
    bound.wait();  // the first listener fixes the port (it may have been 0) for the others
    if (status != 0) break;
    port = where[i].port();
  }
  if (status == 0) {
    try {
      coloop::run(announce_and_wait(o, where.front()));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "echo_server: %s\n", e.what());
      status = 1;
    }
  }
  for (auto& p : stops) p.set_value();
  for (auto& t : threads) t.join();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const options o = parse(argc, argv);
    if (o.workers > 1 && !o.runtime) return serve_shards(o);
    return coloop::run(serve(o), {.backend = o.backend, .workers = o.runtime ? o.workers : 0});
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo_server: %s\n", e.what());
    return 1;
  }
}
