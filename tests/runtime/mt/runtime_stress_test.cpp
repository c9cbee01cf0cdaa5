// Runtime stress under threads (run under TSan in CI): many tasks with random yields, spawns
// and cancels on 2..8 workers, each body runs exactly once; remote spawns from foreign threads;
// shutdown with tasks running and wakes in flight. Also in the randomized scheduling mode.

#include <coloop/runtime/runtime.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include <coloop/core/errors.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/yield.hpp>

using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr std::size_t stress_tasks = 100'000;  // sanitizers are ~10-50x slower
#else
constexpr std::size_t stress_tasks = 1'000'000;
#endif

struct tally {
  explicit tally(std::size_t n) : runs(n) {}
  std::vector<std::atomic<std::uint8_t>> runs;
  std::atomic<std::size_t> next_id{0};
  std::atomic<std::size_t> cancelled{0};
};

std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

coloop::task<void> churn(tally& t, std::size_t id, std::size_t budget) {
  t.runs[id].fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t r = mix(id + 1);
  try {
    for (unsigned i = 0; i < r % 3; ++i) co_await coloop::yield();
    // Spend this task's share of the budget on children, some of which get cancelled.
    std::vector<coloop::join_handle<void>> children;
    std::size_t left = budget;
    while (left > 0) {
      const std::size_t share = std::min<std::size_t>(left, 1 + (r >> 8) % 64);
      left -= share;
      const std::size_t child = t.next_id.fetch_add(1, std::memory_order_relaxed);
      children.push_back(coloop::spawn(churn(t, child, share - 1)));
      if (mix(child) % 7 == 0) children.back().cancel();
    }
    for (auto& c : children) {
      try {
        co_await std::move(c);
      } catch (const coloop::cancelled_error&) {
        t.cancelled.fetch_add(1, std::memory_order_relaxed);
      }
    }
  } catch (const coloop::cancelled_error&) {
    throw;  // this task itself was cancelled mid-way: its parent counts it
  }
}

coloop::task<void> stress_root(tally& t, std::size_t total) {
  const std::size_t id = t.next_id.fetch_add(1, std::memory_order_relaxed);
  co_await churn(t, id, total - 1);
}

void run_stress(unsigned workers, unsigned long long seed) {
  tally t(stress_tasks);
  {
    coloop::runtime rt({.workers = workers, .schedule_seed = seed});
    rt.block_on(stress_root(t, stress_tasks));
    EXPECT_EQ(rt.live_tasks(), 0u);
  }
  // Cancelled children stop spawning, so fewer than stress_tasks ids may be handed out; every
  // one handed out ran exactly once.
  const std::size_t used = t.next_id.load();
  EXPECT_GT(used, stress_tasks / 10);
  for (std::size_t i = 0; i < used; ++i) ASSERT_EQ(t.runs[i].load(), 1u) << "task " << i;
  for (std::size_t i = used; i < stress_tasks; ++i) ASSERT_EQ(t.runs[i].load(), 0u);
  EXPECT_GT(t.cancelled.load(), 0u);
}

TEST(RuntimeStress, ManyTasksRunExactlyOnceOnTwoWorkers) { run_stress(2, 0); }
TEST(RuntimeStress, ManyTasksRunExactlyOnceOnEightWorkers) { run_stress(8, 0); }
TEST(RuntimeStress, ManyTasksRunExactlyOnceRandomized) { run_stress(4, 20261124); }

coloop::task<void> count_once(std::atomic<int>& n) {
  n.fetch_add(1, std::memory_order_relaxed);
  co_return;
}

TEST(RuntimeStress, RemoteSpawnsFromFourForeignThreads) {
  constexpr int per_thread = 10'000;
  std::atomic<int> ran{0};
  coloop::runtime rt({.workers = 2});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<coloop::join_handle<void>> hs;
      hs.reserve(per_thread);
      for (int i = 0; i < per_thread; ++i) hs.push_back(rt.spawn(count_once(ran)));
      for (auto& h : hs) {
        while (!h.done()) std::this_thread::yield();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ran.load(), 4 * per_thread);
  EXPECT_EQ(rt.live_tasks(), 0u);
}

coloop::task<void> busy_until_cancelled(std::atomic<int>& started, std::uint64_t seed) {
  started.fetch_add(1, std::memory_order_relaxed);
  for (std::uint64_t i = 0;; ++i) {
    if (mix(seed + i) % 2 == 0) {
      co_await coloop::yield();
    } else {
      co_await coloop::sleep_for(std::chrono::microseconds(mix(seed + i) % 200));
    }
  }
}

TEST(RuntimeStress, ShutdownWithTasksRunningAndWakesInFlight) {
  for (unsigned workers : {2u, 4u}) {
    std::atomic<int> started{0};
    coloop::runtime rt({.workers = workers});
    std::atomic<bool> stop_posting{false};
    // A foreign thread keeps spawning while the runtime shuts down: spawns are refused once
    // shutdown starts, never lost halfway.
    std::thread poster([&] {
      for (std::uint64_t i = 0; !stop_posting.load(); ++i) {
        try {
          rt.spawn(busy_until_cancelled(started, i)).detach();
        } catch (const std::logic_error&) {
          return;  // shutting down
        }
        if (i % 64 == 0) std::this_thread::yield();
      }
    });
    while (started.load() < 200) std::this_thread::yield();
    rt.shutdown();
    stop_posting = true;
    poster.join();
    EXPECT_EQ(rt.live_tasks(), 0u);
  }
}

}  // namespace
