// runtime: block_on, spawn from inside and outside, timers on the manual clock, failures,
// misuse, and shutdown with tasks still running.

#include <coloop/runtime/runtime.hpp>

#include <gtest/gtest.h>

#include <coloop/sync/event.hpp>

#include <atomic>
#include <chrono>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <coloop/core/when_all.hpp>
#include <coloop/runtime/run.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/yield.hpp>
#include <coloop/runtime/now.hpp>

using namespace std::chrono_literals;

namespace {

coloop::task<int> answer() { co_return 42; }

coloop::task<long> sum_tree(int depth) {
  if (depth == 0) co_return 1;
  std::vector<coloop::join_handle<long>> children;
  for (int i = 0; i < 4; ++i) children.push_back(coloop::spawn(sum_tree(depth - 1)));
  long total = 0;
  for (auto& c : children) total += co_await std::move(c);
  co_return total;
}

coloop::task<void> wait_inner(coloop::event& e) { co_await e.wait(); }
// Nested, so what set() queues is the inner frame, not the spawned task's first step.
coloop::task<void> wait_for_event(coloop::event& e) { co_await wait_inner(e); }

coloop::task<void> wake_chain(int n) {
  for (int i = 0; i < n; ++i) {
    coloop::event e;
    auto waiter = coloop::spawn(wait_for_event(e));
    co_await coloop::yield();  // let it start and wait
    e.set();
    co_await waiter;
  }
}

coloop::task<std::thread::id> thread_of_caller() { co_return std::this_thread::get_id(); }

coloop::task<std::set<std::thread::id>> threads_used(int tasks) {
  std::vector<coloop::join_handle<std::thread::id>> hs;
  std::set<std::thread::id> seen;
  for (int i = 0; i < tasks; ++i) hs.push_back(coloop::spawn(thread_of_caller()));
  for (auto& h : hs) seen.insert(co_await std::move(h));
  co_return seen;
}

coloop::task<void> sleep_forever() { co_await coloop::sleep_for(24h); }

coloop::task<void> fail() {
  co_await coloop::yield();
  throw std::runtime_error("boom");
}

TEST(Runtime, BlockOnReturnsTheValue) {
  coloop::runtime rt({.workers = 2});
  EXPECT_EQ(rt.workers(), 2u);
  EXPECT_EQ(rt.block_on(answer()), 42);
}

TEST(Runtime, DefaultWorkerCountIsTheHardwareThreads) {
  coloop::runtime rt;
  EXPECT_EQ(rt.workers(), std::max(1u, std::thread::hardware_concurrency()));
}

TEST(Runtime, SpawnTreeRunsEveryTaskOnce) {
  coloop::runtime rt({.workers = 2});
  EXPECT_EQ(rt.block_on(sum_tree(6)), 4096);
  EXPECT_EQ(rt.live_tasks(), 0u);
}

TEST(Runtime, MetricsCountTheWork) {
  coloop::runtime rt({.workers = 2});
  const coloop::runtime_metrics before = rt.metrics();
  EXPECT_EQ(before.workers, 2u);
  // 341 tasks; one its joiner takes back before it started runs inside the joiner's step, so
  // it is no poll of its own.
  EXPECT_EQ(rt.block_on(sum_tree(4)), 256);
  const coloop::runtime_metrics mid = rt.metrics();
  EXPECT_GT(mid.polls, before.polls);
  EXPECT_EQ(mid.live_tasks, 0u);
  rt.block_on(wake_chain(64));  // each set() wakes the waiter into the setter's LIFO slot
  const coloop::runtime_metrics after = rt.metrics();
  EXPECT_GT(after.lifo_polls, mid.lifo_polls);
  EXPECT_LE(after.lifo_polls, after.polls);
  EXPECT_EQ(after.live_tasks, 0u);
}

TEST(Runtime, TasksRunOnTheWorkersNotTheCaller) {
  coloop::runtime rt({.workers = 2});
  const auto seen = rt.block_on(threads_used(64));
  EXPECT_FALSE(seen.contains(std::this_thread::get_id()));
  EXPECT_GE(seen.size(), 1u);
  EXPECT_LE(seen.size(), 2u);
}

TEST(Runtime, SpawnFromOutsideIsJoinedInside) {
  coloop::runtime rt({.workers = 2});
  auto h = rt.spawn(answer());
  auto join = [](coloop::join_handle<int> jh) -> coloop::task<int> {
    co_return co_await std::move(jh);
  };
  EXPECT_EQ(rt.block_on(join(std::move(h))), 42);
}

TEST(Runtime, ManualClockJumpsToTheNextTimer) {
  coloop::runtime rt({.manual_clock = true, .workers = 2});
  auto main = []() -> coloop::task<coloop::duration> {
    const auto start = coloop::now();
    co_await coloop::sleep_for(1h);
    co_return coloop::now() - start;
  };
  const auto wall = std::chrono::steady_clock::now();
  EXPECT_GE(rt.block_on(main()), 1h);
  EXPECT_LT(std::chrono::steady_clock::now() - wall, 10s);
}

TEST(Runtime, BlockOnRethrows) {
  coloop::runtime rt({.workers = 2});
  EXPECT_THROW(rt.block_on(fail()), std::runtime_error);
}

TEST(Runtime, BlockOnFromAWorkerIsRefused) {
  coloop::runtime rt({.workers = 1});
  auto nested = [](coloop::runtime& r) -> coloop::task<bool> {
    try {
      r.block_on(answer());
    } catch (const std::logic_error&) {
      co_return true;
    }
    co_return false;
  };
  EXPECT_TRUE(rt.block_on(nested(rt)));
}

TEST(Runtime, BlockOnFromAnotherRuntimeOrAnEventLoopIsRefused) {
  coloop::runtime rt({.workers = 1});
  auto nested = [](coloop::runtime& r) -> coloop::task<bool> {
    try {
      r.block_on(answer());
    } catch (const std::logic_error& e) {
      co_return std::string(e.what()).find("runs tasks") != std::string::npos;
    }
    co_return false;
  };
  coloop::runtime other({.workers = 1});
  EXPECT_TRUE(other.block_on(nested(rt)));
  EXPECT_TRUE(coloop::run(nested(rt)));
}

// A sleeper left behind by block_on is cancelled by shutdown, not woken by a clock jump after
// block_on returned (as an event loop's manual clock stands still outside run()).
TEST(Runtime, ManualClockMovesOnlyWhileABlockOnTaskRuns) {
  coloop::runtime rt({.manual_clock = true, .workers = 2});
  std::atomic<bool> woke{false};
  auto sleeper = [](std::atomic<bool>& flag) -> coloop::task<void> {
    co_await coloop::sleep_for(1h);
    flag = true;
  };
  auto left_behind = rt.spawn(sleeper(woke));
  auto main = []() -> coloop::task<void> { co_await coloop::sleep_for(1min); };
  rt.block_on(main());
  EXPECT_EQ(rt.live_tasks(), 1u);
  rt.shutdown();
  EXPECT_TRUE(left_behind.done());
  EXPECT_FALSE(woke.load());
}

TEST(Runtime, CurrentIsTheRuntimeOnItsWorkersOnly) {
  coloop::runtime rt({.workers = 2});
  EXPECT_EQ(coloop::runtime::current(), nullptr);
  auto main = []() -> coloop::task<coloop::runtime*> { co_return coloop::runtime::current(); };
  EXPECT_EQ(rt.block_on(main()), &rt);
}

TEST(Runtime, ShutdownCancelsRunningTasks) {
  coloop::runtime rt({.workers = 2});
  auto sleeper = rt.spawn(sleep_forever());
  auto main = []() -> coloop::task<void> { co_await coloop::yield(); };
  rt.block_on(main());
  EXPECT_EQ(rt.live_tasks(), 1u);
  rt.shutdown();
  EXPECT_TRUE(sleeper.done());
  EXPECT_EQ(rt.live_tasks(), 0u);
  EXPECT_THROW(rt.spawn(answer()), std::logic_error);
  EXPECT_THROW(rt.block_on(answer()), std::logic_error);
  rt.shutdown();  // idempotent
}

TEST(Runtime, TooManyWorkersIsAnError) {
  EXPECT_THROW(coloop::runtime({.workers = 5000}), std::invalid_argument);
}

TEST(Runtime, RunPicksTheRuntimeForMoreThanOneWorker) {
  auto main = []() -> coloop::task<bool> { co_return coloop::runtime::current() != nullptr; };
  EXPECT_TRUE(coloop::run(main(), {.workers = 2}));
  EXPECT_FALSE(coloop::run(main(), {.workers = 1}));
}

TEST(Runtime, RunCancelsWhatMainLeftRunning) {
  auto main = []() -> coloop::task<int> {
    coloop::spawn(sleep_forever()).detach();
    co_return 7;
  };
  EXPECT_EQ(coloop::run(main(), {.workers = 2}), 7);
}

}  // namespace
