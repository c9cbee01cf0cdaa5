// event_loop: call_soon ordering, timers on the virtual clock, threadsafe calls, lifecycle and
// misuse errors.

#include <coloop/runtime/event_loop.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include <coloop/runtime/run.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/yield.hpp>
#include "support/flavour.hpp"

using namespace std::chrono_literals;

namespace {

coloop::loop_options manual() { return {.manual_clock = true}; }

class EventLoop : public coloop::test::flavour_test {};

TEST_P(EventLoop, CallSoonRunsInFifoOrder) {
  coloop::event_loop loop(options());
  std::vector<int> order;
  for (int i = 0; i < 1000; ++i) loop.call_soon([&order, i] { order.push_back(i); });
  loop.call_soon([&loop] { loop.stop(); });
  loop.run_forever();
  ASSERT_EQ(order.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
}

TEST_P(EventLoop, CallSoonFromACallbackRunsAfterTheQueuedOnes) {
  coloop::event_loop loop(options());
  std::vector<int> order;
  loop.call_soon([&] {
    order.push_back(1);
    loop.call_soon([&] { order.push_back(3); loop.stop(); });
  });
  loop.call_soon([&] { order.push_back(2); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST_P(EventLoop, LargeCaptureCallbacksWork) {
  coloop::event_loop loop(options());
  std::array<long, 32> big{};
  big.fill(3);
  long sum = 0;
  loop.call_soon([big, &sum, &loop] {
    for (long v : big) sum += v;
    loop.stop();
  });
  loop.run_forever();
  EXPECT_EQ(sum, 96);
}

TEST_P(EventLoop, TimersFireInDeadlineOrderAndFifoAmongEquals) {
  coloop::event_loop loop(options(manual()));
  std::vector<int> order;
  loop.call_later(30ms, [&] { order.push_back(30); });
  loop.call_later(10ms, [&] { order.push_back(10); });
  loop.call_later(20ms, [&] { order.push_back(201); });
  loop.call_later(20ms, [&] { order.push_back(202); });
  loop.call_later(20ms, [&] { order.push_back(203); });
  loop.call_later(40ms, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(order, (std::vector<int>{10, 201, 202, 203, 30}));
}

TEST_P(EventLoop, TimersNeverFireEarly) {
  coloop::event_loop loop(options(manual()));
  const coloop::time_point start = loop.time();
  std::vector<std::chrono::nanoseconds> lateness;
  std::mt19937 rng(7);
  for (int i = 0; i < 200; ++i) {
    const auto delay =
        std::chrono::nanoseconds(std::uniform_int_distribution<long>(0, 5'000'000)(rng));
    loop.call_later(delay, [&, delay] { lateness.push_back(loop.time() - start - delay); });
  }
  loop.call_later(10ms, [&] { loop.stop(); });
  loop.run_forever();
  ASSERT_EQ(lateness.size(), 200u);
  for (auto l : lateness) EXPECT_GE(l.count(), 0);
}

TEST_P(EventLoop, RealClockTimerIsNotEarly) {
  coloop::event_loop loop(options());
  const auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point fired;
  loop.call_later(2ms, [&] {
    fired = std::chrono::steady_clock::now();
    loop.stop();
  });
  loop.run_forever();
  EXPECT_GE(fired - start, 2ms);
}

TEST_P(EventLoop, CancelBeforeFirePreventsIt) {
  coloop::event_loop loop(options(manual()));
  bool ran = false;
  coloop::timer_handle h = loop.call_later(10ms, [&] { ran = true; });
  EXPECT_TRUE(h.pending());
  EXPECT_TRUE(h.cancel());
  EXPECT_FALSE(h.pending());
  EXPECT_FALSE(h.cancel());
  loop.call_later(20ms, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_FALSE(ran);
}

TEST_P(EventLoop, CancelAfterFireIsANoOp) {
  coloop::event_loop loop(options(manual()));
  int runs = 0;
  coloop::timer_handle h = loop.call_later(1ms, [&] { ++runs; });
  coloop::timer_handle other;
  loop.call_later(2ms, [&] {
    // The first entry is recycled by this new timer; the stale handle must not cancel it.
    other = loop.call_later(1ms, [&] { ++runs; loop.stop(); });
    EXPECT_FALSE(h.cancel());
  });
  loop.run_forever();
  EXPECT_EQ(runs, 2);
  EXPECT_FALSE(other.pending());
}

TEST_P(EventLoop, TimerCancelledByAnEarlierTimerInTheSameTurnDoesNotFire) {
  coloop::event_loop loop(options(manual()));
  bool second_ran = false;
  coloop::timer_handle second;
  loop.call_later(5ms, [&] { second.cancel(); });
  second = loop.call_later(5ms, [&] { second_ran = true; });
  loop.call_later(6ms, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_FALSE(second_ran);
}

TEST_P(EventLoop, CallAtUsesTheLoopClock) {
  coloop::event_loop loop(options(manual()));
  const coloop::time_point target = loop.time() + 1h;
  coloop::time_point seen;
  loop.call_at(target, [&] {
    seen = loop.time();
    loop.stop();
  });
  loop.run_forever();
  EXPECT_EQ(seen, target);  // the manual clock jumps straight to the deadline
}

TEST_P(EventLoop, AdvanceTimeMovesTheManualClock) {
  coloop::event_loop loop(options(manual()));
  const coloop::time_point t0 = loop.time();
  loop.advance_time(5s);
  EXPECT_EQ(loop.time() - t0, 5s);
  EXPECT_THROW(loop.advance_time(-1s), std::invalid_argument);
  coloop::event_loop real;
  EXPECT_THROW(real.advance_time(1s), std::logic_error);
}

// call_at the start of the clock is due at once, and the loop still waits properly afterwards
// ("next - now" must not overflow into a huge or negative timeout).
TEST_P(EventLoop, CallAtTheMinimumTimePointFiresAndLaterSleepsStillEnd) {
  for (bool manual_clock : {false, true}) {
    coloop::event_loop loop(options({.manual_clock = manual_clock}));
    int fired = 0;
    loop.call_at(coloop::time_point::min(), [&] { ++fired; });
    loop.call_at(coloop::time_point::min() + 1ns, [&] { ++fired; });
    loop.run_until_complete([]() -> coloop::task<void> { co_await coloop::sleep_for(1ms); }());
    EXPECT_EQ(fired, 2);
  }
}

TEST_P(EventLoop, CallLaterWithExtremeDelaysSaturates) {
  for (bool manual_clock : {false, true}) {
    coloop::event_loop loop(options({.manual_clock = manual_clock}));
    bool early = false;
    loop.call_later(coloop::duration::min(), [&] { early = true; });
    coloop::timer_handle never = loop.call_later(coloop::duration::max(), [] {
      ADD_FAILURE() << "a timer at the end of time fired";
    });
    loop.run_until_complete([]() -> coloop::task<void> { co_await coloop::sleep_for(1ms); }());
    EXPECT_TRUE(early);
    EXPECT_TRUE(never.pending());
    EXPECT_TRUE(never.cancel());
  }
}

// advance_time saturates at the end of the clock instead of wrapping it negative; timers armed
// there are due at once (their deadlines saturate too).
TEST_P(EventLoop, AdvanceTimeSaturatesAtTheEndOfTheClock) {
  coloop::event_loop loop(options(manual()));
  loop.advance_time(coloop::duration::max());
  EXPECT_EQ(loop.time(), coloop::time_point::max());
  loop.advance_time(1h);
  EXPECT_EQ(loop.time(), coloop::time_point::max());
  bool fired = false;
  loop.call_later(1h, [&] { fired = true; });
  loop.run_until_complete([]() -> coloop::task<void> { co_await coloop::sleep_for(1ms); }());
  EXPECT_TRUE(fired);
  EXPECT_EQ(loop.time(), coloop::time_point::max());
}

TEST_P(EventLoop, MillionLiveTimers) {
  coloop::event_loop loop(options(manual()));
  std::mt19937_64 rng(1);
  std::vector<coloop::timer_handle> handles;
  handles.reserve(1'000'000);
  long fired = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    const auto delay =
        std::chrono::nanoseconds(std::uniform_int_distribution<long>(0, 60'000'000'000L)(rng));
    handles.push_back(loop.call_later(delay, [&fired] { ++fired; }));
  }
  long cancelled = 0;
  for (std::size_t i = 0; i < handles.size(); i += 2) cancelled += handles[i].cancel();
  EXPECT_EQ(cancelled, 500'000);
  loop.call_later(61s, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(fired, 500'000);
}

TEST_P(EventLoop, CallSoonThreadsafeFromFourThreads) {
  coloop::event_loop loop(options());
  constexpr int threads = 4, per_thread = 100'000;
  long received = 0;
  std::atomic<int> finished{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) loop.call_soon_threadsafe([&received] { ++received; });
      if (finished.fetch_add(1) + 1 == threads) loop.call_soon_threadsafe([&loop] { loop.stop(); });
    });
  }
  loop.run_forever();
  for (auto& p : producers) p.join();
  EXPECT_EQ(received, long{threads} * per_thread);
}

TEST_P(EventLoop, CallSoonThreadsafeAfterCloseThrowsClosed) {
  coloop::event_loop loop(options());
  loop.close();
  try {
    loop.call_soon_threadsafe([] {});
    FAIL() << "expected std::system_error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), coloop::errc::closed);
  }
  EXPECT_THROW(loop.call_soon([] {}), std::logic_error);
  EXPECT_TRUE(loop.is_closed());
  loop.close();  // idempotent
}

TEST_P(EventLoop, ThrowingCallbackGoesToTheHandlerAndTheLoopGoesOn) {
  coloop::event_loop loop(options());
  std::vector<std::string> seen;
  loop.set_exception_handler([&](std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      seen.emplace_back(ex.what());
    }
  });
  bool later_ran = false;
  loop.call_soon([] { throw std::runtime_error("callback failed"); });
  loop.call_soon([&] { later_ran = true; loop.stop(); });
  loop.run_forever();
  EXPECT_TRUE(later_ran);
  EXPECT_EQ(seen, (std::vector<std::string>{"callback failed"}));
}

TEST_P(EventLoop, RunUntilCompleteReturnsTheValue) {
  coloop::event_loop loop(options());
  auto t = []() -> coloop::task<int> {
    co_await coloop::yield();
    co_return 42;
  };
  EXPECT_EQ(loop.run_until_complete(t()), 42);
  EXPECT_EQ(loop.run_until_complete(t()), 42);  // the loop can run again
  EXPECT_FALSE(loop.is_running());
}

TEST_P(EventLoop, RunUntilCompleteStoppedEarlyThrows) {
  coloop::event_loop loop(options(manual()));
  auto t = [](coloop::event_loop& l) -> coloop::task<int> {
    l.stop();
    co_await coloop::sleep_for(1s);
    co_return 1;
  };
  EXPECT_THROW(loop.run_until_complete(t(loop)), std::runtime_error);
  EXPECT_EQ(loop.live_tasks(), 1u);
  loop.cancel_all_tasks();
  EXPECT_EQ(loop.live_tasks(), 0u);
}

TEST_P(EventLoop, NestedRunIsRejectedWithAClearMessage) {
  coloop::event_loop loop(options());
  auto inner = []() -> coloop::task<int> { co_return 1; };
  auto outer = [&]() -> coloop::task<std::string> {
    try {
      run(inner());
    } catch (const std::logic_error& e) {
      co_return e.what();
    }
    co_return "no error";
  };
  const std::string message = loop.run_until_complete(outer());
  EXPECT_NE(message.find("coloop::run"), std::string::npos) << message;
  EXPECT_NE(message.find("running on this thread"), std::string::npos) << message;
}

TEST_P(EventLoop, CloseDestroysPendingTasksWithoutLeaks) {
  auto loop = std::make_unique<coloop::event_loop>(options(manual()));
  auto sleeper = []() -> coloop::task<void> { co_await coloop::sleep_for(1h); };
  auto h = loop->create_task(sleeper());
  loop->call_later(1ms, [&] { loop->stop(); });
  loop->run_forever();
  EXPECT_FALSE(h.done());
  loop->close();
  EXPECT_TRUE(h.done());
  EXPECT_EQ(loop->live_tasks(), 0u);
  loop.reset();
}

TEST_P(EventLoop, CurrentIsSetWhileRunning) {
  coloop::event_loop loop(options());
  EXPECT_EQ(coloop::event_loop::current(), nullptr);
  coloop::event_loop* seen = nullptr;
  loop.call_soon([&] {
    seen = coloop::event_loop::current();
    loop.stop();
  });
  loop.run_forever();
  EXPECT_EQ(seen, &loop);
  EXPECT_EQ(coloop::event_loop::current(), nullptr);
}

COLOOP_INSTANTIATE_LOOP_FLAVOURS(EventLoop);

}  // namespace
