// event: set/clear/is_set/wait on every flavour; three waiters; a cancel before, during and after
// the wait; set from a plain thread; a cancel racing set 10,000 times on the runtime.

#include <coloop/sync/event.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <coloop/core/errors.hpp>
#include <coloop/runtime/runtime.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/yield.hpp>
#include <functional>
#include <thread>
#include <vector>

#include "support/flavour.hpp"
#include "sync/notify_test_util.hpp"

namespace {

using coloop::task;
using coloop::test::ending;
using coloop::test::ending_of;
using coloop::test::manual;
using coloop::test::until_idle;

task<void> wait_on(coloop::event& e, std::atomic<int>& woken) {
  co_await e.wait();
  woken.fetch_add(1);
}

class Event : public coloop::test::flavour_test {};

TEST_P(Event, SetWakesEveryWaiter) {
  run([]() -> task<void> {
    coloop::event e;
    std::atomic<int> woken{0};
    std::vector<coloop::join_handle<void>> waiters;
    for (int i = 0; i < 3; ++i)
      waiters.push_back(coloop::spawn(wait_on, std::ref(e), std::ref(woken)));
    co_await until_idle();
    EXPECT_EQ(woken.load(), 0);  // all three are parked
    e.set();
    for (auto& w : waiters) co_await w;
    EXPECT_EQ(woken.load(), 3);
  }(), manual());
}

TEST_P(Event, WaitReturnsAtOnceWhileSet) {
  run([]() -> task<void> {
    coloop::event e;
    e.set();
    co_await e.wait();
    co_await e.wait();
    EXPECT_TRUE(e.is_set());
  }(), manual());
}

TEST_P(Event, IsSetFollowsSetAndClear) {
  coloop::event e;
  EXPECT_FALSE(e.is_set());
  e.set();
  EXPECT_TRUE(e.is_set());
  e.set();  // idempotent
  EXPECT_TRUE(e.is_set());
  e.clear();
  EXPECT_FALSE(e.is_set());
}

TEST_P(Event, ClearAfterSetStillReleasesTheWokenButBlocksLaterWaits) {
  run([]() -> task<void> {
    coloop::event e;
    std::atomic<int> woken{0};
    std::vector<coloop::join_handle<void>> waiters;
    for (int i = 0; i < 3; ++i)
      waiters.push_back(coloop::spawn(wait_on, std::ref(e), std::ref(woken)));
    co_await until_idle();
    e.set();
    e.clear();  // asyncio: the waiters set() woke still return
    for (auto& w : waiters) co_await w;
    EXPECT_EQ(woken.load(), 3);
    auto late = coloop::spawn(wait_on, std::ref(e), std::ref(woken));
    co_await until_idle();
    EXPECT_FALSE(late.done());
    e.set();
    co_await late;
    EXPECT_EQ(woken.load(), 4);
  }(), manual());
}

TEST_P(Event, CancelWhileWaitingWithdrawsOnlyThatWaiter) {
  run([]() -> task<void> {
    coloop::event e;
    std::atomic<int> woken{0};
    std::vector<coloop::join_handle<void>> waiters;
    for (int i = 0; i < 3; ++i)
      waiters.push_back(coloop::spawn(wait_on, std::ref(e), std::ref(woken)));
    co_await until_idle();
    waiters[1].cancel();
    EXPECT_EQ(co_await ending_of(waiters[1]), ending::cancelled);
    EXPECT_FALSE(e.is_set());  // the cancel changed nothing
    EXPECT_FALSE(waiters[0].done());
    EXPECT_FALSE(waiters[2].done());
    e.set();
    co_await waiters[0];
    co_await waiters[2];
    EXPECT_EQ(woken.load(), 2);
  }(), manual());
}

TEST_P(Event, CancelBeforeTheWaitThrowsWithoutWaiting) {
  run([]() -> task<void> {
    coloop::event e;
    std::atomic<int> woken{0};
    auto h = coloop::spawn(wait_on, std::ref(e), std::ref(woken));
    h.cancel();  // pending when the task reaches its wait
    EXPECT_EQ(co_await ending_of(h), ending::cancelled);
    EXPECT_EQ(woken.load(), 0);
    EXPECT_FALSE(e.is_set());
  }(), manual());
}

task<void> wait_twice(coloop::event& first, coloop::event& second, std::atomic<int>& woken) {
  co_await first.wait();
  woken.fetch_add(1);
  co_await second.wait();  // never set: only the kept cancel ends it
  woken.fetch_add(1);
}

TEST_P(Event, CancelAfterTheWakeIsKeptForTheNextAwait) {
  run([]() -> task<void> {
    coloop::event first;
    coloop::event second;
    std::atomic<int> woken{0};
    auto h = coloop::spawn(wait_twice, std::ref(first), std::ref(second), std::ref(woken));
    co_await until_idle();
    first.set();
    h.cancel();  // the wake was already delivered: the first wait returns, the second throws
    EXPECT_EQ(co_await ending_of(h), ending::cancelled);
    EXPECT_EQ(woken.load(), 1);
  }(), manual());
}

TEST_P(Event, CancelAfterTheTaskEndedChangesNothing) {
  run([]() -> task<void> {
    coloop::event e;
    std::atomic<int> woken{0};
    auto h = coloop::spawn(wait_on, std::ref(e), std::ref(woken));
    e.set();
    co_await h;
    h.cancel();
    EXPECT_EQ(co_await ending_of(h), ending::returned);
    EXPECT_TRUE(e.is_set());
  }(), manual());
}

TEST_P(Event, SetFromAPlainThreadWakesTheTask) {
  run([]() -> task<void> {
    coloop::event e;
    std::atomic<int> woken{0};
    auto h = coloop::spawn(wait_on, std::ref(e), std::ref(woken));
    co_await until_idle();
    std::thread setter([&e] { e.set(); });
    co_await h;
    setter.join();
    EXPECT_EQ(woken.load(), 1);
  }(), manual());
}

COLOOP_INSTANTIATE_FLAVOURS(Event);

struct race_counts {
  int woken = 0;
  int cancelled = 0;
  int other = 0;
};

task<void> set_it(coloop::event& e) {
  e.set();
  co_return;
}

task<race_counts> cancel_races(int rounds) {
  race_counts c;
  for (int i = 0; i < rounds; ++i) {
    coloop::event e;
    std::atomic<int> woken{0};
    auto waiter = coloop::spawn(wait_on, std::ref(e), std::ref(woken));
    for (int y = 0; y < i % 3; ++y) co_await coloop::yield();  // vary where the cancel lands
    coloop::join_handle<void> setter;
    if (i % 2 == 0) {
      waiter.cancel();
      setter = coloop::spawn(set_it, std::ref(e));
    } else {
      setter = coloop::spawn(set_it, std::ref(e));
      waiter.cancel();
    }
    const ending r = co_await ending_of(waiter);
    co_await setter;
    if (r == ending::returned && woken.load() == 1) {
      ++c.woken;
    } else if (r == ending::cancelled && woken.load() == 0) {
      ++c.cancelled;
    } else {
      ++c.other;
    }
  }
  co_return c;
}

TEST(EventRace, CancelRacingSetIsNeverLostOrDoubled10000Times) {
  coloop::runtime rt({.workers = 2});
  const race_counts c = rt.block_on(cancel_races(10'000));
  EXPECT_EQ(c.other, 0);
  EXPECT_EQ(c.woken + c.cancelled, 10'000);
  EXPECT_GT(c.woken, 0);
  EXPECT_GT(c.cancelled, 0);
}

}  // namespace
