// sleep_for / sleep_until / yield on the manual clock.

#include <coloop/runtime/sleep.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <vector>

#include <coloop/core/when_all.hpp>
#include <coloop/runtime/event_loop.hpp>
#include <coloop/runtime/run.hpp>
#include <coloop/runtime/wait_for.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/yield.hpp>
#include <coloop/runtime/now.hpp>
#include "support/flavour.hpp"

using namespace std::chrono_literals;

namespace {

coloop::loop_options manual() { return {.manual_clock = true}; }

class Sleep : public coloop::test::flavour_test {};
class SleepOnLoop : public coloop::test::flavour_test {};

TEST_P(Sleep, SleepForWaitsAtLeastTheDuration) {
  auto main = []() -> coloop::task<coloop::duration> {
    const auto start = coloop::now();
    co_await coloop::sleep_for(250ms);
    co_return coloop::now() - start;
  };
  EXPECT_EQ(run(main(), manual()), 250ms);
}

TEST_P(Sleep, HourLongSleepTakesNoRealTime) {
  const auto wall = std::chrono::steady_clock::now();
  auto main = []() -> coloop::task<void> { co_await coloop::sleep_for(24h); };
  run(main(), manual());
  EXPECT_LT(std::chrono::steady_clock::now() - wall, 10s);
}

TEST_P(Sleep, SleepUntilAPastTimeStillSuspendsOnce) {
  auto main = []() -> coloop::task<std::vector<int>> {
    std::vector<int> order;
    auto other = coloop::spawn([](std::vector<int>& o) -> coloop::task<void> {
      o.push_back(1);
      co_return;
    }(order));
    co_await coloop::sleep_until(coloop::now() - 1s);
    order.push_back(2);
    co_await other;
    co_return order;
  };
  EXPECT_EQ(run(main(), manual()), (std::vector<int>{1, 2}));
}

TEST_P(Sleep, SleepersWakeInDeadlineOrder) {
  auto main = []() -> coloop::task<std::vector<int>> {
    std::vector<int> order;
    auto sleeper = [](std::vector<int>& o, int ms) -> coloop::task<void> {
      co_await coloop::sleep_for(std::chrono::milliseconds(ms));
      o.push_back(ms);
    };
    co_await coloop::when_all(sleeper(order, 30), sleeper(order, 10), sleeper(order, 20));
    co_return order;
  };
  EXPECT_EQ(run(main(), manual()), (std::vector<int>{10, 20, 30}));
}

TEST_P(Sleep, RealClockSleepIsNeverEarly) {
  auto main = []() -> coloop::task<coloop::duration> {
    const auto start = std::chrono::steady_clock::now();
    co_await coloop::sleep_for(3ms);
    co_return std::chrono::steady_clock::now() - start;
  };
  EXPECT_GE(run(main()), 3ms);
}

TEST_P(Sleep, CancellingASleepThrowsAndWithdrawsTheTimer) {
  auto main = []() -> coloop::task<void> {
    auto h = coloop::spawn([]() -> coloop::task<void> { co_await coloop::sleep_for(1h); }());
    co_await coloop::sleep_for(1ms);
    const auto before = coloop::now();
    h.cancel();
    EXPECT_THROW(co_await h, coloop::cancelled_error);
    EXPECT_EQ(coloop::now(), before);  // the 1 h timer did not have to pass
  };
  run(main(), manual());
}

coloop::task<void> set_flag(std::atomic<bool>& flag) {
  flag = true;
  co_return;
}

TEST_P(Sleep, YieldLetsOtherTasksRun) {
  // On the runtime one yield need not run a given task (no FIFO order; another worker may have
  // taken it), so yield until the spawned task has run: a yield that never lets anything else run
  // fails here (after yield_until's bound) instead of hanging.
  auto main = []() -> coloop::task<void> {
    std::atomic<bool> ran{false};
    auto h = coloop::spawn(set_flag(ran));
    auto has_run = [&] { return ran.load(); };
    EXPECT_TRUE(co_await coloop::test::yield_until(has_run));
    co_await h;
  };
  run(main());
}

// FIFO order between tasks is the event_loop's (the runtime promises none): one yield puts the
// caller behind the task spawned before it.
TEST_P(SleepOnLoop, YieldRunsTheTasksQueuedBeforeIt) {
  auto main = []() -> coloop::task<std::vector<int>> {
    std::vector<int> order;
    auto h = coloop::spawn([](std::vector<int>& o) -> coloop::task<void> {
      o.push_back(1);
      co_return;
    }(order));
    order.push_back(0);
    co_await coloop::yield();
    order.push_back(2);
    co_await h;
    co_return order;
  };
  EXPECT_EQ(run(main()), (std::vector<int>{0, 1, 2}));
}

TEST_P(Sleep, YieldWithAPendingCancelThrows) {
  auto main = []() -> coloop::task<void> {
    auto h = coloop::spawn([]() -> coloop::task<void> {
      for (;;) co_await coloop::yield();
    }());
    co_await coloop::yield();
    h.cancel();
    EXPECT_THROW(co_await h, coloop::cancelled_error);
  };
  run(main());
}

TEST(SleepNoLoop, SleepWithoutALoopThrows) {
  EXPECT_THROW((void)coloop::sleep_for(1ms), std::logic_error);
}

// Deadlines and durations at the ends of the clock saturate: nothing overflows (UBSan would
// flag it) and nothing hangs. A past deadline, however far, is due at once; a duration past the
// end of the clock is a sleep without end (cancellable).
coloop::task<void> extreme_deadlines(bool manual_clock) {
  const coloop::time_point start = coloop::now();
  co_await coloop::sleep_until(coloop::time_point::min());
  co_await coloop::sleep_until(coloop::time_point::min() + 1ns);
  co_await coloop::sleep_for(coloop::duration::min());
  co_await coloop::sleep_for(-1h);
  if (manual_clock) {
    EXPECT_EQ(coloop::now(), start);  // nothing was waited for
  }
  EXPECT_THROW(co_await coloop::wait_for(coloop::sleep_for(coloop::duration::max()), 1ms),
               coloop::timeout_error);
  // The longest whole number of hours a nanosecond count holds (hours::max() itself overflows
  // in the caller's conversion to nanoseconds, before coloop sees it).
  const auto longest = std::chrono::floor<std::chrono::hours>(coloop::duration::max());
  EXPECT_THROW(co_await coloop::wait_for(coloop::sleep_for(longest), 1ms), coloop::timeout_error);
  EXPECT_THROW(co_await coloop::wait_for(coloop::sleep_until(coloop::time_point::max()), 1ms),
               coloop::timeout_error);
  co_await coloop::wait_for(coloop::sleep_for(1ms), coloop::duration::max());  // completes
  co_await coloop::wait_for(coloop::sleep_for(1ms), longest);
  EXPECT_THROW(co_await coloop::wait_for(coloop::sleep_for(1h), coloop::duration::min()),
               coloop::timeout_error);
}

TEST_P(Sleep, ExtremeDeadlinesSaturateOnTheRealClock) { run(extreme_deadlines(false)); }

TEST_P(Sleep, ExtremeDeadlinesSaturateOnTheManualClock) {
  run(extreme_deadlines(true), manual());
}

COLOOP_INSTANTIATE_FLAVOURS(Sleep);
COLOOP_INSTANTIATE_LOOP_FLAVOURS(SleepOnLoop);

}  // namespace
