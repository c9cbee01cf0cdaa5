// local_queue: FIFO order, the overflow of half plus one, steal-half rounding and refusal, batch
// pushes, a randomized differential test against a std::deque model across the 2^32 wrap, and a
// threaded stress test (one owner pushing and popping, three stealers that also steal from each
// other) in which every task must be consumed exactly once.

#include "runtime/multi_thread/local_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <random>
#include <thread>
#include <vector>

#include "runtime/mt/fake_tasks.hpp"
#include "runtime/multi_thread/inject_queue.hpp"

namespace coloop::detail::mt {
namespace {

using coloop::test::fake_tasks;
using handle = std::coroutine_handle<>;

void drain(local_queue& q) {
  while (q.pop()) {
  }
}
void drain(inject_queue& q) {
  while (q.pop()) {
  }
}

TEST(mt_local_queue, fifo_push_pop) {
  fake_tasks tasks(10);
  local_queue q;
  inject_queue inject;
  EXPECT_TRUE(q.is_empty());
  EXPECT_FALSE(q.pop());
  for (std::size_t i = 0; i < 10; ++i) q.push_back(tasks.handle(i), inject);
  EXPECT_EQ(q.len(), 10u);
  EXPECT_EQ(q.remaining_slots(), local_queue::capacity - 10);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_EQ(q.pop(), tasks.handle(i));
  EXPECT_FALSE(q.pop());
  EXPECT_TRUE(inject.is_empty());
}

TEST(mt_local_queue, full_queue_moves_half_plus_the_new_task_to_inject) {
  fake_tasks tasks(local_queue::capacity + 1);
  local_queue q;
  inject_queue inject;
  for (std::size_t i = 0; i < local_queue::capacity; ++i) q.push_back(tasks.handle(i), inject);
  EXPECT_EQ(q.len(), local_queue::capacity);
  EXPECT_EQ(q.remaining_slots(), 0u);
  EXPECT_TRUE(inject.is_empty());
  q.push_back(tasks.handle(local_queue::capacity), inject);
  EXPECT_EQ(q.len(), local_queue::capacity / 2);
  ASSERT_EQ(inject.len(), local_queue::capacity / 2 + 1);
  for (std::size_t i = 0; i < local_queue::capacity / 2; ++i)
    EXPECT_EQ(inject.pop(), tasks.handle(i));
  EXPECT_EQ(inject.pop(), tasks.handle(local_queue::capacity));  // the new task goes last
  for (std::size_t i = local_queue::capacity / 2; i < local_queue::capacity; ++i) {
    EXPECT_EQ(q.pop(), tasks.handle(i));
  }
  EXPECT_TRUE(q.is_empty());
}

TEST(mt_local_queue, overflow_lands_even_when_inject_is_closed) {
  fake_tasks tasks(local_queue::capacity + 1);
  local_queue q;
  inject_queue inject;
  inject.close();
  for (std::size_t i = 0; i <= local_queue::capacity; ++i) q.push_back(tasks.handle(i), inject);
  EXPECT_EQ(inject.len(), local_queue::capacity / 2 + 1);
  drain(q);
  drain(inject);
}

TEST(mt_local_queue, steal_takes_the_older_half_rounded_up_and_returns_the_last) {
  fake_tasks tasks(7);
  local_queue victim, thief;
  inject_queue inject;
  for (std::size_t i = 0; i < 7; ++i) victim.push_back(tasks.handle(i), inject);
  EXPECT_EQ(victim.steal_into(thief), tasks.handle(3));  // took 0..3, runs 3
  EXPECT_EQ(victim.len(), 3u);
  EXPECT_EQ(thief.len(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(thief.pop(), tasks.handle(i));
  for (std::size_t i = 4; i < 7; ++i) EXPECT_EQ(victim.pop(), tasks.handle(i));
}

TEST(mt_local_queue, steal_of_a_single_task_and_from_empty) {
  fake_tasks tasks(1);
  local_queue victim, thief;
  inject_queue inject;
  EXPECT_FALSE(victim.steal_into(thief));
  victim.push_back(tasks.handle(0), inject);
  EXPECT_EQ(victim.steal_into(thief), tasks.handle(0));
  EXPECT_TRUE(victim.is_empty());
  EXPECT_TRUE(thief.is_empty());  // the one stolen task is returned, not queued
  EXPECT_FALSE(victim.steal_into(thief));
}

TEST(mt_local_queue, steal_refused_when_the_thief_is_more_than_half_full) {
  fake_tasks tasks(local_queue::capacity);
  local_queue victim, thief;
  inject_queue inject;
  for (std::size_t i = 0; i < 10; ++i) victim.push_back(tasks.handle(i), inject);
  for (std::size_t i = 10; i < 10 + local_queue::capacity / 2 + 1; ++i) {
    thief.push_back(tasks.handle(i), inject);
  }
  EXPECT_FALSE(victim.steal_into(thief));
  EXPECT_EQ(victim.len(), 10u);
  thief.pop();  // exactly half full is still fine
  EXPECT_TRUE(victim.steal_into(thief));
  drain(victim);
  drain(thief);
}

TEST(mt_local_queue, push_back_batch_appends_in_order) {
  fake_tasks tasks(5);
  local_queue q;
  std::vector<handle> batch;
  for (std::size_t i = 0; i < 5; ++i) batch.push_back(tasks.handle(i));
  q.push_back_batch(batch);
  EXPECT_EQ(q.len(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(q.pop(), tasks.handle(i));
}

// Random owner pushes/pops and steals, checked step by step against a deque, with positions
// starting just below 2^32 so every path crosses the wrap.
TEST(mt_local_queue, matches_a_deque_model_across_the_wrap) {
  const std::size_t steps = 200'000 / coloop::test::sanitizer_slowdown;
  fake_tasks tasks(steps);
  local_queue q(0xffffff00u), thief(0xfffffff0u);
  inject_queue inject;
  std::deque<handle> model, model_inject;
  std::mt19937 rng(42);
  std::size_t next = 0;
  for (std::size_t step = 0; step < steps; ++step) {
    const unsigned op = rng() % 16;
    if (op < 9 && next < steps) {  // push-heavy, so the queue fills and overflows
      const handle h = tasks.handle(next++);
      if (model.size() == local_queue::capacity) {
        model_inject.insert(model_inject.end(), model.begin(), model.begin() + 128);
        model.erase(model.begin(), model.begin() + 128);
        model_inject.push_back(h);
      } else {
        model.push_back(h);
      }
      q.push_back(h, inject);
    } else if (op < 13) {
      const handle expected = model.empty() ? handle{} : model.front();
      if (!model.empty()) model.pop_front();
      ASSERT_EQ(q.pop(), expected) << "step " << step;
    } else if (op < 15) {
      const std::size_t n = (model.size() + 1) / 2;
      const handle got = q.steal_into(thief);
      ASSERT_EQ(got, n ? model[n - 1] : handle{}) << "step " << step;
      for (std::size_t i = 0; i + 1 < n; ++i) ASSERT_EQ(thief.pop(), model[i]);
      ASSERT_TRUE(thief.is_empty());
      model.erase(model.begin(), model.begin() + static_cast<std::ptrdiff_t>(n));
    } else {
      while (!model_inject.empty()) {
        ASSERT_EQ(inject.pop(), model_inject.front());
        model_inject.pop_front();
      }
      ASSERT_TRUE(inject.is_empty());
    }
    ASSERT_EQ(q.len(), model.size());
  }
  drain(q);
  drain(inject);
}

// One owner pushes every task (popping one per three pushes); three stealers steal from it and
// from each other, popping what they stole; the rest overflows to inject. Each task once.
TEST(mt_local_queue, stress_owner_against_three_stealers_every_task_once) {
  const std::size_t n = 2'000'000 / coloop::test::sanitizer_slowdown;
  constexpr std::size_t num_stealers = 3;
  fake_tasks tasks(n);
  local_queue owner_queue;
  std::vector<std::unique_ptr<local_queue>> queues;
  for (std::size_t i = 0; i < num_stealers; ++i) queues.push_back(std::make_unique<local_queue>());
  inject_queue inject;
  std::atomic<bool> owner_done{false};
  std::atomic<std::size_t> steals{0};

  std::vector<std::thread> stealers;
  for (std::size_t s = 0; s < num_stealers; ++s) {
    stealers.emplace_back([&, s] {
      local_queue& mine = *queues[s];
      std::minstd_rand rng(static_cast<unsigned>(s) + 1);
      for (;;) {
        const std::size_t victim = rng() % (num_stealers + 1);  // num_stealers: the owner
        local_queue& from = victim == num_stealers ? owner_queue : *queues[victim];
        if (&from != &mine) {
          if (const handle h = from.steal_into(mine)) {
            steals.fetch_add(1, std::memory_order_relaxed);
            tasks.seen(h);
          }
        }
        // Pop only part of what we hold, so others get to steal from us too.
        for (int i = 0; i < 3; ++i) {
          if (const handle h = mine.pop()) tasks.seen(h);
        }
        if (owner_done.load(std::memory_order_acquire) && mine.is_empty() &&
            owner_queue.is_empty()) {
          bool all_empty = true;
          for (const auto& q : queues) all_empty = all_empty && q->is_empty();
          if (all_empty) return;
        }
      }
    });
  }
  for (std::size_t i = 0; i < n; ++i) {
    owner_queue.push_back(tasks.handle(i), inject);
    if (i % 3 == 0) {
      if (const handle h = owner_queue.pop()) tasks.seen(h);
    }
  }
  while (const handle h = owner_queue.pop()) tasks.seen(h);
  owner_done.store(true, std::memory_order_release);
  for (auto& t : stealers) t.join();
  std::size_t overflowed = 0;
  while (const handle h = inject.pop()) {
    tasks.seen(h);
    ++overflowed;
  }
  std::printf("%zu tasks: %zu steals, %zu overflowed to inject\n", n, steals.load(), overflowed);

  const std::size_t bad = tasks.first_not_once();
  ASSERT_EQ(bad, n) << "task " << bad << " consumed " << tasks.count(bad) << " times";
  EXPECT_GT(steals.load(), 0u);
  for (const auto& q : queues) EXPECT_TRUE(q->is_empty());
}

}  // namespace
}  // namespace coloop::detail::mt
