// stream_reader over real sockets (socketpairs and loopback TCP): every read form, end of
// stream, the limit (an over-long line, then the next line intact), byte-at-a-time delivery,
// incomplete reads, and cancellation while data arrives. Inside coroutines only EXPECT_* is used.

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <coloop/net/stream_reader.hpp>
#include <cstddef>
#include <stdexcept>
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

class stream_reader : public coloop::test::flavour_test {};
// These peek at a reader while another task reads from it, which is fine on an event loop (that
// task is suspended meanwhile) but a race on the runtime: a reader belongs to one task at a time.
class stream_reader_on_loop : public coloop::test::flavour_test {};

TEST_P(stream_reader, read_forms_and_eof) {
  run([]() -> task<void> {
    auto [ours, theirs] = local_streams();
    theirs.writer.write("hello\nworld\r\nabcdefXYZ--tail");
    theirs.writer.close();
    EXPECT_EQ(co_await ours.reader.read_line(), "hello\n");
    EXPECT_EQ(co_await ours.reader.read_until("\r\n"), "world\r\n");
    EXPECT_EQ(co_await ours.reader.read_exactly(3), "abc");
    EXPECT_EQ(co_await ours.reader.read(3), "def");
    EXPECT_EQ(co_await ours.reader.read_until("XYZ"), "XYZ");
    char buf[2];
    EXPECT_EQ(co_await ours.reader.read_into(buf, 2), 2u);
    EXPECT_EQ(std::string(buf, 2), "--");
    EXPECT_FALSE(ours.reader.at_eof());
    EXPECT_EQ(co_await ours.reader.read(), "tail");  // to the end of stream
    EXPECT_TRUE(ours.reader.at_eof());
    EXPECT_EQ(co_await ours.reader.read(10), "");
    EXPECT_EQ(co_await ours.reader.read_line(), "");
    EXPECT_EQ(co_await ours.reader.read_into(buf, 2), 0u);
    EXPECT_EQ(co_await ours.reader.read_exactly(0), "");
  }());
}

TEST_P(stream_reader, last_line_without_newline_and_read_until_at_eof) {
  run([]() -> task<void> {
    auto [ours, theirs] = local_streams();
    theirs.writer.write("a\nno newline");
    theirs.writer.close();
    EXPECT_EQ(co_await ours.reader.read_line(), "a\n");
    EXPECT_EQ(co_await ours.reader.read_line(), "no newline");
    EXPECT_EQ(co_await ours.reader.read_line(), "");

    auto [ours2, theirs2] = local_streams();
    theirs2.writer.write("partial");
    theirs2.writer.close();
    try {
      co_await ours2.reader.read_until("::");
      ADD_FAILURE() << "no incomplete_read_error";
    } catch (const coloop::incomplete_read_error& e) {
      EXPECT_EQ(e.code(), errc::incomplete_read);
      EXPECT_EQ(e.partial(), "partial");
      EXPECT_FALSE(e.expected().has_value());
    }
    EXPECT_TRUE(ours2.reader.at_eof());
  }());
}

TEST_P(stream_reader, empty_separator_is_invalid) {
  run([]() -> task<void> {
    auto [ours, theirs] = local_streams();
    EXPECT_THROW(co_await ours.reader.read_until(""), std::invalid_argument);
  }());
}

TEST_P(stream_reader, over_long_line_then_next_line_intact) {
  run([]() -> task<void> {
    auto [ours, theirs] = local_streams();
    const std::string long_line = pattern(70 * 1024) + "\n";
    // The peer writes in the background (the socket holds less than the line).
    theirs.writer.write(long_line + "next line\n" + pattern(100) + "\n");
    try {
      co_await ours.reader.read_line();
      ADD_FAILURE() << "no limit_overrun_error";
    } catch (const coloop::limit_overrun_error& e) {
      EXPECT_EQ(e.code(), errc::limit_overrun);
      EXPECT_EQ(e.consumed(), long_line.size());
    }
    EXPECT_EQ(co_await ours.reader.read_line(), "next line\n");
    EXPECT_EQ(co_await ours.reader.read_line(), pattern(100) + "\n");
    EXPECT_EQ(ours.reader.buffered(), 0u);
  }());
}

TEST_P(stream_reader, read_until_over_limit_consumes_nothing) {
  run([]() -> task<void> {
    auto [ours, theirs] = local_streams({.limit = 8});
    theirs.writer.write("0123456789ABCDEF|short|");
    // The separator is 16 bytes in: past the limit of 8, so nothing is consumed.
    auto e = co_await failure_of(ours.reader.read_until("|"));
    EXPECT_EQ(code_of(e), errc::limit_overrun);
    std::size_t consumed = 0;
    try {
      std::rethrow_exception(e);
    } catch (const coloop::limit_overrun_error& l) {
      consumed = l.consumed();
    }
    EXPECT_EQ(consumed, 16u);
    EXPECT_EQ(co_await ours.reader.read_exactly(consumed), "0123456789ABCDEF");
    EXPECT_EQ(co_await ours.reader.read_until("|"), "|");
    EXPECT_EQ(co_await ours.reader.read_until("|"), "short|");
    // Not found within the limit: reported once more than limit bytes are buffered.
    theirs.writer.write("no separator in sight");
    EXPECT_EQ(code_of(co_await failure_of(ours.reader.read_until("\n"))), errc::limit_overrun);
    EXPECT_EQ(co_await ours.reader.read(100), "no separator in sight");
  }());
}

TEST_P(stream_reader, line_sent_one_byte_at_a_time) {
  run([]() -> task<void> {
    auto [ours, theirs] = local_streams();
    const std::string line = "one byte at a time, across many reads\n";
    auto sender = [](coloop::stream_writer& w, std::string text) -> task<void> {
      for (char c : text) {
        w.write(std::string(1, c));
        co_await coloop::yield();
        co_await coloop::yield();
      }
    };
    auto send = coloop::spawn(sender(theirs.writer, line + line.substr(0, 10)));
    EXPECT_EQ(co_await ours.reader.read_line(), line);
    EXPECT_EQ(co_await ours.reader.read_exactly(10), line.substr(0, 10));
    co_await send;
  }());
}

TEST_P(stream_reader, read_exactly_past_eof_carries_partial) {
  run([]() -> task<void> {
    auto [ours, theirs] = local_streams();
    theirs.writer.write("abc");
    theirs.writer.close();
    try {
      co_await ours.reader.read_exactly(10);
      ADD_FAILURE() << "no incomplete_read_error";
    } catch (const coloop::incomplete_read_error& e) {
      EXPECT_EQ(e.code(), errc::incomplete_read);
      EXPECT_EQ(e.partial(), "abc");
      EXPECT_EQ(e.expected(), 10u);
    }
    EXPECT_TRUE(ours.reader.at_eof());
  }());
}

TEST_P(stream_reader, read_exactly_absurd_size_just_reads) {
  run([]() -> task<void> {
    auto [ours, theirs] = local_streams();
    theirs.writer.write(pattern(200 * 1024));
    theirs.writer.close();
    auto e = co_await failure_of(ours.reader.read_exactly(std::size_t{1} << 60));
    EXPECT_EQ(code_of(e), errc::incomplete_read);
    try {
      std::rethrow_exception(e);
    } catch (const coloop::incomplete_read_error& i) {
      EXPECT_EQ(i.partial(), pattern(200 * 1024));
    }
  }());
}

TEST_P(stream_reader_on_loop, cancelled_read_loses_no_byte) {
  run([]() -> task<void> {
    auto [ours, theirs] = local_streams();
    coloop::stream_reader& reader = ours.reader;
    // Half the message arrives, then the read is cancelled.
    auto read10 = coloop::spawn(reader.read_exactly(10));
    theirs.writer.write("01234");
    co_await until([&] { return reader.buffered() == 5; });
    read10.cancel();
    EXPECT_TRUE(coloop::detail::is_cancellation(co_await failure_of(std::move(read10))));
    // Data arriving as the cancel lands (not yet seen by the loop) is not consumed either.
    auto line = coloop::spawn(reader.read_line());
    co_await coloop::yield();
    theirs.writer.write("56789 and the rest\n");
    line.cancel();
    auto outcome = co_await failure_of(std::move(line));
    if (outcome == nullptr) {  // the line won the race: it was delivered, nothing lost either
      ADD_FAILURE() << "the line completed before the cancel (the test raced)";
    }
    EXPECT_EQ(co_await reader.read_exactly(10), "0123456789");
    EXPECT_EQ(co_await reader.read_line(), " and the rest\n");
  }());
}

TEST_P(stream_reader_on_loop, cancelled_while_discarding_an_over_long_line) {
  run([]() -> task<void> {
    auto [ours, theirs_binding] = local_streams({.limit = 16});
    auto& theirs = theirs_binding;  // clang 14 cannot capture a structured binding in a lambda
    coloop::stream_reader& reader = ours.reader;
    auto line = coloop::spawn(reader.read_line());
    theirs.writer.write(pattern(40));  // past the limit, no newline yet: discarding begins
    co_await until([&] { return reader.buffered() == 0 && theirs.writer.buffer_size() == 0; });
    co_await coloop::yield();
    line.cancel();
    EXPECT_TRUE(coloop::detail::is_cancellation(co_await failure_of(std::move(line))));
    theirs.writer.write("end of the long line\nshort\n");
    EXPECT_EQ(code_of(co_await failure_of(reader.read_line())), errc::limit_overrun);
    EXPECT_EQ(co_await reader.read_line(), "short\n");
  }());
}

TEST_P(stream_reader, tcp_reset_is_an_error) {
  run([]() -> task<void> {
    auto [client, server] = co_await coloop::test::tcp_pair();
    stream_pair streams = coloop::make_streams(std::move(server));
    // SO_LINGER {1, 0}: close sends RST.
    const ::linger lin{1, 0};
    EXPECT_EQ(::setsockopt(client.native_handle(), SOL_SOCKET, SO_LINGER, &lin, sizeof lin), 0);
    client.close();
    auto e = co_await failure_of(streams.reader.read_line());
    EXPECT_EQ(code_of(e), std::error_code(ECONNRESET, std::generic_category()));
  }());
}

}  // namespace

namespace {

/// Writes a byte and reads it back through the streams until `stop`: always ready, so only the
/// coop budget lets the timer run (the reader's scratch-buffer path yields before its syscall).
coloop::task<long> ping_through_streams(coloop::stream_pair& ours, coloop::stream_pair& theirs,
                                        const std::atomic<bool>& stop) {
  long rounds = 0;
  char c = 0;
  while (!stop) {
    ours.writer.write("x");
    co_await theirs.reader.read_into(&c, 1);
    ++rounds;
  }
  co_return rounds;
}

coloop::task<void> set_after(coloop::duration d, std::atomic<bool>& flag) {
  co_await coloop::sleep_for(d);
  flag = true;
}

TEST_P(stream_reader, always_ready_stream_does_not_starve_a_timer) {
  const long rounds = run([]() -> task<long> {
    auto pair = local_streams();
    std::atomic<bool> stop{false};
    // A task, not call_later (an event_loop member): it sleeps on the same timers.
    auto timer = coloop::spawn(set_after(std::chrono::milliseconds(1), stop));
    const long n = co_await ping_through_streams(pair.first, pair.second, stop);
    co_await timer;
    co_return n;
  }());
  EXPECT_GT(rounds, 0);
}

// Loop only for now: on the runtime a stream's writer and its background flush task (and a reader
// shared by several tasks) touch the transport from different workers without a lock.
COLOOP_INSTANTIATE_FLAVOURS(stream_reader);
COLOOP_INSTANTIATE_LOOP_FLAVOURS(stream_reader_on_loop);

}  // namespace
