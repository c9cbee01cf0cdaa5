// make_streams, open_connection and open_unix_connection against real listeners, plus a check
// that a 64-byte ping-pong over stream_reader / stream_writer allocates nothing per message in
// steady state (release builds with the frame pool on).

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <coloop/net/streams.hpp>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "net/stream_test_support.hpp"
#include "support/flavour.hpp"

// The operator new/delete pair below wraps malloc/free; GCC pairs the replaced operator new with
// the builtin delete when it inlines gtest code and warns of a mismatch that is not there.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
// Counts global operator new calls (for the no-allocation check).
namespace {
std::atomic<long> allocations{0};
}
void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using coloop::errc;
using coloop::stream_pair;
using coloop::task;
using coloop::test::code_of;
using coloop::test::failure_of;

class streams : public coloop::test::flavour_test {};

TEST_P(streams, open_connection_round_trip) {
  run([]() -> task<void> {
    coloop::tcp_listener listener = coloop::tcp_listener::bind(coloop::endpoint::loopback(0));
    auto accepted = coloop::spawn(listener.accept());
    auto [reader, writer] =
        co_await coloop::open_connection("127.0.0.1", listener.local_endpoint().port());
    stream_pair peer = coloop::make_streams(co_await std::move(accepted));
    writer.write("hello\n");
    EXPECT_EQ(co_await peer.reader.read_line(), "hello\n");
    peer.writer.write("world\n");
    EXPECT_EQ(co_await reader.read_line(), "world\n");
    EXPECT_EQ(writer.remote_endpoint(), listener.local_endpoint());
    writer.close();
    co_await writer.wait_closed();
    EXPECT_EQ(co_await peer.reader.read(), "");
    listener.close();
  }());
}

TEST_P(streams, open_connection_refused) {
  run([]() -> task<void> {
    coloop::tcp_listener listener = coloop::tcp_listener::bind(coloop::endpoint::loopback(0));
    const auto port = listener.local_endpoint().port();
    listener.close();
    auto e = co_await failure_of(coloop::open_connection("127.0.0.1", port));
    EXPECT_EQ(code_of(e), std::error_code(ECONNREFUSED, std::generic_category()));
  }());
}

TEST_P(streams, open_unix_connection_round_trip) {
  run([]() -> task<void> {
    const std::string path = "/tmp/coloop_streams_test_" + std::to_string(::getpid()) + ".sock";
    coloop::unix_listener listener = coloop::unix_listener::bind(path);
    auto accepted = coloop::spawn(listener.accept());
    auto [reader, writer] = co_await coloop::open_unix_connection(path);
    stream_pair peer = coloop::make_streams(co_await std::move(accepted));
    writer.write("over a unix socket\n");
    EXPECT_EQ(co_await peer.reader.read_line(), "over a unix socket\n");
    listener.close();
  }());
}

TEST_P(streams, bad_options_and_closed_socket) {
  run([]() -> task<void> {
    auto [a, b] = coloop::unix_stream::pair();
    EXPECT_THROW(coloop::make_streams(std::move(a), {.limit = 0}), std::invalid_argument);
    EXPECT_THROW(coloop::make_streams(std::move(b), {.high_water = 10, .low_water = 20}),
                 std::invalid_argument);
    EXPECT_THROW(coloop::make_streams(coloop::stream_socket{}), std::system_error);
    EXPECT_THROW(co_await coloop::open_connection("127.0.0.1", 1, {.limit = 0}),
                 std::invalid_argument);
    coloop::stream_reader empty;
    EXPECT_EQ(code_of(co_await failure_of(empty.read_line())), errc::closed);
  }());
}

TEST_P(streams, ping_pong_allocates_nothing_per_message) {
  if (!coloop::frame_pool_enabled()) GTEST_SKIP() << "frame pool off: frames use the heap";
  run([]() -> task<void> {
    auto [ours, theirs] = coloop::test::local_streams();
    const std::string message(64, 'x');
    char buf[64];
    auto echo = [](stream_pair& s, int rounds) -> task<void> {
      char b[64];
      for (int i = 0; i < rounds; ++i) {
        const std::size_t n = co_await s.reader.read_into(b, sizeof b);
        s.writer.write(std::string_view(b, n));
        co_await s.writer.drain();
      }
    };
    constexpr int warmup = 100;
    constexpr int rounds = 1000;
    auto peer = coloop::spawn(echo(theirs, warmup + rounds));
    long before = 0;
    for (int i = 0; i < warmup + rounds; ++i) {
      if (i == warmup) before = allocations.load();
      ours.writer.write(message);
      co_await ours.writer.drain();
      std::size_t got = 0;
      while (got < sizeof buf) got += co_await ours.reader.read_into(buf + got, sizeof buf - got);
    }
    const long per_message = (allocations.load() - before) / rounds;
    EXPECT_EQ(per_message, 0) << (allocations.load() - before) << " allocations in " << rounds;
    co_await std::move(peer);
  }());
}

// Every connection's writer, reader and peer run in tasks of their own (on the runtime: on any
// worker), with the flusher tasks besides; the peers close once they read end of stream.
TEST_P(streams, concurrent_connections_with_reader_writer_and_peer_in_separate_tasks) {
  run([]() -> task<void> {
    constexpr int connections = 16;
    const std::string data = coloop::test::pattern(256 * 1024);
    auto echo = [](stream_pair s) -> task<void> {
      for (;;) {
        const std::string chunk = co_await s.reader.read(64 * 1024);
        if (chunk.empty()) break;
        s.writer.write(chunk);
        co_await s.writer.drain();
      }
      s.writer.close();
      co_await s.writer.wait_closed();
    };
    auto send = [](coloop::stream_writer& w, const std::string& all) -> task<void> {
      constexpr std::size_t chunk = 10000;
      for (std::size_t at = 0; at < all.size(); at += chunk) {
        w.write(std::string_view(all).substr(at, chunk));
        co_await w.drain();
      }
      w.write_eof();
    };
    std::vector<stream_pair> ours;
    ours.reserve(connections);  // the tasks refer to the elements
    std::vector<coloop::join_handle<void>> peers;
    std::vector<coloop::join_handle<void>> senders;
    std::vector<coloop::join_handle<std::string>> receivers;
    for (int i = 0; i < connections; ++i) {
      auto [mine, theirs] = coloop::test::local_streams();
      ours.push_back(std::move(mine));
      peers.push_back(coloop::spawn(echo(std::move(theirs))));
      senders.push_back(coloop::spawn(send(ours.back().writer, data)));
      receivers.push_back(coloop::spawn(ours.back().reader.read()));  // to the end of stream
    }
    for (auto& s : senders) co_await std::move(s);
    for (auto& r : receivers) EXPECT_TRUE((co_await std::move(r)) == data);
    for (auto& p : peers) co_await std::move(p);
    for (auto& s : ours) {
      s.writer.close();
      co_await s.writer.wait_closed();
    }
  }());
}

COLOOP_INSTANTIATE_FLAVOURS(streams);

}  // namespace
