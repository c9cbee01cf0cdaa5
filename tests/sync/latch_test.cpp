// latch: count_down/count/try_wait/wait on every flavour; three waiters; bad counts; a cancel
// before and during the wait; count_down from a plain thread; a cancel racing the last count_down
// 10,000 times on the runtime.

#include <coloop/sync/latch.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <coloop/core/errors.hpp>
#include <coloop/runtime/runtime.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/yield.hpp>
#include <functional>
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
using coloop::test::until_idle;

task<void> wait_on(coloop::latch& l, std::atomic<int>& woken) {
  co_await l.wait();
  woken.fetch_add(1);
}

class Latch : public coloop::test::flavour_test {};

TEST_P(Latch, ReachingZeroWakesEveryWaiter) {
  run([]() -> task<void> {
    coloop::latch l(3);
    std::atomic<int> woken{0};
    std::vector<coloop::join_handle<void>> waiters;
    for (int i = 0; i < 3; ++i)
      waiters.push_back(coloop::spawn(wait_on, std::ref(l), std::ref(woken)));
    co_await until_idle();
    l.count_down();
    l.count_down();
    co_await until_idle();
    EXPECT_EQ(woken.load(), 0);  // one count left: nobody wakes
    EXPECT_EQ(l.count(), 1);
    EXPECT_FALSE(l.try_wait());
    l.count_down();
    for (auto& w : waiters) co_await w;
    EXPECT_EQ(woken.load(), 3);
    EXPECT_TRUE(l.try_wait());
    co_await l.wait();  // stays open
  }(), manual());
}

TEST_P(Latch, CountDownByKAndAZeroLatchIsOpen) {
  run([]() -> task<void> {
    coloop::latch open(0);
    EXPECT_TRUE(open.try_wait());
    co_await open.wait();
    coloop::latch l(5);
    l.count_down(3);
    EXPECT_EQ(l.count(), 2);
    l.count_down(0);  // a no-op
    EXPECT_EQ(l.count(), 2);
    l.count_down(2);
    EXPECT_EQ(l.count(), 0);
    co_await l.wait();
  }(), manual());
}

TEST_P(Latch, CountingBelowZeroIsAClearErrorAndChangesNothing) {
  coloop::latch l(2);
  try {
    l.count_down(3);
    ADD_FAILURE() << "no exception";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("below zero"), std::string::npos) << e.what();
  }
  EXPECT_EQ(l.count(), 2);
  l.count_down(2);
  EXPECT_THROW(l.count_down(), std::logic_error);
  EXPECT_EQ(l.count(), 0);
}

TEST_P(Latch, NegativeArgumentsAreRejected) {
  EXPECT_THROW(coloop::latch(-1), std::invalid_argument);
  coloop::latch l(1);
  EXPECT_THROW(l.count_down(-1), std::invalid_argument);
  EXPECT_EQ(l.count(), 1);
}

TEST_P(Latch, CancelWhileWaitingLeavesTheCount) {
  run([]() -> task<void> {
    coloop::latch l(2);
    std::atomic<int> woken{0};
    std::vector<coloop::join_handle<void>> waiters;
    for (int i = 0; i < 3; ++i)
      waiters.push_back(coloop::spawn(wait_on, std::ref(l), std::ref(woken)));
    co_await until_idle();
    l.count_down();
    waiters[0].cancel();
    EXPECT_EQ(co_await ending_of(waiters[0]), ending::cancelled);
    EXPECT_EQ(l.count(), 1);
    EXPECT_FALSE(waiters[1].done());
    l.count_down();
    co_await waiters[1];
    co_await waiters[2];
    EXPECT_EQ(woken.load(), 2);
  }(), manual());
}

TEST_P(Latch, CancelBeforeTheWaitThrowsWithoutWaiting) {
  run([]() -> task<void> {
    coloop::latch l(1);
    std::atomic<int> woken{0};
    auto h = coloop::spawn(wait_on, std::ref(l), std::ref(woken));
    h.cancel();
    EXPECT_EQ(co_await ending_of(h), ending::cancelled);
    EXPECT_EQ(l.count(), 1);
    EXPECT_EQ(woken.load(), 0);
  }(), manual());
}

TEST_P(Latch, CountDownFromAPlainThreadWakesTheTask) {
  run([]() -> task<void> {
    coloop::latch l(2);
    std::atomic<int> woken{0};
    auto h = coloop::spawn(wait_on, std::ref(l), std::ref(woken));
    co_await until_idle();
    std::thread counter([&l] {
      l.count_down();
      l.count_down();
    });
    co_await h;
    counter.join();
    EXPECT_EQ(woken.load(), 1);
  }(), manual());
}

COLOOP_INSTANTIATE_FLAVOURS(Latch);

task<void> count_it(coloop::latch& l) {
  l.count_down();
  co_return;
}

task<int> cancel_races(int rounds) {
  int bad = 0;
  for (int i = 0; i < rounds; ++i) {
    coloop::latch l(1);
    std::atomic<int> woken{0};
    auto waiter = coloop::spawn(wait_on, std::ref(l), std::ref(woken));
    for (int y = 0; y < i % 3; ++y) co_await coloop::yield();
    coloop::join_handle<void> counter;
    if (i % 2 == 0) {
      waiter.cancel();
      counter = coloop::spawn(count_it, std::ref(l));
    } else {
      counter = coloop::spawn(count_it, std::ref(l));
      waiter.cancel();
    }
    const ending r = co_await ending_of(waiter);
    co_await counter;
    const bool ok = (r == ending::returned && woken.load() == 1) ||
                    (r == ending::cancelled && woken.load() == 0);
    if (!ok || l.count() != 0) ++bad;
  }
  co_return bad;
}

TEST(LatchRace, CancelRacingTheLastCountDownIsNeverLostOrDoubled10000Times) {
  coloop::runtime rt({.workers = 2});
  EXPECT_EQ(rt.block_on(cancel_races(10'000)), 0);
}

}  // namespace
