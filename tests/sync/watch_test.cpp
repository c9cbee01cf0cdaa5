// watch<T>: the current value, changed() per receiver (never missing a change, coalescing
// several), close, the watch's destruction, cancels before and during changed() (the change kept
// unseen), send from a plain thread, and a cancel racing send 10,000 times on the runtime.

#include <coloop/sync/watch.hpp>

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
using cell = coloop::watch<int>;

/// Waits for one change and returns the value then current.
task<int> next_value(cell::receiver& rx) {
  co_await rx.changed();
  co_return rx.get();
}

/// Counts the changes seen until the watch closes.
task<int> count_changes(cell::receiver& rx) {
  int seen = 0;
  for (;;) {
    try {
      co_await rx.changed();
      ++seen;
    } catch (const std::system_error& e) {
      if (e.code() != coloop::make_error_code(coloop::errc::closed)) throw;
      co_return seen;
    }
  }
}

class Watch : public coloop::test::flavour_test {};

TEST_P(Watch, GetAndBorrowReturnTheCurrentValue) {
  cell w(7);
  EXPECT_EQ(w.get(), 7);
  EXPECT_EQ(w.borrow(), 7);
  EXPECT_EQ(w.version(), 0u);
  cell::receiver rx = w.subscribe();
  EXPECT_EQ(w.send(8), 1u);
  EXPECT_EQ(w.set(9), 1u);
  EXPECT_EQ(w.get(), 9);
  EXPECT_EQ(rx.get(), 9);
  EXPECT_EQ(rx.borrow(), 9);
  EXPECT_EQ(w.version(), 2u);
  EXPECT_EQ(w.receiver_count(), 1u);
}

TEST_P(Watch, ChangedWakesEveryWaitingReceiver) {
  run([]() -> task<void> {
    cell w(0);
    std::vector<cell::receiver> rxs;
    for (int i = 0; i < 3; ++i) rxs.push_back(w.subscribe());
    std::vector<coloop::join_handle<int>> waiters;
    for (auto& rx : rxs) waiters.push_back(coloop::spawn(next_value, std::ref(rx)));
    co_await until_idle();
    for (auto& h : waiters) EXPECT_FALSE(h.done());  // the value they subscribed at is seen
    EXPECT_EQ(w.send(5), 3u);
    for (auto& h : waiters) EXPECT_EQ(co_await h, 5);
  }(), manual());
}

TEST_P(Watch, SeveralChangesCoalesceAndNoneIsMissedBetweenWaits) {
  run([]() -> task<void> {
    cell w(0);
    cell::receiver rx = w.subscribe();
    EXPECT_FALSE(rx.has_changed());
    w.send(1);  // while nobody waits: not missed
    w.send(2);
    w.send(3);
    EXPECT_TRUE(rx.has_changed());
    co_await rx.changed();  // at once, once for the three
    EXPECT_FALSE(rx.has_changed());
    EXPECT_EQ(rx.get(), 3);
    auto h = coloop::spawn(next_value, std::ref(rx));
    co_await until_idle();
    EXPECT_FALSE(h.done());  // nothing unseen: it waits
    w.send(4);
    EXPECT_EQ(co_await h, 4);
  }(), manual());
}

TEST_P(Watch, BorrowAndUpdateMarksTheValueSeen) {
  run([]() -> task<void> {
    cell w(0);
    cell::receiver rx = w.subscribe();
    w.send(1);
    EXPECT_EQ(rx.borrow(), 1);
    EXPECT_TRUE(rx.has_changed());  // borrow does not mark it seen
    EXPECT_EQ(rx.borrow_and_update(), 1);
    EXPECT_FALSE(rx.has_changed());
    auto h = coloop::spawn(next_value, std::ref(rx));
    co_await until_idle();
    EXPECT_FALSE(h.done());
    w.send(2);
    EXPECT_EQ(co_await h, 2);
  }(), manual());
}

TEST_P(Watch, CloseDeliversAnUnseenChangeThenThrowsClosed) {
  run([]() -> task<void> {
    cell w(0);
    cell::receiver rx = w.subscribe();
    cell::receiver waiting = w.subscribe();
    auto counter = coloop::spawn(count_changes, std::ref(waiting));
    co_await until_idle();
    w.send(1);
    w.close();
    EXPECT_TRUE(w.is_closed());
    w.close();  // idempotent
    EXPECT_TRUE(throws_closed([&w] { w.send(2); }));
    EXPECT_EQ(w.get(), 1);  // the last value stays readable
    co_await rx.changed();  // the change made before the close
    bool closed = false;
    try {
      co_await rx.changed();
    } catch (const std::system_error& e) {
      closed = e.code() == coloop::make_error_code(coloop::errc::closed);
    }
    EXPECT_TRUE(closed);
    EXPECT_EQ(co_await counter, 1);
  }(), manual());
}

TEST_P(Watch, DestroyingTheWatchClosesIt) {
  run([]() -> task<void> {
    std::optional<cell> w(std::in_place, 0);
    cell::receiver rx = w->subscribe();
    auto counter = coloop::spawn(count_changes, std::ref(rx));
    co_await until_idle();
    w.reset();
    EXPECT_EQ(co_await counter, 0);
    EXPECT_EQ(rx.get(), 0);  // the receiver keeps the last value
  }(), manual());
}

TEST_P(Watch, CancelWhileWaitingLeavesTheChangeUnseen) {
  run([]() -> task<void> {
    cell w(0);
    std::vector<cell::receiver> rxs;
    for (int i = 0; i < 3; ++i) rxs.push_back(w.subscribe());
    std::vector<coloop::join_handle<int>> waiters;
    for (auto& rx : rxs) waiters.push_back(coloop::spawn(next_value, std::ref(rx)));
    co_await until_idle();
    waiters[1].cancel();
    EXPECT_EQ(co_await ending_of(waiters[1]), ending::cancelled);
    w.send(6);
    EXPECT_EQ(co_await waiters[0], 6);
    EXPECT_EQ(co_await waiters[2], 6);
    EXPECT_TRUE(rxs[1].has_changed());  // the cancelled receiver still has it to see
    co_await rxs[1].changed();
    EXPECT_FALSE(rxs[1].has_changed());
  }(), manual());
}

TEST_P(Watch, CancelBeforeChangedSeesNothing) {
  run([]() -> task<void> {
    cell w(0);
    cell::receiver rx = w.subscribe();
    auto h = coloop::spawn(next_value, std::ref(rx));
    h.cancel();
    EXPECT_EQ(co_await ending_of(h), ending::cancelled);
    w.send(1);
    EXPECT_TRUE(rx.has_changed());
  }(), manual());
}

TEST_P(Watch, SendFromAPlainThreadWakesTheTask) {
  run([]() -> task<void> {
    cell w(0);
    cell::receiver rx = w.subscribe();
    auto h = coloop::spawn(next_value, std::ref(rx));
    co_await until_idle();
    std::thread sender([&w] { w.send(42); });
    EXPECT_EQ(co_await h, 42);
    sender.join();
  }(), manual());
}

TEST_P(Watch, ReceiversAndWatchesMove) {
  run([]() -> task<void> {
    cell w(1);
    std::optional<cell::receiver> a(w.subscribe());
    cell::receiver b(std::move(*a));
    EXPECT_EQ(w.receiver_count(), 1u);
    EXPECT_THROW((void)a->changed(), std::logic_error);
    EXPECT_THROW((void)a->get(), std::logic_error);
    EXPECT_THROW((void)a->borrow_and_update(), std::logic_error);
    EXPECT_FALSE(a->has_changed());
    a.reset();
    EXPECT_EQ(w.receiver_count(), 1u);
    cell moved(std::move(w));
    EXPECT_TRUE(w.is_closed());  // NOLINT(bugprone-use-after-move): moved-from is closed
    EXPECT_THROW(w.send(3), std::logic_error);
    EXPECT_THROW((void)w.get(), std::logic_error);
    EXPECT_THROW((void)w.subscribe(), std::logic_error);
    EXPECT_EQ(w.version(), 0u);
    EXPECT_EQ(w.receiver_count(), 0u);
    moved.send(2);
    co_await b.changed();
    EXPECT_EQ(b.get(), 2);
  }(), manual());
}

COLOOP_INSTANTIATE_FLAVOURS(Watch);

task<void> send_it(cell& w, int v) {
  w.send(v);
  co_return;
}

task<int> cancel_races(int rounds) {
  int bad = 0;
  for (int i = 0; i < rounds; ++i) {
    cell w(0);
    cell::receiver rx = w.subscribe();
    auto waiter = coloop::spawn(next_value, std::ref(rx));
    for (int y = 0; y < i % 3; ++y) co_await coloop::yield();
    coloop::join_handle<void> sender;
    if (i % 2 == 0) {
      waiter.cancel();
      sender = coloop::spawn(send_it, std::ref(w), 1);
    } else {
      sender = coloop::spawn(send_it, std::ref(w), 1);
      waiter.cancel();
    }
    const ending r = co_await ending_of(waiter);
    co_await sender;
    // Cancelled: the change is still unseen. Woken: it was seen, exactly once.
    if (r == ending::cancelled ? !rx.has_changed() : (r != ending::returned || rx.has_changed())) {
      ++bad;
    }
  }
  co_return bad;
}

TEST(WatchRace, CancelRacingSendIsNeverLostOrDoubled10000Times) {
  coloop::runtime rt({.workers = 2});
  EXPECT_EQ(rt.block_on(cancel_races(10'000)), 0);
}

}  // namespace
