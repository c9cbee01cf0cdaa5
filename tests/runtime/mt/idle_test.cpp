// idle: the half-searching cap, last-searcher detection, when a producer wakes somebody, which
// worker it picks, unparking by id, and a threaded stress test of the counts.

#include "runtime/multi_thread/idle.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "runtime/mt/fake_tasks.hpp"

namespace coloop::detail::mt {
namespace {

TEST(mt_idle, rejects_zero_or_too_many_workers) {
  EXPECT_THROW(idle(0), std::invalid_argument);
  EXPECT_THROW(idle(70'000), std::invalid_argument);
}

TEST(mt_idle, at_most_half_the_workers_search) {
  idle four(4);
  EXPECT_TRUE(four.transition_worker_to_searching());
  EXPECT_TRUE(four.transition_worker_to_searching());
  EXPECT_FALSE(four.transition_worker_to_searching());
  EXPECT_EQ(four.num_searching(), 2u);
  idle one(1);  // a single worker may still search
  EXPECT_TRUE(one.transition_worker_to_searching());
  EXPECT_FALSE(one.transition_worker_to_searching());
  idle three(3);  // half rounded up
  EXPECT_TRUE(three.transition_worker_to_searching());
  EXPECT_TRUE(three.transition_worker_to_searching());
  EXPECT_FALSE(three.transition_worker_to_searching());
}

TEST(mt_idle, last_searcher_is_reported) {
  idle s(4);
  ASSERT_TRUE(s.transition_worker_to_searching());
  ASSERT_TRUE(s.transition_worker_to_searching());
  EXPECT_FALSE(s.transition_worker_from_searching());
  EXPECT_TRUE(s.transition_worker_from_searching());
  EXPECT_EQ(s.num_searching(), 0u);
  // Parking as the last searcher reports it too; parking while not searching never does.
  ASSERT_TRUE(s.transition_worker_to_searching());
  EXPECT_TRUE(s.transition_worker_to_parked(2, true));
  EXPECT_FALSE(s.transition_worker_to_parked(3, false));
  EXPECT_EQ(s.num_parked(), 2u);
  EXPECT_EQ(s.num_searching(), 0u);
}

TEST(mt_idle, wakes_only_when_nobody_searches_and_somebody_is_parked) {
  idle s(4);
  EXPECT_FALSE(s.notify_should_wakeup());  // nobody parked
  EXPECT_FALSE(s.worker_to_notify());
  s.transition_worker_to_parked(1, false);
  EXPECT_TRUE(s.notify_should_wakeup());
  ASSERT_TRUE(s.transition_worker_to_searching());
  EXPECT_FALSE(s.notify_should_wakeup());  // the searcher will find the work
  EXPECT_FALSE(s.worker_to_notify());
  EXPECT_TRUE(s.transition_worker_from_searching());
  const auto woken = s.worker_to_notify();
  ASSERT_TRUE(woken);
  EXPECT_EQ(*woken, 1u);
  // The woken worker counts as searching, so a second wake waits for it.
  EXPECT_EQ(s.num_searching(), 1u);
  EXPECT_EQ(s.num_parked(), 0u);
  EXPECT_FALSE(s.is_parked(1));
  EXPECT_FALSE(s.worker_to_notify());
}

TEST(mt_idle, one_wake_per_burst) {
  idle s(4);
  for (std::size_t w = 0; w < 4; ++w) s.transition_worker_to_parked(w, false);
  EXPECT_TRUE(s.worker_to_notify());
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(s.worker_to_notify());  // it is searching
  EXPECT_EQ(s.num_parked(), 3u);
}

TEST(mt_idle, unpark_by_id) {
  idle s(3);
  s.transition_worker_to_parked(0, false);
  s.transition_worker_to_parked(2, false);
  EXPECT_TRUE(s.is_parked(0));
  EXPECT_FALSE(s.is_parked(1));
  EXPECT_TRUE(s.unpark_worker_by_id(0));
  EXPECT_FALSE(s.unpark_worker_by_id(0));
  EXPECT_FALSE(s.unpark_worker_by_id(1));
  EXPECT_EQ(s.num_parked(), 1u);
  EXPECT_EQ(s.num_searching(), 0u);
  EXPECT_EQ(s.worker_to_notify(), std::optional<std::size_t>(2));
}

// Four threads cycle park -> (woken by worker_to_notify or by id) -> search -> stop searching;
// at the end the counts must return to zero and nobody may remain in the parked set.
TEST(mt_idle, stress_counts_stay_consistent) {
  constexpr std::size_t workers = 4;
  const int rounds = 50'000 / static_cast<int>(coloop::test::sanitizer_slowdown);
  idle s(workers);
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      for (int r = 0; r < rounds; ++r) {
        const bool searching = s.transition_worker_to_searching();
        s.transition_worker_to_parked(w, searching);
        if (const auto other = s.worker_to_notify()) {
          // We woke `other` on its behalf: it is now searching; undo that for it.
          s.transition_worker_from_searching();
          (void)other;
        }
        s.unpark_worker_by_id(w);  // wake ourselves if nobody did
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(s.num_searching(), 0u);
  EXPECT_EQ(s.num_parked(), 0u);
  for (std::size_t w = 0; w < workers; ++w) EXPECT_FALSE(s.is_parked(w));
}

}  // namespace
}  // namespace coloop::detail::mt
