// semaphore: permits, FIFO with multi-permit requests, bad requests, cancellation, release from a
// plain thread.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <coloop/coloop.hpp>
#include <coloop/sync/semaphore.hpp>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/flavour.hpp"
#include "sync/sync_test_util.hpp"

namespace {

using coloop::task;
using coloop::test::until_idle;

class Semaphore : public coloop::test::flavour_test {};

task<void> acquire_and_note(coloop::semaphore* s, std::size_t k, std::vector<int>* order, int id) {
  auto p = co_await s->acquire(k);
  EXPECT_EQ(p.count(), k);
  static std::mutex order_lock;  // waiters served together run in parallel on the runtime
  std::lock_guard lock(order_lock);
  order->push_back(id);
  p.forget();  // keep them: the test releases by hand
}

TEST_P(Semaphore, AcquireTryAcquireReleaseAvailable) {
  run([]() -> task<void> {
    coloop::semaphore s(3);
    EXPECT_EQ(s.available(), 3u);
    {
      auto p = co_await s.acquire();
      EXPECT_EQ(p.count(), 1u);
      auto q = co_await s.acquire(2);
      EXPECT_EQ(s.available(), 0u);
      EXPECT_FALSE(s.try_acquire().has_value());
      q.release();
      EXPECT_EQ(q.count(), 0u);
      EXPECT_EQ(s.available(), 2u);
      auto moved = std::move(p);
      coloop::semaphore::permit other;
      other = std::move(moved);
      EXPECT_EQ(s.available(), 2u);
    }
    EXPECT_EQ(s.available(), 3u);
    auto t = s.try_acquire(3);
    EXPECT_TRUE(t.has_value());
    EXPECT_EQ(s.available(), 0u);
    if (t) t->forget();
    EXPECT_EQ(s.available(), 0u);
    s.release(3);
    EXPECT_EQ(s.available(), 3u);
    s.release(0);
    EXPECT_EQ(s.available(), 3u);
  }());
}

TEST(SemaphoreArgs, BadRequestsThrowClearly) {
  EXPECT_THROW(coloop::semaphore(coloop::semaphore::max_permits + 1), std::invalid_argument);
  coloop::semaphore s(1);
  EXPECT_THROW((void)s.acquire(0), std::invalid_argument);
  EXPECT_THROW((void)s.acquire(coloop::semaphore::max_permits + 1), std::invalid_argument);
  EXPECT_THROW((void)s.try_acquire(0), std::invalid_argument);
  try {
    (void)s.acquire(0);
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("semaphore::acquire"), std::string::npos);
  }
  EXPECT_THROW(s.release(coloop::semaphore::max_permits), std::overflow_error);
  EXPECT_EQ(s.available(), 1u);
}

TEST_P(Semaphore, LargeRequestAtTheHeadIsNotStarved) {
  run(
      []() -> task<void> {
        coloop::semaphore s(0);
        std::vector<int> order;
        auto big = coloop::spawn(acquire_and_note, &s, std::size_t{3}, &order, 1);
        co_await until_idle();
        auto small = coloop::spawn(acquire_and_note, &s, std::size_t{1}, &order, 2);
        co_await until_idle();
        s.release(2);  // enough for `small`, but `big` is first
        co_await until_idle();
        EXPECT_TRUE(order.empty());
        EXPECT_FALSE(s.try_acquire().has_value());  // no barging past waiters either
        s.release(2);
        co_await big;
        co_await small;
        std::sort(order.begin(), order.end());  // served together: they may run in parallel
        EXPECT_EQ(order, (std::vector<int>{1, 2}));
        EXPECT_EQ(s.available(), 0u);
      }(),
      {.manual_clock = true});
}

// Three queued waiters asking 3, 1, 1; `victim` is cancelled with 2 permits free. Cancelling
// the head lets the two small ones through at once (the big one no longer blocks them).
task<void> cancel_queued(int victim) {
  coloop::semaphore s(0);
  std::vector<int> order;
  const std::size_t asks[] = {3, 1, 1};
  std::vector<coloop::join_handle<void>> hs;
  for (int id = 0; id < 3; ++id) {
    hs.push_back(coloop::spawn(acquire_and_note, &s, asks[id], &order, id));
    co_await until_idle();
  }
  s.release(2);
  hs[static_cast<std::size_t>(victim)].cancel();
  EXPECT_EQ(co_await coloop::test::sync_error_of(std::move(hs[static_cast<std::size_t>(victim)])),
            coloop::errc::cancelled);
  co_await until_idle();
  std::sort(order.begin(), order.end());  // those served together may run in parallel
  if (victim == 0) {
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    EXPECT_EQ(s.available(), 0u);
  } else {
    EXPECT_TRUE(order.empty());  // the head still needs 3
    s.release(2);                // 4: 3 to the head, 1 to the other small one
    co_await until_idle();
    std::sort(order.begin(), order.end());
    EXPECT_EQ(order, (std::vector<int>{0, victim == 1 ? 2 : 1}));
  }
  for (int id = 0; id < 3; ++id) {
    if (id != victim) co_await hs[static_cast<std::size_t>(id)];
  }
  EXPECT_EQ(s.available(), 0u);  // nothing leaked, nothing made up
}

TEST_P(Semaphore, CancelledHeadUnblocksTheWaitersBehind) {
  run(cancel_queued(0), {.manual_clock = true});
}
TEST_P(Semaphore, CancelledMiddleLeavesTheStateUnchanged) {
  run(cancel_queued(1), {.manual_clock = true});
}
TEST_P(Semaphore, CancelledTailLeavesTheStateUnchanged) {
  run(cancel_queued(2), {.manual_clock = true});
}

const std::atomic<bool> at_once{true};  // a `go` already given

// Acquires, then holds without an await until `go`: on the runtime another worker may resume it
// as soon as the permits are handed over, and it must not reach the yield (and go past it)
// before the test has cancelled it.
task<void> acquire_then_yield(coloop::semaphore* s, int* got, const std::atomic<bool>* go) {
  auto p = co_await s->acquire(2);
  ++*got;
  // Acquire: the test's cancel happens before the yield.
  while (!go->load(std::memory_order_acquire)) std::this_thread::yield();
  co_await coloop::yield();  // the pending cancel lands here; the permits go back
  ++*got;
}

TEST_P(Semaphore, CancelAfterTheHandOverGivesThePermitsBack) {
  run(
      []() -> task<void> {
        coloop::semaphore s(0);
        int got = 0;
        std::atomic<bool> cancel_sent{false};
        auto a = coloop::spawn(acquire_then_yield, &s, &got, &cancel_sent);
        co_await until_idle();
        s.release(2);  // handed to a...
        a.cancel();    // ...and cancelled before it runs (on the runtime: before it yields)
        cancel_sent.store(true, std::memory_order_release);  // release: the cancel, before a yields
        EXPECT_EQ(co_await coloop::test::sync_error_of(std::move(a)), coloop::errc::cancelled);
        EXPECT_EQ(got, 1);
        EXPECT_EQ(s.available(), 2u);
      }(),
      {.manual_clock = true});
}

TEST_P(Semaphore, WaiterDestroyedAfterTheHandOverPassesThePermitsOn) {
  run(
      []() -> task<void> {
        coloop::semaphore s(0);
        int got = 0;
        coloop::join_handle<void> b;
        {
          auto first = s.acquire(2);
          EXPECT_TRUE(coloop::test::park_detached(first));
          b = coloop::spawn(acquire_then_yield, &s, &got, &at_once);
          co_await until_idle();
          s.release(2);  // to `first`, which never resumes
          EXPECT_EQ(s.available(), 0u);
        }
        co_await b;
        EXPECT_EQ(got, 2);
        EXPECT_EQ(s.available(), 2u);
        {
          auto queued = s.acquire(3);
          EXPECT_TRUE(coloop::test::park_detached(queued));
        }  // destroyed while queued: leaves
        EXPECT_EQ(s.available(), 2u);
        EXPECT_TRUE(s.try_acquire(2).has_value());
      }(),
      {.manual_clock = true});
}

TEST_P(Semaphore, ReleaseFromAPlainThreadWakesTheTask) {
  run(
      []() -> task<void> {
        coloop::semaphore s(0);
        int got = 0;
        auto a = coloop::spawn(acquire_then_yield, &s, &got, &at_once);
        co_await until_idle();
        std::thread releaser([&s] { s.release(2); });
        releaser.join();
        co_await a;
        EXPECT_EQ(got, 2);
        EXPECT_EQ(s.available(), 2u);
      }(),
      {.manual_clock = true});
}

COLOOP_INSTANTIATE_FLAVOURS(Semaphore);

}  // namespace
