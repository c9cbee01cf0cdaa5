// queue, priority_queue, lifo_queue: asyncio.Queue semantics (3.13 shutdown included), FIFO
// among waiters, move-only items, cancellation that loses and duplicates nothing.

#include <gtest/gtest.h>

#include <atomic>
#include <coloop/coloop.hpp>
#include <coloop/sync/queue.hpp>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/flavour.hpp"
#include "sync/sync_test_util.hpp"

namespace {

using coloop::task;
using coloop::test::sync_error_of;
using coloop::test::until_idle;

class Queue : public coloop::test::flavour_test {};

TEST_P(Queue, PutGetTryAndCounts) {
  run([]() -> task<void> {
    coloop::queue<int> q(2);
    EXPECT_EQ(q.capacity(), 2u);
    EXPECT_TRUE(q.empty());
    EXPECT_FALSE(q.full());
    co_await q.put(1);
    const int two = 2;
    EXPECT_TRUE(q.try_put(two));
    EXPECT_TRUE(q.full());
    EXPECT_EQ(q.size(), 2u);
    EXPECT_FALSE(q.try_put(3));
    EXPECT_EQ(co_await q.get(), 1);
    EXPECT_EQ(q.try_get(), 2);
    EXPECT_EQ(q.try_get(), std::nullopt);
    EXPECT_TRUE(q.empty());
    coloop::queue<int> unbounded;
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE(unbounded.try_put(std::move(i)));
    EXPECT_FALSE(unbounded.full());
    EXPECT_EQ(unbounded.size(), 1000u);
  }());
}

TEST_P(Queue, OrdersOfTheThreeKinds) {
  run([]() -> task<void> {
    coloop::priority_queue<int> pq;
    coloop::lifo_queue<int> lq;
    coloop::priority_queue<int, std::greater<int>> maxq;
    for (int v : {5, 1, 4, 2, 3}) {
      co_await pq.put(v);
      co_await lq.put(v);
      co_await maxq.put(v);
    }
    std::vector<int> p, l, m;
    for (int i = 0; i < 5; ++i) {
      p.push_back(co_await pq.get());
      l.push_back(co_await lq.get());
      m.push_back(co_await maxq.get());
    }
    EXPECT_EQ(p, (std::vector<int>{1, 2, 3, 4, 5}));  // smallest first, like asyncio
    EXPECT_EQ(l, (std::vector<int>{3, 2, 4, 1, 5}));
    EXPECT_EQ(m, (std::vector<int>{5, 4, 3, 2, 1}));
  }());
}

TEST_P(Queue, MoveOnlyItemsAndAFailedTryPutKeepsTheItem) {
  run([]() -> task<void> {
    coloop::queue<std::unique_ptr<int>> q(1);
    co_await q.put(std::make_unique<int>(1));
    auto second = std::make_unique<int>(2);
    EXPECT_FALSE(q.try_put(std::move(second)));
    EXPECT_TRUE(second != nullptr && *second == 2);  // still ours
    auto first = co_await q.get();
    EXPECT_EQ(*first, 1);
    EXPECT_TRUE(q.try_put(std::move(second)));
    auto got = q.try_get();
    EXPECT_TRUE(got && *got && **got == 2);
  }());
}

task<void> get_into(coloop::queue<int>* q, std::vector<int>* out) {
  out->push_back(co_await q->get());
}
task<void> put_value(coloop::queue<int>* q, int v) { co_await q->put(v); }
template <class Q>
task<void> get_one(Q* q) {
  (void)co_await q->get();
}

TEST_P(Queue, GettersAndPuttersWaitInOrder) {
  run(
      []() -> task<void> {
        coloop::queue<int> q(1);
        std::vector<int> a, b, c;
        std::vector<coloop::join_handle<void>> gets;
        for (std::vector<int>* out : {&a, &b, &c}) {
          gets.push_back(coloop::spawn(get_into, &q, out));
          co_await until_idle();
        }
        for (int v = 1; v <= 3; ++v) co_await q.put(v);  // each straight to the next getter
        for (auto& h : gets) co_await h;
        EXPECT_EQ(a, (std::vector<int>{1}));
        EXPECT_EQ(b, (std::vector<int>{2}));
        EXPECT_EQ(c, (std::vector<int>{3}));
        co_await q.put(10);  // now full: putters wait in order
        std::vector<coloop::join_handle<void>> puts;
        for (int v = 11; v <= 13; ++v) {
          puts.push_back(coloop::spawn(put_value, &q, v));
          co_await until_idle();
        }
        std::vector<int> got;
        for (int i = 0; i < 4; ++i) got.push_back(co_await q.get());
        for (auto& h : puts) co_await h;
        EXPECT_EQ(got, (std::vector<int>{10, 11, 12, 13}));
      }(),
      {.manual_clock = true});
}

task<void> work_off(coloop::queue<int>* q, int n) {
  for (int i = 0; i < n; ++i) {
    (void)co_await q->get();
    q->task_done();
  }
}

TEST_P(Queue, JoinWaitsForTaskDone) {
  run(
      []() -> task<void> {
        coloop::queue<int> q;
        co_await q.join();  // nothing put: at once
        for (int i = 0; i < 3; ++i) co_await q.put(i);
        auto worker = coloop::spawn(work_off, &q, 3);
        co_await q.join();
        co_await worker;
        EXPECT_TRUE(q.empty());
        bool threw = false;
        try {
          q.task_done();
        } catch (const std::logic_error& e) {
          threw = std::string(e.what()).find("task_done") != std::string::npos;
        }
        EXPECT_TRUE(threw);
      }(),
      {.manual_clock = true});
}

task<void> join_queue(coloop::queue<int>* q) { co_await q->join(); }

TEST_P(Queue, CancelledJoinLeavesTheCountAlone) {
  run(
      []() -> task<void> {
        coloop::queue<int> q;
        co_await q.put(1);
        auto joiner = coloop::spawn(join_queue, &q);
        co_await until_idle();
        joiner.cancel();
        EXPECT_EQ(co_await sync_error_of(std::move(joiner)), coloop::errc::cancelled);
        auto second = coloop::spawn(join_queue, &q);
        co_await until_idle();
        EXPECT_FALSE(second.done());
        EXPECT_EQ(q.try_get(), 1);
        q.task_done();
        co_await second;
      }(),
      {.manual_clock = true});
}

TEST_P(Queue, ShutdownDrainWakesEveryoneAndLetsTheRestOut) {
  run(
      []() -> task<void> {
        coloop::queue<int> q(1);
        co_await q.put(1);
        auto putter = coloop::spawn(put_value, &q, 2);  // waits: full
        co_await until_idle();
        q.shutdown();
        EXPECT_EQ(co_await sync_error_of(std::move(putter)), coloop::errc::closed);
        EXPECT_EQ(co_await sync_error_of(put_value(&q, 3)), coloop::errc::closed);
        EXPECT_THROW((void)q.try_put(3), std::system_error);
        EXPECT_EQ(co_await q.get(), 1);
        EXPECT_EQ(co_await sync_error_of(get_one(&q)), coloop::errc::closed);
        EXPECT_THROW((void)q.try_get(), std::system_error);
        q.task_done();
        co_await q.join();
        coloop::queue<int> empty;
        std::vector<int> out;
        auto getter = coloop::spawn(get_into, &empty, &out);
        co_await until_idle();
        empty.shutdown(coloop::shutdown_mode::drain);
        EXPECT_EQ(co_await sync_error_of(std::move(getter)), coloop::errc::closed);
        empty.shutdown();  // idempotent
      }(),
      {.manual_clock = true});
}

TEST_P(Queue, ShutdownCancelDropsTheRestAndReleasesJoin) {
  run(
      []() -> task<void> {
        coloop::queue<std::shared_ptr<int>> q;
        auto item = std::make_shared<int>(1);
        co_await q.put(item);
        co_await q.put(item);
        EXPECT_EQ(item.use_count(), 3);
        q.shutdown(coloop::shutdown_mode::cancel);
        EXPECT_EQ(item.use_count(), 1);  // dropped
        EXPECT_TRUE(q.empty());
        co_await q.join();  // the dropped ones count as done
        EXPECT_EQ(co_await sync_error_of(get_one(&q)), coloop::errc::closed);
      }(),
      {.manual_clock = true});
}

// Three queued getters, `victim` cancelled: three puts then reach the other two and one stays.
task<void> cancel_getter(int victim) {
  coloop::queue<int> q;
  std::vector<int> outs[3];
  std::vector<coloop::join_handle<void>> hs;
  for (int id = 0; id < 3; ++id) {
    hs.push_back(coloop::spawn(get_into, &q, &outs[id]));
    co_await until_idle();
  }
  hs[static_cast<std::size_t>(victim)].cancel();
  EXPECT_EQ(co_await sync_error_of(std::move(hs[static_cast<std::size_t>(victim)])),
            coloop::errc::cancelled);
  for (int v = 1; v <= 3; ++v) co_await q.put(v);
  int next = 1;
  for (int id = 0; id < 3; ++id) {
    if (id == victim) continue;
    co_await hs[static_cast<std::size_t>(id)];
    EXPECT_EQ(outs[id], (std::vector<int>{next++}));
  }
  EXPECT_TRUE(outs[victim].empty());
  EXPECT_EQ(q.try_get(), 3);
}

TEST_P(Queue, CancelledHeadGetterTakesNothing) { run(cancel_getter(0), {.manual_clock = true}); }
TEST_P(Queue, CancelledMiddleGetterTakesNothing) { run(cancel_getter(1), {.manual_clock = true}); }
TEST_P(Queue, CancelledTailGetterTakesNothing) { run(cancel_getter(2), {.manual_clock = true}); }

// Three queued putters on a full queue, `victim` cancelled: its item never goes in, the others'
// go in order.
task<void> cancel_putter(int victim) {
  coloop::queue<int> q(1);
  co_await q.put(0);
  std::vector<coloop::join_handle<void>> hs;
  for (int v = 1; v <= 3; ++v) {
    hs.push_back(coloop::spawn(put_value, &q, v));
    co_await until_idle();
  }
  hs[static_cast<std::size_t>(victim)].cancel();
  EXPECT_EQ(co_await sync_error_of(std::move(hs[static_cast<std::size_t>(victim)])),
            coloop::errc::cancelled);
  std::vector<int> got;
  for (int i = 0; i < 3; ++i) got.push_back(co_await q.get());
  std::vector<int> expected{0};
  for (int id = 0; id < 3; ++id) {
    if (id == victim) continue;
    co_await hs[static_cast<std::size_t>(id)];
    expected.push_back(id + 1);
  }
  EXPECT_EQ(got, expected);
  EXPECT_TRUE(q.empty());
}

TEST_P(Queue, CancelledHeadPutterPutsNothing) { run(cancel_putter(0), {.manual_clock = true}); }
TEST_P(Queue, CancelledMiddlePutterPutsNothing) { run(cancel_putter(1), {.manual_clock = true}); }
TEST_P(Queue, CancelledTailPutterPutsNothing) { run(cancel_putter(2), {.manual_clock = true}); }

task<void> raise_flag(std::atomic<bool>* flag) {
  flag->store(true);
  co_return;
}

TEST_P(Queue, ImmediateGetsSpendTheCoopBudget) {
  // With two workers the other task may be stolen by a worker the OS then deschedules: only one
  // thread makes "it ran before the loop ended" a deterministic consequence of the budget.
  if (GetParam().workers > 1) GTEST_SKIP() << "needs a single thread";
  run([]() -> task<void> {
    coloop::queue<int> q;
    for (int i = 0; i < 10'000; ++i) EXPECT_TRUE(q.try_put(std::move(i)));
    std::atomic<bool> flag{false};
    auto other = coloop::spawn(raise_flag, &flag);
    int taken = 0;
    while (!flag.load() && taken < 10'000) {
      EXPECT_EQ(co_await q.get(), taken);  // never suspends for want of items
      ++taken;
    }
    EXPECT_TRUE(flag.load());  // the budget made it give way
    co_await other;
  }());
}

// Holds, without an await, until `go`: on the runtime another worker may resume the getter as
// soon as the item is handed over, and it must not reach the yield (and end) before the cancel.
task<void> get_then_yield(coloop::queue<int>* q, std::vector<int>* out,
                          const std::atomic<bool>* go) {
  out->push_back(co_await q->get());
  // Acquire: the test's cancel happens before the yield.
  while (!go->load(std::memory_order_acquire)) std::this_thread::yield();
  co_await coloop::yield();  // a pending cancel lands here
}

TEST_P(Queue, CancelAfterTheHandOverKeepsTheItem) {
  run(
      []() -> task<void> {
        coloop::queue<int> q;
        std::vector<int> out;
        std::atomic<bool> cancel_sent{false};
        auto a = coloop::spawn(get_then_yield, &q, &out, &cancel_sent);
        co_await until_idle();
        EXPECT_TRUE(q.try_put(42));  // handed to a...
        a.cancel();  // ...and cancelled before it runs (on the runtime: before it yields)
        cancel_sent.store(true, std::memory_order_release);  // release: the cancel, before a yields
        EXPECT_EQ(co_await sync_error_of(std::move(a)), coloop::errc::cancelled);
        EXPECT_EQ(out, (std::vector<int>{42}));  // received once, not lost
        EXPECT_TRUE(q.empty());                  // and not duplicated
      }(),
      {.manual_clock = true});
}

TEST_P(Queue, GetterDestroyedAfterTheHandOverPassesTheItemOn) {
  run(
      []() -> task<void> {
        coloop::queue<int> q;
        std::vector<int> out;
        coloop::join_handle<void> b;
        {
          auto first = q.get();
          EXPECT_TRUE(coloop::test::park_detached(first));
          b = coloop::spawn(get_into, &q, &out);
          co_await until_idle();
          EXPECT_TRUE(q.try_put(7));  // to `first`, which never resumes
        }
        co_await b;
        EXPECT_EQ(out, (std::vector<int>{7}));  // passed on to the next getter
        {
          auto lone = q.get();
          EXPECT_TRUE(coloop::test::park_detached(lone));
          EXPECT_TRUE(q.try_put(8));
        }
        EXPECT_EQ(q.try_get(), 8);  // no getter left: back into the queue
      }(),
      {.manual_clock = true});
}

TEST_P(Queue, PlainThreadTryPutWakesTheTask) {
  run(
      []() -> task<void> {
        coloop::queue<int> q;
        std::vector<int> out;
        auto getter = coloop::spawn(get_into, &q, &out);
        co_await until_idle();
        bool put = false;
        std::thread producer([&q, &put] { put = q.try_put(5); });
        producer.join();
        EXPECT_TRUE(put);
        co_await getter;
        EXPECT_EQ(out, (std::vector<int>{5}));
        std::thread consumer([&q] { (void)q.try_put(6); });
        consumer.join();
        std::optional<int> got;
        std::thread taker([&q, &got] { got = q.try_get(); });
        taker.join();
        EXPECT_EQ(got, 6);
        std::thread closer([&q] { q.shutdown(); });
        closer.join();
        EXPECT_EQ(co_await sync_error_of(get_one(&q)), coloop::errc::closed);
      }(),
      {.manual_clock = true});
}

COLOOP_INSTANTIATE_FLAVOURS(Queue);

}  // namespace
