// wait / as_completed / shield over join_handles: each return_when, timeouts under the manual
// clock, finishing order, cancellation of the waiter, and shield's late exception.

#include <coloop/runtime/wait.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <coloop/core/future.hpp>
#include <coloop/runtime/now.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/spawn.hpp>
#include "support/flavour.hpp"

using namespace std::chrono_literals;

namespace {

coloop::loop_options manual() { return {.manual_clock = true}; }

long ms_since(coloop::time_point start) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::milliseconds>(coloop::now() - start).count());
}

coloop::task<int> value_after(std::chrono::milliseconds d, int v) {
  co_await coloop::sleep_for(d);
  co_return v;
}

coloop::task<int> fail_after(std::chrono::milliseconds d) {
  co_await coloop::sleep_for(d);
  throw std::runtime_error("failed");
}

using idx = std::vector<std::size_t>;

std::vector<coloop::join_handle<int>> spawn_at(std::vector<int> ms) {
  std::vector<coloop::join_handle<int>> hs;
  for (int m : ms) hs.push_back(coloop::spawn(value_after(std::chrono::milliseconds(m), m)));
  return hs;
}

class Wait : public coloop::test::flavour_test {};

TEST_P(Wait, AllCompletedByDefault) {
  auto main = []() -> coloop::task<void> {
    const auto start = coloop::now();
    auto hs = spawn_at({30, 10, 20});
    auto r = co_await coloop::wait(hs);
    EXPECT_EQ(ms_since(start), 30);
    EXPECT_EQ(r.done, (idx{0, 1, 2}));
    EXPECT_TRUE(r.pending.empty());
    EXPECT_EQ(co_await hs[1], 10);
  };
  run(main(), manual());
}

TEST_P(Wait, FirstCompletedLeavesTheOthersRunning) {
  auto main = []() -> coloop::task<void> {
    const auto start = coloop::now();
    auto hs = spawn_at({30, 10, 20});
    auto r = co_await coloop::wait(hs, coloop::return_when::first_completed);
    EXPECT_EQ(ms_since(start), 10);
    EXPECT_EQ(r.done, (idx{1}));
    EXPECT_EQ(r.pending, (idx{0, 2}));
    EXPECT_EQ(co_await hs[0], 30);  // not cancelled, and awaitable again after wait
    EXPECT_EQ(co_await hs[2], 20);
  };
  run(main(), manual());
}

TEST_P(Wait, FirstExceptionReturnsAtTheFirstFailure) {
  auto main = []() -> coloop::task<void> {
    const auto start = coloop::now();
    std::vector<coloop::join_handle<int>> hs;
    hs.push_back(coloop::spawn(value_after(10ms, 1)));
    hs.push_back(coloop::spawn(fail_after(20ms)));
    hs.push_back(coloop::spawn(value_after(50ms, 3)));
    auto r = co_await coloop::wait(hs, std::nullopt, coloop::return_when::first_exception);
    EXPECT_EQ(ms_since(start), 20);
    EXPECT_EQ(r.done, (idx{0, 1}));
    EXPECT_EQ(r.pending, (idx{2}));
    EXPECT_THROW(co_await hs[1], std::runtime_error);
    hs[2].cancel();
    EXPECT_THROW(co_await hs[2], coloop::cancelled_error);
  };
  run(main(), manual());
}

TEST_P(Wait, FirstExceptionWithoutFailuresWaitsForAll) {
  auto main = []() -> coloop::task<void> {
    const auto start = coloop::now();
    auto hs = spawn_at({10, 20});
    hs[0].cancel();  // a cancellation is not an exception here
    auto r = co_await coloop::wait(hs, coloop::return_when::first_exception);
    EXPECT_EQ(ms_since(start), 20);
    EXPECT_EQ(r.done, (idx{0, 1}));
  };
  run(main(), manual());
}

TEST_P(Wait, TimeoutReportsWhatFinishedAndTheRestCanBeCancelled) {
  auto main = []() -> coloop::task<void> {
    const auto start = coloop::now();
    auto hs = spawn_at({10, 50, 100});
    auto r = co_await coloop::wait(hs, 30ms);
    for (auto i : r.pending) hs[i].cancel();
    EXPECT_EQ(ms_since(start), 30);
    EXPECT_EQ(r.done, (idx{0}));
    EXPECT_EQ(r.pending, (idx{1, 2}));
    EXPECT_THROW(co_await hs[1], coloop::cancelled_error);
    EXPECT_THROW(co_await hs[2], coloop::cancelled_error);
    EXPECT_EQ(ms_since(start), 30);
  };
  run(main(), manual());
}

TEST_P(Wait, TimeoutLongerThanTheTasksDoesNotDelay) {
  auto main = []() -> coloop::task<void> {
    const auto start = coloop::now();
    auto hs = spawn_at({10, 20});
    auto r = co_await coloop::wait(hs, 1h);
    EXPECT_EQ(ms_since(start), 20);
    EXPECT_EQ(r.done, (idx{0, 1}));
  };
  run(main(), manual());
}

TEST_P(Wait, CancellingTheWaiterLeavesTheTasksRunning) {
  auto waiter = [](std::vector<coloop::join_handle<int>>* hs) -> coloop::task<void> {
    co_await coloop::wait(*hs);
  };
  auto main = [](decltype(waiter) w) -> coloop::task<void> {
    auto hs = spawn_at({50, 60});
    auto h = coloop::spawn(w, &hs);
    co_await coloop::sleep_for(10ms);
    h.cancel();
    EXPECT_THROW(co_await h, coloop::cancelled_error);
    EXPECT_EQ(co_await hs[0], 50);
    EXPECT_EQ(co_await hs[1], 60);
  };
  run(main(waiter), manual());
}

TEST_P(Wait, EmptyVectorAndEmptyHandles) {
  auto main = []() -> coloop::task<void> {
    std::vector<coloop::join_handle<int>> none;
    auto r = co_await coloop::wait(none);
    EXPECT_TRUE(r.done.empty() && r.pending.empty());
    auto hs = spawn_at({10, 20});
    hs[1].detach();
    try {
      auto w = coloop::wait(hs);
      ADD_FAILURE() << "wait over an empty handle did not throw";
    } catch (const std::logic_error& e) {
      EXPECT_NE(std::string(e.what()).find("handle 1 is empty"), std::string::npos) << e.what();
    }
    EXPECT_THROW(coloop::as_completed{hs}, std::logic_error);
    co_await hs[0];
  };
  run(main(), manual());
}

TEST_P(Wait, HandleAwaitedElsewhereIsALogicError) {
  auto joiner = [](coloop::join_handle<int>* h) -> coloop::task<int> { co_return co_await *h; };
  auto main = [](decltype(joiner) j) -> coloop::task<void> {
    auto hs = spawn_at({20});
    auto other = coloop::spawn(j, &hs[0]);
    co_await coloop::sleep_for(10ms);  // `other` is now suspended on hs[0]
    EXPECT_THROW(auto w = coloop::wait(hs), std::logic_error);
    EXPECT_EQ(co_await other, 20);
  };
  run(main(joiner), manual());
}

class AsCompleted : public coloop::test::flavour_test {};

TEST_P(AsCompleted, YieldsIndicesInFinishingOrderThenEmpty) {
  auto main = []() -> coloop::task<void> {
    const auto start = coloop::now();
    auto hs = spawn_at({30, 10, 20});
    coloop::as_completed next(hs);
    std::vector<std::size_t> order;
    std::vector<long> at;
    while (auto i = co_await next) {
      order.push_back(*i);
      at.push_back(ms_since(start));
      EXPECT_EQ(co_await hs[*i], static_cast<int>(at.back()));
    }
    EXPECT_EQ(order, (idx{1, 2, 0}));
    EXPECT_EQ(at, (std::vector<long>{10, 20, 30}));
    EXPECT_EQ(next.remaining(), 0u);
    EXPECT_FALSE((co_await next).has_value());  // stays empty
  };
  run(main(), manual());
}

TEST_P(AsCompleted, AlreadyFinishedComeFirstAndTheRestCanBeCancelled) {
  auto main = []() -> coloop::task<void> {
    auto hs = spawn_at({10, 100, 5});
    co_await hs[2];
    coloop::as_completed next(hs);
    EXPECT_EQ(next.remaining(), 3u);
    EXPECT_EQ(co_await next, std::optional<std::size_t>(2));
    EXPECT_EQ(co_await next, std::optional<std::size_t>(0));
    hs[1].cancel();
    EXPECT_EQ(co_await next, std::optional<std::size_t>(1));
    EXPECT_THROW(co_await hs[1], coloop::cancelled_error);
  };
  run(main(), manual());
}

TEST_P(AsCompleted, CancellingTheWaiterThrowsAndTheObjectStaysUsable) {
  struct state {
    std::vector<coloop::join_handle<int>> hs;
    std::optional<coloop::as_completed> next;
  };
  auto waiter = [](state* s) -> coloop::task<void> { co_await *s->next; };
  auto main = [](decltype(waiter) w) -> coloop::task<void> {
    state s;
    s.hs = spawn_at({50});
    s.next.emplace(s.hs);
    auto h = coloop::spawn(w, &s);
    co_await coloop::sleep_for(10ms);
    h.cancel();
    EXPECT_THROW(co_await h, coloop::cancelled_error);
    EXPECT_EQ(co_await *s.next, std::optional<std::size_t>(0));
    EXPECT_EQ(co_await s.hs[0], 50);
  };
  run(main(waiter), manual());
}

TEST_P(AsCompleted, DestroyedWhileTasksRunAndHandlesDropped) {
  auto main = []() -> coloop::task<void> {
    auto hs = spawn_at({10, 20});
    {
      coloop::as_completed next(hs);
      EXPECT_EQ(co_await next, std::optional<std::size_t>(0));
      hs.clear();  // dropping watched handles is allowed; the watcher keeps the task alive
      co_await coloop::sleep_for(30ms);
      EXPECT_EQ(co_await next, std::optional<std::size_t>(1));
    }
    auto more = spawn_at({10});
    { coloop::as_completed next(more); }  // withdrawn before it finished
    EXPECT_EQ(co_await more[0], 10);
  };
  run(main(), manual());
}

class Shield : public coloop::test::flavour_test {};

TEST_P(Shield, PassesTheValueAndTheException) {
  auto main = []() -> coloop::task<void> {
    EXPECT_EQ(co_await coloop::shield(value_after(10ms, 4)), 4);
    EXPECT_THROW(co_await coloop::shield(fail_after(10ms)), std::runtime_error);
  };
  run(main(), manual());
}

TEST_P(Shield, CancelledAwaiterThrowsButTheTaskRunsOnAndItsLateFailureIsReported) {
  struct state {
    std::mutex m;
    std::vector<std::string> reports;
    std::atomic<int> finished{0};
  };
  auto inner = [](state* s, bool fail) -> coloop::task<int> {
    co_await coloop::sleep_for(50ms);
    s->finished.fetch_add(1);
    if (fail) throw std::runtime_error("late");
    co_return 1;
  };
  auto awaiter = [](decltype(inner) in, state* s, bool fail) -> coloop::task<int> {
    co_return co_await coloop::shield(in(s, fail));
  };
  auto main = [](decltype(awaiter) aw, decltype(inner) in) -> coloop::task<void> {
    auto s = std::make_shared<state>();
    coloop::test::set_exception_handler([s](std::exception_ptr e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::lock_guard lock(s->m);
        s->reports.emplace_back(x.what());
      }
    });
    const auto start = coloop::now();
    auto ok = coloop::spawn(aw, in, s.get(), false);
    auto bad = coloop::spawn(aw, in, s.get(), true);
    co_await coloop::sleep_for(10ms);
    ok.cancel();
    bad.cancel();
    EXPECT_THROW(co_await ok, coloop::cancelled_error);
    EXPECT_THROW(co_await bad, coloop::cancelled_error);
    EXPECT_EQ(ms_since(start), 10);  // the awaits threw at once
    EXPECT_EQ(s->finished.load(), 0);
    auto reported = [&s] {
      std::lock_guard lock(s->m);
      return s->reports.size() == 1;
    };
    co_await coloop::sleep_for(50ms);
    EXPECT_TRUE(co_await coloop::test::yield_until(reported));
    EXPECT_EQ(s->finished.load(), 2);  // both ran on to the end
    std::lock_guard lock(s->m);
    EXPECT_EQ(s->reports[0], "late");
  };
  run(main(awaiter, inner), manual());
}

COLOOP_INSTANTIATE_FLAVOURS(Wait);
COLOOP_INSTANTIATE_FLAVOURS(AsCompleted);
COLOOP_INSTANTIATE_FLAVOURS(Shield);

}  // namespace
