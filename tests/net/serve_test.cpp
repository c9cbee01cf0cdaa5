// serve(handler, endpoint): the server started by an ordinary call, so its handler may be a
// capturing lambda written inline. Connections coming and going, the server destroyed under a
// suspended handler, a unix path, server_options, and bad input.

#include <gtest/gtest.h>
#include <unistd.h>

#include <coloop/net/server.hpp>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "net/stream_test_support.hpp"
#include "support/flavour.hpp"

namespace {

using coloop::stream_reader;
using coloop::stream_writer;
using coloop::task;
using coloop::test::code_of;
using coloop::test::echo_lines;
using coloop::test::failure_of;
using coloop::test::until;

const std::string greeting = "hello from a capture that lives on the heap, ";

class Serve : public coloop::test::flavour_test {};

TEST_P(Serve, InlineCapturingHandlerAcrossFiftyConnections) {
  run([]() -> task<void> {
    std::atomic<int> served{0};  // handlers run on any worker of the runtime
    auto tag = std::make_unique<int>(42);
    coloop::server srv = coloop::serve(
        [greeting = greeting, tag = std::move(tag), &served](stream_reader r,
                                                              stream_writer w) -> task<void> {
          std::string name = co_await r.read_line();
          w.write(greeting + std::to_string(*tag) + " " + name);
          co_await w.drain();
          ++served;
        },
        coloop::endpoint::loopback(0));
    const auto port = srv.local_endpoint().port();
    EXPECT_NE(port, 0);
    for (int i = 0; i < 50; ++i) {
      coloop::stream_pair c = co_await coloop::open_connection("127.0.0.1", port);
      const std::string name = "client " + std::to_string(i) + "\n";
      c.writer.write(name);
      EXPECT_EQ(co_await c.reader.read_line(), greeting + "42 " + name);
    }  // each client closes as it goes
    srv.close();
    co_await srv.wait_closed();
    EXPECT_EQ(served, 50);
    EXPECT_EQ(srv.connections(), 0u);
  }());
}

TEST_P(Serve, DestroyedWithAHandlerSuspendedInReadLine) {
  run([]() -> task<void> {
    std::atomic<bool> started{false};
    std::atomic<bool> cancelled{false};
    coloop::stream_pair c;
    {
      coloop::server srv = coloop::serve(
          [greeting = greeting, &started, &cancelled](stream_reader r,
                                                      stream_writer w) -> task<void> {
            started = true;
            try {
              co_await r.read_line();
            } catch (const coloop::cancelled_error&) {
              // The capture is still alive while the cancelled handler unwinds.
              cancelled = greeting.size() > 10;
              throw;
            }
            w.write("unreachable\n");
          },
          coloop::endpoint::loopback(0));
      c = co_await coloop::open_connection("127.0.0.1", srv.local_endpoint().port());
      co_await until([&] { return started.load(); });
    }  // destroyed: close() and close_clients(), without waiting
    EXPECT_EQ(co_await c.reader.read(), "");  // the cancelled handler closed the connection
    EXPECT_TRUE(cancelled);
  }());
}

TEST_P(Serve, UnixPathRoundTripAndSocketFileRemoved) {
  run([]() -> task<void> {
    const std::string path = "/tmp/coloop_serve_test_" + std::to_string(::getpid()) + ".sock";
    coloop::server srv = coloop::serve(echo_lines, coloop::endpoint::unix_path(path));
    EXPECT_EQ(srv.local_endpoint().address(), path);
    {
      coloop::stream_pair c = co_await coloop::open_unix_connection(path);
      c.writer.write("over unix\n");
      EXPECT_EQ(co_await c.reader.read_line(), "over unix\n");
    }
    srv.close();
    co_await srv.wait_closed();
    EXPECT_NE(::access(path.c_str(), F_OK), 0);
  }());
}

TEST_P(Serve, OptionsApplyToEachConnectionsStreams) {
  run([]() -> task<void> {
    coloop::server_options options;
    options.streams.limit = 8;  // read_line discards a longer line and throws limit_overrun
    coloop::server srv = coloop::serve(
        [](stream_reader r, stream_writer w) -> task<void> {
          auto failure = co_await failure_of(r.read_line());
          w.write(code_of(failure) == coloop::errc::limit_overrun ? "refused\n" : "accepted\n");
        },
        coloop::endpoint::loopback(0), options);
    {
      coloop::stream_pair c =
          co_await coloop::open_connection("127.0.0.1", srv.local_endpoint().port());
      c.writer.write("a line well over eight bytes\n");
      EXPECT_EQ(co_await c.reader.read_line(), "refused\n");
    }
    srv.close();
    co_await srv.wait_closed();
  }());
}

TEST_P(Serve, BadArguments) {
  run([]() -> task<void> {
    EXPECT_THROW((void)coloop::serve(echo_lines, coloop::endpoint{}), std::invalid_argument);
    EXPECT_THROW((void)coloop::serve(nullptr, coloop::endpoint::loopback(0)),
                 std::invalid_argument);
    coloop::server_options bad;
    bad.streams.limit = 0;
    EXPECT_THROW((void)coloop::serve(echo_lines, coloop::endpoint::loopback(0), bad),
                 std::invalid_argument);
    coloop::server srv = coloop::serve(echo_lines, coloop::endpoint::loopback(0));
    coloop::server_options no_reuse;
    no_reuse.reuse_address = false;
    try {
      coloop::server second = coloop::serve(echo_lines, srv.local_endpoint(), no_reuse);
      ADD_FAILURE() << "bound a port in use";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), std::error_code(EADDRINUSE, std::generic_category()));
    }
    srv.close();
    co_await srv.wait_closed();
  }());
}

TEST(ServeNoLoop, ThrowsLogicErrorNamingServe) {
  try {
    coloop::server srv = coloop::serve(echo_lines, coloop::endpoint::loopback(0));
    FAIL() << "expected std::logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("coloop::serve"), std::string::npos) << e.what();
  }
}

COLOOP_INSTANTIATE_FLAVOURS(Serve);

}  // namespace
