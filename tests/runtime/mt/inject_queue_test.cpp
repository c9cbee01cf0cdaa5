// inject_queue: FIFO order across growth, the closing rule (push refused, push_batch accepted,
// pop still drains), pop_into's batch sizing, and a multi-producer multi-consumer stress test.

#include "runtime/multi_thread/inject_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "runtime/mt/fake_tasks.hpp"
#include "runtime/multi_thread/local_queue.hpp"

namespace coloop::detail::mt {
namespace {

using coloop::test::fake_tasks;
using handle = std::coroutine_handle<>;

TEST(mt_inject_queue, fifo_across_growth) {
  fake_tasks tasks(1000);
  inject_queue q;
  EXPECT_TRUE(q.is_empty());
  EXPECT_FALSE(q.pop());
  for (std::size_t round = 0; round < 3; ++round) {  // the ring wraps after the first round
    for (std::size_t i = 0; i < 1000; ++i) ASSERT_TRUE(q.push(tasks.handle(i)));
    EXPECT_EQ(q.len(), 1000u);
    for (std::size_t i = 0; i < 1000; ++i) ASSERT_EQ(q.pop(), tasks.handle(i));
    EXPECT_TRUE(q.is_empty());
  }
}

TEST(mt_inject_queue, closed_refuses_push_but_takes_batches_and_drains) {
  fake_tasks tasks(4);
  inject_queue q;
  ASSERT_TRUE(q.push(tasks.handle(0)));
  EXPECT_FALSE(q.is_closed());
  q.close();
  q.close();  // idempotent
  EXPECT_TRUE(q.is_closed());
  EXPECT_FALSE(q.push(tasks.handle(1)));
  const handle batch[] = {tasks.handle(2), tasks.handle(3)};
  q.push_batch(batch);
  EXPECT_EQ(q.len(), 3u);
  EXPECT_EQ(q.pop(), tasks.handle(0));
  EXPECT_EQ(q.pop(), tasks.handle(2));
  EXPECT_EQ(q.pop(), tasks.handle(3));
  EXPECT_FALSE(q.pop());
}

TEST(mt_inject_queue, pop_into_returns_one_and_queues_the_rest_within_limits) {
  fake_tasks tasks(300);
  inject_queue q;
  local_queue local;
  EXPECT_FALSE(q.pop_into(local, 10));
  for (std::size_t i = 0; i < 300; ++i) q.push(tasks.handle(i));
  EXPECT_FALSE(q.pop_into(local, 0));
  EXPECT_EQ(q.pop_into(local, 10), tasks.handle(0));
  EXPECT_EQ(local.len(), 9u);
  EXPECT_EQ(q.len(), 290u);
  // Bounded by the local queue's room: 247 slots left, so 1 + 247 taken of a max of 1000.
  EXPECT_EQ(q.pop_into(local, 1000), tasks.handle(10));
  EXPECT_EQ(local.len(), local_queue::capacity);
  EXPECT_EQ(q.len(), 300u - 10 - 1 - 247);
  for (std::size_t i = 1; i < 10; ++i) EXPECT_EQ(local.pop(), tasks.handle(i));
  for (std::size_t i = 11; i < 11 + 247; ++i) EXPECT_EQ(local.pop(), tasks.handle(i));
  for (std::size_t i = 258; i < 300; ++i) EXPECT_EQ(q.pop(), tasks.handle(i));
}

// Three producers (push and push_batch) and two consumers (pop and pop_into): every task once.
TEST(mt_inject_queue, stress_mpmc_every_task_once) {
  const std::size_t per_producer = 300'000 / coloop::test::sanitizer_slowdown;
  constexpr std::size_t producers = 3;
  fake_tasks tasks(per_producer * producers);
  inject_queue q;
  std::atomic<std::size_t> producers_left{producers};
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      const std::size_t base = p * per_producer;
      for (std::size_t i = 0; i < per_producer;) {
        if (i % 5 == 0 && i + 4 <= per_producer) {
          const handle batch[] = {tasks.handle(base + i), tasks.handle(base + i + 1),
                                  tasks.handle(base + i + 2), tasks.handle(base + i + 3)};
          q.push_batch(batch);
          i += 4;
        } else {
          ASSERT_TRUE(q.push(tasks.handle(base + i++)));
        }
      }
      producers_left.fetch_sub(1, std::memory_order_release);
    });
  }
  for (int c = 0; c < 2; ++c) {
    threads.emplace_back([&, c] {
      local_queue local;
      for (;;) {
        const bool done = producers_left.load(std::memory_order_acquire) == 0;
        const handle h = c == 0 ? q.pop() : q.pop_into(local, 16);
        if (h) tasks.seen(h);
        while (const handle l = local.pop()) tasks.seen(l);
        if (!h && done) return;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(q.is_empty());
  const std::size_t bad = tasks.first_not_once();
  ASSERT_EQ(bad, tasks.size()) << "task " << bad << " consumed " << tasks.count(bad) << " times";
}

}  // namespace
}  // namespace coloop::detail::mt
