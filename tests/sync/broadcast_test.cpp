// broadcast<T>: every receiver gets every value, lag reporting, close and drain, the sender's
// destruction, cancels before and during recv (the position kept), send from a plain thread, and
// a cancel racing send 10,000 times on the runtime.

#include <coloop/sync/broadcast.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <coloop/core/errors.hpp>
#include <coloop/runtime/runtime.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/yield.hpp>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/flavour.hpp"
#include "sync/notify_test_util.hpp"

namespace {

using coloop::task;
using coloop::test::ending;
using coloop::test::ending_of;
using coloop::test::manual;
using coloop::test::throws_closed;
using coloop::test::until_idle;
using channel = coloop::broadcast<std::string>;

task<std::vector<std::string>> recv_n(channel::receiver& rx, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(co_await rx.recv());
  co_return out;
}

/// Receives until the channel closes.
task<std::vector<std::string>> recv_all(channel::receiver& rx) {
  std::vector<std::string> out;
  for (;;) {
    try {
      out.push_back(co_await rx.recv());
    } catch (const std::system_error& e) {
      if (e.code() != coloop::make_error_code(coloop::errc::closed)) throw;
      co_return out;
    }
  }
}

/// g++ 12 rejects a braced list in a co_await's full expression: build the vector here.
template <class... S>
std::vector<std::string> strings(S... items) {
  return std::vector<std::string>{std::string(items)...};
}

class Broadcast : public coloop::test::flavour_test {};

TEST_P(Broadcast, EveryReceiverGetsEveryValueInOrder) {
  run([]() -> task<void> {
    channel ch(8);
    std::vector<channel::receiver> rxs;
    for (int i = 0; i < 3; ++i) rxs.push_back(ch.subscribe());
    EXPECT_EQ(ch.receiver_count(), 3u);
    std::vector<coloop::join_handle<std::vector<std::string>>> readers;
    for (auto& rx : rxs) readers.push_back(coloop::spawn(recv_n, std::ref(rx), 3));
    co_await until_idle();
    EXPECT_EQ(ch.send("a"), 3u);
    EXPECT_EQ(ch.send("b"), 3u);
    EXPECT_EQ(ch.send("c"), 3u);
    for (auto& r : readers) EXPECT_EQ(co_await r, strings("a", "b", "c"));
  }(), manual());
}

TEST_P(Broadcast, ASubscriberGetsOnlyWhatIsSentAfterIt) {
  run([]() -> task<void> {
    channel ch(4);
    EXPECT_EQ(ch.capacity(), 4u);
    EXPECT_EQ(ch.send("nobody"), 0u);
    channel::receiver rx = ch.subscribe();
    EXPECT_EQ(rx.pending(), 0u);
    ch.send("one");
    ch.send("two");
    EXPECT_EQ(rx.pending(), 2u);
    EXPECT_EQ(co_await rx.recv(), "one");
    EXPECT_EQ(co_await rx.recv(), "two");
    EXPECT_EQ(rx.pending(), 0u);
  }(), manual());
}

TEST_P(Broadcast, ALaggingReceiverLearnsHowManyItMissedThenGoesOnFromTheOldest) {
  run([]() -> task<void> {
    channel ch(2);
    channel::receiver slow = ch.subscribe();
    channel::receiver fast = ch.subscribe();
    for (int i = 0; i < 5; ++i) {
      ch.send(std::to_string(i));
      EXPECT_EQ(co_await fast.recv(), std::to_string(i));
    }
    try {
      (void)co_await slow.recv();
      ADD_FAILURE() << "no lag reported";
    } catch (const coloop::lagged_error& e) {
      EXPECT_EQ(e.missed(), 3u);
      EXPECT_NE(std::string(e.what()).find('3'), std::string::npos) << e.what();
    }
    EXPECT_EQ(co_await slow.recv(), "3");
    EXPECT_EQ(co_await slow.recv(), "4");
  }(), manual());
}

TEST_P(Broadcast, CloseLetsReceiversDrainThenThrowsClosed) {
  run([]() -> task<void> {
    channel ch(4);
    channel::receiver rx = ch.subscribe();
    channel::receiver waiting = ch.subscribe();
    auto reader = coloop::spawn(recv_all, std::ref(waiting));
    ch.send("x");
    ch.send("y");
    EXPECT_FALSE(ch.is_closed());
    ch.close();
    EXPECT_TRUE(ch.is_closed());
    ch.close();  // idempotent
    EXPECT_TRUE(throws_closed([&ch] { ch.send("late"); }));
    EXPECT_EQ(co_await rx.recv(), "x");
    EXPECT_EQ(co_await rx.recv(), "y");
    EXPECT_EQ(co_await ending_of(reader), ending::returned);
    EXPECT_EQ(co_await reader, strings("x", "y"));
    bool closed = false;
    try {
      (void)co_await rx.recv();
    } catch (const std::system_error& e) {
      closed = e.code() == coloop::make_error_code(coloop::errc::closed);
    }
    EXPECT_TRUE(closed);
  }(), manual());
}

TEST_P(Broadcast, DestroyingTheSenderClosesTheChannel) {
  run([]() -> task<void> {
    std::optional<channel> ch(std::in_place, 4);
    channel::receiver rx = ch->subscribe();
    auto reader = coloop::spawn(recv_all, std::ref(rx));
    co_await until_idle();
    ch->send("last");
    ch.reset();
    EXPECT_EQ(co_await reader, strings("last"));
  }(), manual());
}

TEST_P(Broadcast, CancelWhileWaitingKeepsThePosition) {
  run([]() -> task<void> {
    channel ch(4);
    std::vector<channel::receiver> rxs;
    for (int i = 0; i < 3; ++i) rxs.push_back(ch.subscribe());
    std::vector<coloop::join_handle<std::vector<std::string>>> readers;
    for (auto& rx : rxs) readers.push_back(coloop::spawn(recv_n, std::ref(rx), 1));
    co_await until_idle();
    readers[1].cancel();
    EXPECT_EQ(co_await ending_of(readers[1]), ending::cancelled);
    ch.send("v");
    EXPECT_EQ(co_await readers[0], strings("v"));
    EXPECT_EQ(co_await readers[2], strings("v"));
    EXPECT_EQ(co_await rxs[1].recv(), "v");  // the cancelled receiver lost nothing
  }(), manual());
}

TEST_P(Broadcast, CancelBeforeRecvTakesNothing) {
  run([]() -> task<void> {
    channel ch(4);
    channel::receiver rx = ch.subscribe();
    auto reader = coloop::spawn(recv_n, std::ref(rx), 1);
    reader.cancel();
    EXPECT_EQ(co_await ending_of(reader), ending::cancelled);
    ch.send("kept");
    EXPECT_EQ(co_await rx.recv(), "kept");
  }(), manual());
}

TEST_P(Broadcast, SendFromAPlainThreadWakesTheTask) {
  run([]() -> task<void> {
    channel ch(4);
    channel::receiver rx = ch.subscribe();
    auto reader = coloop::spawn(recv_n, std::ref(rx), 2);
    co_await until_idle();
    std::thread sender([&ch] {
      ch.send("p");
      ch.send("q");
    });
    EXPECT_EQ(co_await reader, strings("p", "q"));
    sender.join();
  }(), manual());
}

TEST_P(Broadcast, ReceiversAndSendersMoveAndCountThemselves) {
  run([]() -> task<void> {
    channel ch(2);
    std::optional<channel::receiver> a(ch.subscribe());
    channel::receiver b(std::move(*a));
    EXPECT_EQ(ch.receiver_count(), 1u);
    EXPECT_THROW((void)a->recv(), std::logic_error);
    EXPECT_EQ(a->pending(), 0u);
    a.reset();
    EXPECT_EQ(ch.receiver_count(), 1u);
    ch.send("m");
    EXPECT_EQ(co_await b.recv(), "m");
    channel moved(std::move(ch));
    EXPECT_TRUE(ch.is_closed());  // NOLINT(bugprone-use-after-move): moved-from is closed
    EXPECT_THROW(ch.send("x"), std::logic_error);
    EXPECT_THROW((void)ch.subscribe(), std::logic_error);
    EXPECT_EQ(ch.receiver_count(), 0u);
    EXPECT_EQ(moved.send("n"), 1u);
    EXPECT_EQ(co_await b.recv(), "n");
  }(), manual());
}

TEST_P(Broadcast, ZeroCapacityIsRejected) { EXPECT_THROW(channel(0), std::invalid_argument); }

COLOOP_INSTANTIATE_FLAVOURS(Broadcast);

task<void> send_it(channel& ch) {
  ch.send("v");
  co_return;
}

task<int> cancel_races(int rounds) {
  int bad = 0;
  for (int i = 0; i < rounds; ++i) {
    channel ch(1);
    channel::receiver rx = ch.subscribe();
    auto reader = coloop::spawn(recv_n, std::ref(rx), 1);
    for (int y = 0; y < i % 3; ++y) co_await coloop::yield();
    coloop::join_handle<void> sender;
    if (i % 2 == 0) {
      reader.cancel();
      sender = coloop::spawn(send_it, std::ref(ch));
    } else {
      sender = coloop::spawn(send_it, std::ref(ch));
      reader.cancel();
    }
    const ending r = co_await ending_of(reader);
    co_await sender;
    if (r == ending::cancelled) {
      if (rx.pending() != 1 || co_await rx.recv() != "v") ++bad;  // the value still waits for it
    } else if (r != ending::returned || rx.pending() != 0) {
      ++bad;
    }
  }
  co_return bad;
}

TEST(BroadcastRace, CancelRacingSendIsNeverLostOrDoubled10000Times) {
  coloop::runtime rt({.workers = 2});
  EXPECT_EQ(rt.block_on(cancel_races(10'000)), 0);
}

}  // namespace
