// condition: wait/notify bound to a coloop::mutex, predicates, misuse, cancellation.

#include <gtest/gtest.h>

#include <coloop/coloop.hpp>
#include <coloop/sync/condition.hpp>
#include <coroutine>
#include <exception>
#include <stdexcept>
#include <vector>

#include "support/flavour.hpp"
#include "sync/sync_test_util.hpp"

namespace {

using coloop::task;
using coloop::test::until_idle;

class Condition : public coloop::test::flavour_test {};

struct shared {
  coloop::mutex m;
  coloop::condition c{m};
  int value = 0;
  std::vector<int> woke;  // guarded by m
};

task<void> wait_once(shared* s, int id) {
  auto g = co_await s->m.lock();
  co_await s->c.wait(g);
  EXPECT_TRUE(g.owns_lock());
  s->woke.push_back(id);
}

TEST_P(Condition, NotifyOneWakesInOrderAndNotifyAllWakesTheRest) {
  run(
      []() -> task<void> {
        shared s;
        std::vector<coloop::join_handle<void>> hs;
        for (int id = 0; id < 3; ++id) {
          hs.push_back(coloop::spawn(wait_once, &s, id));
          co_await until_idle();
        }
        EXPECT_FALSE(s.m.locked());  // each released it while waiting
        s.c.notify_one();
        co_await hs[0];
        EXPECT_EQ(s.woke, (std::vector<int>{0}));
        s.c.notify_all();
        co_await hs[1];
        co_await hs[2];
        EXPECT_EQ(s.woke, (std::vector<int>{0, 1, 2}));
        s.c.notify_one();  // nobody waits: a no-op
        EXPECT_FALSE(s.m.locked());
      }(),
      {.manual_clock = true});
}

task<void> wait_for_value(shared* s, int want) {
  auto g = co_await s->m.lock();
  auto ready = [s, want] { return s->value >= want; };
  co_await s->c.wait(g, ready);
  EXPECT_GE(s->value, want);
}

TEST_P(Condition, WaitWithAPredicateWaitsUntilItHolds) {
  run(
      []() -> task<void> {
        shared s;
        auto h = coloop::spawn(wait_for_value, &s, 2);
        co_await until_idle();
        for (int i = 1; i <= 2; ++i) {
          auto g = co_await s.m.lock();
          s.value = i;
          s.c.notify_all();
        }
        co_await h;
        s.value = 5;
        auto g = co_await s.m.lock();
        auto already = [&s] { return s.value == 5; };
        co_await s.c.wait(g, already);  // true at once: no wait
        EXPECT_TRUE(g.owns_lock());
      }(),
      {.manual_clock = true});
}

TEST_P(Condition, GuardOfAnotherMutexIsALogicError) {
  run([]() -> task<void> {
    shared s;
    coloop::mutex other;
    auto g = co_await other.lock();
    bool threw = false;
    try {
      co_await s.c.wait(g);
    } catch (const std::logic_error& e) {
      threw = std::string(e.what()).find("another mutex") != std::string::npos;
    }
    EXPECT_TRUE(threw);
    coloop::mutex::guard empty;
    threw = false;
    try {
      co_await s.c.wait(empty);
    } catch (const std::logic_error&) {
      threw = true;
    }
    EXPECT_TRUE(threw);
    EXPECT_TRUE(g.owns_lock());
    EXPECT_EQ(&s.c.mutex(), &s.m);
  }());
}

task<void> wait_expect_cancel(shared* s, int* relocked) {
  auto g = co_await s->m.lock();
  try {
    co_await s->c.wait(g);
  } catch (const coloop::cancelled_error&) {
    if (g.owns_lock()) ++*relocked;
    throw;
  }
}

// Three waiters, `victim` cancelled while the test holds the mutex: it re-takes the lock (after
// the test lets go) before it throws, and the next notify_one goes to the oldest of the others.
task<void> cancel_waiter(int victim) {
  shared s;
  int relocked = 0;
  std::vector<coloop::join_handle<void>> hs;
  for (int id = 0; id < 3; ++id) {
    if (id == victim) {
      hs.push_back(coloop::spawn(wait_expect_cancel, &s, &relocked));
    } else {
      hs.push_back(coloop::spawn(wait_once, &s, id));
    }
    co_await until_idle();
  }
  {
    auto g = co_await s.m.lock();
    hs[static_cast<std::size_t>(victim)].cancel();
    co_await until_idle();
    EXPECT_EQ(relocked, 0);  // it waits for the lock we hold
  }
  EXPECT_EQ(co_await coloop::test::sync_error_of(std::move(hs[static_cast<std::size_t>(victim)])),
            coloop::errc::cancelled);
  EXPECT_EQ(relocked, 1);
  s.c.notify_one();
  co_await until_idle();
  EXPECT_EQ(s.woke, (std::vector<int>{victim == 0 ? 1 : 0}));
  s.c.notify_one();
  for (int id = 0; id < 3; ++id) {
    if (id != victim) co_await hs[static_cast<std::size_t>(id)];
  }
  EXPECT_EQ(s.woke.size(), 2u);
  EXPECT_FALSE(s.m.locked());
}

TEST_P(Condition, CancelledHeadRelocksAndThrows) { run(cancel_waiter(0), {.manual_clock = true}); }
TEST_P(Condition, CancelledMiddleRelocksAndThrows) {
  run(cancel_waiter(1), {.manual_clock = true});
}
TEST_P(Condition, CancelledTailRelocksAndThrows) { run(cancel_waiter(2), {.manual_clock = true}); }

TEST_P(Condition, CancelAfterTheNotificationStaysPendingAndKeepsTheLock) {
  run(
      []() -> task<void> {
        shared s;
        auto a = coloop::spawn(wait_once, &s, 7);
        co_await until_idle();
        s.c.notify_one();
        a.cancel();  // after the notification: wait returns normally, with the lock
        co_await coloop::test::sync_error_of(std::move(a));
        EXPECT_EQ(s.woke, (std::vector<int>{7}));
        EXPECT_FALSE(s.m.locked());
      }(),
      {.manual_clock = true});
}

TEST_P(Condition, CancelWhileReTakingTheMutexPassesTheNotificationOn) {
  run(
      []() -> task<void> {
        shared s;
        int relocked = 0;
        auto a = coloop::spawn(wait_expect_cancel, &s, &relocked);
        co_await until_idle();
        auto b = coloop::spawn(wait_once, &s, 2);
        co_await until_idle();
        {
          auto g = co_await s.m.lock();
          s.c.notify_one();  // a is notified and queues for the mutex we hold...
          a.cancel();        // ...and is cancelled there: b gets the notification
          co_await until_idle();
          EXPECT_EQ(relocked, 0);
        }
        EXPECT_EQ(co_await coloop::test::sync_error_of(std::move(a)), coloop::errc::cancelled);
        EXPECT_EQ(relocked, 1);
        co_await b;
        EXPECT_EQ(s.woke, (std::vector<int>{2}));
        EXPECT_FALSE(s.m.locked());
      }(),
      {.manual_clock = true});
}

TEST_P(Condition, NotifiedWaitersReTakeTheMutexInOrder) {
  run(
      []() -> task<void> {
        shared s;
        std::vector<coloop::join_handle<void>> hs;
        for (int id = 0; id < 3; ++id) {
          hs.push_back(coloop::spawn(wait_once, &s, id));
          co_await until_idle();
        }
        {
          auto g = co_await s.m.lock();
          s.c.notify_all();  // all three queue on the mutex, in order, behind us
        }
        for (auto& h : hs) co_await h;
        EXPECT_EQ(s.woke, (std::vector<int>{0, 1, 2}));
      }(),
      {.manual_clock = true});
}

// A bare coroutine the test resumes and destroys by hand, to drop a waiting frame.
struct manual_coroutine {
  struct promise_type {
    manual_coroutine get_return_object() {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
  std::coroutine_handle<promise_type> h;
};

manual_coroutine wait_by_hand(coloop::condition* c, coloop::mutex::guard* g) {
  co_await c->wait(*g);
}

TEST_P(Condition, WaiterDestroyedAfterItsNotificationPassesItOn) {
  run(
      []() -> task<void> {
        shared s;
        auto mine = co_await s.m.lock();
        manual_coroutine dropped = wait_by_hand(&s.c, &mine);  // queued first; lets go of m
        EXPECT_FALSE(s.m.locked());
        auto b = coloop::spawn(wait_once, &s, 2);
        co_await until_idle();
        {
          auto g = co_await s.m.lock();
          s.c.notify_one();     // `dropped` is notified and queues for the mutex we hold...
          dropped.h.destroy();  // ...and its frame dies there: b gets the notification
        }
        co_await until_idle();
        EXPECT_EQ(s.woke, (std::vector<int>{2}));
        if (s.woke.empty()) s.c.notify_all();  // a lost notification fails, not hangs
        co_await b;
        EXPECT_FALSE(s.m.locked());
      }(),
      {.manual_clock = true});
}

COLOOP_INSTANTIATE_FLAVOURS(Condition);

}  // namespace
