// start_server / start_unix_server on loopback: echo, endpoints, 1,000 concurrent connections
// (with the heap cost of an idle one), handler exceptions, a peer resetting during a large
// write, close / close_clients / wait_closed / serve_forever semantics, destruction.

#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <coloop/net/server.hpp>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/stream_test_support.hpp"
#include "support/flavour.hpp"

namespace {

using coloop::errc;
using coloop::stream_reader;
using coloop::stream_writer;
using coloop::task;
using coloop::test::code_of;
using coloop::test::echo_lines;
using coloop::test::failure_of;
using coloop::test::until;

task<void> expect_echo(coloop::stream_pair& c, const std::string& line) {
  c.writer.write(line);
  EXPECT_EQ(co_await c.reader.read_line(), line);
}

constexpr std::size_t timed_out_marker = static_cast<std::size_t>(-1);

/// read_some bounded by 10 s (timed_out_marker then): a lost echo fails the test instead of
/// hanging it.
task<std::size_t> read_some_within(coloop::tcp_stream& s, char* buf, std::size_t n) {
  auto read = s.read_some(buf, n);
  try {
    co_return co_await coloop::wait_for(std::move(read), std::chrono::seconds(10));
  } catch (const coloop::timeout_error&) {
  }
  co_return timed_out_marker;
}

class server : public coloop::test::flavour_test {};

TEST_P(server, echo_and_endpoints) {
  run([]() -> task<void> {
    coloop::server srv = co_await coloop::start_server(echo_lines, "127.0.0.1", 0);
    EXPECT_EQ(srv.sockets().size(), 1u);
    const coloop::endpoint at = srv.local_endpoint();
    EXPECT_EQ(at.address(), "127.0.0.1");
    EXPECT_NE(at.port(), 0);
    EXPECT_TRUE(srv.is_serving());
    {
      coloop::stream_pair c = co_await coloop::open_connection("127.0.0.1", at.port());
      co_await expect_echo(c, "hello\n");
      co_await expect_echo(c, "again\n");
      EXPECT_EQ(srv.connections(), 1u);
    }  // the client goes: the handler reads end of stream and returns
    srv.close();
    EXPECT_FALSE(srv.is_serving());
    co_await srv.wait_closed();
    EXPECT_EQ(srv.connections(), 0u);
    auto refused = co_await failure_of(coloop::open_connection("127.0.0.1", at.port()));
    EXPECT_EQ(code_of(refused), std::error_code(ECONNREFUSED, std::generic_category()));
    EXPECT_EQ(code_of(co_await failure_of(srv.serve_forever())), errc::closed);
  }());
}

/// Raises the soft fd limit to the hard one for the test's duration.
struct fd_limit_raised {
  rlimit saved{};
  fd_limit_raised() {
    ::getrlimit(RLIMIT_NOFILE, &saved);
    rlimit raised = saved;
    raised.rlim_cur = saved.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &raised);
  }
  ~fd_limit_raised() { ::setrlimit(RLIMIT_NOFILE, &saved); }
  static rlim_t current() {
    rlimit r{};
    ::getrlimit(RLIMIT_NOFILE, &r);
    return r.rlim_cur;
  }
};

TEST_P(server, thousand_concurrent_connections) {
  fd_limit_raised raised;
  if (fd_limit_raised::current() < 2 * 1000 + 64) GTEST_SKIP() << "fd limit below 2064";
  run([]() -> task<void> {
    constexpr std::size_t n = 1000;
    std::atomic<std::size_t> idle{0};  // handlers run on any worker of the runtime
    // The handler frame stays small: a line echo that counts itself idle while it waits.
    auto handler = [&idle](stream_reader r, stream_writer w) -> task<void> {
      ++idle;
      std::string line = co_await r.read_line();
      --idle;
      w.write(line);
      co_await w.drain();
    };
    coloop::server srv = co_await coloop::start_server(handler, "127.0.0.1", 0);
    const coloop::endpoint at = srv.local_endpoint();
    std::vector<coloop::tcp_stream> clients;
    clients.reserve(n);
    const std::size_t heap_before = ::mallinfo2().uordblks;
    for (std::size_t i = 0; i < n; ++i) clients.push_back(co_await coloop::tcp_stream::connect(at));
    co_await until([&] { return idle == n; });
    const std::size_t heap_after = ::mallinfo2().uordblks;
    const double per_connection = (double(heap_after) - double(heap_before)) / double(n);
    std::printf("heap per idle connection (server side + a raw client socket): %.0f bytes\n",
                per_connection);
#if !defined(__SANITIZE_ADDRESS__) && defined(__OPTIMIZE__)
    // The 2 KiB budget is the default backend's, in an optimized build (an unoptimized one keeps
    // every temporary in the coroutine frames); libuv adds a uv_poll_t (~150 B) to each of the
    // two sockets per connection.
    if (coloop::frame_pool_enabled()) {
      EXPECT_LT(per_connection, GetParam().backend == coloop::backend::libuv ? 2560.0 : 2048.0);
    }
#endif
    // Every connection echoes one line while all the others stay open.
    for (std::size_t i = 0; i < n; ++i) {
      const std::string line = "line " + std::to_string(i) + "\n";
      co_await clients[i].write_all(line.data(), line.size());
    }
    std::size_t echoed = 0;
    bool timed_out = false;
    for (std::size_t i = 0; i < n && !timed_out; ++i) {
      const std::string line = "line " + std::to_string(i) + "\n";
      std::string got(line.size(), '\0');
      std::size_t have = 0;
      while (have < got.size()) {
        const std::size_t k =
            co_await read_some_within(clients[i], got.data() + have, got.size() - have);
        if (k == timed_out_marker) {
          ADD_FAILURE() << "connection " << i << ": no echo within 10 s, got '"
                        << got.substr(0, have) << "' for '" << line << "'";
          timed_out = true;
          break;
        }
        if (k == 0) break;
        have += k;
      }
      if (got == line) {
        ++echoed;
      } else if (echoed == i && !timed_out) {  // the first wrong one only
        ADD_FAILURE() << "connection " << i << " got '" << got << "' for '" << line << "'";
      }
    }
    EXPECT_EQ(echoed, n);
    clients.clear();
    srv.close();
    co_await srv.wait_closed();
  }());
}

TEST_P(server, handler_exception_goes_to_loop_handler_and_closes_the_connection) {
  run([]() -> task<void> {
    // On the runtime the handler runs on the worker where the handler task ends, possibly after
    // the client has seen the connection close.
    std::mutex mutex;
    std::vector<std::string> reported;  // under mutex
    std::atomic<std::size_t> reports{0};
    coloop::test::set_exception_handler([&](std::exception_ptr e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        const std::lock_guard lock(mutex);
        reported.push_back(x.what());
      }
      ++reports;
    });
    auto handler = [](stream_reader r, stream_writer w) -> task<void> {
      const std::string line = co_await r.read_line();
      if (line == "boom\n") throw std::runtime_error("boom");
      w.write(line);
    };
    coloop::server srv = co_await coloop::start_server(handler, "127.0.0.1", 0);
    coloop::stream_pair bad =
        co_await coloop::open_connection("127.0.0.1", srv.local_endpoint().port());
    bad.writer.write("boom\n");
    EXPECT_EQ(co_await bad.reader.read(), "");  // closed by the server
    auto reported_one = [&] { return reports == 1; };
    EXPECT_TRUE(co_await coloop::test::yield_until(reported_one));
    {
      const std::lock_guard lock(mutex);
      EXPECT_EQ(reported, std::vector<std::string>{"boom"});
    }
    coloop::stream_pair good =
        co_await coloop::open_connection("127.0.0.1", srv.local_endpoint().port());
    co_await expect_echo(good, "fine\n");
    srv.close();
    co_await srv.wait_closed();
  }());
}

TEST_P(server, peer_reset_during_large_write_fails_that_stream_only) {
  run([]() -> task<void> {
    std::error_code failure;          // published by `failed`
    std::atomic<bool> failed{false};  // handlers run on any worker of the runtime
    auto handler = [&](stream_reader r, stream_writer w) -> task<void> {
      const std::string line = co_await r.read_line();
      if (line != "flood\n") {
        w.write(line);
        co_return;
      }
      const std::string chunk(256 * 1024, 'f');
      try {
        for (int i = 0; i < 256; ++i) {  // 64 MiB: far more than the socket buffers hold
          w.write(chunk);
          co_await w.drain();
        }
      } catch (const std::system_error& e) {
        failure = e.code();
      }
      failed = true;
    };
    coloop::server srv = co_await coloop::start_server(handler, "127.0.0.1", 0);
    coloop::tcp_stream peer = co_await coloop::tcp_stream::connect(srv.local_endpoint());
    co_await peer.write_all("flood\n", 6);
    char buf[4096];
    EXPECT_GT(co_await peer.read_some(buf, sizeof buf), 0u);
    const ::linger reset{1, 0};
    ::setsockopt(peer.native_handle(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    peer.close();  // RST, with unread data on our side too
    co_await until([&] { return failed.load(); });
    EXPECT_TRUE(failure == std::error_code(ECONNRESET, std::generic_category()) ||
                failure == std::error_code(EPIPE, std::generic_category()))
        << failure.message();
    coloop::stream_pair next =
        co_await coloop::open_connection("127.0.0.1", srv.local_endpoint().port());
    co_await expect_echo(next, "still serving\n");
    srv.close();
    co_await srv.wait_closed();
  }());
}

TEST_P(server, wait_closed_waits_for_running_handlers) {
  run([]() -> task<void> {
    coloop::promise<void> release;
    coloop::future<void> released = release.get_future();
    std::atomic<bool> started{false};  // handlers run on any worker of the runtime
    auto handler = [&](stream_reader, stream_writer w) -> task<void> {
      started = true;
      co_await released;
      w.write("bye\n");
    };
    coloop::server srv = co_await coloop::start_server(handler, "127.0.0.1", 0);
    coloop::stream_pair c =
        co_await coloop::open_connection("127.0.0.1", srv.local_endpoint().port());
    co_await until([&] { return started.load(); });
    srv.close();  // stops accepting; the running handler goes on
    auto closed = coloop::spawn(srv.wait_closed());
    for (int i = 0; i < 10; ++i) co_await coloop::yield();
    EXPECT_FALSE(closed.done());
    release.set_value();
    co_await std::move(closed);
    EXPECT_EQ(co_await c.reader.read_line(), "bye\n");
    EXPECT_EQ(co_await c.reader.read(), "");
  }());
}

TEST_P(server, close_clients_cancels_handlers) {
  run([]() -> task<void> {
    std::atomic<int> cancelled{0};  // the two handlers may run in parallel on the runtime
    std::atomic<int> started{0};
    auto handler = [&](stream_reader r, stream_writer) -> task<void> {
      ++started;
      try {
        co_await r.read_line();
      } catch (const coloop::cancelled_error&) {
        ++cancelled;
        throw;
      }
    };
    coloop::server srv = co_await coloop::start_server(handler, "127.0.0.1", 0);
    const auto port = srv.local_endpoint().port();
    coloop::stream_pair a = co_await coloop::open_connection("127.0.0.1", port);
    coloop::stream_pair b = co_await coloop::open_connection("127.0.0.1", port);
    co_await until([&] { return started == 2; });
    srv.close();
    srv.close_clients();
    co_await srv.wait_closed();
    EXPECT_EQ(cancelled, 2);
    EXPECT_EQ(co_await a.reader.read(), "");
    EXPECT_EQ(co_await b.reader.read(), "");
  }());
}

TEST_P(server, serve_forever_returns_on_close_and_closes_when_cancelled) {
  run([]() -> task<void> {
    coloop::server first = co_await coloop::start_server(echo_lines, "127.0.0.1", 0);
    auto serving = coloop::spawn(first.serve_forever());
    // Not a yield: on the runtime serve_forever may not have started (and would find the server
    // closed). Idle: it waits for close().
    co_await coloop::test::until_idle();
    first.close();
    co_await std::move(serving);  // returns normally
    co_await first.wait_closed();

    coloop::server second = co_await coloop::start_server(echo_lines, "127.0.0.1", 0);
    coloop::stream_pair c =
        co_await coloop::open_connection("127.0.0.1", second.local_endpoint().port());
    co_await expect_echo(c, "up\n");
    auto forever = coloop::spawn(second.serve_forever());
    co_await coloop::test::until_idle();  // it waits: the cancel finds it serving
    forever.cancel();
    auto e = co_await failure_of(std::move(forever));
    EXPECT_TRUE(coloop::detail::is_cancellation(e));
    EXPECT_FALSE(second.is_serving());
    EXPECT_EQ(second.connections(), 0u);  // the idle handler was cancelled and awaited
    EXPECT_EQ(co_await c.reader.read(), "");
  }(), {.manual_clock = true});  // for until_idle
}

TEST_P(server, unix_server_round_trip_and_socket_file_removed) {
  run([]() -> task<void> {
    const std::string path = "/tmp/coloop_server_test_" + std::to_string(::getpid()) + ".sock";
    coloop::server srv = co_await coloop::start_unix_server(echo_lines, path);
    EXPECT_EQ(srv.local_endpoint().address(), path);
    {
      coloop::stream_pair c = co_await coloop::open_unix_connection(path);
      co_await expect_echo(c, "over unix\n");
    }
    srv.close();
    co_await srv.wait_closed();
    EXPECT_NE(::access(path.c_str(), F_OK), 0);
  }());
}

TEST_P(server, destroying_the_server_cancels_its_handlers) {
  run([]() -> task<void> {
    std::atomic<bool> started{false};  // the handler runs on any worker of the runtime
    std::atomic<bool> cancelled{false};
    auto handler = [&](stream_reader r, stream_writer) -> task<void> {
      started = true;
      try {
        co_await r.read_line();
      } catch (const coloop::cancelled_error&) {
        cancelled = true;
        throw;
      }
    };
    coloop::stream_pair c;
    {
      coloop::server srv = co_await coloop::start_server(handler, "127.0.0.1", 0);
      c = co_await coloop::open_connection("127.0.0.1", srv.local_endpoint().port());
      // Started, not just accepted: on the runtime one yield need not run it, and a handler
      // cancelled before it starts never runs. Once started, the cancel reaches its read_line.
      auto handler_started = [&] { return started.load(); };
      co_await until(handler_started);
    }
    EXPECT_EQ(co_await c.reader.read(), "");
    EXPECT_TRUE(cancelled);
  }());
}

TEST_P(server, bad_arguments) {
  run([]() -> task<void> {
    EXPECT_THROW(co_await coloop::start_server(nullptr, "127.0.0.1", 0), std::invalid_argument);
    coloop::server_options bad;
    bad.streams.limit = 0;
    EXPECT_THROW(co_await coloop::start_server(echo_lines, "127.0.0.1", 0, bad),
                 std::invalid_argument);
    coloop::server srv = co_await coloop::start_server(echo_lines, "127.0.0.1", 0);
    auto in_use = co_await failure_of(
        coloop::start_server(echo_lines, "127.0.0.1", srv.local_endpoint().port(),
                             coloop::server_options{.streams = {}, .reuse_address = false}));
    EXPECT_EQ(code_of(in_use), std::error_code(EADDRINUSE, std::generic_category()));
    srv.close();
    co_await srv.wait_closed();
  }());
}

COLOOP_INSTANTIATE_FLAVOURS(server);

}  // namespace
