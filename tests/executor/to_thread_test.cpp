// to_thread and the default pool: values and exceptions, 20,000 calls in flight from one loop,
// cancel-safety, and shutdown_default_pool (a fresh pool afterwards).

#include <gtest/gtest.h>

#include <atomic>
#include <coloop/core/errors.hpp>
#include <coloop/core/when_all.hpp>
#include <coloop/executor/to_thread.hpp>
#include <coloop/runtime/run.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/spawn.hpp>
#include <latch>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include "support/flavour.hpp"

using coloop::task;

namespace {

template <class F>
task<std::invoke_result_t<F&>> via_default(F fn) {
  co_return co_await coloop::to_thread(std::move(fn));
}

class ToThread : public coloop::test::flavour_test {};

TEST_P(ToThread, ReturnsTheValueAndRethrows) {
  auto main = []() -> task<void> {
    // Back on the loop's thread, or on one of the runtime's workers (any), never the pool's.
    const void* home = coloop::test::current_executor();
    EXPECT_NE(home, nullptr);
    auto thread_id = [] { return std::this_thread::get_id(); };
    const auto worker = co_await coloop::to_thread(std::move(thread_id));
    EXPECT_NE(worker, std::this_thread::get_id());
    EXPECT_EQ(coloop::test::current_executor(), home);
    auto fail = []() -> int { throw std::out_of_range("x"); };
    EXPECT_THROW(co_await coloop::to_thread(std::move(fail)), std::out_of_range);
  };
  run(main());
}

task<std::string> shout(std::string word) {
  // Named first: g++ 12 copies a closure temporary in a co_await operand bitwise (see to_thread).
  auto fn = [word, tail = std::string(40, '!')] { return word + tail; };
  co_return co_await coloop::to_thread(std::move(fn));
}

TEST_P(ToThread, CapturesAreMovedIntoTheJob) {
  EXPECT_EQ(run(shout("hi")), "hi" + std::string(40, '!'));
}

TEST_P(ToThread, ManyInFlightFromOneLoop) {
  constexpr int n = 20'000;
  std::atomic<long> ran{0};
  auto one = [&](int i) -> task<long> {
    co_return co_await coloop::to_thread([&ran, i] {
      ran.fetch_add(1, std::memory_order_relaxed);
      return static_cast<long>(i);
    });
  };
  auto main = [&]() -> task<long> {
    std::vector<coloop::join_handle<long>> hs;
    hs.reserve(n);
    for (int i = 0; i < n; ++i) hs.push_back(coloop::spawn(one(i)));
    long sum = 0;
    for (auto& h : hs) sum += co_await h;
    co_return sum;
  };
  EXPECT_EQ(run(main()), static_cast<long>(n) * (n - 1) / 2);
  EXPECT_EQ(ran.load(), n);
  EXPECT_LE(coloop::default_thread_pool()->stats().threads, 32u);
}

TEST_P(ToThread, CancelledWhileQueuedNeverRuns) {
  // Fill every default-pool thread with a blocked call, then queue one more and cancel it.
  const std::size_t threads =
      std::min<std::size_t>(32, std::max(1u, std::thread::hardware_concurrency()) + 4);
  std::latch started{static_cast<std::ptrdiff_t>(threads)}, gate{1};
  std::atomic<bool> extra_ran{false};
  auto main = [&]() -> task<void> {
    std::vector<coloop::join_handle<void>> blockers;
    for (std::size_t i = 0; i < threads; ++i) {
      blockers.push_back(coloop::spawn(via_default([&] {
        started.count_down();
        gate.wait();
      })));
    }
    // Not started.wait(): on a one-worker runtime the blockers may not have run yet, and
    // blocking the only worker would keep them from ever submitting.
    auto all_started = [&] { return started.try_wait(); };
    EXPECT_TRUE(co_await coloop::test::yield_until(all_started));
    auto extra = coloop::spawn(via_default([&] { extra_ran = true; }));
    auto queued = [] { return coloop::default_thread_pool()->stats().queued == 1; };
    EXPECT_TRUE(co_await coloop::test::yield_until(queued));  // `extra` may start on any worker
    extra.cancel();
    EXPECT_THROW(co_await extra, coloop::cancelled_error);
    gate.count_down();
    for (auto& b : blockers) co_await b;
  };
  run(main());
  EXPECT_FALSE(extra_ran.load());
}

TEST_P(ToThread, ShutdownDefaultPoolThenAFreshOne) {
  auto first = coloop::default_thread_pool();
  EXPECT_EQ(
      run([]() -> task<int> { co_return co_await coloop::to_thread([] { return 1; }); }()),
      1);
  coloop::shutdown_default_pool();
  EXPECT_TRUE(first->is_shut_down());
  EXPECT_EQ(first->stats().threads, 0u);
  coloop::shutdown_default_pool();  // no pool: a no-op
  EXPECT_EQ(
      run([]() -> task<int> { co_return co_await coloop::to_thread([] { return 2; }); }()),
      2);
  EXPECT_NE(coloop::default_thread_pool(), first);
  EXPECT_EQ(coloop::default_thread_pool()->options().name_prefix, "coloop-io");
}

COLOOP_INSTANTIATE_FLAVOURS(ToThread);

}  // namespace
