// thread_pool: values and exceptions, every rejection policy, the bounded queue, keep-alive,
// shutdown (drain and cancel), cancel-safety of run(), a loop closing on a pending run(), thread
// names and event_loop::run_in_executor.

#include <dirent.h>
#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <coloop/core/errors.hpp>
#include <coloop/executor/thread_pool.hpp>
#include <coloop/runtime/event_loop.hpp>
#include <coloop/runtime/run.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/yield.hpp>
#include <latch>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>
#include "support/flavour.hpp"

using namespace std::chrono_literals;
using coloop::task;

namespace {

/// Polls `pred` until it holds or 10 s pass (a condition with a deadline, not a timed guess).
template <class Pred>
bool eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

coloop::thread_pool_options one_thread(std::size_t capacity, coloop::rejection_policy policy) {
  coloop::thread_pool_options o;
  o.core_threads = 1;
  o.max_threads = 1;
  o.queue_capacity = capacity;
  o.on_full = policy;
  return o;
}

/// Occupies the pool's only thread until release() (and waits until it runs).
struct blocker {
  std::latch started{1};
  std::latch gate{1};
  explicit blocker(coloop::thread_pool& pool) {
    pool.submit([this] {
      started.count_down();
      gate.wait();
    });
    started.wait();
  }
  void release() { gate.count_down(); }
};

/// Awaits pool.run(fn) inside a task of its own (parameters, not lambda captures, so the frame
/// never refers to a temporary closure).
template <class F>
task<std::invoke_result_t<F&>> via(coloop::thread_pool& pool, F fn) {
  co_return co_await pool.run(std::move(fn));
}

coloop::errc code_of(const std::system_error& e) {
  return static_cast<coloop::errc>(e.code().value());
}

class ThreadPool : public coloop::test::flavour_test {};
class ThreadPoolOnLoop : public coloop::test::flavour_test {};

TEST_P(ThreadPool, RunReturnsTheValueOnTheAwaitingThread) {
  coloop::thread_pool pool;
  auto main = [&]() -> task<void> {
    // "The awaiting thread": the loop's, or one of the runtime's workers (a task may move
    // between them), never the pool's.
    const void* home = coloop::test::current_executor();
    EXPECT_NE(home, nullptr);
    std::thread::id ran_on;
    auto answer = [&] {
      ran_on = std::this_thread::get_id();
      return 42;
    };
    const int v = co_await pool.run(std::move(answer));
    EXPECT_EQ(v, 42);
    EXPECT_NE(ran_on, std::this_thread::get_id());
    EXPECT_EQ(coloop::test::current_executor(), home);
    auto make = [] { return std::make_unique<std::string>("move-only"); };
    auto p = co_await pool.run(std::move(make));
    EXPECT_EQ(*p, "move-only");
    EXPECT_EQ(coloop::test::current_executor(), home);
    int calls = 0;
    auto count = [&] { ++calls; };
    co_await pool.run(std::move(count));
    EXPECT_EQ(calls, 1);
  };
  run(main());
}

TEST_P(ThreadPool, RunRethrowsTheException) {
  coloop::thread_pool pool;
  auto main = [&]() -> task<void> {
    EXPECT_THROW(co_await pool.run([]() -> int { throw std::runtime_error("boom"); }),
                 std::runtime_error);
    EXPECT_EQ(co_await pool.run([] { return 7; }), 7);  // the pool is still fine
  };
  run(main());
}

TEST(ThreadPoolNoLoop, SubmitRunsEveryJob) {
  std::atomic<int> count{0};
  {
    coloop::thread_pool pool({.core_threads = 2, .max_threads = 2});
    for (int i = 0; i < 1000; ++i)
      pool.submit([&] { count.fetch_add(1, std::memory_order_relaxed); });
  }  // the destructor drains
  EXPECT_EQ(count.load(), 1000);
}

TEST_P(ThreadPool, AbortPolicyRejects) {
  coloop::thread_pool pool(one_thread(1, coloop::rejection_policy::abort));
  blocker b(pool);
  std::atomic<int> ran{0};
  pool.submit([&] { ++ran; });  // waits in the queue
  try {
    pool.submit([&] { ++ran; });
    ADD_FAILURE() << "a full pool accepted a job";
  } catch (const std::system_error& e) {
    EXPECT_EQ(code_of(e), coloop::errc::rejected);
  }
  auto main = [&]() -> task<void> {
    try {
      co_await pool.run([] { return 1; });
      ADD_FAILURE() << "a full pool accepted run()";
    } catch (const std::system_error& e) {
      EXPECT_EQ(code_of(e), coloop::errc::rejected);
    }
  };
  run(main());
  EXPECT_EQ(pool.stats().rejected, 2u);
  b.release();
  pool.shutdown();
  EXPECT_EQ(ran.load(), 1);
}

TEST_P(ThreadPool, CallerRunsPolicyRunsOnTheSubmitter) {
  coloop::thread_pool pool(one_thread(0, coloop::rejection_policy::caller_runs));
  blocker b(pool);
  std::thread::id ran_on;
  pool.submit([&] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  auto main = [&]() -> task<void> {
    const auto id = co_await pool.run([] { return std::this_thread::get_id(); });
    EXPECT_EQ(id, std::this_thread::get_id());
    EXPECT_THROW(co_await pool.run([]() -> int { throw std::logic_error("x"); }), std::logic_error);
  };
  run(main());
  b.release();
}

TEST_P(ThreadPool, DiscardOldestFailsTheDiscardedAwaiter) {
  coloop::thread_pool pool(one_thread(1, coloop::rejection_policy::discard_oldest));
  blocker b(pool);
  std::atomic<bool> newest_ran{false}, oldest_ran{false};
  auto main = [&]() -> task<void> {
    auto oldest = coloop::spawn(via(pool, [&] { oldest_ran = true; }));
    auto queued = [&] { return pool.stats().queued == 1; };  // `oldest` may start on any worker
    EXPECT_TRUE(co_await coloop::test::yield_until(queued));
    pool.submit([&] { newest_ran = true; });  // full: `oldest` goes
    try {
      co_await oldest;
      ADD_FAILURE() << "the discarded job's awaiter did not fail";
    } catch (const std::system_error& e) {
      EXPECT_EQ(code_of(e), coloop::errc::rejected);
    }
  };
  run(main());
  b.release();
  pool.shutdown();
  EXPECT_TRUE(newest_ran.load());
  EXPECT_FALSE(oldest_ran.load());
  EXPECT_EQ(pool.stats().rejected, 1u);
}

TEST(ThreadPoolNoLoop, QueueHoldsAtMostItsCapacity) {
  coloop::thread_pool pool({.core_threads = 0, .max_threads = 2, .queue_capacity = 3});
  std::latch started{2}, gate{1};
  std::atomic<int> ran{0};
  auto job = [&] {
    started.count_down();
    gate.wait();
    ++ran;
  };
  pool.submit(job);
  pool.submit(job);  // two threads start for these two
  started.wait();
  for (int i = 0; i < 3; ++i) pool.submit([&] { ++ran; });
  EXPECT_EQ(pool.stats().queued, 3u);
  EXPECT_EQ(pool.stats().threads, 2u);
  EXPECT_THROW(pool.submit([&] { ++ran; }), std::system_error);
  gate.count_down();
  pool.shutdown();
  EXPECT_EQ(ran.load(), 5);
}

int os_threads() {
  int n = 0;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc/self/task"), ::closedir);
  while (const dirent* ent = ::readdir(dir.get())) n += ent->d_name[0] != '.';
  return n;
}

TEST(ThreadPoolNoLoop, ThreadsBeyondCoreExitAfterKeepAlive) {
  const int before = os_threads();
  coloop::thread_pool pool({.core_threads = 1, .max_threads = 4, .keep_alive = 20ms});
  std::latch started{4}, gate{1};
  for (int i = 0; i < 4; ++i) {
    pool.submit([&] {
      started.count_down();
      gate.wait();
    });
  }
  started.wait();
  EXPECT_EQ(pool.stats().threads, 4u);
  EXPECT_EQ(os_threads(), before + 4);
  gate.count_down();
  EXPECT_TRUE(eventually([&] { return pool.stats().threads == 1; }));
  EXPECT_TRUE(eventually([&] { return os_threads() == before + 1; }));
  // The survivor still works, and new demand grows the pool again.
  std::latch again{2}, gate2{1};
  for (int i = 0; i < 2; ++i) {
    pool.submit([&] {
      again.count_down();
      gate2.wait();
    });
  }
  again.wait();
  EXPECT_EQ(pool.stats().threads, 2u);
  gate2.count_down();
}

TEST(ThreadPoolNoLoop, ShutdownDrainRunsTheQueuedJobs) {
  coloop::thread_pool pool(
      one_thread(coloop::thread_pool_options::unbounded, coloop::rejection_policy::abort));
  blocker b(pool);
  std::atomic<int> ran{0};
  for (int i = 0; i < 10; ++i) pool.submit([&] { ++ran; });
  std::thread closer([&] { pool.shutdown(coloop::shutdown_mode::drain); });
  EXPECT_TRUE(eventually([&] { return pool.is_shut_down(); }));
  b.release();
  closer.join();
  EXPECT_EQ(ran.load(), 10);
  EXPECT_EQ(pool.stats().threads, 0u);
  try {
    pool.submit([] {});
    ADD_FAILURE() << "a shut-down pool accepted a job";
  } catch (const std::system_error& e) {
    EXPECT_EQ(code_of(e), coloop::errc::closed);
  }
  pool.shutdown();  // idempotent
}

TEST_P(ThreadPool, ShutdownCancelFailsTheQueuedAwaiters) {
  coloop::thread_pool pool(
      one_thread(coloop::thread_pool_options::unbounded, coloop::rejection_policy::abort));
  blocker b(pool);
  std::atomic<int> ran{0};
  auto main = [&]() -> task<void> {
    std::vector<coloop::join_handle<int>> waiters;
    for (int i = 0; i < 5; ++i) {
      waiters.push_back(coloop::spawn(via(pool, [&] { return ++ran; })));
    }
    auto all_queued = [&] { return pool.stats().queued == 5; };  // they start on any worker
    EXPECT_TRUE(co_await coloop::test::yield_until(all_queued));
    std::thread closer([&] { pool.shutdown(coloop::shutdown_mode::cancel); });
    EXPECT_TRUE(eventually([&] { return pool.stats().queued == 0; }));
    b.release();
    closer.join();
    for (auto& w : waiters) EXPECT_THROW(co_await w, coloop::cancelled_error);
  };
  run(main());
  EXPECT_EQ(ran.load(), 0);
}

TEST_P(ThreadPool, CancelWhileQueuedWithdrawsTheJob) {
  coloop::thread_pool pool(
      one_thread(coloop::thread_pool_options::unbounded, coloop::rejection_policy::abort));
  blocker b(pool);
  std::atomic<bool> ran{false};
  auto main = [&]() -> task<void> {
    auto h = coloop::spawn(via(pool, [&] { ran = true; }));
    auto queued = [&] { return pool.stats().queued == 1; };  // `h` may start on any worker
    EXPECT_TRUE(co_await coloop::test::yield_until(queued));
    h.cancel();
    EXPECT_EQ(pool.stats().queued, 0u);  // withdrawn at once
    EXPECT_THROW(co_await h, coloop::cancelled_error);
  };
  run(main());
  b.release();
  pool.shutdown();
  EXPECT_FALSE(ran.load());
}

task<int> run_then_yield(coloop::thread_pool& pool, std::latch& started, std::latch& gate,
                         std::atomic<bool>& cancelled) {
  const int v = co_await pool.run([&] {
    started.count_down();
    gate.wait();
    return 5;
  });
  try {
    co_await coloop::yield();  // the cancel that raced the result applies here
  } catch (const coloop::cancelled_error&) {
    cancelled = true;
  }
  co_return v;
}

TEST_P(ThreadPool, CancelWhileRunningDeliversTheResultThenCancels) {
  coloop::thread_pool pool;
  std::latch started{1}, gate{1};
  std::atomic<bool> next_await_cancelled{false};
  auto main = [&]() -> task<void> {
    auto h = coloop::spawn(run_then_yield(pool, started, gate, next_await_cancelled));
    // Not started.wait(): on a one-worker runtime `h` may not have run yet, and blocking the
    // only worker would keep it from ever submitting its job.
    auto job_running = [&] { return started.try_wait(); };
    EXPECT_TRUE(co_await coloop::test::yield_until(job_running));
    h.cancel();  // running: cannot be withdrawn
    gate.count_down();
    EXPECT_EQ(co_await h, 5);
  };
  run(main());
  EXPECT_TRUE(next_await_cancelled);
}

TEST_P(ThreadPoolOnLoop, LoopClosingUnderPendingRunsLosesNothing) {
  coloop::thread_pool pool(
      one_thread(coloop::thread_pool_options::unbounded, coloop::rejection_policy::abort));
  std::latch started{1}, gate{1};
  std::atomic<int> ran{0};
  {
    coloop::event_loop loop(options());
    loop.run_until_complete([&]() -> task<void> {
      coloop::spawn(via(pool, [&] {
        started.count_down();
        gate.wait();
        ++ran;
      })).detach();
      coloop::spawn(via(pool, [&] { ++ran; })).detach();
      co_await coloop::yield();
      co_return;
    }());
    started.wait();  // one job running, one queued
    loop.close();    // destroys both awaiting frames
    EXPECT_EQ(pool.stats().queued, 0u);
  }
  gate.count_down();  // the running job completes after its loop is gone
  pool.shutdown();
  EXPECT_EQ(ran.load(), 1);
}

TEST_P(ThreadPool, ThreadsCarryTheNamePrefix) {
  coloop::thread_pool pool({.name_prefix = "a-long-pool-name"});
  auto main = [&]() -> task<void> {
    const std::string name = co_await pool.run([] {
      char buf[16] = {};
      ::pthread_getname_np(::pthread_self(), buf, sizeof buf);
      return std::string(buf);
    });
    EXPECT_EQ(name, "a-long-pool-n-0");
  };
  run(main());
}

// run_in_executor is an event_loop member: the runtime has none (pool.run is tested above).
TEST_P(ThreadPoolOnLoop, RunInExecutorResumesOnTheLoop) {
  coloop::thread_pool pool({.core_threads = 2, .max_threads = 2});
  auto main = [&]() -> task<void> {
    coloop::event_loop& loop = *coloop::event_loop::current();
    const auto loop_thread = std::this_thread::get_id();
    const auto worker =
        co_await loop.run_in_executor(pool, [] { return std::this_thread::get_id(); });
    EXPECT_NE(worker, loop_thread);
    EXPECT_EQ(std::this_thread::get_id(), loop_thread);
    long sum = 0;
    for (int i = 0; i < 100; ++i) sum += co_await loop.run_in_executor(pool, [i] { return i; });
    EXPECT_EQ(sum, 4950);
  };
  run(main());
}

COLOOP_INSTANTIATE_FLAVOURS(ThreadPool);
COLOOP_INSTANTIATE_LOOP_FLAVOURS(ThreadPoolOnLoop);

}  // namespace
