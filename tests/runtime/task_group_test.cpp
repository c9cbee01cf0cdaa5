// task_group: joining, failure propagation (exception_group), cancellation, dropped groups and
// handles, the callable form, and a many-children race on the runtime.

#include <coloop/runtime/task_group.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <coloop/core/exception_group.hpp>
#include <coloop/runtime/now.hpp>
#include <coloop/runtime/sleep.hpp>
#include <coloop/runtime/spawn.hpp>
#include <coloop/runtime/yield.hpp>
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

coloop::task<void> fail_after(std::chrono::milliseconds d, std::string what) {
  co_await coloop::sleep_for(d);
  throw std::runtime_error(what);
}

/// Sleeps; when cancelled, counts it in `cancelled` and fails with `what` instead.
coloop::task<void> fail_when_cancelled(std::atomic<int>* cancelled, std::string what) {
  try {
    co_await coloop::sleep_for(1h);
  } catch (const coloop::cancelled_error&) {
    cancelled->fetch_add(1);
    throw std::runtime_error(what);
  }
}

coloop::task<void> count_cancel(std::atomic<int>* cancelled) {
  try {
    co_await coloop::sleep_for(1h);
  } catch (const coloop::cancelled_error&) {
    cancelled->fetch_add(1);
    throw;
  }
}

std::vector<std::string> messages(const coloop::exception_group& g) {
  std::vector<std::string> out;
  for (const auto& e : g.exceptions()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      out.emplace_back(x.what());
    }
  }
  return out;
}

/// Collects what reaches the exception handler (any worker).
struct reports {
  std::mutex m;
  std::vector<std::string> what;
  void operator()(std::exception_ptr e) {
    std::lock_guard lock(m);
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      what.emplace_back(x.what());
    }
  }
  std::vector<std::string> get() {
    std::lock_guard lock(m);
    return what;
  }
};

class TaskGroup : public coloop::test::flavour_test {};

TEST_P(TaskGroup, JoinWaitsForEveryChildAndHandlesKeepTheirValues) {
  auto main = []() -> coloop::task<void> {
    const auto start = coloop::now();
    coloop::task_group g;
    auto a = g.spawn(value_after(30ms, 1));
    auto b = g.spawn(value_after(10ms, 2));
    auto c = g.spawn(value_after(20ms, 3));
    EXPECT_EQ(g.size(), 3u);
    co_await g.join();
    EXPECT_EQ(ms_since(start), 30);
    EXPECT_EQ(g.size(), 0u);
    EXPECT_EQ(co_await a, 1);
    EXPECT_EQ(co_await b, 2);
    EXPECT_EQ(co_await std::move(c), 3);
  };
  run(main(), manual());
}

TEST_P(TaskGroup, JoinOfAnEmptyGroupReturnsAtOnce) {
  auto main = []() -> coloop::task<void> {
    coloop::task_group g;
    co_await g.join();
    EXPECT_EQ(g.size(), 0u);
  };
  run(main());
}

TEST_P(TaskGroup, FirstFailureCancelsSiblingsAndJoinThrowsEveryFailureInOrder) {
  auto main = []() -> coloop::task<void> {
    const auto start = coloop::now();
    std::atomic<int> cancelled{0};
    coloop::task_group g;
    auto failing = g.spawn(fail_after(10ms, "first"));
    auto sleeper = g.spawn(count_cancel(&cancelled));
    auto cleanup = g.spawn(fail_when_cancelled(&cancelled, "second"));
    try {
      co_await g.join();
      ADD_FAILURE() << "join did not throw";
    } catch (const coloop::exception_group& e) {
      EXPECT_EQ(messages(e), (std::vector<std::string>{"first", "second"}));
      EXPECT_NE(std::string(e.what()).find("2 failures; first: first"), std::string::npos);
    }
    EXPECT_EQ(ms_since(start), 10);
    EXPECT_EQ(cancelled.load(), 2);
    EXPECT_THROW(co_await sleeper, coloop::cancelled_error);
    EXPECT_THROW(co_await failing, std::runtime_error);  // the handle sees it too
  };
  run(main(), manual());
}

TEST_P(TaskGroup, CancellingTheJoinerCancelsEveryChildBeforeJoinThrows) {
  struct state {
    std::atomic<int> cancelled{0};
    std::atomic<bool> joining{false};
  };
  auto owner = [](state* s) -> coloop::task<void> {
    coloop::task_group g;
    g.spawn(count_cancel(&s->cancelled));
    g.spawn(count_cancel(&s->cancelled));
    s->joining = true;
    try {
      co_await g.join();
    } catch (const coloop::cancelled_error&) {
      EXPECT_EQ(s->cancelled.load(), 2);  // both had finished before join rethrew
      EXPECT_EQ(g.size(), 0u);
      throw;
    }
  };
  auto main = [](decltype(owner) o) -> coloop::task<void> {
    state s;
    auto h = coloop::spawn(o, &s);
    co_await coloop::sleep_for(10ms);
    EXPECT_TRUE(s.joining.load());
    h.cancel();
    EXPECT_THROW(co_await h, coloop::cancelled_error);
    EXPECT_EQ(s.cancelled.load(), 2);
  };
  run(main(owner), manual());
}

TEST_P(TaskGroup, FailuresWhileTheJoinerIsCancelledGoToTheHandler) {
  auto owner = [](std::atomic<int>* cancelled) -> coloop::task<void> {
    coloop::task_group g;
    g.spawn(fail_when_cancelled(cancelled, "cleanup failed"));
    co_await g.join();
  };
  auto main = [](decltype(owner) o) -> coloop::task<void> {
    auto seen = std::make_shared<reports>();
    coloop::test::set_exception_handler([seen](std::exception_ptr e) { (*seen)(e); });
    std::atomic<int> cancelled{0};
    auto h = coloop::spawn(o, &cancelled);
    co_await coloop::sleep_for(10ms);
    h.cancel();
    EXPECT_THROW(co_await h, coloop::cancelled_error);
    EXPECT_EQ(seen->get(), (std::vector<std::string>{"cleanup failed"}));
  };
  run(main(owner), manual());
}

TEST_P(TaskGroup, CancelStopsTheChildrenIsNoFailureAndForbidsSpawning) {
  auto main = []() -> coloop::task<void> {
    std::atomic<int> cancelled{0};
    coloop::task_group g;
    auto a = g.spawn(count_cancel(&cancelled));
    auto b = g.spawn(value_after(10ms, 7));
    co_await coloop::sleep_for(20ms);
    g.cancel();
    co_await g.join();  // cancellations are not failures
    EXPECT_EQ(cancelled.load(), 1);
    EXPECT_EQ(co_await b, 7);
    EXPECT_THROW(co_await a, coloop::cancelled_error);
    try {
      g.spawn(value_after(1ms, 1));
      ADD_FAILURE() << "spawn after join did not throw";
    } catch (const std::logic_error& e) {
      EXPECT_NE(std::string(e.what()).find("already joined"), std::string::npos) << e.what();
    }
  };
  run(main(), manual());
}

TEST_P(TaskGroup, SpawnOnACancelledGroupThrowsLogicError) {
  auto main = []() -> coloop::task<void> {
    coloop::task_group g;
    g.cancel();
    try {
      g.spawn(value_after(1ms, 1));
      ADD_FAILURE() << "spawn on a cancelled group did not throw";
    } catch (const std::logic_error& e) {
      EXPECT_NE(std::string(e.what()).find("cancelled"), std::string::npos) << e.what();
    }
    co_await g.join();
  };
  run(main(), manual());
}

TEST_P(TaskGroup, JoinTwiceAndEmptyTaskAreLogicErrors) {
  auto main = []() -> coloop::task<void> {
    coloop::task_group g;
    g.spawn(value_after(1ms, 1));
    co_await g.join();
    EXPECT_THROW(co_await g.join(), std::logic_error);
    coloop::task_group h;
    EXPECT_THROW(h.spawn(coloop::task<int>{}), std::logic_error);
    co_await h.join();
  };
  run(main(), manual());
}

TEST_P(TaskGroup, DroppedAndDetachedHandlesStayInTheGroup) {
  auto main = []() -> coloop::task<void> {
    auto seen = std::make_shared<reports>();
    coloop::test::set_exception_handler([seen](std::exception_ptr e) { (*seen)(e); });
    const auto start = coloop::now();
    coloop::task_group g;
    g.spawn(value_after(30ms, 1));           // handle dropped at once
    g.spawn(fail_after(10ms, "dropped"));    // likewise
    g.spawn(fail_after(20ms, "detached")).detach();
    try {
      co_await g.join();
      ADD_FAILURE() << "join did not throw";
    } catch (const coloop::exception_group& e) {
      // "detached" was cancelled by the first failure before it could fail.
      EXPECT_EQ(messages(e), (std::vector<std::string>{"dropped"}));
    }
    EXPECT_EQ(ms_since(start), 10);
    EXPECT_TRUE(seen->get().empty());  // the group reported it: the handle did not, too
  };
  run(main(), manual());
}

TEST_P(TaskGroup, DroppedHandlesOfSucceedingChildrenAreStillJoined) {
  auto main = []() -> coloop::task<void> {
    const auto start = coloop::now();
    coloop::task_group g;
    g.spawn(value_after(30ms, 1));
    g.spawn(value_after(10ms, 2)).detach();
    co_await g.join();
    EXPECT_EQ(ms_since(start), 30);
  };
  run(main(), manual());
}

TEST_P(TaskGroup, DestroyedUnjoinedCancelsChildrenAndReportsTheMistake) {
  auto main = []() -> coloop::task<void> {
    auto seen = std::make_shared<reports>();
    coloop::test::set_exception_handler([seen](std::exception_ptr e) { (*seen)(e); });
    std::atomic<int> cancelled{0};
    coloop::join_handle<void> h;
    {
      coloop::task_group g;
      h = g.spawn(count_cancel(&cancelled));
      g.spawn(count_cancel(&cancelled));
    }
    EXPECT_THROW(co_await h, coloop::cancelled_error);
    const auto got = seen->get();
    EXPECT_EQ(got.size(), 1u);
    if (!got.empty()) {
      EXPECT_NE(got[0].find("task_group destroyed without join() while 2 children"),
                std::string::npos) << got[0];
    }
    auto wait_cancelled = [&cancelled] { return cancelled.load() == 2; };
    EXPECT_TRUE(co_await coloop::test::yield_until(wait_cancelled));
  };
  run(main(), manual());
}

TEST_P(TaskGroup, ChildFailingAfterTheGroupWasDroppedGoesToTheHandler) {
  auto main = []() -> coloop::task<void> {
    auto seen = std::make_shared<reports>();
    coloop::test::set_exception_handler([seen](std::exception_ptr e) { (*seen)(e); });
    std::atomic<int> cancelled{0};
    coloop::join_handle<void> h;
    {
      coloop::task_group g;
      h = g.spawn(fail_when_cancelled(&cancelled, "late"));
    }
    h.detach();
    auto two = [&seen] { return seen->get().size() == 2; };
    EXPECT_TRUE(co_await coloop::test::yield_until(two));
    // On the runtime the child may fail on another worker before the group reports its drop.
    auto got = seen->get();
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got.size(), 2u);
    if (got.size() == 2) {
      EXPECT_NE(got[0].find("task_group destroyed without join()"), std::string::npos) << got[0];
      EXPECT_EQ(got[1], "late");
    }
  };
  run(main(), manual());
}

TEST_P(TaskGroup, CallableFormStoresACapturingLambda) {
  auto main = []() -> coloop::task<void> {
    coloop::task_group g;
    int base = 40;
    auto h = g.spawn(
        [base](int extra) -> coloop::task<int> {
          co_await coloop::sleep_for(1ms);
          co_return base + extra;
        },
        2);
    co_await g.join();
    EXPECT_EQ(co_await h, 42);
  };
  run(main(), manual());
}

TEST_P(TaskGroup, MovedGroupKeepsItsChildren) {
  auto main = []() -> coloop::task<void> {
    coloop::task_group a;
    auto h = a.spawn(value_after(5ms, 5));
    coloop::task_group b(std::move(a));
    EXPECT_EQ(b.size(), 1u);
    EXPECT_EQ(a.size(), 0u);
    EXPECT_THROW(a.spawn(value_after(1ms, 1)), std::logic_error);
    co_await b.join();
    EXPECT_EQ(co_await h, 5);
  };
  run(main(), manual());
}

// Many children on every worker, a few failing, joined while they finish: the counts must add
// up and the group must end empty (TSan checks the hand-offs on the runtime flavours).
TEST_P(TaskGroup, ManyChildrenRaceToFinish) {
  auto child = [](int i) -> coloop::task<int> {
    for (int k = 0; k < i % 4; ++k) co_await coloop::yield();
    co_return i;
  };
  auto main = [](decltype(child) c) -> coloop::task<void> {
    coloop::task_group g;
    std::vector<coloop::join_handle<int>> hs;
    for (int i = 0; i < 2000; ++i) hs.push_back(g.spawn(c, i));
    co_await g.join();
    EXPECT_EQ(g.size(), 0u);
    long sum = 0;
    for (auto& h : hs) sum += co_await h;
    EXPECT_EQ(sum, 1999L * 2000 / 2);
  };
  run(main(child));
}

TEST_P(TaskGroup, ManyFailuresRaceAndAllAreCollected) {
  // Released together once all are spawned: a failure spawned early would otherwise cancel the
  // group (on the runtime, children run while the loop below still spawns) and spawn would throw.
  auto child = [](std::atomic<bool>* go, int i) -> coloop::task<void> {
    try {
      while (!go->load()) co_await coloop::yield();
      if (i % 2 == 0) throw std::runtime_error("even");
      co_await coloop::sleep_for(1h);
    } catch (const coloop::cancelled_error&) {
      throw std::runtime_error("cancelled");  // every cancelled sibling fails too
    }
  };
  auto main = [](decltype(child) c) -> coloop::task<void> {
    std::atomic<bool> go{false};
    coloop::task_group g;
    for (int i = 0; i < 400; ++i) g.spawn(c, &go, i);
    go = true;
    try {
      co_await g.join();
      ADD_FAILURE() << "join did not throw";
    } catch (const coloop::exception_group& e) {
      EXPECT_EQ(e.exceptions().size(), 400u);
    }
    EXPECT_THROW(g.spawn(c, &go, 0), std::logic_error);
  };
  run(main(child));
}

COLOOP_INSTANTIATE_FLAVOURS(TaskGroup);

TEST(ExceptionGroup, KeepsTheOrderSharesOnCopyAndNamesTheFirst) {
  std::vector<std::exception_ptr> list{std::make_exception_ptr(std::runtime_error("a")),
                                       std::make_exception_ptr(std::logic_error("b"))};
  const coloop::exception_group g(list);
  const coloop::exception_group copy = g;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(messages(copy), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(&copy.exceptions(), &g.exceptions());
  EXPECT_STREQ(g.what(), "coloop::exception_group: 2 failures; first: a");
  const std::exception& base = g;
  EXPECT_STREQ(base.what(), g.what());
  EXPECT_STREQ(coloop::exception_group({list[1]}).what(),
               "coloop::exception_group: 1 failure; first: b");
  EXPECT_STREQ(coloop::exception_group({}).what(), "coloop::exception_group: 0 failures");
}

}  // namespace
