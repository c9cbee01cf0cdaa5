// stream_writer over real sockets: immediate writes, flow control against a peer that never
// reads (manual clock: the drain timeout costs no real time), the low-water wake-up, close() +
// wait_closed() flushing everything, write_eof (half-close) with 1 MiB still flowing back,
// closing while one task reads and another writes, and errors after close.

#include <gtest/gtest.h>

#include <coloop/net/stream_writer.hpp>
#include <cstddef>
#include <string>

#include "net/stream_test_support.hpp"
#include "support/flavour.hpp"

namespace {

using coloop::errc;
using coloop::stream_pair;
using coloop::task;
using coloop::test::code_of;
using coloop::test::failure_of;
using coloop::test::local_streams;
using coloop::test::pattern;
using coloop::test::until;
using namespace std::chrono_literals;

constexpr std::size_t high = coloop::stream_writer::default_high_water;
constexpr std::size_t low = coloop::stream_writer::default_low_water;

class stream_writer : public coloop::test::flavour_test {};

TEST_P(stream_writer, small_write_goes_out_at_once) {
  run([]() -> task<void> {
    auto [ours, theirs] = local_streams();
    ours.writer.write("ping\n");
    EXPECT_EQ(ours.writer.buffer_size(), 0u);  // taken by the socket: no task, no buffer
    co_await ours.writer.drain();
    EXPECT_EQ(co_await theirs.reader.read_line(), "ping\n");
    EXPECT_FALSE(ours.writer.is_closing());
  }());
}

TEST_P(stream_writer, peer_never_reads_drain_blocks_until_timeout) {
  run(
      []() -> task<void> {
        auto [ours, theirs] = local_streams();
        const std::string chunk = pattern(16 * 1024);
        std::exception_ptr stopped;
        std::size_t written = 0;
        while (stopped == nullptr && written < (64u << 20)) {
          ours.writer.write(chunk);
          written += chunk.size();
          stopped = co_await failure_of(coloop::wait_for(ours.writer.drain(), 1s));
        }
        EXPECT_EQ(code_of(stopped), errc::timed_out);
        // The buffer stays near the high-water mark: drain only blocks above it.
        EXPECT_GT(ours.writer.buffer_size(), high);
        EXPECT_LE(ours.writer.buffer_size(), high + chunk.size());
        EXPECT_FALSE(ours.writer.is_closing());  // a timed-out drain leaves the stream intact
        // Once the peer reads, every byte arrives in order.
        auto all = coloop::spawn(theirs.reader.read_exactly(written));
        co_await ours.writer.drain();
        EXPECT_LE(ours.writer.buffer_size(), low);
        ours.writer.close();
        co_await ours.writer.wait_closed();
        const std::string got = co_await std::move(all);
        EXPECT_EQ(got.size(), written);
        bool same = true;
        for (std::size_t i = 0; i < got.size() && same; i += chunk.size()) {
          same = got.compare(i, chunk.size(), chunk) == 0;
        }
        EXPECT_TRUE(same);
      }(),
      coloop::loop_options{.manual_clock = true});
}

TEST_P(stream_writer, close_and_wait_closed_flush_everything) {
  run([]() -> task<void> {
    auto [client, server] = co_await coloop::test::tcp_pair();
    stream_pair ours = coloop::make_streams(std::move(client));
    stream_pair theirs = coloop::make_streams(std::move(server));
    const std::string data = pattern(8 << 20);
    ours.writer.write(data);
    EXPECT_GT(ours.writer.buffer_size(), 0u);
    ours.writer.close();
    EXPECT_TRUE(ours.writer.is_closing());
    EXPECT_EQ(code_of(co_await failure_of([&]() -> task<void> {
                ours.writer.write("more");
                co_return;
              }())),
              errc::closed);
    auto received = coloop::spawn(theirs.reader.read());  // to the end of stream
    co_await ours.writer.wait_closed();
    EXPECT_EQ(ours.writer.buffer_size(), 0u);
    EXPECT_TRUE((co_await std::move(received)) == data);
  }());
}

TEST_P(stream_writer, destroyed_writer_still_flushes_then_closes) {
  run([]() -> task<void> {
    auto [ours, theirs] = local_streams();
    const std::string data = pattern(1 << 20);
    {
      coloop::stream_writer w = std::move(ours.writer);
      w.write(data);
    }
    EXPECT_TRUE((co_await theirs.reader.read()) == data);
    EXPECT_TRUE(theirs.reader.at_eof());
  }());
}

TEST_P(stream_writer, half_close_then_a_mebibyte_back) {
  run([]() -> task<void> {
    auto [client, server] = co_await coloop::test::tcp_pair();
    stream_pair c = coloop::make_streams(std::move(client));
    stream_pair s = coloop::make_streams(std::move(server));
    c.writer.write("request");
    c.writer.write_eof();
    EXPECT_EQ(code_of(co_await failure_of([&]() -> task<void> {
                c.writer.write("late");
                co_return;
              }())),
              errc::closed);
    EXPECT_EQ(co_await s.reader.read(), "request");
    EXPECT_TRUE(s.reader.at_eof());
    const std::string reply = pattern(1 << 20);
    s.writer.write(reply);
    s.writer.close();
    EXPECT_TRUE((co_await c.reader.read_exactly(reply.size())) == reply);
    EXPECT_EQ(co_await c.reader.read(), "");
    EXPECT_TRUE(c.reader.at_eof());
    co_await s.writer.wait_closed();
  }());
}

TEST_P(stream_writer, write_eof_waits_for_the_buffer) {
  run([]() -> task<void> {
    auto [ours, theirs] = local_streams();
    const std::string data = pattern(2 << 20);
    ours.writer.write(data);
    EXPECT_GT(ours.writer.buffer_size(), 0u);
    ours.writer.write_eof();  // deferred until the buffer is sent
    EXPECT_TRUE((co_await theirs.reader.read()) == data);
    theirs.writer.write("still open");
    theirs.writer.close();
    EXPECT_EQ(co_await ours.reader.read(), "still open");
  }());
}

TEST_P(stream_writer, abort_while_one_task_reads_and_another_drains) {
  run([]() -> task<void> {
    auto [ours_binding, theirs] = local_streams();
    // A named reference: clang 14 cannot capture a structured binding in a lambda.
    auto& ours = ours_binding;
    int reader_resumed = 0;
    int writer_resumed = 0;
    std::error_code read_error;
    std::error_code drain_error;
    // Named: a spawned lambda coroutine must outlive its task (it refers to its captures).
    auto read_body = [&]() -> task<void> {
      read_error = code_of(co_await failure_of(ours.reader.read_line()));
      ++reader_resumed;
    };
    auto write_body = [&]() -> task<void> {
      const std::string chunk = pattern(64 * 1024);
      for (;;) {  // the peer never reads: drain ends up waiting
        ours.writer.write(chunk);
        auto e = co_await failure_of(ours.writer.drain());
        if (e) {
          drain_error = code_of(e);
          break;
        }
      }
      ++writer_resumed;
    };
    auto reading = coloop::spawn(read_body());
    auto writing = coloop::spawn(write_body());
    co_await until([&] { return ours.writer.buffer_size() > high; });
    co_await coloop::yield();
    ours.writer.abort();
    co_await std::move(reading);
    co_await std::move(writing);
    EXPECT_EQ(reader_resumed, 1);
    EXPECT_EQ(writer_resumed, 1);
    EXPECT_EQ(read_error, errc::closed);
    EXPECT_EQ(drain_error, errc::closed);
    EXPECT_EQ(ours.writer.buffer_size(), 0u);
    co_await ours.writer.wait_closed();                       // aborted: closed, no error
    EXPECT_EQ(co_await theirs.reader.read(64), pattern(64));  // what was sent before the abort
  }());
}

TEST_P(stream_writer, close_wakes_a_blocked_drain) {
  run([]() -> task<void> {
    auto [ours, theirs] = local_streams();
    ours.writer.set_write_buffer_limits(1024, 0);
    const std::string data = pattern(4 << 20);
    ours.writer.write(data);
    auto drain = coloop::spawn(failure_of(ours.writer.drain()));
    co_await coloop::yield();
    ours.writer.close();
    EXPECT_EQ(code_of(co_await std::move(drain)), errc::closed);
    // The close still flushes: the peer gets everything.
    EXPECT_TRUE((co_await theirs.reader.read()) == data);
    co_await ours.writer.wait_closed();
  }());
}

TEST_P(stream_writer, endpoints_and_limits) {
  run([]() -> task<void> {
    auto [client, server] = co_await coloop::test::tcp_pair();
    const coloop::endpoint client_local = client.local_endpoint();
    stream_pair c = coloop::make_streams(std::move(client));
    EXPECT_EQ(c.writer.local_endpoint(), client_local);
    EXPECT_EQ(c.writer.remote_endpoint(), server.local_endpoint());
    EXPECT_THROW(c.writer.set_write_buffer_limits(10, 20), std::invalid_argument);
    c.writer.close();
    EXPECT_EQ(code_of(co_await failure_of([&]() -> task<void> {
                (void)c.writer.remote_endpoint();
                co_return;
              }())),
              errc::closed);
    co_await c.writer.wait_closed();
    EXPECT_EQ(co_await coloop::make_streams(std::move(server)).reader.read(), "");
  }());
}

// Loop only for now: on the runtime a stream's writer and its background flush task (and a reader
// shared by several tasks) touch the transport from different workers without a lock.
COLOOP_INSTANTIATE_FLAVOURS(stream_writer);

}  // namespace
