// Cancel racing the hand-over, 10,000 times per primitive, on every flavour (on the runtime the
// waiter and the canceller run on different workers; TSan runs this suite): whichever wins,
// nothing is lost, duplicated or leaked.

#include <gtest/gtest.h>

#include <coloop/coloop.hpp>
#include <coloop/sync/condition.hpp>
#include <coloop/sync/mutex.hpp>
#include <coloop/sync/queue.hpp>
#include <coloop/sync/semaphore.hpp>

#include "support/flavour.hpp"

namespace {

using coloop::task;

constexpr int rounds = 10'000;

class SyncRace : public coloop::test::flavour_test {};

template <class Awaitable>
task<bool> finished(Awaitable h) {  // true: ran to the end; false: cancelled
  try {
    co_await std::move(h);
  } catch (const coloop::cancelled_error&) {
    co_return false;
  }
  co_return true;
}

task<void> lock_once(coloop::mutex* m, int* got) {
  auto g = co_await m->lock();
  ++*got;
}

TEST_P(SyncRace, MutexCancelVersusHandOver) {
  run([]() -> task<void> {
    coloop::mutex m;
    int got = 0, completed = 0;
    for (int i = 0; i < rounds; ++i) {
      auto g = co_await m.lock();
      auto h = coloop::spawn(lock_once, &m, &got);
      if (i % 2 == 0) co_await coloop::yield();
      if (i % 3 == 0) {
        h.cancel();
        g.unlock();
      } else {
        g.unlock();
        h.cancel();
      }
      if (co_await finished(std::move(h))) ++completed;
      EXPECT_TRUE(m.try_lock().has_value());  // never lost
    }
    EXPECT_EQ(got, completed);
  }());
}

task<void> acquire_once(coloop::semaphore* s, int* got) {
  auto p = co_await s->acquire(2);
  ++*got;
}

TEST_P(SyncRace, SemaphoreCancelVersusHandOver) {
  run([]() -> task<void> {
    coloop::semaphore s(0);
    int got = 0, completed = 0;
    for (int i = 0; i < rounds; ++i) {
      auto h = coloop::spawn(acquire_once, &s, &got);
      if (i % 2 == 0) co_await coloop::yield();
      if (i % 3 == 0) {
        h.cancel();
        s.release(2);
      } else {
        s.release(2);
        h.cancel();
      }
      if (co_await finished(std::move(h))) ++completed;
      EXPECT_EQ(s.available(), 2u);  // given back either way, never twice
      auto all = s.try_acquire(2);
      EXPECT_TRUE(all.has_value());
      if (all) all->forget();
    }
    EXPECT_EQ(got, completed);
  }());
}

task<void> get_once(coloop::queue<int>* q, int* out) { *out = co_await q->get(); }

TEST_P(SyncRace, QueueCancelVersusHandOver) {
  run([]() -> task<void> {
    coloop::queue<int> q;
    for (int i = 0; i < rounds; ++i) {
      int out = -1;
      auto h = coloop::spawn(get_once, &q, &out);
      if (i % 2 == 0) co_await coloop::yield();
      if (i % 3 == 0) {
        h.cancel();
        EXPECT_TRUE(q.try_put(std::move(i)));
      } else {
        EXPECT_TRUE(q.try_put(std::move(i)));
        h.cancel();
      }
      const bool got = co_await finished(std::move(h));
      const std::optional<int> left = q.try_get();
      EXPECT_NE(got, left.has_value());  // exactly one of the two has it
      EXPECT_EQ(got ? out : *left, i);
    }
  }());
}

task<void> wait_once(coloop::mutex* m, coloop::condition* c) {
  auto g = co_await m->lock();
  co_await c->wait(g);
}

// A cancel before the waiter queues makes its wait throw; one after the notification leaves it
// to return normally: either way it ends (a lost wake-up would hang here) and unlocks.
TEST_P(SyncRace, ConditionCancelVersusNotify) {
  run([]() -> task<void> {
    coloop::mutex m;
    coloop::condition c(m);
    for (int i = 0; i < rounds; ++i) {
      auto h = coloop::spawn(wait_once, &m, &c);
      if (i % 2 == 0) co_await coloop::yield();
      if (i % 3 == 0) {
        h.cancel();
        c.notify_one();
      } else {
        c.notify_one();
        h.cancel();
      }
      (void)co_await finished(std::move(h));
      EXPECT_TRUE(m.try_lock().has_value());
    }
  }());
}

COLOOP_INSTANTIATE_FLAVOURS(SyncRace);

}  // namespace
