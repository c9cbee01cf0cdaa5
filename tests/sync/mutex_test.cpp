// mutex: FIFO hand-over without barging, guards, cancellation at every point of a wait.

#include <gtest/gtest.h>

#include <atomic>
#include <coloop/coloop.hpp>
#include <coloop/sync/mutex.hpp>
#include <thread>
#include <vector>

#include "support/flavour.hpp"
#include "sync/sync_test_util.hpp"

namespace {

using coloop::task;
using coloop::test::until_idle;

class Mutex : public coloop::test::flavour_test {};

const std::atomic<bool> at_once{true};  // a `go` already given

// Holds the lock until `go` (without an await: on the runtime another worker may resume the
// waiter as soon as the lock is handed over), then across a suspension.
task<void> take_and_note(coloop::mutex* m, std::vector<int>* order, int id,
                         const std::atomic<bool>* go) {
  auto g = co_await m->lock();
  order->push_back(id);
  // Acquire: what the test checked while we held the lock happens before we let it go.
  while (!go->load(std::memory_order_acquire)) std::this_thread::yield();
  co_await coloop::yield();  // hold it across a suspension
}

TEST_P(Mutex, LockTryLockAndGuard) {
  run([]() -> task<void> {
    coloop::mutex m;
    EXPECT_FALSE(m.locked());
    {
      auto g = co_await m.lock();
      EXPECT_TRUE(g.owns_lock());
      EXPECT_EQ(g.mutex(), &m);
      EXPECT_TRUE(m.locked());
      EXPECT_FALSE(m.try_lock().has_value());
      auto moved = std::move(g);
      EXPECT_FALSE(g.owns_lock());
      EXPECT_TRUE(static_cast<bool>(moved));
      moved.unlock();
      EXPECT_FALSE(m.locked());
      moved.unlock();  // a second unlock is a no-op
    }
    auto t = m.try_lock();
    EXPECT_TRUE(t.has_value());
    if (!t) co_return;
    EXPECT_TRUE(m.locked());
    coloop::mutex::guard other;
    other = std::move(*t);
    EXPECT_TRUE(m.locked());
    other = coloop::mutex::guard{};  // move-assigning unlocks what it held
    EXPECT_FALSE(m.locked());
  }());
}

TEST_P(Mutex, ThreeWaitersAreServedInOrderAndNobodyBarges) {
  run(
      []() -> task<void> {
        coloop::mutex m;
        std::vector<int> order;
        std::atomic<bool> checked{false};
        auto g = co_await m.lock();
        std::vector<coloop::join_handle<void>> hs;
        for (int id = 1; id <= 3; ++id) {
          hs.push_back(coloop::spawn(take_and_note, &m, &order, id, &checked));
          co_await until_idle();  // queued before the next one
        }
        g.unlock();
        EXPECT_FALSE(m.try_lock().has_value());  // handed to waiter 1, not up for grabs
        checked.store(true, std::memory_order_release);  // release: the check, before 1 unlocks
        for (auto& h : hs) co_await h;
        EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
        EXPECT_TRUE(m.try_lock().has_value());
      }(),
      {.manual_clock = true});
}

// Cancels waiter `victim` (0-based) of three queued ones while the lock is held: it throws, the
// others get the lock in order, and the lock is free at the end.
task<void> cancel_queued(int victim) {
  coloop::mutex m;
  std::vector<int> order;
  auto g = co_await m.lock();
  std::vector<coloop::join_handle<void>> hs;
  for (int id = 0; id < 3; ++id) {
    hs.push_back(coloop::spawn(take_and_note, &m, &order, id, &at_once));
    co_await until_idle();
  }
  hs[static_cast<std::size_t>(victim)].cancel();
  EXPECT_EQ(co_await coloop::test::sync_error_of(std::move(hs[static_cast<std::size_t>(victim)])),
            coloop::errc::cancelled);
  EXPECT_TRUE(m.locked());
  g.unlock();
  for (int id = 0; id < 3; ++id) {
    if (id != victim) co_await hs[static_cast<std::size_t>(id)];
  }
  std::vector<int> expected;
  for (int id = 0; id < 3; ++id) {
    if (id != victim) expected.push_back(id);
  }
  EXPECT_EQ(order, expected);
  EXPECT_TRUE(m.try_lock().has_value());
}

TEST_P(Mutex, CancelledHeadLeavesTheStateUnchanged) {
  run(cancel_queued(0), {.manual_clock = true});
}
TEST_P(Mutex, CancelledMiddleLeavesTheStateUnchanged) {
  run(cancel_queued(1), {.manual_clock = true});
}
TEST_P(Mutex, CancelledTailLeavesTheStateUnchanged) {
  run(cancel_queued(2), {.manual_clock = true});
}

// Locks, then holds without an await until `go`: on the runtime another worker may resume it as
// soon as the lock is handed over, and it must not reach the yield (and go past it) before the
// test has cancelled it.
task<void> lock_then_yield(coloop::mutex* m, int* got, const std::atomic<bool>* go) {
  auto g = co_await m->lock();
  ++*got;
  // Acquire: the test's cancel happens before the yield.
  while (!go->load(std::memory_order_acquire)) std::this_thread::yield();
  co_await coloop::yield();  // the pending cancel lands here; the guard unlocks on the way out
  ++*got;
}

TEST_P(Mutex, CancelAfterTheHandOverStaysPendingAndPassesTheLockOn) {
  run(
      []() -> task<void> {
        coloop::mutex m;
        int got_a = 0, got_b = 0;
        std::atomic<bool> cancel_sent{false};
        auto g = co_await m.lock();
        auto a = coloop::spawn(lock_then_yield, &m, &got_a, &cancel_sent);
        co_await until_idle();
        auto b = coloop::spawn(lock_then_yield, &m, &got_b, &at_once);
        co_await until_idle();
        g.unlock();  // a is handed the lock...
        a.cancel();  // ...and cancelled before it runs (on the runtime: before it yields)
        cancel_sent.store(true, std::memory_order_release);  // release: the cancel, before a yields
        EXPECT_EQ(co_await coloop::test::sync_error_of(std::move(a)), coloop::errc::cancelled);
        EXPECT_EQ(got_a, 1);  // it did get the lock
        co_await b;
        EXPECT_EQ(got_b, 2);
        EXPECT_FALSE(m.locked());
      }(),
      {.manual_clock = true});
}

TEST_P(Mutex, PendingCancelDoesNotQueue) {
  run([]() -> task<void> {
    coloop::mutex m;
    auto g = co_await m.lock();
    int got = 0;
    auto a = coloop::spawn(lock_then_yield, &m, &got, &at_once);
    a.cancel();  // before it ever ran
    EXPECT_EQ(co_await coloop::test::sync_error_of(std::move(a)), coloop::errc::cancelled);
    g.unlock();
    EXPECT_EQ(got, 0);
    EXPECT_TRUE(m.try_lock().has_value());
  }());
}

TEST_P(Mutex, WaiterDestroyedAfterTheHandOverPassesTheLockOn) {
  run(
      []() -> task<void> {
        coloop::mutex m;
        auto g = co_await m.lock();
        int got = 0;
        coloop::join_handle<void> b;
        {
          auto first = m.lock();
          EXPECT_TRUE(coloop::test::park_detached(first));
          b = coloop::spawn(lock_then_yield, &m, &got, &at_once);
          co_await until_idle();
          g.unlock();  // handed to `first`, which never resumes
          EXPECT_TRUE(m.locked());
        }  // `first` dies here: the lock goes on to b
        co_await b;
        EXPECT_EQ(got, 2);
        EXPECT_FALSE(m.locked());
      }(),
      {.manual_clock = true});
}

TEST_P(Mutex, WaiterDestroyedWhileQueuedLeaves) {
  run([]() -> task<void> {
    coloop::mutex m;
    auto g = co_await m.lock();
    {
      auto w = m.lock();
      EXPECT_TRUE(coloop::test::park_detached(w));
    }
    g.unlock();
    EXPECT_FALSE(m.locked());  // nobody was left to hand it to
  }());
}

task<void> raise_flag(std::atomic<bool>* flag) {
  flag->store(true);
  co_return;
}

TEST_P(Mutex, UncontendedLocksSpendTheCoopBudget) {
  // With two workers the other task may be stolen by a worker the OS then deschedules: only one
  // thread makes "it ran before the loop ended" a deterministic consequence of the budget.
  if (GetParam().workers > 1) GTEST_SKIP() << "needs a single thread";
  run([]() -> task<void> {
    coloop::mutex m;
    std::atomic<bool> flag{false};
    auto other = coloop::spawn(raise_flag, &flag);
    for (int i = 0; i < 10'000 && !flag.load(); ++i) {
      auto g = co_await m.lock();  // free every time: completes at once
    }
    EXPECT_TRUE(flag.load());  // the budget made it give way
    EXPECT_FALSE(m.locked());
    co_await other;
  }());
}

COLOOP_INSTANTIATE_FLAVOURS(Mutex);

}  // namespace
